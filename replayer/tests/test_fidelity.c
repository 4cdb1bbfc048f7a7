/* test_fidelity.c - the RSS-timeline fidelity figure (replay.h). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "replay.h"

#define NOPS 1000

static uint64_t op_ts[NOPS];

static void linear_ts(void)
{
    for (int i = 0; i < NOPS; i++)
        op_ts[i] = (uint64_t)i * 1000;      /* op i at i us */
}

/* Recorded: RSS rises linearly by 1 MiB over the trace, from a 5 MiB base. */
static size_t recorded(hak_rss_sample *s)
{
    for (int k = 0; k <= 10; k++) {
        s[k].ts_ns = (uint64_t)k * 100 * 1000;
        s[k].rss_bytes = (5u << 20) + (uint64_t)k * (1u << 20) / 10;
    }
    return 11;
}

static size_t replay_ramp(rp_tsample *s, double scale)
{
    for (int j = 0; j <= 20; j++) {
        s[j].op = j * NOPS / 20;
        s[j].rss_bytes = (int64_t)(300000 + scale * j * (1 << 20) / 20.0);
    }
    return 21;
}

static void same_shape_scores_one(void **state)
{
    (void)state;
    linear_ts();
    hak_rss_sample rec[16];
    rp_tsample rep[32];
    size_t nr = recorded(rec), np = replay_ramp(rep, 1.0);
    double f = rp_fidelity(rec, nr, op_ts, NOPS, rep, np);
    assert_true(f > 0.98 && f <= 1.0);
}

static void different_shape_scores_lower(void **state)
{
    (void)state;
    linear_ts();
    hak_rss_sample rec[16];
    rp_tsample rep[32];
    size_t nr = recorded(rec);
    size_t np = replay_ramp(rep, 0.0);              /* flat replay */
    double flat = rp_fidelity(rec, nr, op_ts, NOPS, rep, np);
    np = replay_ramp(rep, 0.5);                     /* half the growth */
    double half = rp_fidelity(rec, nr, op_ts, NOPS, rep, np);
    assert_true(flat < 0.6);
    assert_true(half > flat && half < 0.9);
}

static void no_recording_is_nan(void **state)
{
    (void)state;
    linear_ts();
    hak_rss_sample rec[16];
    rp_tsample rep[32];
    size_t np = replay_ramp(rep, 1.0);
    recorded(rec);
    assert_true(isnan(rp_fidelity(rec, 1, op_ts, NOPS, rep, np)));
    assert_true(isnan(rp_fidelity(rec, 0, op_ts, NOPS, rep, np)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_shape_scores_one),
        cmocka_unit_test(different_shape_scores_lower),
        cmocka_unit_test(no_recording_is_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
