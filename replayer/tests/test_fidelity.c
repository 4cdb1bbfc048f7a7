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

/* --touch auto's comparison (touch_auto.h): a replay's peak where the
 * recording sampled.  A spike of the replay between two recorded samples
 * is not in it (the recording could not have seen the program's either),
 * and the positions to sample are those of the recording's highest
 * samples, sorted. */
static void sampled_peak_and_positions(void **state)
{
    (void)state;
    linear_ts();
    hak_rss_sample rec[16];
    size_t nr = recorded(rec);                      /* samples at ops 0, 100, ..., 1000 */
    /* The replay sampled where the recording did (ops 1, 101, ..., 901 and
     * 1000: image.h, at[]), 0..1 MiB above a 300000-byte offset, and once
     * more in between, at a 64 MiB spike. */
    rp_tsample rep[32];
    size_t np = 0;
    for (int k = 0; k <= 10; k++) {
        rep[np].op = k < 10 ? 100 * k + 1 : 1000;
        rep[np++].rss_bytes = 300000 + k * (1 << 20) / 10;
        if (k == 1)
            rep[np++] = (rp_tsample){.op = 150, .rss_bytes = 300000 + (64 << 20)};
    }
    double sp = rp_sampled_peak(rec, nr, op_ts, NOPS, rep, np, 300000);
    assert_true(fabs(sp - (1 << 20)) < 1.0);        /* the last sample's: 1 MiB above the offset */
    assert_true(isnan(rp_sampled_peak(rec, 1, op_ts, NOPS, rep, np, 0)));

    uint64_t at[8];
    size_t n = rp_sample_positions(rec, nr, op_ts, NOPS, at, 3);
    assert_int_equal(n, 3);                         /* the three highest: ops 800, 900, 1000 */
    assert_int_equal(at[0], 801);                   /* ops with ts <= 800 us: 0..800 */
    assert_int_equal(at[1], 901);
    assert_int_equal(at[2], 1000);                  /* after the last op */
    rec[3].rss_bytes = 100 << 20;                   /* now the highest, at op 300 */
    n = rp_sample_positions(rec, nr, op_ts, NOPS, at, 2);
    assert_int_equal(n, 2);
    assert_int_equal(at[0], 301);
    assert_int_equal(at[1], 1000);
}

/* The timeline fit: samples 10 ms apart that a page-touching replay
 * matches (part 1, first 1 MiB short), and one inside a short peak, with
 * neighbours 0.5 ms away (the recorder samples densely while the heap
 * grows), that caught the program's new 16 MiB buffer a fifth written.
 * The peak fit would have taken part 0.2 from that one sample; the
 * timeline's is 1.  Without the time weights the short sample, which the
 * part moves most (16 MiB vs 1 MiB each), would outvote the 12 others. */
static void timeline_part_ignores_a_short_peak(void **state)
{
    (void)state;
    hak_rss_sample rec[16];
    double first[16], pages[16];
    size_t n = 0;
    for (int k = 0; k < 11; k++) {
        uint64_t ts = (uint64_t)k * 10000000u;
        rec[n] = (hak_rss_sample){ts, 20u << 20};
        first[n] = 19 << 20;
        pages[n++] = 20 << 20;
        if (k == 5) {
            rec[n] = (hak_rss_sample){ts + 500000u, (20u << 20) + (16u << 20) / 5};
            first[n] = 20 << 20;
            pages[n++] = 36 << 20;
            rec[n] = (hak_rss_sample){ts + 1000000u, 20u << 20};
            first[n] = 19 << 20;
            pages[n++] = 20 << 20;
        }
    }
    double f = rp_timeline_part(first, pages, rec, n);
    assert_true(fabs(f - 1.0) < 1e-9);
    /* a program that writes half of each block: every sample says 0.5 */
    for (size_t k = 0; k < n; k++)
        rec[k].rss_bytes = (uint64_t)((first[k] + pages[k]) / 2);
    assert_true(fabs(rp_timeline_part(first, pages, rec, n) - 0.5) < 1e-9);
    /* nothing that the part moves by more than a page: no figure */
    for (size_t k = 0; k < n; k++)
        pages[k] = first[k] + 4095;
    assert_true(isnan(rp_timeline_part(first, pages, rec, n)));
}

/* A heap that ramps up: for most of the run it is small and its blocks
 * barely written (part 0), then it grows to its peak with blocks 70%
 * written.  The fit predicts the peak: the samples under half of it do
 * not count (with them, the weighted median was 0: 400 ms moved by 4 MiB
 * outweigh 60 ms moved by 20 MiB). */
static void timeline_part_fits_the_upper_half(void **state)
{
    (void)state;
    hak_rss_sample rec[50];
    double first[50], pages[50];
    size_t n = 0;
    for (int k = 0; k < 40; k++, n++) {        /* 400 ms at 4 MiB: written as first */
        rec[n] = (hak_rss_sample){(uint64_t)k * 10000000u, 4u << 20};
        first[n] = 4 << 20;
        pages[n] = 8 << 20;
    }
    for (int k = 0; k < 6; k++, n++) {         /* 60 ms at 24 MiB: 70% of the way */
        rec[n] = (hak_rss_sample){(uint64_t)(40 + k) * 10000000u,
                                  (uint64_t)((10 << 20) + 0.7 * (20 << 20))};
        first[n] = 10 << 20;
        pages[n] = 30 << 20;
    }
    double f = rp_timeline_part(first, pages, rec, n);
    assert_true(fabs(f - 0.7) < 1e-6);
}

static void sampled_values_at_the_samples(void **state)
{
    (void)state;
    linear_ts();
    hak_rss_sample rec[16];
    size_t nr = recorded(rec);
    rp_tsample rep[32];
    size_t np = replay_ramp(rep, 1.0);             /* 0..1 MiB over the ops */
    double v[16];
    assert_int_equal(rp_sampled_values(rec, nr, op_ts, NOPS, rep, np, 300000, v), 0);
    for (size_t k = 0; k < nr; k++)                 /* sample k: op 100k + 1 of 1000 */
        assert_true(fabs(v[k] - (k < 10 ? (100.0 * k + 1) / 1000 : 1.0) * (1 << 20)) < 2.0);
    assert_int_equal(rp_sampled_values(rec, 1, op_ts, NOPS, rep, np, 0, v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_shape_scores_one),
        cmocka_unit_test(different_shape_scores_lower),
        cmocka_unit_test(no_recording_is_nan),
        cmocka_unit_test(sampled_peak_and_positions),
        cmocka_unit_test(timeline_part_fits_the_upper_half),
        cmocka_unit_test(timeline_part_ignores_a_short_peak),
        cmocka_unit_test(sampled_values_at_the_samples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
