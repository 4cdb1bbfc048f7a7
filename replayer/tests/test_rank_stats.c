/* test_rank_stats.c - medians and Kendall's tau-b for hak validate
 * (replayer/common/rank_stats.h), against hand-computed values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rank_stats.h"

static void medians(void **st)
{
    (void)st;
    size_t n;
    double odd[] = {5, 1, 3};
    assert_true(rp_median(odd, 3, &n) == 3 && n == 3);
    double even[] = {4, 1, 3, 2};
    assert_true(rp_median(even, 4, &n) == 2.5 && n == 4);
    double gaps[] = {NAN, 7, NAN, 1, 4};
    assert_true(rp_median(gaps, 5, &n) == 4 && n == 3);
    double none[] = {NAN, NAN};
    assert_true(isnan(rp_median(none, 2, &n)) && n == 0);
}

static void tau(void **st)
{
    (void)st;
    size_t n;
    double x[] = {1, 2, 3, 4, 5};
    double same[] = {10, 20, 30, 40, 50};
    double rev[] = {5, 4, 3, 2, 1};
    double one_swap[] = {2, 1, 3, 4, 5};     /* 9 concordant, 1 discordant of 10 */
    assert_true(fabs(rp_kendall_tau_b(x, same, 5, 0, &n) - 1) < 1e-12 && n == 5);
    assert_true(fabs(rp_kendall_tau_b(x, rev, 5, 0, &n) + 1) < 1e-12);
    assert_true(fabs(rp_kendall_tau_b(x, one_swap, 5, 0, &n) - 0.8) < 1e-12);
    /* a tie in y: tau-b = (C - D) / sqrt(10 * 9) with C = 9, D = 0 */
    double tie[] = {1, 1, 3, 4, 5};
    assert_true(fabs(rp_kendall_tau_b(x, tie, 5, 0, &n) - 9 / sqrt(90)) < 1e-12);
    /* within 5%: 100 and 104 tie, so the swap does not count against */
    double a[] = {100, 104, 200}, b[] = {104, 100, 200};
    assert_true(fabs(rp_kendall_tau_b(a, b, 3, 0.05, &n) - 1) < 1e-12);
    assert_true(fabs(rp_kendall_tau_b(a, b, 3, 0, &n) - 1.0 / 3) < 1e-12);
    /* NaNs drop the allocator; fewer than 2 left or all tied: undefined */
    double g[] = {1, NAN, 3}, h[] = {1, 2, 3};
    assert_true(fabs(rp_kendall_tau_b(g, h, 3, 0, &n) - 1) < 1e-12 && n == 2);
    assert_true(isnan(rp_kendall_tau_b(g, h, 1, 0, &n)));
    double flat[] = {7, 7, 7};
    assert_true(isnan(rp_kendall_tau_b(h, flat, 3, 0, &n)));
}

static void tau_ranges(void **st)
{
    (void)st;
    size_t n;
    double lo, hi;
    double v[] = {3, NAN, 1, 2};
    rp_range(v, 4, &lo, &hi);
    assert_true(lo == 1 && hi == 3);
    /* points (one run each): the plain tau-b */
    double x[] = {1, 2, 3, 4, 5}, one_swap[] = {2, 1, 3, 4, 5};
    assert_true(fabs(rp_kendall_tau_b_ranges(x, x, x, one_swap, one_swap, one_swap, 5, &n) - 0.8) < 1e-12
                && n == 5);
    /* the swapped pair's live ranges overlap (1..2.5 and 1.5..2): a tie
     * in x, so tau-b = (C - D) / sqrt((10 - 1) * 10) with C = 9, D = 0 */
    double xlo[] = {1, 1.5, 3, 4, 5}, xhi[] = {2.5, 2, 3, 4, 5};
    assert_true(fabs(rp_kendall_tau_b_ranges(x, xlo, xhi, one_swap, one_swap, one_swap, 5, &n)
                     - 9 / sqrt(90)) < 1e-12);
    /* ranges that only touch at one value overlap too; disjoint ones order */
    double a[] = {1, 2}, alo[] = {0, 1}, ahi[] = {1, 3}, b[] = {2, 1};
    assert_true(isnan(rp_kendall_tau_b_ranges(a, alo, ahi, b, b, b, 2, &n)));
    double ahi2[] = {0.9, 3};
    assert_true(fabs(rp_kendall_tau_b_ranges(a, alo, ahi2, b, b, b, 2, &n) + 1) < 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(medians),
        cmocka_unit_test(tau),
        cmocka_unit_test(tau_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
