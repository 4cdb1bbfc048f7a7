/* db_best.c - see db_best.h. */
#include "db_best.h"
#include "db_metric.h"
#include "hakdb_sweep.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int better(double a, double b, int higher)
{
    return higher ? a > b : a < b;
}

int db_best(hakdb *db, const char *metric, const db_filter *f, db_best_result *res,
            void (*row)(const db_best_row *r, void *ctx), void *ctx, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    if (!db_metric_exists(db, metric, err, errlen))
        return -1;
    res->higher = hakdb_metric_higher_better(db, metric);
    int higher = res->higher;
    db_groups *gp = &res->groups;
    if (db_collect_metric(db, metric, f, gp, err, errlen) != 0)
        return -1;
    const db_groups gs = *gp;
    int exact = db_metric_deterministic(metric);
    for (size_t i = 0; i < gs.n;) {
        size_t j = i, bi = i, ri = (size_t)-1;
        while (j < gs.n && !strcmp(gs.g[j].hash, gs.g[i].hash))
            j++;
        for (size_t k = i; k < j; k++)
            if (better(gs.g[k].s.median, gs.g[bi].s.median, higher))
                bi = k;
        for (size_t k = i; k < j; k++)
            if (k != bi && (ri == (size_t)-1 || better(gs.g[k].s.median, gs.g[ri].s.median, higher)))
                ri = k;
        const db_group *b = &gs.g[bi], *r = ri == (size_t)-1 ? NULL : &gs.g[ri];
        db_change ch = {DB_UNSURE, NAN, NAN, 0, 0};
        if (r)
            ch = exact ? db_compare_exact(&r->s, &b->s, higher, 0.0) : db_compare(&r->s, &b->s, higher, 0.02);
        const char *verdict = !r ? "only setting"
                            : ch.verdict == DB_BETTER ? (exact ? "clear win (deterministic)" : "clear win")
                            : ch.verdict == DB_SAME ? (exact ? "tie" : ch.repeats ? "undecided"
                                                       : "within noise") : "unsure (1 run)";
        char vbuf[96];
        if (ch.verdict == DB_SAME && ch.repeats && !exact) {
            snprintf(vbuf, sizeof vbuf, "undecided: noise %.0f%%, ~%zu repeats a side", 100 * ch.noise,
                     ch.repeats);
            verdict = vbuf;
        }
        db_best_row br = {b, r, ch, verdict, j - i, 0};
        for (size_t k = i; k < j; k++)
            br.runs += gs.g[k].n;
        res->traces++;
        res->runs += br.runs;
        row(&br, ctx);
        i = j;
    }
    return 0;
}

void db_best_free(db_best_result *res)
{
    db_groups_free(&res->groups);
}
