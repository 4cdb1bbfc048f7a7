/* db_best.h - the best setting per trace for a metric, with the runner-up
 * and a noise-aware verdict: the answer `hak db best` prints and `hak
 * sweep` summarises a sweep with.  A setting is allocator + knobs + mode;
 * its figure is the median over its ok runs (db_stats.h). */
#ifndef DB_BEST_H
#define DB_BEST_H

#include "db_group.h"

typedef struct db_best_row {
    const db_group *best, *runner_up;   /* runner_up NULL: the only setting */
    db_change change;                   /* runner-up vs best (db_compare*) */
    const char *verdict;                /* "clear win", "within noise", ... */
    size_t settings, runs;              /* of this trace */
} db_best_row;

typedef struct db_best_result {
    db_groups groups;                   /* all settings, by trace (free: db_best_free) */
    int higher;                         /* direction of the metric */
    size_t traces, runs;
} db_best_result;

/* Calls row(r, ctx) for each trace matched by f, in trace order.  0, or -1
 * with err (an unknown metric names the known ones).  No matching run is
 * not an error here: res->groups.n == 0 says so. */
int db_best(hakdb *db, const char *metric, const db_filter *f, db_best_result *res,
            void (*row)(const db_best_row *r, void *ctx), void *ctx, char *err, size_t errlen);
void db_best_free(db_best_result *res);

#endif
