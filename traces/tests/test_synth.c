/* Unit tests for the synthetic workload generators (synth.h): event counts,
 * trace invariants (seq, ts, thread start/exit, lifetimes), determinism and
 * parameter checking.  No files involved. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "synth.h"

/* A live-address set with the per-address owner thread, for checking. */
#define LIVE_CAP (1u << 20)
typedef struct live { uint64_t addr; uint32_t tid; int state; } live;  /* state 1 live, 2 freed */

typedef struct summary {
    uint64_t events, mallocs, frees, starts, exits, cross_frees;
    uint64_t live_end, peak_live, distinct_addrs, min_size, max_size;
    uint64_t per_thread_allocs[8], per_thread_frees[8];
} summary;

static live *find(live *tab, uint64_t a)
{
    size_t i = (size_t)(a * 0x9e3779b97f4a7c15ull >> 40) & (LIVE_CAP - 1);
    while (tab[i].state && tab[i].addr != a)
        i = (i + 1) & (LIVE_CAP - 1);
    return &tab[i];
}

/* Runs a generator to the end, asserting the invariants of synth.h. */
static summary run(const hak_synth_params *p)
{
    char err[256];
    hak_synth *g = hak_synth_new(p, err, sizeof err);
    assert_non_null(g);
    live *tab = calloc(LIVE_CAP, sizeof *tab);
    assert_non_null(tab);
    summary s;
    memset(&s, 0, sizeof s);
    s.min_size = UINT64_MAX;
    uint32_t nt = hak_synth_nthreads(g);
    int started[8] = {0}, exited[8] = {0};
    uint64_t last_ts = 0, live_now = 0;
    hak_event ev;
    while (hak_synth_next(g, &ev) == 1) {
        assert_int_equal(ev.seq, s.events);          /* unique, increasing, dense */
        if (s.events)
            assert_true(ev.ts_ns > last_ts);         /* monotonic clock */
        last_ts = ev.ts_ns;
        s.events++;
        assert_true(ev.tid < nt);
        if (ev.op != HAK_OP_THREAD_START) {
            assert_true(started[ev.tid]);
            assert_false(exited[ev.tid]);
        }
        live *l;
        switch (ev.op) {
        case HAK_OP_THREAD_START:
            assert_false(started[ev.tid]);
            started[ev.tid] = 1;
            s.starts++;
            break;
        case HAK_OP_THREAD_EXIT:
            exited[ev.tid] = 1;
            s.exits++;
            break;
        case HAK_OP_MALLOC:
            assert_true(ev.out_ptr != 0 && ev.out_ptr % 16 == 0);
            assert_int_equal(ev.site, HAK_SYNTH_SITE_MALLOC);
            l = find(tab, ev.out_ptr);
            assert_int_not_equal(l->state, 1);       /* never live twice */
            if (!l->state)
                s.distinct_addrs++;
            l->addr = ev.out_ptr;
            l->state = 1;
            l->tid = ev.tid;
            s.mallocs++;
            s.per_thread_allocs[ev.tid < 8 ? ev.tid : 7]++;
            if (ev.size < s.min_size) s.min_size = ev.size;
            if (ev.size > s.max_size) s.max_size = ev.size;
            if (++live_now > s.peak_live) s.peak_live = live_now;
            break;
        case HAK_OP_FREE:
            l = find(tab, ev.in_ptr);
            assert_int_equal(l->state, 1);           /* only live blocks are freed */
            l->state = 2;
            if (l->tid != ev.tid)
                s.cross_frees++;
            s.frees++;
            s.per_thread_frees[ev.tid < 8 ? ev.tid : 7]++;
            live_now--;
            break;
        default:
            fail_msg("unexpected op %d", ev.op);
        }
    }
    for (uint32_t t = 0; t < nt; t++)
        assert_true(started[t] && exited[t]);
    s.live_end = live_now;
    hak_synth_free(g);
    free(tab);
    return s;
}

static void random_mixed_counts(void **state)
{
    (void)state;
    hak_synth_params p;
    hak_synth_defaults(HAK_SYNTH_RANDOM_MIXED, &p);
    p.iters = 100000;
    p.slots = 256;
    summary s = run(&p);
    assert_int_equal(s.mallocs, 100000);
    assert_int_equal(s.live_end, 256);            /* every slot is hit in 100k draws */
    assert_int_equal(s.frees, 100000 - 256);
    assert_int_equal(s.starts, 1);
    assert_int_equal(s.exits, 1);
    assert_int_equal(s.events, 2 + s.mallocs + s.frees);
    assert_int_equal(s.min_size, 16);
    assert_int_equal(s.max_size, 1039);
    assert_true(s.peak_live <= 256);
    /* freed addresses are reused: far fewer distinct addresses than mallocs */
    assert_true(s.distinct_addrs < 2000);
}

static void random_mixed_size_range(void **state)
{
    (void)state;
    hak_synth_params p;
    hak_synth_defaults(HAK_SYNTH_RANDOM_MIXED, &p);
    p.iters = 5000;
    p.min_size = 100000;
    p.max_size = 300000;      /* crosses the mmap threshold */
    summary s = run(&p);
    assert_true(s.min_size >= 100000 && s.max_size <= 300000);
    p.min_size = p.max_size = 7;
    s = run(&p);
    assert_int_equal(s.min_size, 7);
    assert_int_equal(s.max_size, 7);
}

/* Huge blocks exhaust the brk/mmap gap: the third region keeps addresses
 * unique (run() asserts that no address is live twice). */
static void huge_blocks_stay_distinct(void **state)
{
    (void)state;
    hak_synth_params p;
    hak_synth_defaults(HAK_SYNTH_RANDOM_MIXED, &p);
    p.iters = 20000;
    p.slots = 4096;
    p.min_size = 1ull << 30;
    p.max_size = 1ull << 36;
    summary s = run(&p);
    assert_int_equal(s.mallocs, 20000);
    assert_true(s.distinct_addrs >= 4096);
    p.max_size = (1ull << 36) + 1;
    char err[256];
    assert_int_equal(hak_synth_check(&p, err, sizeof err), -1);
}

static uint64_t stream_hash(const hak_synth_params *p)
{
    char err[256];
    hak_synth *g = hak_synth_new(p, err, sizeof err);
    assert_non_null(g);
    uint64_t h = 1469598103934665603ull;
    hak_event ev;
    while (hak_synth_next(g, &ev) == 1) {
        uint64_t f[] = {ev.seq, ev.ts_ns, ev.size, ev.in_ptr, ev.out_ptr, ev.tid, ev.op};
        for (size_t i = 0; i < sizeof f / sizeof *f; i++)
            h = (h ^ f[i]) * 1099511628211ull;
    }
    hak_synth_free(g);
    return h;
}

static void deterministic_from_seed(void **state)
{
    (void)state;
    for (int k = 0; k < HAK_SYNTH_KIND_COUNT_; k++) {
        hak_synth_params p;
        hak_synth_defaults(k, &p);
        p.iters = 20000;
        uint64_t a = stream_hash(&p), b = stream_hash(&p);
        assert_int_equal(a, b);
        p.seed = 43;
        assert_int_not_equal(stream_hash(&p), a);   /* tiny-hot: the timings differ */
    }
}

static void tiny_hot_batches(void **state)
{
    (void)state;
    hak_synth_params p;
    hak_synth_defaults(HAK_SYNTH_TINY_HOT, &p);
    p.iters = 1050;
    p.batch = 100;
    p.size = 16;
    summary s = run(&p);
    assert_int_equal(s.mallocs, 1050);
    assert_int_equal(s.frees, 1050);
    assert_int_equal(s.live_end, 0);
    assert_int_equal(s.peak_live, 100);
    assert_int_equal(s.min_size, 16);
    assert_int_equal(s.max_size, 16);
    assert_int_equal(s.distinct_addrs, 100);     /* every batch reuses the same blocks */
}

static void larson_cross_thread(void **state)
{
    (void)state;
    hak_synth_params p;
    hak_synth_defaults(HAK_SYNTH_LARSON, &p);
    p.threads = 4;
    p.iters = 40000;
    p.slots = 64;
    summary s = run(&p);
    assert_int_equal(s.mallocs, 40000);
    assert_int_equal(s.starts, 4);
    assert_int_equal(s.exits, 4);
    assert_int_equal(s.frees, 40000 - s.live_end);
    assert_true(s.live_end <= 4 * 64);
    assert_true(s.cross_frees > 1000);            /* arrays rotate between threads */
    assert_true(s.cross_frees < s.frees);
    for (int t = 0; t < 4; t++)
        assert_true(s.per_thread_allocs[t] > 5000);
}

static void producer_consumer_split(void **state)
{
    (void)state;
    hak_synth_params p;
    hak_synth_defaults(HAK_SYNTH_PRODUCER_CONSUMER, &p);
    p.iters = 10000;
    p.queue = 32;
    summary s = run(&p);
    assert_int_equal(s.mallocs, 10000);
    assert_int_equal(s.frees, 10000);
    assert_int_equal(s.per_thread_allocs[0], 10000);
    assert_int_equal(s.per_thread_frees[1], 10000);
    assert_int_equal(s.cross_frees, 10000);
    assert_true(s.peak_live <= 32);
    assert_int_equal(s.live_end, 0);
}

static void zero_iterations(void **state)
{
    (void)state;
    hak_synth_params p;
    hak_synth_defaults(HAK_SYNTH_RANDOM_MIXED, &p);
    p.iters = 0;
    summary s = run(&p);
    assert_int_equal(s.events, 2);               /* thread start and exit only */
}

static void rejects_bad_params(void **state)
{
    (void)state;
    char err[256];
    hak_synth_params p;
    hak_synth_defaults(HAK_SYNTH_RANDOM_MIXED, &p);
    p.min_size = 100;
    p.max_size = 10;
    assert_null(hak_synth_new(&p, err, sizeof err));
    assert_non_null(strstr(err, "--min"));
    hak_synth_defaults(HAK_SYNTH_RANDOM_MIXED, &p);
    p.slots = 0;
    assert_int_equal(hak_synth_check(&p, err, sizeof err), -1);
    assert_non_null(strstr(err, "--slots"));
    hak_synth_defaults(HAK_SYNTH_LARSON, &p);
    p.threads = 0;
    assert_int_equal(hak_synth_check(&p, err, sizeof err), -1);
    assert_non_null(strstr(err, "--threads"));
    hak_synth_defaults(HAK_SYNTH_TINY_HOT, &p);
    p.batch = 0;
    assert_int_equal(hak_synth_check(&p, err, sizeof err), -1);
    assert_int_equal(hak_synth_kind_from_name("nope"), -1);
    assert_int_equal(hak_synth_kind_from_name("larson"), HAK_SYNTH_LARSON);
}

static void describe_names_parameters(void **state)
{
    (void)state;
    hak_synth_params p;
    hak_synth_defaults(HAK_SYNTH_RANDOM_MIXED, &p);
    p.iters = 1000;
    p.slots = 8;
    p.seed = 7;
    char buf[256];
    hak_synth_describe(&p, buf, sizeof buf);
    assert_string_equal(buf, "random-mixed --iters 1000 --slots 8 --seed 7 --min 16 --max 1039");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_mixed_counts),
        cmocka_unit_test(random_mixed_size_range),
        cmocka_unit_test(huge_blocks_stay_distinct),
        cmocka_unit_test(deterministic_from_seed),
        cmocka_unit_test(tiny_hot_batches),
        cmocka_unit_test(larson_cross_thread),
        cmocka_unit_test(producer_consumer_split),
        cmocka_unit_test(zero_iterations),
        cmocka_unit_test(rejects_bad_params),
        cmocka_unit_test(describe_names_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
