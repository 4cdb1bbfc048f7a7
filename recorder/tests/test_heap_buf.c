/* test_heap_buf.c - the recorder's heap-sample buffer (rec_heap.c) when
 * the writer has not flushed it: a full buffer is thinned (every other
 * sample, the highest kept) and sampled at half the rate, instead of
 * dropping every later sample without a word; new highs are found even
 * under a launcher bigger than the program.  rec_heap.c is compiled in
 * here with the recorder's clock and the trace writer stubbed, so the
 * buffer can be filled deterministically (a stalled writer cannot). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rec_heap.c"

rec_global rec_g;
static uint64_t clock_ns;
uint64_t rec_clock_now_ns(void) { return clock_ns += 1000; }
void rec_clock_sample(void) {}
uint64_t rec_thread_cpu_ns(void) { return 0; }

static hak_rss_sample flushed[4 * REC_HEAP_BUF];
static size_t nflushed;
int hak_tw_heap(hak_trace_writer *w, const hak_rss_sample *s, size_t n)
{
    (void)w;
    for (size_t i = 0; i < n && nflushed < sizeof flushed / sizeof *flushed; i++)
        flushed[nflushed++] = s[i];
    return 0;
}

/* The buffer fills with 256 samples (the 102nd the highest); the next
 * sample, taken through rec_heap_sample as the writer takes it, thins
 * it: 128 kept, the highest among them, then the new one. */
static void test_full_buffer_thins(void **state)
{
    (void)state;
    rec_heap_reset();
    nflushed = 0;
    for (unsigned i = 0; i < REC_HEAP_BUF; i++)
        push(i == 101 ? 1000000000ull : 1000ull * i);
    assert_int_equal(heap_n, REC_HEAP_BUF);
    uint64_t before = clock_ns;
    rec_heap_sample(1);                    /* a full sample: smaps of this process */
    assert_int_equal(heap_n, REC_HEAP_BUF / 2 + 1);
    assert_int_equal(heap_thin, 1);
    assert_true(heap_buf[heap_n - 1].ts_ns >= before);    /* the newest is there */
    int top = 0;
    for (unsigned i = 0; i < heap_n; i++) {
        top |= heap_buf[i].rss_bytes == 1000000000ull;
        if (i)
            assert_true(heap_buf[i].ts_ns > heap_buf[i - 1].ts_ns);
    }
    assert_true(top);                      /* the peak survived */
    assert_int_equal(heap_buf[0].rss_bytes, 0);            /* every other: 0, 2000, ... */
    assert_int_equal(heap_buf[1].rss_bytes, 2000);
    /* more than another buffer's worth: thinned again, never beyond it */
    for (unsigned i = 0; i < 2 * REC_HEAP_BUF; i++) {
        push(5000);
        assert_true(heap_n <= REC_HEAP_BUF);
    }
    assert_true(heap_thin >= 2);
    assert_int_equal(rec_heap_flush(NULL), 0);
    assert_int_equal(heap_n, 0);
    assert_int_equal(heap_thin, 0);        /* a flush restores the rate */
    top = 0;
    for (size_t i = 0; i < nflushed; i++)
        top |= flushed[i].rss_bytes == 1000000000ull;
    assert_true(top);
}

/* Half the rate: after a thinning a new high needs twice the rise, and a
 * timed sample waits twice as long. */
static void test_half_rate(void **state)
{
    (void)state;
    assert_true(is_high(64000, 65000, 0));       /* 1/64 */
    assert_false(is_high(64000, 65000, 1));      /* 1/32 */
    assert_true(is_high(64000, 66000, 1));
    assert_false(is_high(1000, 1300, 1));        /* at least 2 x 256 KiB */
    assert_true(rec_heap_is_high(1000, 1300));
    rec_heap_reset();
    heap_thin = 1;
    rec_heap_sample(1);
    assert_true(heap_next_ns - hak_mono_ns() >= REC_HEAP_MIN_NS * 2 - 5000000);
}

/* A launcher bigger than the program (ru_maxrss keeps its pre-exec image,
 * here a pretended 1 GiB): the program's own growth is still followed, by
 * its resident memory, and an 8 MiB rise is a new high. */
static void test_launcher_image(void **state)
{
    (void)state;
    rec_heap_reset();
    uint64_t launcher = 1u << 20;                  /* KiB */
    uint64_t a = high_water_kb(launcher);
    assert_true(a < launcher);
    char *p = malloc(8 << 20);
    assert_non_null(p);
    memset(p, 1, 8 << 20);
    uint64_t b = high_water_kb(launcher);
    assert_true(b >= a + 7 * 1024);
    assert_true(is_high(a, b, 0));
    free(p);
    assert_true(high_water_kb(launcher) >= b);     /* a high-water mark */
    /* once the process outgrows the launcher's image, ru_maxrss itself */
    assert_int_equal(high_water_kb(launcher + 1), launcher + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_buffer_thins),
        cmocka_unit_test(test_half_rate),
        cmocka_unit_test(test_launcher_image),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
