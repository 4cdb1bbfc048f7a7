/* The streaming reader (traces/lib/trace_pages.h): a trace opened from its
 * file (chunks read with pread, the scan's pages dropped behind it) gives
 * exactly the events of the same bytes opened in memory, merged and per
 * thread, also after a rewind; a file shortened after it was opened is a
 * read error naming the chunk, not a SIGBUS; and a pass over a trace far
 * larger than the scan window leaves at most a few windows resident. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "synth.h"
#include "trace.h"
#include "trace_pages.h"

static char path[256];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/hak-test-stream-%d.hkt", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

/* Writes a synthetic workload (larson with `threads` threads when > 1)
 * to path and returns its bytes (caller frees). */
static uint8_t *write_synth(uint64_t iters, uint64_t threads, size_t *len)
{
    hak_synth_params p;
    hak_synth_kind k = threads > 1 ? HAK_SYNTH_LARSON : HAK_SYNTH_RANDOM_MIXED;
    hak_synth_defaults(k, &p);
    p.iters = iters;
    if (threads > 1)
        p.threads = threads;
    char err[256];
    hak_synth *g = hak_synth_new(&p, err, sizeof err);
    if (!g)
        fail_msg("synth: %s", err);
    hak_trace_writer *w = hak_tw_open(path, NULL, err, sizeof err);
    if (!w)
        fail_msg("hak_tw_open: %s", err);
    /* One buffer per thread, flushed when full: chunks of different
     * threads interleave in the file, as a recording's do. */
    enum { B = 4096 };
    uint32_t nt = hak_synth_nthreads(g);
    hak_event *buf = calloc((size_t)nt * B, sizeof *buf);
    size_t *n = calloc(nt, sizeof *n);
    assert_non_null(buf);
    assert_non_null(n);
    hak_event ev;
    while (hak_synth_next(g, &ev)) {
        assert_true(ev.tid < nt);
        buf[(size_t)ev.tid * B + n[ev.tid]++] = ev;
        if (n[ev.tid] == B) {
            assert_int_equal(hak_tw_events(w, ev.tid, buf + (size_t)ev.tid * B, B), 0);
            n[ev.tid] = 0;
        }
    }
    for (uint32_t t = 0; t < nt; t++)
        if (n[t])
            assert_int_equal(hak_tw_events(w, t, buf + (size_t)t * B, n[t]), 0);
    assert_int_equal(hak_tw_close(w), 0);
    hak_synth_free(g);
    free(buf);
    free(n);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    struct stat st;
    assert_int_equal(fstat(fileno(f), &st), 0);
    uint8_t *b = malloc((size_t)st.st_size);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)st.st_size, f), (size_t)st.st_size);
    fclose(f);
    *len = (size_t)st.st_size;
    return b;
}

static void same_event(const hak_event *a, const hak_event *b)
{
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->tid, b->tid);
    assert_int_equal(a->op, b->op);
    assert_int_equal(a->in_ptr, b->in_ptr);
    assert_int_equal(a->out_ptr, b->out_ptr);
    assert_int_equal(a->nmemb, b->nmemb);
    assert_int_equal(a->size, b->size);
    assert_int_equal(a->ts_ns, b->ts_ns);
    assert_int_equal(a->site, b->site);
}

static void file_equals_memory(void **state)
{
    (void)state;
    size_t len;
    uint8_t *img = write_synth(300000, 4, &len);
    char err[256];
    hak_trace_reader *f = hak_tr_open(path, err, sizeof err);
    assert_non_null(f);
    hak_trace_reader *m = hak_tr_open_mem(img, len, err, sizeof err);
    assert_non_null(m);
    assert_int_equal(hak_tr_nevents(f), hak_tr_nevents(m));
    assert_int_equal(hak_tr_nthreads(f), 4);
    for (int pass = 0; pass < 2; pass++) {      /* the second after a rewind */
        hak_event a[1000], b[1000];
        uint64_t total = 0;
        for (;;) {
            long na = hak_tr_read(f, a, 1000), nb = hak_tr_read(m, b, 1000);
            assert_int_equal(na, nb);
            if (na <= 0)
                break;
            for (long i = 0; i < na; i++)
                same_event(&a[i], &b[i]);
            total += (uint64_t)na;
        }
        assert_int_equal(total, hak_tr_nevents(m));
        hak_tr_rewind(f);
        hak_tr_rewind(m);
    }
    for (uint32_t t = 0; t < 4; t++) {
        hak_event a, b;
        uint64_t k = 0;
        int ra, rb;
        while ((ra = hak_tr_next_thread(f, t, &a)) == 1 && (rb = hak_tr_next_thread(m, t, &b)) == 1) {
            same_event(&a, &b);
            k++;
        }
        assert_int_equal(ra, 0);
        assert_int_equal(hak_tr_next_thread(m, t, &b), 0);
        assert_int_equal(k, hak_tr_thread_nevents(m, t));
    }
    hak_tr_close(f);
    hak_tr_close(m);
    free(img);
}

/* The file loses its second half after the open scan: the reader reports
 * the chunk it could not read (with the mapping it read the events from,
 * a SIGBUS killed the process). */
static void shortened_after_open(void **state)
{
    (void)state;
    size_t len;
    free(write_synth(400000, 1, &len));
    char err[256];
    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(truncate(path, (off_t)(len / 2)), 0);
    hak_event ev[4096];
    long n;
    uint64_t total = 0;
    while ((n = hak_tr_read(r, ev, 4096)) > 0)
        total += (uint64_t)n;
    assert_int_equal(n, -1);
    assert_true(total < hak_tr_nevents(r));
    assert_non_null(strstr(hak_tr_error(r), "chunk at offset"));
    assert_non_null(strstr(hak_tr_error(r), "ends early"));
    hak_tr_close(r);
}

static long rss_file_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "RssFile: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* After the open scan and a whole pass, the trace's pages are not held:
 * resident file pages grow by less than the scan's windows, not by the
 * file's size (which is many windows). */
static void pass_does_not_hold_the_file(void **state)
{
    (void)state;
    size_t len;
    free(write_synth(12000000, 1, &len));
    assert_true(len > 8 * (size_t)TR_PAGES_WINDOW);
    long before = rss_file_kb();
    if (before < 0)
        skip();
    char err[256];
    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    assert_non_null(r);
    long after_open = rss_file_kb();
    hak_event ev[4096];
    long n;
    while ((n = hak_tr_read(r, ev, 4096)) > 0)
        ;
    assert_int_equal(n, 0);
    long after_pass = rss_file_kb();
    long limit = 4 * (long)(TR_PAGES_WINDOW >> 10);
    if (after_open - before > limit || after_pass - before > limit)
        fail_msg("a %zu KiB trace: resident file pages grew by %ld KiB at open, %ld KiB "
                 "after a pass (limit %ld KiB)", len >> 10, after_open - before,
                 after_pass - before, limit);
    hak_tr_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(file_equals_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(shortened_after_open, setup, teardown),
        cmocka_unit_test_setup_teardown(pass_does_not_hold_the_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
