/* test_stats.c - the comparison verdict: noise is not a change, a real
 * shift is, direction matters, one run is never enough. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "db_stats.h"

#include <math.h>

static db_summary sum(const double *v, size_t n)
{
    double tmp[256];
    for (size_t i = 0; i < n; i++)
        tmp[i] = v[i];
    return db_summarize(tmp, n);
}

static void test_summary(void **state)
{
    (void)state;
    double v[] = {5, 1, 3, 2, 4};
    db_summary s = sum(v, 5);
    assert_int_equal(s.n, 5);
    assert_true(s.median == 3 && s.min == 1 && s.max == 5 && s.mad == 1);
    double w[] = {4, 1, 3, 2};
    s = sum(w, 4);
    assert_true(s.median == 2.5);
    s = sum(w, 0);
    assert_true(isnan(s.median));
}

static void test_noise_is_not_a_change(void **state)
{
    (void)state;
    /* +-8% scatter around the same level, medians 3% apart: same. */
    double a[] = {100, 92, 108, 97, 104}, b[] = {103, 95, 111, 99, 106};
    db_summary sa = sum(a, 5), sb = sum(b, 5);
    db_change c = db_compare(&sa, &sb, 1, 0.02);
    assert_int_equal(c.verdict, DB_SAME);
    assert_true(c.noise > 0.05);
}

static void test_real_change_is_flagged(void **state)
{
    (void)state;
    double a[] = {100, 101, 99}, b[] = {80, 81, 79};
    db_summary sa = sum(a, 3), sb = sum(b, 3);
    /* ops/s down 20%: regression; the same numbers as faults: better. */
    assert_int_equal(db_compare(&sa, &sb, 1, 0.02).verdict, DB_WORSE);
    assert_int_equal(db_compare(&sa, &sb, 0, 0.02).verdict, DB_BETTER);
    db_change c = db_compare(&sa, &sb, 1, 0.02);
    assert_true(fabs(c.ratio - 0.8) < 1e-9);
    assert_true(fabs(c.rel + 0.2) < 1e-9);
}

static void test_small_shift_below_threshold(void **state)
{
    (void)state;
    /* Tight, non-overlapping, but only 1% apart: below --min-change 2%. */
    double a[] = {100, 100.1, 99.9}, b[] = {101, 101.1, 100.9};
    db_summary sa = sum(a, 3), sb = sum(b, 3);
    assert_int_equal(db_compare(&sa, &sb, 1, 0.02).verdict, DB_SAME);
    assert_int_equal(db_compare(&sa, &sb, 1, 0.005).verdict, DB_BETTER);
}

static void test_wide_noise_hides_shift(void **state)
{
    (void)state;
    /* Ranges do not overlap and medians are 10% apart, but the base's
     * scatter (MAD 4 around 96: noise ~18%) could produce that: same. */
    double a[] = {90, 100, 96, 104, 94}, b[] = {105, 106, 110, 104.5, 112};
    db_summary sa = sum(a, 5), sb = sum(b, 5);
    db_change c = db_compare(&sa, &sb, 1, 0.02);
    assert_int_equal(c.verdict, DB_SAME);
    assert_true(c.rel > 0.1 && c.noise > c.rel);
}

static void test_noisy_change_says_repeats_needed(void **state)
{
    (void)state;
    /* Medians 20% apart but one run's noise (~45%) is larger: undecided,
     * with the repeats a side that would resolve it. */
    double a[] = {100, 60, 140}, b[] = {120, 75, 170};
    db_summary sa = sum(a, 3), sb = sum(b, 3);
    db_change c = db_compare(&sa, &sb, 1, 0.02);
    assert_int_equal(c.verdict, DB_SAME);
    assert_true(c.repeats > 3);
    /* A difference below --min-change is simply the same: no hint. */
    double d[] = {101, 61, 141};
    db_summary sd = sum(d, 3);
    assert_int_equal(db_compare(&sa, &sd, 1, 0.02).repeats, 0);
}

static void test_enough_repeats_resolve_a_noisy_change(void **state)
{
    (void)state;
    /* 8% apart with ~+-10% scatter: undecided with 3 runs a side, but the
     * repeats it names pin both medians down (standard-error rule): better. */
    double a3[] = {100, 90, 110}, b3[] = {108, 97, 119};
    db_summary sa3 = sum(a3, 3), sb3 = sum(b3, 3);
    db_change c3 = db_compare(&sa3, &sb3, 1, 0.02);
    assert_int_equal(c3.verdict, DB_SAME);
    assert_true(c3.repeats >= 5);
    /* As many repeats as it said, with the same scatter (MAD 10%): decided. */
    size_t n = c3.repeats;
    assert_true(n <= 256);
    double a[256], b[256];
    for (size_t i = 0; i < n; i++) {
        double dev = ((double)(i % 5) - 2) * 10.0;   /* -20..+20: MAD 10 */
        a[i] = 100 + dev;
        b[i] = 108 + dev * 1.08;
    }
    db_summary sa = sum(a, n), sb = sum(b, n);
    db_change c = db_compare(&sa, &sb, 1, 0.02);
    assert_int_equal(c.verdict, DB_BETTER);
}

static void test_single_run_unsure(void **state)
{
    (void)state;
    double a[] = {100}, b[] = {50, 51};
    db_summary sa = sum(a, 1), sb = sum(b, 2);
    db_change c = db_compare(&sa, &sb, 1, 0.02);
    assert_int_equal(c.verdict, DB_UNSURE);
    assert_true(fabs(c.ratio - 0.505) < 1e-9);
}

static void test_deterministic_one_run_is_exact(void **state)
{
    (void)state;
    double a[] = {5000}, b[] = {1200}, c[] = {5000};
    db_summary sa = sum(a, 1), sb = sum(b, 1), sc = sum(c, 1);
    assert_true(db_metric_deterministic("sim.dtlb_misses"));
    assert_false(db_metric_deterministic("minor_faults"));
    /* Noise-based rule: one run is never enough ... */
    assert_int_equal(db_compare(&sa, &sb, 0, 0.02).verdict, DB_UNSURE);
    /* ... but a simulated figure is exact: fewer misses is better, equal is same. */
    assert_int_equal(db_compare_exact(&sa, &sb, 0, 0.0).verdict, DB_BETTER);
    assert_int_equal(db_compare_exact(&sb, &sa, 0, 0.0).verdict, DB_WORSE);
    assert_int_equal(db_compare_exact(&sa, &sc, 0, 0.0).verdict, DB_SAME);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_noise_is_not_a_change),
        cmocka_unit_test(test_real_change_is_flagged),
        cmocka_unit_test(test_small_shift_below_threshold),
        cmocka_unit_test(test_wide_noise_hides_shift),
        cmocka_unit_test(test_noisy_change_says_repeats_needed),
        cmocka_unit_test(test_enough_repeats_resolve_a_noisy_change),
        cmocka_unit_test(test_single_run_unsure),
        cmocka_unit_test(test_deterministic_one_run_is_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
