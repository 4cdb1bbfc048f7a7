/* test_latency.c - the sampled latency histogram: bucket mapping and
 * quantiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "latency.h"

static void buckets_are_monotonic_and_bounded(void **state)
{
    (void)state;
    unsigned prev = 0;
    for (uint64_t v = 0; v < 100000; v++) {
        unsigned b = rp_lat_bucket(v);
        assert_true(b >= prev);
        assert_true(b < RP_LAT_BUCKETS);
        assert_true(rp_lat_bucket_lo(b) <= v);
        if (b + 1 < RP_LAT_BUCKETS)
            assert_true(rp_lat_bucket_lo(b + 1) > v);
        prev = b;
    }
    assert_true(rp_lat_bucket(UINT64_MAX) < RP_LAT_BUCKETS);
    assert_int_equal(rp_lat_bucket(7), 7);
}

static void bucket_width_is_an_eighth(void **state)
{
    (void)state;
    for (unsigned b = 16; b + 1 < RP_LAT_BUCKETS; b++) {
        uint64_t lo = rp_lat_bucket_lo(b), hi = rp_lat_bucket_lo(b + 1);
        assert_true(hi > lo);
        assert_true((hi - lo) * 8 <= lo);
    }
}

static void quantiles_of_a_known_distribution(void **state)
{
    (void)state;
    uint64_t h[RP_LAT_BUCKETS];
    memset(h, 0, sizeof h);
    assert_int_equal(rp_lat_quantile(h, 0.5), 0);
    /* 990 samples at 10, 9 at 1000, 1 at 100000 */
    h[rp_lat_bucket(10)] += 990;
    h[rp_lat_bucket(1000)] += 9;
    h[rp_lat_bucket(100000)] += 1;
    assert_int_equal(rp_lat_quantile(h, 0.5), 10);
    uint64_t p999 = rp_lat_quantile(h, 0.995);
    assert_true(p999 >= 960 && p999 <= 1040);
    uint64_t max = rp_lat_quantile(h, 1.0);
    assert_true(max >= 94000 && max <= 106000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buckets_are_monotonic_and_bounded),
        cmocka_unit_test(bucket_width_is_an_eighth),
        cmocka_unit_test(quantiles_of_a_known_distribution),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
