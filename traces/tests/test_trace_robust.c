/* Reader robustness: bad files give one-line reasons with offsets; a trace
 * cut at every byte offset yields exactly the complete chunks before the
 * cut; flipped bytes (with and without repaired checksums, so the decoders
 * behind the checksum are reached too) never crash, hang or over-allocate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "trace.h"
#include "trace_fmt.h"

static char path[256];
static uint8_t *img;           /* the sample trace's bytes */
static size_t img_len;
static size_t hdr_len;         /* file header length */
static hak_event orig[3][40];  /* per-thread events written */
static size_t orig_n[3];

static void write_file(const char *p, const void *data, size_t len)
{
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

/* A small trace: 3 threads x 4 chunks, side records, metadata. */
static int make_sample(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/hak-test-robust-%d.hkt", (int)getpid());
    char err[256];
    char *argv[] = {"sample", "-x"};
    hak_trace_meta m = {.pid = 7, .argc = 2, .argv = argv, .hostname = "h", .ts_unit_ns = 1};
    hak_trace_writer *w = hak_tw_open(path, &m, err, sizeof err);
    assert_non_null(w);
    uint64_t seq = 0;
    for (int round = 0; round < 4; round++)
        for (uint32_t t = 0; t < 3; t++) {
            hak_event ev[10];
            for (int i = 0; i < 10; i++) {
                size_t k = orig_n[t];
                uint64_t p = 0x10000 * (t + 1) + 16 * (k / 2);
                ev[i] = k % 2 == 0
                    ? (hak_event){.seq = seq, .ts_ns = seq * 3, .op = HAK_OP_MALLOC, .tid = t,
                                  .size = 24 + k, .out_ptr = p, .site = (uint32_t)(k % 3)}
                    : (hak_event){.seq = seq, .ts_ns = seq * 3, .op = HAK_OP_FREE, .tid = t,
                                  .in_ptr = p};
                seq++;
                orig[t][orig_n[t]++] = ev[i];
            }
            assert_int_equal(hak_tw_events(w, t, ev, 10), 0);
        }
    uint64_t ips[2] = {0x401000, 0x402000};
    assert_int_equal(hak_tw_site(w, 1, ips, 2), 0);
    hak_module mod = {.path = "/bin/x", .base = 0x400000, .size = 4096};
    assert_int_equal(hak_tw_module(w, &mod), 0);
    hak_rss_sample s = {5, 1 << 20};
    assert_int_equal(hak_tw_rss(w, &s, 1), 0);
    assert_int_equal(hak_tw_close(w), 0);

    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    img_len = (size_t)ftell(f);
    rewind(f);
    img = malloc(img_len);
    assert_int_equal(fread(img, 1, img_len, f), img_len);
    fclose(f);
    hdr_len = TF_FILE_FIXED + tf_get32(img + 12) + 4;
    return 0;
}

static int drop_sample(void **state)
{
    (void)state;
    free(img);
    unlink(path);
    return 0;
}

/* Reads everything the reader offers; checks per-thread prefixes of the
 * originals when `exact`; returns the number of events read. */
static uint64_t drain(hak_trace_reader *r, int exact)
{
    hak_event ev[64];
    size_t seen[3] = {0};
    uint64_t total = 0;
    long n;
    while ((n = hak_tr_read(r, ev, 64)) > 0) {
        for (long i = 0; i < n; i++) {
            if (exact) {
                assert_true(ev[i].tid < 3);
                const hak_event *o = &orig[ev[i].tid][seen[ev[i].tid]++];
                assert_int_equal(ev[i].seq, o->seq);
                assert_int_equal(ev[i].in_ptr, o->in_ptr);
                assert_int_equal(ev[i].out_ptr, o->out_ptr);
            }
        }
        total += (uint64_t)n;
    }
    if (exact)
        assert_int_equal(n, 0);
    hak_event e;
    for (uint32_t t = 0; t < hak_tr_nthreads(r) && t < 4; t++)
        while (hak_tr_next_thread(r, t, &e) == 1)
            ;
    const hak_site *s;
    const hak_module *m;
    const hak_rss_sample *rs;
    hak_tr_sites(r, &s);
    hak_tr_modules(r, &m);
    hak_tr_rss(r, &rs);
    hak_replay rp;
    char err[256];
    if (hak_replay_build(r, &rp, err, sizeof err) == 0)
        hak_replay_free(&rp);
    return total;
}

static void bad_files(void **state)
{
    (void)state;
    char err[256];
    write_file(path, "", 0);
    assert_null(hak_tr_open(path, err, sizeof err));
    assert_non_null(strstr(err, "empty"));
    assert_non_null(strstr(err, "offset 0"));
    write_file(path, "hello, world\n", 13);
    assert_null(hak_tr_open(path, err, sizeof err));
    assert_non_null(strstr(err, "not a hakmem trace"));
    assert_null(hak_tr_open("/nonexistent/x.hkt", err, sizeof err));
    assert_null(hak_tr_open("/tmp", err, sizeof err));

    uint8_t *c = malloc(img_len);
    memcpy(c, img, img_len);
    tf_put32(c + 8, HAK_TRACE_VERSION + 1);
    assert_null(hak_tr_open_mem(c, img_len, err, sizeof err));
    assert_non_null(strstr(err, "offset 8"));
    assert_non_null(strstr(err, "version"));
    memcpy(c, img, img_len);
    tf_put32(c + 12, 0xffffffffu);
    assert_null(hak_tr_open_mem(c, img_len, err, sizeof err));
    assert_non_null(strstr(err, "offset 12"));
    memcpy(c, img, img_len);
    c[TF_FILE_FIXED + 1] ^= 1;
    assert_null(hak_tr_open_mem(c, img_len, err, sizeof err));
    assert_non_null(strstr(err, "checksum"));
    free(c);
}

static long max_rss_kb(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

/* A 1 GiB sparse file that is not a trace: refused at its magic without
 * faulting in its pages (the reader used MAP_POPULATE, which read the
 * whole hole into memory first: +1 GiB of RSS, seconds of work). */
static void huge_non_trace_is_not_read(void **state)
{
    (void)state;
    char err[256];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 1l << 30), 0);
    close(fd);
    long before = max_rss_kb();
    assert_null(hak_tr_open(path, err, sizeof err));
    assert_non_null(strstr(err, "bad magic"));
    long grew = max_rss_kb() - before;
    if (grew > 64 * 1024)
        fail_msg("opening a 1 GiB non-trace grew the RSS by %ld KiB", grew);
    write_file(path, "", 0);
}

static void truncation_at_every_byte(void **state)
{
    (void)state;
    /* Chunk ends and cumulative event counts, from the headers. */
    size_t ends[64], nch = 0;
    uint64_t evs_before[64];
    uint64_t evs = 0;
    for (size_t off = hdr_len; off < img_len;) {
        const uint8_t *h = img + off;
        if (h[0] == TF_KIND_EVENTS)
            evs += tf_get32(h + 16);
        off += TF_CHUNK_HDR + tf_get32(h + 24);
        ends[nch] = off;
        evs_before[nch++] = evs;
    }
    assert_true(nch >= 12);
    for (size_t len = 0; len <= img_len; len++) {
        uint8_t *c = malloc(len ? len : 1);
        memcpy(c, img, len);
        char err[256];
        hak_trace_reader *r = hak_tr_open_mem(c, len, err, sizeof err);
        if (len < hdr_len) {
            assert_null(r);
            assert_non_null(strstr(err, "offset "));
            free(c);
            continue;
        }
        assert_non_null(r);
        const hak_tr_status *st = hak_tr_status_get(r);
        uint64_t want = 0;
        size_t valid = hdr_len;
        for (size_t k = 0; k < nch && ends[k] <= len; k++) {
            want = evs_before[k];
            valid = ends[k];
        }
        assert_int_equal(st->truncated, len < img_len);
        /* every prefix of a sound file is a cut, never damage */
        assert_int_equal(st->cut, len < img_len);
        assert_int_equal(st->file_bytes, len);
        assert_int_equal(st->valid_bytes, valid);
        if (len < img_len) {
            char where[64];
            snprintf(where, sizeof where, "offset %zu", valid);
            if (!strstr(st->reason, where))
                fail_msg("cut at %zu: reason '%s' lacks '%s'", len, st->reason, where);
        }
        assert_int_equal(hak_tr_nevents(r), want);
        assert_int_equal(drain(r, 1), want);
        hak_tr_close(r);
        free(c);
    }
    /* The same through a real file, for the mmap path. */
    write_file(path, img, img_len - 5);
    char err[256];
    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(hak_tr_status_get(r)->truncated, 1);
    assert_non_null(strstr(hak_tr_status_get(r)->reason, "offset"));
    hak_tr_close(r);
}

static void corruption_never_crashes(void **state)
{
    (void)state;
    uint8_t *c = malloc(img_len);
    for (int fix = 0; fix < 2; fix++)
        for (size_t pos = 0; pos < img_len; pos++)
            for (int v = 0; v < 3; v++) {
                static const uint8_t x[3] = {0x01, 0x80, 0xff};
                memcpy(c, img, img_len);
                c[pos] ^= x[v];
                if (fix)
                    tf_fix_checksums(c, img_len);
                char err[256];
                hak_trace_reader *r = hak_tr_open_mem(c, img_len, err, sizeof err);
                if (!r) {
                    assert_non_null(strstr(err, "offset"));
                    continue;
                }
                if (!fix && pos >= hdr_len)   /* checksums catch every flip */
                    assert_int_equal(hak_tr_status_get(r)->truncated, 1);
                /* damage inside the file is not a cut (hak_tr_status.cut) */
                if (strstr(hak_tr_status_get(r)->reason, "checksum mismatch"))
                    assert_int_equal(hak_tr_status_get(r)->cut, 0);
                drain(r, 0);
                hak_tr_close(r);
            }
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_files),
        cmocka_unit_test(huge_non_trace_is_not_read),
        cmocka_unit_test(truncation_at_every_byte),
        cmocka_unit_test(corruption_never_crashes),
    };
    return cmocka_run_group_tests(tests, make_sample, drop_sample);
}
