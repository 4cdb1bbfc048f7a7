/* db_stats.c - see db_stats.h. */
#include "db_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_sorted(const double *v, size_t n)
{
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

db_summary db_summarize(double *v, size_t n)
{
    db_summary s = {n, NAN, NAN, NAN, NAN};
    if (!n)
        return s;
    qsort(v, n, sizeof *v, cmp_dbl);
    s.median = median_sorted(v, n);
    s.min = v[0];
    s.max = v[n - 1];
    double *d = malloc(n * sizeof *d);
    if (d) {
        for (size_t i = 0; i < n; i++)
            d[i] = fabs(v[i] - s.median);
        qsort(d, n, sizeof *d, cmp_dbl);
        s.mad = median_sorted(d, n);
        free(d);
    }
    return s;
}

const char *db_verdict_name(db_verdict v)
{
    switch (v) {
    case DB_BETTER: return "better";
    case DB_WORSE: return "REGRESSION";
    case DB_UNSURE: return "unsure (1 run)";
    default: return "same";
    }
}

static double rel_noise(const db_summary *s)
{
    if (s->n < 2 || s->median == 0 || isnan(s->mad))
        return 0;
    return 3 * 1.4826 * s->mad / fabs(s->median);
}

db_change db_compare(const db_summary *b, const db_summary *n,
                     int higher_better, double min_change)
{
    db_change c = {DB_UNSURE, NAN, NAN, 0, 0};
    if (!b->n || !n->n)
        return c;
    if (b->median != 0) {
        c.ratio = n->median / b->median;
        c.rel = (n->median - b->median) / fabs(b->median);
    } else {
        c.rel = n->median == 0 ? 0 : INFINITY;
    }
    double nb = rel_noise(b), nn = rel_noise(n);
    c.noise = nb > nn ? nb : nn;
    if (b->n < 2 || n->n < 2)
        return c;           /* DB_UNSURE: no idea of the noise */
    /* sb, sn: one run's relative standard deviation (robust, from MAD). */
    double sb = nb / 3, sn = nn / 3;
    int overlap;
    if (b->n >= DB_SE_MIN_REPEATS && n->n >= DB_SE_MIN_REPEATS) {
        /* Enough repeats: the medians' standard errors decide, so more
         * repeats can resolve a change hidden in one run's noise. */
        c.noise = 3 * 1.253 * sqrt(sb * sb / (double)b->n + sn * sn / (double)n->n);
        overlap = 0;
    } else {
        overlap = !(n->min > b->max || n->max < b->min);
    }
    double thr = c.noise > min_change ? c.noise : min_change;
    if (overlap || fabs(c.rel) <= thr) {
        c.verdict = DB_SAME;
        /* A change beyond --min-change that the noise hides is undecided:
         * say how many repeats a side would let the standard-error rule
         * tell it (at least DB_SE_MIN_REPEATS, and more than now). */
        if (fabs(c.rel) > min_change && !isinf(c.rel)) {
            double need = 3 * 1.253 * 3 * 1.253 * (sb * sb + sn * sn) / (c.rel * c.rel);
            size_t k = need > 1e6 ? 1000000 : (size_t)ceil(need) + 1;
            size_t have = b->n < n->n ? b->n : n->n;
            if (k < DB_SE_MIN_REPEATS)
                k = DB_SE_MIN_REPEATS;
            if (k <= have)
                k = have + 1;
            c.repeats = k;
        }
        return c;
    }
    int up = n->median > b->median;
    c.verdict = (up == !!higher_better) ? DB_BETTER : DB_WORSE;
    return c;
}

int db_metric_deterministic(const char *m)
{
    return m && !strncmp(m, "sim.", 4);
}

db_change db_compare_exact(const db_summary *b, const db_summary *n,
                           int higher_better, double min_change)
{
    db_change c = {DB_UNSURE, NAN, NAN, 0, 0};
    if (!b->n || !n->n)
        return c;
    if (b->median != 0) {
        c.ratio = n->median / b->median;
        c.rel = (n->median - b->median) / fabs(b->median);
    } else {
        c.rel = n->median == 0 ? 0 : INFINITY;
    }
    if (fabs(c.rel) <= min_change) {
        c.verdict = DB_SAME;
        return c;
    }
    int up = n->median > b->median;
    c.verdict = (up == !!higher_better) ? DB_BETTER : DB_WORSE;
    return c;
}
