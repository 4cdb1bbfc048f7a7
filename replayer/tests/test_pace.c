/* test_pace.c - due times at the program's own speed (--pace program:D,
 * replayer/replay/pace.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "replay.h"

/* A form of n ops whose thread ids are tids[] (nthreads threads). */
static hak_replay *form(const uint16_t *tids, uint64_t n, uint32_t nthreads)
{
    static hak_rop ops[512];
    static uint64_t tn[4];
    static hak_replay rp;
    memset(&rp, 0, sizeof rp);
    memset(tn, 0, sizeof tn);
    for (uint64_t i = 0; i < n; i++) {
        ops[i].tid = tids[i];
        tn[tids[i]]++;
    }
    rp.nops = n;
    rp.ops = ops;
    rp.nthreads = nthreads;
    rp.thread_nops = tn;
    return &rp;
}

/* A burst of 100 ops recorded 100 ns apart (the recorder's cost), an idle
 * millisecond, one more op; the program itself took 1 ms: the cost per op
 * is what the recording took beyond that, and it comes off the burst, not
 * off the idle gap.  One factor for the whole time line (recorded:F, F =
 * 1 ms / the recording's 1.0099 ms) would leave the burst at 9.8 us and
 * the gap shortened by 9.8 us. */
static void test_burst_then_gap(void **state)
{
    (void)state;
    static uint16_t tids[101];
    static uint64_t ts[101];
    for (int i = 0; i < 100; i++)
        ts[i] = 5000 + (uint64_t)i * 100;
    ts[100] = ts[99] + 1000000;
    hak_replay *rp = form(tids, 101, 1);
    double cost;
    char err[128];
    uint64_t *due = rp_pace_program(rp, ts, 1000000, &cost, err, sizeof err);
    assert_non_null(due);
    /* (1,009,900 - 1,000,000) / the 100 ops after the first */
    assert_true(cost > 98.9 && cost < 99.1);
    assert_int_equal(due[0], 5000);
    assert_true(due[99] - due[0] < 300);                /* the burst collapses */
    assert_true(due[100] - due[99] >= 999000);          /* the idle gap stays */
    assert_true(due[100] - due[0] <= 1000000 && due[100] - due[0] >= 999900);
    for (int i = 1; i <= 100; i++)
        assert_true(due[i] >= due[i - 1]);
    free(due);
}

/* Two threads recording side by side: each pays for its own ops, so
 * thread 1's ops are not moved earlier by the ops thread 0 recorded. */
static void test_threads_pay_their_own(void **state)
{
    (void)state;
    static uint16_t tids[300];
    static uint64_t ts[300];
    /* thread 0: 200 ops, 1 us apart; thread 1: 100 ops, 2 us apart;
     * merged in time order */
    uint64_t n = 0, a = 0, b = 0;
    while (a < 200 || b < 100) {
        uint64_t ta = a < 200 ? a * 1000 : UINT64_MAX, tb = b < 100 ? b * 2000 + 500 : UINT64_MAX;
        if (ta <= tb) { tids[n] = 0; ts[n++] = ta; a++; }
        else          { tids[n] = 1; ts[n++] = tb; b++; }
    }
    hak_replay *rp = form(tids, n, 2);
    double cost;
    char err[128];
    /* recorded span 199 us; the program: 100 us.  The busiest thread
     * (200 ops) carries the difference: 99 us over its 199 later ops */
    uint64_t *due = rp_pace_program(rp, ts, 100000, &cost, err, sizeof err);
    assert_non_null(due);
    assert_true(cost > 497.4 && cost < 497.6);
    uint64_t last0 = 0, last1 = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (tids[i] == 0) last0 = due[i]; else last1 = due[i];
    }
    /* thread 0: its last op at the program's 100 us */
    assert_true(last0 >= 99900 && last0 <= 100100);
    /* thread 1: its 100th op at 198.5 us less its own 99 ops' cost,
     * 149.25 us (less thread 0's 199 too: 99.5 us) */
    assert_true(last1 >= 149100 && last1 <= 149400);
    free(due);
}

/* A program slower than its recording (a live run on a busier machine):
 * nothing is taken off, the recorded times stand. */
static void test_program_slower(void **state)
{
    (void)state;
    static uint16_t tids[10];
    static uint64_t ts[10];
    for (int i = 0; i < 10; i++)
        ts[i] = (uint64_t)i * 1000;
    hak_replay *rp = form(tids, 10, 1);
    double cost;
    char err[128];
    uint64_t *due = rp_pace_program(rp, ts, 50000, &cost, err, sizeof err);
    assert_non_null(due);
    assert_true(cost == 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(due[i], ts[i]);
    free(due);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_gap),
        cmocka_unit_test(test_threads_pay_their_own),
        cmocka_unit_test(test_program_slower),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
