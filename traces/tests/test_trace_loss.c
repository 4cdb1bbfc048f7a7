/* Loss records (FORMAT.md, chunk kind 5) and the reader's limits on side
 * records: a loss written by hak_tw_loss reads back exactly, marks the
 * trace incomplete (not truncated), survives a write error that the writer
 * could cut back, and unknown reasons read fine; side records past the
 * reader limits stop the reader with the limit in its status, RSS samples
 * past theirs are thinned, declared by hak_tr_rss_stride. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "trace.h"
#include "trace_codec.h"
#include "trace_fmt.h"

static char path[256];

static hak_trace_writer *open_w(void)
{
    snprintf(path, sizeof path, "/tmp/hak-test-loss-%d.hkt", (int)getpid());
    char err[256];
    hak_trace_meta m = {.pid = 1, .ts_unit_ns = 1};
    hak_trace_writer *w = hak_tw_open(path, &m, err, sizeof err);
    assert_non_null(w);
    return w;
}

/* n malloc events of thread 0 from seq `first`, with sizes that do not
 * compress much (so a chunk is some KB). */
static void put_events(hak_trace_writer *w, uint64_t first, size_t n)
{
    hak_event *ev = calloc(n, sizeof *ev);
    assert_non_null(ev);
    uint64_t x = first * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        ev[i] = (hak_event){.seq = first + i, .ts_ns = first + i, .op = HAK_OP_MALLOC,
                            .size = (x >> 40) & 0xffff, .out_ptr = (x >> 8) & ~15ull};
    }
    assert_int_equal(hak_tw_events(w, 0, ev, n), 0);
    free(ev);
}

static hak_trace_reader *open_r(void)
{
    char err[256];
    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    assert_non_null(r);
    return r;
}

static void reason_names(void **state)
{
    (void)state;
    assert_string_equal(hak_loss_reason_name(HAK_LOSS_OOM), "out of memory");
    assert_string_equal(hak_loss_reason_name(HAK_LOSS_WRITE), "write failed");
    assert_string_equal(hak_loss_reason_name(HAK_LOSS_FD_TAKEN), "descriptor taken");
    assert_string_equal(hak_loss_reason_name(HAK_LOSS_DISABLED), "recorder disabled");
    assert_string_equal(hak_loss_reason_name(HAK_LOSS_NOT_FOLLOWED), "not followed");
    assert_string_equal(hak_loss_reason_name(HAK_LOSS_UNFLUSHED), "unflushed threads");
    assert_string_equal(hak_loss_reason_name(0), "unknown reason 0");
    assert_string_equal(hak_loss_reason_name(99), "unknown reason 99");
    assert_string_equal(hak_loss_reason_name(HAK_LOSS_COUNT_), "unknown reason 8");
    assert_string_equal(hak_loss_reason_name(HAK_LOSS_REENTRANT), "signal handler inside the recorder");
}

static void round_trip(void **state)
{
    (void)state;
    hak_trace_writer *w = open_w();
    put_events(w, 0, 100);
    assert_int_equal(hak_tw_loss(w, HAK_LOSS_OOM, hak_tw_nevents(w), 5, "mmap of 1 MiB failed"), 0);
    put_events(w, 100, 50);
    assert_int_equal(hak_tw_loss(w, 99, 150, 0, NULL), 0);    /* a newer writer's reason */
    char longd[3000];
    memset(longd, 'x', sizeof longd - 1);
    longd[sizeof longd - 1] = 0;
    assert_int_equal(hak_tw_loss(w, HAK_LOSS_UNFLUSHED, 150, 7, longd), 0);
    assert_int_equal(hak_tw_close(w), 0);

    hak_trace_reader *r = open_r();
    const hak_tr_status *st = hak_tr_status_get(r);
    assert_int_equal(st->truncated, 0);
    assert_int_equal(st->incomplete, 1);
    assert_int_equal(hak_tr_nevents(r), 150);
    const hak_tr_loss *l;
    assert_int_equal(hak_tr_losses(r, &l), 3);
    assert_int_equal(l[0].reason, HAK_LOSS_OOM);
    assert_int_equal(l[0].at_events, 100);
    assert_int_equal(l[0].lost, 5);
    assert_string_equal(l[0].detail, "mmap of 1 MiB failed");
    assert_int_equal(l[1].reason, 99);
    assert_int_equal(l[1].at_events, 150);
    assert_int_equal(l[1].lost, 0);
    assert_string_equal(l[1].detail, "");
    assert_int_equal(l[2].reason, HAK_LOSS_UNFLUSHED);
    assert_int_equal(strlen(l[2].detail), HAK_LOSS_DETAIL_MAX);   /* cut, not refused */
    hak_event ev;
    uint64_t n = 0;
    while (hak_tr_next(r, &ev) == 1)
        n++;
    assert_int_equal(n, 150);
    hak_tr_close(r);

    /* Without a loss record: complete, not incomplete. */
    w = open_w();
    put_events(w, 0, 10);
    assert_int_equal(hak_tw_close(w), 0);
    r = open_r();
    assert_int_equal(hak_tr_status_get(r)->incomplete, 0);
    assert_int_equal(hak_tr_losses(r, &l), 0);
    hak_tr_close(r);
    unlink(path);
}

/* A loss record is read up to a cut: one before the cut marks the prefix
 * incomplete, one after it is not seen. */
static void loss_and_truncation(void **state)
{
    (void)state;
    hak_trace_writer *w = open_w();
    put_events(w, 0, 10);
    assert_int_equal(hak_tw_loss(w, HAK_LOSS_FD_TAKEN, 10, 0, "fd 5 closed by the program"), 0);
    uint64_t cut = hak_tw_bytes(w);
    put_events(w, 10, 10);
    assert_int_equal(hak_tw_close(w), 0);
    assert_int_equal(truncate(path, (off_t)cut + 5), 0);
    hak_trace_reader *r = open_r();
    const hak_tr_status *st = hak_tr_status_get(r);
    assert_int_equal(st->truncated, 1);
    assert_int_equal(st->incomplete, 1);
    assert_int_equal(st->valid_bytes, cut);
    hak_tr_close(r);
    assert_int_equal(truncate(path, (off_t)cut - 5), 0);   /* inside the loss chunk */
    r = open_r();
    assert_int_equal(hak_tr_status_get(r)->truncated, 1);
    assert_int_equal(hak_tr_status_get(r)->incomplete, 0);
    hak_tr_close(r);
    unlink(path);
}

/* A write error (here: the file size limit, as a full disk) cuts the
 * failed chunk back off the file, so a loss record still lands after it,
 * and close then ends the file properly: it reads as incomplete, with
 * every event written before the failure. */
static void loss_after_write_error(void **state)
{
    (void)state;
    hak_trace_writer *w = open_w();
    put_events(w, 0, 1000);
    uint64_t before = hak_tw_bytes(w);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = before + 1500;        /* the next chunk is bigger than that */
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    hak_event *ev = calloc(4000, sizeof *ev);
    assert_non_null(ev);
    uint64_t x = 12345;
    for (int i = 0; i < 4000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        ev[i] = (hak_event){.seq = 1000 + i, .ts_ns = x >> 20, .op = HAK_OP_MALLOC,
                            .size = x >> 44, .out_ptr = (x >> 4) & ~15ull};
    }
    assert_int_equal(hak_tw_events(w, 0, ev, 4000), -1);
    free(ev);
    assert_non_null(strstr(hak_tw_error(w), "write at offset"));
    assert_int_equal(hak_tw_bytes(w), before);     /* the partial chunk was cut back */
    assert_int_equal(hak_tw_loss(w, HAK_LOSS_WRITE, hak_tw_nevents(w), 4000, hak_tw_error(w)), 0);
    assert_int_equal(hak_tw_close(w), -1);         /* still reports the failure */
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_DFL);

    hak_trace_reader *r = open_r();
    const hak_tr_status *st = hak_tr_status_get(r);
    assert_int_equal(st->truncated, 0);            /* it ends with its end marker */
    assert_int_equal(st->incomplete, 1);
    assert_int_equal(hak_tr_nevents(r), 1000);
    const hak_tr_loss *l;
    assert_int_equal(hak_tr_losses(r, &l), 1);
    assert_int_equal(l[0].reason, HAK_LOSS_WRITE);
    assert_int_equal(l[0].at_events, 1000);
    assert_int_equal(l[0].lost, 4000);
    hak_tr_close(r);
    unlink(path);
}

/* The writer keeps the reader's limits: a site past the frame limit is
 * refused, and the writer stays usable. */
static void writer_keeps_limits(void **state)
{
    (void)state;
    hak_trace_writer *w = open_w();
    static uint64_t ips[TF_SITE_DEPTH_MAX];
    for (uint32_t i = 0; i < TF_SITE_DEPTH_MAX; i++)
        ips[i] = 0x400000 + 16 * i;
    uint32_t per = TF_FRAMES_HELD_MAX / TF_SITE_DEPTH_MAX, id = 1;
    for (; id <= per; id++)
        assert_int_equal(hak_tw_site(w, id, ips, TF_SITE_DEPTH_MAX), 0);
    assert_int_equal(hak_tw_site(w, id, ips, 1), -1);
    assert_non_null(strstr(hak_tw_error(w), "frames"));
    put_events(w, 0, 10);                          /* still usable */
    for (uint32_t i = 0; i < TF_LOSSES_HELD_MAX; i++)
        assert_int_equal(hak_tw_loss(w, HAK_LOSS_OOM, 10, 0, NULL), 0);
    assert_int_equal(hak_tw_loss(w, HAK_LOSS_OOM, 10, 0, NULL), -1);
    assert_int_equal(hak_tw_close(w), 0);
    hak_trace_reader *r = open_r();                /* and the reader takes it all */
    assert_int_equal(hak_tr_status_get(r)->truncated, 0);
    const hak_site *s;
    assert_int_equal(hak_tr_sites(r, &s), per);
    const hak_tr_loss *l;
    assert_int_equal(hak_tr_losses(r, &l), TF_LOSSES_HELD_MAX);
    hak_tr_close(r);
    unlink(path);
}

/* ---- crafted files, as a hostile writer would make them ---- */

static uint8_t *craft;
static size_t craft_len, craft_cap;

static void craft_put(const void *p, size_t n)
{
    if (craft_len + n > craft_cap) {
        craft_cap = (craft_len + n) * 2;
        craft = realloc(craft, craft_cap);
        assert_non_null(craft);
    }
    memcpy(craft + craft_len, p, n);
    craft_len += n;
}

static void craft_begin(void)
{
    craft_len = 0;
    uint8_t h[TF_FILE_FIXED + 4];
    memcpy(h, HAK_TRACE_MAGIC, 8);
    tf_put32(h + 8, HAK_TRACE_VERSION);
    tf_put32(h + 12, 0);
    tf_put32(h + TF_FILE_FIXED, tf_header_csum(h, TF_FILE_FIXED));
    craft_put(h, sizeof h);
}

/* One side chunk of `count` records, raw payload raw[0..len) as one zstd
 * frame. */
static void craft_side(unsigned kind, uint32_t count, const uint8_t *raw, size_t len)
{
    size_t cap = ZSTD_compressBound(len);
    uint8_t *z = malloc(TF_CHUNK_HDR + cap);
    assert_non_null(z);
    size_t zl = ZSTD_compress(z + TF_CHUNK_HDR, cap, raw, len, 1);
    assert_false(ZSTD_isError(zl));
    tf_chunk_hdr h = {.kind = (uint8_t)kind, .flags = TF_FLAG_ZSTD, .count = count,
                      .raw_size = (uint32_t)len, .comp_size = (uint32_t)zl};
    tf_hdr_pack(&h, z);
    h.checksum = tf_chunk_csum(z, z + TF_CHUNK_HDR, (uint32_t)zl);
    tf_hdr_pack(&h, z);
    craft_put(z, TF_CHUNK_HDR + zl);
    free(z);
}

static hak_trace_reader *craft_open(void)
{
    char err[256];
    hak_trace_reader *r = hak_tr_open_mem(craft, craft_len, err, sizeof err);
    assert_non_null(r);
    return r;
}

/* Sites of depth 1024 whose frames are all 0 deltas: 16 MiB of records
 * per chunk in a few KB.  The reader stops at the frame limit. */
static void crafted_sites_stop_at_limit(void **state)
{
    (void)state;
    craft_begin();
    size_t rec = 1 + 2 + TF_SITE_DEPTH_MAX, per = TF_RAW_MAX / rec;   /* id < 128 */
    uint8_t *raw = calloc(per, rec);
    assert_non_null(raw);
    for (size_t i = 0; i < per; i++) {
        uint8_t *p = raw + i * rec;
        p = tc_put(p, 1 + i % 100);
        tc_put(p, TF_SITE_DEPTH_MAX);   /* two bytes each */
    }
    uint64_t off_bad = 0;
    for (int c = 0; c < 4; c++) {
        if ((uint64_t)(c + 1) * per * TF_SITE_DEPTH_MAX > TF_FRAMES_HELD_MAX && !off_bad)
            off_bad = craft_len;
        craft_side(TF_KIND_SITES, (uint32_t)per, raw, per * rec);
    }
    free(raw);
    hak_trace_reader *r = craft_open();
    const hak_tr_status *st = hak_tr_status_get(r);
    assert_int_equal(st->truncated, 1);
    assert_int_equal(st->valid_bytes, off_bad);
    char want[128];
    snprintf(want, sizeof want, "chunk at offset %llu: more than %u call-site frames",
             (unsigned long long)off_bad, TF_FRAMES_HELD_MAX);
    assert_non_null(strstr(st->reason, want));
    hak_tr_close(r);
}

/* RSS samples past TF_RSS_HELD_MAX are thinned: every 2nd, 4th... kept,
 * in order, and the stride says so. */
static void crafted_rss_is_thinned(void **state)
{
    (void)state;
    craft_begin();
    uint32_t per = 1u << 20;                 /* samples per chunk: ts +1, rss i */
    uint8_t *raw = malloc((size_t)per * 8);
    assert_non_null(raw);
    uint64_t idx = 0;
    for (int c = 0; c < 5; c++) {
        uint8_t *p = raw;
        for (uint32_t i = 0; i < per; i++, idx++) {
            p = tc_put(p, tc_zz(i ? 1 : (int64_t)idx));
            p = tc_put(p, idx & 0x7f);
        }
        craft_side(TF_KIND_RSS, per, raw, (size_t)(p - raw));
    }
    free(raw);
    hak_trace_reader *r = craft_open();
    assert_int_equal(hak_tr_status_get(r)->truncated, 1);      /* no end marker only */
    assert_non_null(strstr(hak_tr_status_get(r)->reason, "without an end marker"));
    const hak_rss_sample *s;
    size_t n = hak_tr_rss(r, &s);
    uint32_t stride = hak_tr_rss_stride(r);
    assert_int_equal(stride, 4);             /* 5 Mi samples: 2 Mi held at most */
    assert_true(n <= TF_RSS_HELD_MAX);
    assert_int_equal(n, (5ull << 20) / stride);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(s[i].ts_ns, (uint64_t)i * stride);
        assert_int_equal(s[i].rss_bytes, ((uint64_t)i * stride) & 0x7f);
    }
    hak_tr_close(r);
}

/* Loss records past their limit, and a bad one. */
static void crafted_losses(void **state)
{
    (void)state;
    craft_begin();
    uint32_t n = TF_LOSSES_HELD_MAX + 1;
    uint8_t *raw = malloc((size_t)n * 8), *p = raw;
    assert_non_null(raw);
    for (uint32_t i = 0; i < n - 1; i++) {
        p = tc_put(p, i);                    /* reason 0, 1, ...: all read */
        p = tc_put(p, 0);
        p = tc_put(p, 0);
        p = tc_put(p, 0);
    }
    craft_side(TF_KIND_LOSS, n - 1, raw, (size_t)(p - raw));
    uint8_t one[] = {HAK_LOSS_OOM, 0, 0, 0};
    craft_side(TF_KIND_LOSS, 1, one, sizeof one);
    free(raw);
    hak_trace_reader *r = craft_open();
    assert_non_null(strstr(hak_tr_status_get(r)->reason, "more than 1024 loss records"));
    assert_int_equal(hak_tr_status_get(r)->incomplete, 1);
    const hak_tr_loss *l;
    assert_int_equal(hak_tr_losses(r, &l), TF_LOSSES_HELD_MAX);
    assert_int_equal(l[1000].reason, 1000);
    hak_tr_close(r);

    craft_begin();
    uint8_t bad[] = {1, 0, 0, 0x81, 0x08, 'x'};    /* detail_len 1025 */
    craft_side(TF_KIND_LOSS, 1, bad, sizeof bad);
    r = craft_open();
    assert_non_null(strstr(hak_tr_status_get(r)->reason, "bad loss record"));
    assert_int_equal(hak_tr_status_get(r)->incomplete, 0);
    hak_tr_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reason_names),
        cmocka_unit_test(round_trip),
        cmocka_unit_test(loss_and_truncation),
        cmocka_unit_test(loss_after_write_error),
        cmocka_unit_test(writer_keeps_limits),
        cmocka_unit_test(crafted_sites_stop_at_limit),
        cmocka_unit_test(crafted_rss_is_thinned),
        cmocka_unit_test(crafted_losses),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(craft);
    return rc;
}
