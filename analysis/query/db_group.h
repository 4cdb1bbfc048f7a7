/* db_group.h - a metric's values grouped by setting (trace, allocator,
 * knobs, mode) with their statistics, and the base/new pairing behind
 * `hak db compare` and `hak report` (analysis/query). */
#ifndef DB_GROUP_H
#define DB_GROUP_H

#include "db_stats.h"
#include "hakdb.h"

#include <sqlite3.h>
#include <stddef.h>

typedef struct db_group {
    char *hash, *trace, *alloc, *env;  /* trace content hash & display name, build name, knobs */
    char *mode;                        /* DB_MODE_EXPR: threads mode (+ touch, pace, sim) */
    int side;                          /* compare: 0 base, 1 new; else 0 */
    double *v;                         /* values of the repeats */
    size_t n, cap;
    db_summary s;                      /* filled by db_collect */
} db_group;

typedef struct db_groups {
    db_group *g;
    size_t n, cap;
    int include_incomplete;     /* in: keep runs of truncated/incomplete traces */
    size_t ignored;             /* out: such runs left out (traces.completeness) */
} db_groups;

/* Steps st (columns: hash, trace, alloc, env, mode, side, value, trace
 * not complete; rows sorted by the first six, NULL values skipped, runs of
 * a trace that is not complete skipped and counted unless
 * out->include_incomplete) into groups.  0 or -1 (err). */
int db_collect(sqlite3_stmt *st, db_groups *out, char *err, size_t errlen);
void db_groups_free(db_groups *g);

typedef struct db_filter {
    const char *trace, *label, *sweep, *kind;   /* NULL = any */
    int include_incomplete;     /* also runs of truncated/incomplete traces */
} db_filter;

/* Groups of metric m by (trace, allocator, knobs, mode) over ok runs matching f. */
int db_collect_metric(hakdb *db, const char *m, const db_filter *f, db_groups *out,
                      char *err, size_t errlen);

typedef struct db_cmp_row {
    const db_group *base, *neu;        /* either may be NULL (only on one side) */
    db_change c;
    const char *metric;
} db_cmp_row;

typedef struct db_cmp_opts {
    const char *base, *neu;            /* labels, or build names when by_build */
    int by_build;
    const char *trace;                 /* NULL = all */
    double min_change;                 /* relative, e.g. 0.02 */
    const char *label;                 /* by_build: only runs with this label; NULL = any */
    int include_incomplete;            /* also runs of truncated/incomplete traces */
} db_cmp_opts;

/* Compares metric m; rows point into *storage (free with db_groups_free),
 * sorted regressions first (largest first), then improvements, same,
 * unsure, one-sided.  0 or -1 (err). */
int db_compare_metric(hakdb *db, const db_cmp_opts *o, const char *m, db_groups *storage,
                      db_cmp_row **rows, size_t *nrows, char *err, size_t errlen);

#endif
