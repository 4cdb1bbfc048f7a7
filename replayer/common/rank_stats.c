/* rank_stats.c - medians and Kendall's tau-b (rank_stats.h). */
#include "rank_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double rp_median(const double *v, size_t n, size_t *used)
{
    double tmp[64];
    size_t k = 0;
    for (size_t i = 0; i < n && k < 64; i++)
        if (!isnan(v[i]))
            tmp[k++] = v[i];
    if (used)
        *used = k;
    if (!k)
        return NAN;
    qsort(tmp, k, sizeof *tmp, cmp_dbl);
    return k % 2 ? tmp[k / 2] : (tmp[k / 2 - 1] + tmp[k / 2]) / 2;
}

void rp_range(const double *v, size_t n, double *lo, double *hi)
{
    *lo = *hi = NAN;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i]))
            continue;
        if (isnan(*lo) || v[i] < *lo) *lo = v[i];
        if (isnan(*hi) || v[i] > *hi) *hi = v[i];
    }
}

/* -1, 0 (the ranges overlap) or 1 */
static int order_ranges(double a, double alo, double ahi, double b, double blo, double bhi)
{
    if (!(ahi < blo) && !(bhi < alo))
        return 0;
    return a < b ? -1 : a > b ? 1 : 0;
}

double rp_kendall_tau_b_ranges(const double *x, const double *xlo, const double *xhi,
                               const double *y, const double *ylo, const double *yhi,
                               size_t len, size_t *n)
{
    long conc = 0, disc = 0, tx = 0, ty = 0, pairs = 0;
    size_t used = 0;
    for (size_t i = 0; i < len; i++) {
        if (isnan(x[i]) || isnan(y[i]))
            continue;
        used++;
        for (size_t j = i + 1; j < len; j++) {
            if (isnan(x[j]) || isnan(y[j]))
                continue;
            int a = order_ranges(x[i], xlo[i], xhi[i], x[j], xlo[j], xhi[j]);
            int b = order_ranges(y[i], ylo[i], yhi[i], y[j], ylo[j], yhi[j]);
            pairs++;
            if (!a) tx++;
            if (!b) ty++;
            if (a && b)
            { if (a == b) conc++; else disc++; }
        }
    }
    if (n)
        *n = used;
    if (pairs < 1 || tx == pairs || ty == pairs)
        return NAN;
    return (double)(conc - disc) / sqrt((double)(pairs - tx) * (double)(pairs - ty));
}

/* -1, 0 (tied within rel_tie) or 1 */
static int order(double a, double b, double rel_tie)
{
    double scale = fmax(fabs(a), fabs(b));
    if (fabs(a - b) <= rel_tie * scale)
        return 0;
    return a < b ? -1 : 1;
}

double rp_kendall_tau_b(const double *x, const double *y, size_t len, double rel_tie, size_t *n)
{
    long conc = 0, disc = 0, tx = 0, ty = 0, pairs = 0;
    size_t used = 0;
    for (size_t i = 0; i < len; i++) {
        if (isnan(x[i]) || isnan(y[i]))
            continue;
        used++;
        for (size_t j = i + 1; j < len; j++) {
            if (isnan(x[j]) || isnan(y[j]))
                continue;
            int a = order(x[i], x[j], rel_tie), b = order(y[i], y[j], rel_tie);
            pairs++;
            if (!a) tx++;
            if (!b) ty++;
            if (a && b)
            { if (a == b) conc++; else disc++; }
        }
    }
    if (n)
        *n = used;
    if (pairs < 1 || tx == pairs || ty == pairs)
        return NAN;
    return (double)(conc - disc) / sqrt((double)(pairs - tx) * (double)(pairs - ty));
}
