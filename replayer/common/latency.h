/* latency.h - sampled per-operation latency histogram.
 *
 * The worker times every Kth operation with a cheap clock (the TSC on
 * x86-64, CLOCK_MONOTONIC elsewhere) and counts the raw tick deltas in a
 * log2-linear histogram: values below 16 have a bucket each; above, every
 * power of two is split into 8 linear sub-buckets, so a bucket's width is at
 * most 1/8 of its value (percentiles are exact to ~6%).  Ticks are converted
 * to ns once, at the end, with the rate measured over the window.
 *
 * Invariant: rp_lat_bucket(v) is monotonic in v and < RP_LAT_BUCKETS for
 * every uint64 value; rp_lat_bucket_lo(b) <= v for every v in bucket b.
 */
#ifndef RP_LATENCY_H
#define RP_LATENCY_H

#include <stdint.h>
#include <time.h>

#define RP_LAT_SUB     8                          /* sub-buckets per power of two */
#define RP_LAT_BUCKETS (16 + (64 - 4) * RP_LAT_SUB) /* 496 */

static inline unsigned rp_lat_bucket(uint64_t v)
{
    if (v < 16)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);   /* >= 4 */
    unsigned sub = (unsigned)(v >> (e - 3)) & (RP_LAT_SUB - 1);
    return 16u + (e - 4u) * RP_LAT_SUB + sub;
}

/* Smallest value that falls into bucket b. */
static inline uint64_t rp_lat_bucket_lo(unsigned b)
{
    if (b < 16)
        return b;
    unsigned e = (b - 16u) / RP_LAT_SUB + 4u, sub = (b - 16u) % RP_LAT_SUB;
    return (1ull << e) + ((uint64_t)sub << (e - 3));
}

/* Value at quantile q (0..1) of the histogram, as the midpoint of the bucket
 * holding it; 0 when the histogram is empty. */
uint64_t rp_lat_quantile(const uint64_t *counts, double q);

#if defined(__x86_64__)
#include <x86intrin.h>
static inline uint64_t rp_ticks(void) { return __rdtsc(); }
#define RP_TICKS_ARE_TSC 1
#else
static inline uint64_t rp_ticks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
#define RP_TICKS_ARE_TSC 0
#endif

#endif /* RP_LATENCY_H */
