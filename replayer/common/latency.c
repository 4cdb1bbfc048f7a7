/* latency.c - quantiles of the sampled latency histogram (see latency.h). */
#include "latency.h"

uint64_t rp_lat_quantile(const uint64_t *counts, double q)
{
    uint64_t total = 0;
    for (unsigned b = 0; b < RP_LAT_BUCKETS; b++)
        total += counts[b];
    if (total == 0)
        return 0;
    if (q < 0) q = 0;
    if (q > 1) q = 1;
    /* rank of the sample at quantile q, 1-based */
    uint64_t rank = (uint64_t)(q * (double)total + 0.5);
    if (rank < 1) rank = 1;
    if (rank > total) rank = total;
    uint64_t seen = 0;
    for (unsigned b = 0; b < RP_LAT_BUCKETS; b++) {
        seen += counts[b];
        if (seen >= rank) {
            uint64_t lo = rp_lat_bucket_lo(b);
            uint64_t hi = b + 1 < RP_LAT_BUCKETS ? rp_lat_bucket_lo(b + 1) : lo;
            return lo + (hi - lo) / 2;
        }
    }
    return 0;
}
