/* db_stats.h - robust summaries of repeated runs and the comparison
 * verdict used by `hak db compare`, `best` and `hak report`.
 *
 * Verdict rule (why: run-to-run noise on a shared machine is large and
 * repeats are few, so the test must be conservative and explainable):
 * a change is flagged only when
 *   1. both sides have at least 2 repeats,
 *   2. their ranges [min, max] do not overlap, and
 *   3. the medians differ by more than max(min_change, noise), where noise
 *      is the larger relative spread 3 * 1.4826 * MAD / median of the two
 *      sides (about 3 standard deviations for normal noise).
 * With at least DB_SE_MIN_REPEATS repeats a side, 2. and 3. become: the
 * medians differ by more than max(min_change, 3 standard errors of their
 * difference), a median's standard error being 1.253 sigma / sqrt(n) with
 * sigma = 1.4826 * MAD: more repeats can then resolve a small change.
 * Otherwise the verdict is "same" (within noise), or "unsure" when a side
 * has a single run.  A "same" whose medians differ by more than min_change
 * is undecided: db_change.repeats says how many repeats a side the
 * standard-error rule would need to tell that change from the noise. */
#ifndef DB_STATS_H
#define DB_STATS_H

#include <stddef.h>

typedef struct db_summary {
    size_t n;
    double median, min, max, mad;   /* NAN when n == 0 */
} db_summary;

/* Summarises v[0..n) (sorted in place). */
db_summary db_summarize(double *v, size_t n);

typedef enum {
    DB_SAME = 0,       /* within noise */
    DB_BETTER,         /* a real improvement */
    DB_WORSE,          /* a real regression */
    DB_UNSURE,         /* too few repeats to tell */
} db_verdict;

typedef struct db_change {
    db_verdict verdict;
    double ratio;      /* new / base median (NAN if base is 0 or missing) */
    double rel;        /* (new - base) / |base| */
    double noise;      /* relative noise used for the decision */
    size_t repeats;    /* DB_SAME with |rel| > min_change: repeats a side
                          needed to decide; 0 otherwise */
} db_change;
#define DB_SE_MIN_REPEATS 5

/* higher_better: 1 when larger values are better (ops/s). */
db_change db_compare(const db_summary *base, const db_summary *neu,
                     int higher_better, double min_change);
const char *db_verdict_name(db_verdict v);

/* For deterministic figures (the simulator's sim.*: the same trace, build
 * and knobs always give the same number) one run is exact: a change is
 * any difference of the medians beyond min_change. */
db_change db_compare_exact(const db_summary *base, const db_summary *neu,
                           int higher_better, double min_change);
/* 1 when metric m is deterministic (its name starts with "sim."). */
int db_metric_deterministic(const char *m);

#endif
