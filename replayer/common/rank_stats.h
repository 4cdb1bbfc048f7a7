/* rank_stats.h - the statistics `hak validate` reports: medians of a few
 * runs, and Kendall's tau-b between two rankings of the same allocators. */
#ifndef RP_RANK_STATS_H
#define RP_RANK_STATS_H

#include <stddef.h>

/* Median of v[0..n) ignoring NaNs (sorts a copy; n <= 64); NaN when none. */
double rp_median(const double *v, size_t n, size_t *used);

/* Kendall's tau-b of x and y over the pairs where both are numbers:
 *   (concordant - discordant) / sqrt((n0 - tx) (n0 - ty))
 * with n0 = pairs, tx/ty = pairs tied in x/y.  Values within rel_tie of
 * each other (relative) count as tied, so run-to-run noise between two
 * equal allocators is not read as an order.  NaN when fewer than two
 * pairs remain or either side is all ties.  *n gets the number of items used. */
double rp_kendall_tau_b(const double *x, const double *y, size_t len, double rel_tie, size_t *n);

/* Min and max of v[0..n) ignoring NaNs; both NaN when none. */
void rp_range(const double *v, size_t n, double *lo, double *hi);

/* The same tau-b, where two items tie on a side when their ranges
 * [lo, hi] over the repeated runs overlap: the runs themselves cannot
 * order them (python3's jemalloc and tcmalloc peaks, 79.9 and 80.6 MiB
 * medians, with jemalloc's runs spread over 3%), so neither order is
 * agreement or disagreement.  Items are ordered by x / y otherwise. */
double rp_kendall_tau_b_ranges(const double *x, const double *xlo, const double *xhi,
                               const double *y, const double *ylo, const double *yhi,
                               size_t len, size_t *n);

#endif /* RP_RANK_STATS_H */
