/* test_trace_heap.c - heap-only RSS samples (FORMAT.md chunk kind 6):
 * they round-trip next to the RSS samples without mixing with them, a
 * long series is thinned like RSS with a stride of its own, and traces
 * written before heap samples existed (the corpus) read with none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "trace.h"

static char path[64];

static int setup(void **st)
{
    (void)st;
    snprintf(path, sizeof path, "/tmp/test_trace_heap.%d.hkt", (int)getpid());
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    unlink(path);
    return 0;
}

static void round_trip(void **st)
{
    (void)st;
    char err[256];
    hak_trace_writer *w = hak_tw_open(path, NULL, err, sizeof err);
    assert_non_null(w);
    hak_rss_sample rss[3] = {{1000, 10 << 20}, {2000, 12 << 20}, {3000, 11 << 20}};
    hak_rss_sample heap[40000];
    for (int i = 0; i < 40000; i++)        /* > 64 KiB of records: several chunks */
        heap[i] = (hak_rss_sample){(uint64_t)i * 7919, (uint64_t)i * 4096 + (i % 3)};
    assert_int_equal(hak_tw_rss(w, rss, 3), 0);
    assert_int_equal(hak_tw_heap(w, heap, 20000), 0);
    assert_int_equal(hak_tw_flush(w), 0);
    assert_int_equal(hak_tw_heap(w, heap + 20000, 20000), 0);
    assert_int_equal(hak_tw_close(w), 0);

    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(hak_tr_status_get(r)->truncated, 0);
    const hak_rss_sample *s;
    assert_int_equal(hak_tr_rss(r, &s), 3);
    assert_int_equal(s[1].rss_bytes, 12 << 20);
    assert_int_equal(hak_tr_heap(r, &s), 40000);
    for (int i = 0; i < 40000; i++) {
        assert_int_equal(s[i].ts_ns, heap[i].ts_ns);
        assert_int_equal(s[i].rss_bytes, heap[i].rss_bytes);
    }
    assert_int_equal(hak_tr_heap_stride(r), 1);
    hak_tr_close(r);
}

/* 2^21 + 1000 samples: the reader keeps every other one, in order. */
static void thinned_like_rss(void **st)
{
    (void)st;
    char err[256];
    hak_trace_writer *w = hak_tw_open(path, NULL, err, sizeof err);
    assert_non_null(w);
    enum { N = (1 << 21) + 1000, B = 4096 };
    static hak_rss_sample buf[B];
    for (uint64_t i = 0; i < N; i += B) {
        size_t n = N - i < B ? (size_t)(N - i) : B;
        for (size_t k = 0; k < n; k++)
            buf[k] = (hak_rss_sample){(i + k) * 10, i + k};
        assert_int_equal(hak_tw_heap(w, buf, n), 0);
    }
    assert_int_equal(hak_tw_close(w), 0);
    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    assert_non_null(r);
    const hak_rss_sample *s;
    size_t n = hak_tr_heap(r, &s);
    assert_int_equal(hak_tr_heap_stride(r), 2);
    assert_int_equal(hak_tr_rss_stride(r), 1);       /* its own stride */
    assert_int_equal(n, (N + 1) / 2);
    for (size_t i = 0; i < n; i += 997)
        assert_int_equal(s[i].rss_bytes, 2 * i);
    hak_tr_close(r);
}

static void old_traces_have_none(void **st)
{
    (void)st;
    const char *root = getenv("HAK_ROOT") ? getenv("HAK_ROOT") : ".";
    char p[512], err[256];
    snprintf(p, sizeof p, "%s/traces/corpus/sqlite3-workload.hkt", root);
    hak_trace_reader *r = hak_tr_open(p, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(hak_tr_status_get(r)->truncated, 0);
    const hak_rss_sample *s;
    assert_true(hak_tr_rss(r, &s) > 0);
    assert_int_equal(hak_tr_heap(r, &s), 0);
    hak_tr_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(thinned_like_rss, setup, teardown),
        cmocka_unit_test(old_traces_have_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
