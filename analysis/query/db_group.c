/* db_group.c - grouping a metric's values by trace, allocator and knobs,
 * and the base/new pairing behind `hak db compare` and `hak report`. */
#include "db_metric.h"
#include "db_group.h"
#include "hakdb_sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_col(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return strdup(s ? (const char *)s : "");
}

static int same_key(const db_group *g, sqlite3_stmt *st)
{
    const char *c[5];
    for (int i = 0; i < 5; i++) {
        c[i] = (const char *)sqlite3_column_text(st, i);
        if (!c[i])
            c[i] = "";
    }
    return !strcmp(g->hash, c[0]) && !strcmp(g->alloc, c[2]) && !strcmp(g->env, c[3]) &&
           !strcmp(g->mode, c[4]) && g->side == sqlite3_column_int(st, 5);
}

int db_collect(sqlite3_stmt *st, db_groups *out, char *err, size_t errlen)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 6) == SQLITE_NULL)
            continue;
        if (sqlite3_column_int(st, 7) && !out->include_incomplete) {
            out->ignored++;
            continue;
        }
        db_group *g = out->n ? &out->g[out->n - 1] : NULL;
        if (!g || !same_key(g, st)) {
            if (out->n == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 32;
                out->g = realloc(out->g, out->cap * sizeof *out->g);
            }
            g = &out->g[out->n++];
            memset(g, 0, sizeof *g);
            g->hash = dup_col(st, 0);
            g->trace = dup_col(st, 1);
            g->alloc = dup_col(st, 2);
            g->env = dup_col(st, 3);
            g->mode = dup_col(st, 4);
            g->side = sqlite3_column_int(st, 5);
        }
        if (g->n == g->cap) {
            g->cap = g->cap ? g->cap * 2 : 4;
            g->v = realloc(g->v, g->cap * sizeof *g->v);
        }
        g->v[g->n++] = sqlite3_column_double(st, 6);
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(sqlite3_db_handle(st)));
        return -1;
    }
    for (size_t i = 0; i < out->n; i++)
        out->g[i].s = db_summarize(out->g[i].v, out->g[i].n);
    return 0;
}

void db_groups_free(db_groups *gs)
{
    for (size_t i = 0; i < gs->n; i++) {
        free(gs->g[i].hash);
        free(gs->g[i].trace);
        free(gs->g[i].alloc);
        free(gs->g[i].env);
        free(gs->g[i].mode);
        free(gs->g[i].v);
    }
    free(gs->g);
    memset(gs, 0, sizeof *gs);
}

/* The queries select the trace id (column 1) rather than its display name:
 * computing the name is string work SQLite would repeat for every run row;
 * here it is done once per trace. */
static void resolve_names(hakdb *db, db_groups *gs, size_t first)
{
    sqlite3_stmt *st;
    if (hakdb_read(db, "SELECT name FROM trace_names WHERE trace_id = ?1", &st) != SQLITE_OK)
        return;
    char *last_id = NULL, *last_name = NULL;
    for (size_t i = first; i < gs->n; i++) {
        db_group *g = &gs->g[i];
        if (!last_id || strcmp(last_id, g->trace) != 0) {
            free(last_id);
            free(last_name);
            last_id = strdup(g->trace);
            sqlite3_reset(st);
            sqlite3_bind_int64(st, 1, strtoll(g->trace, NULL, 10));
            const unsigned char *nm = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
            last_name = strdup(nm ? (const char *)nm : g->hash);
        }
        free(g->trace);
        g->trace = strdup(last_name);
    }
    free(last_id);
    free(last_name);
    sqlite3_finalize(st);
    /* Two traces of one program share a display name: tell them apart by
     * their hash, as every query keys traces by hash. */
    size_t n = gs->n - first;
    char *amb = calloc(n + 1, 1);
    for (size_t i = 0; amb && i < n; i++)
        for (size_t j = 0; j < n && !amb[i]; j++) {
            const db_group *a = &gs->g[first + i], *b = &gs->g[first + j];
            amb[i] = strcmp(a->hash, b->hash) && !strcmp(a->trace, b->trace);
        }
    for (size_t i = 0; amb && i < n; i++)
        if (amb[i]) {
            db_group *g = &gs->g[first + i];
            size_t len = strlen(g->trace) + 12;
            char *nm = malloc(len);
            if (nm) {
                snprintf(nm, len, "%s#%.8s", g->trace, g->hash);
                free(g->trace);
                g->trace = nm;
            }
        }
    free(amb);
}

/* 1 when the run's trace is known not to be whole (schema.sql,
 * traces.completeness; NULL = stored before it was known: kept). */
#define DB_TRACE_PARTIAL "coalesce(t.completeness, 'complete') <> 'complete'"

/* FROM clause and value expression for metric m, bound as ?9. */
static void metric_source(const char *m, char *from, size_t flen, char *val, size_t vlen)
{
    if (db_metric_is_column(m)) {
        snprintf(from, flen, "runs r");
        snprintf(val, vlen, "r.%s", m);
    } else {
        /* run_metrics(name, run_id) index: only the runs that have m. */
        snprintf(from, flen, "run_metrics x JOIN runs r ON r.id = x.run_id AND x.name = ?9");
        snprintf(val, vlen, "x.value");
    }
}

int db_collect_metric(hakdb *db, const char *m, const db_filter *f, db_groups *out,
                      char *err, size_t errlen)
{
    char from[128], val[64], tc[400], sql[3072];
    metric_source(m, from, sizeof from, val, sizeof val);
    snprintf(sql, sizeof sql,
        "SELECT t.hash, t.id, b.name, r.env, " DB_MODE_EXPR ", 0, %s, " DB_TRACE_PARTIAL " FROM %s"
        " JOIN traces t ON t.id = r.trace_id JOIN builds b ON b.id = r.build_id"
        " WHERE r.status = 'ok' AND (?1 IS NULL OR %s) AND (?2 IS NULL OR r.label = ?2)"
        " AND (?3 IS NULL OR r.sweep_id = ?3) AND (?4 IS NULL OR r.kind = ?4)"
        " ORDER BY 1, 3, 4, 5",
        val, from, db_trace_cond(1, tc, sizeof tc));
    sqlite3_stmt *st;
    if (hakdb_read(db, sql, &st) != SQLITE_OK) {
        snprintf(err, errlen, "%s", hakdb_sql_error(db));
        return -1;
    }
    const char *a[4] = {f->trace, f->label, f->sweep, f->kind};
    for (int i = 0; i < 4; i++)
        if (a[i])
            sqlite3_bind_text(st, i + 1, a[i], -1, SQLITE_TRANSIENT);
    if (!db_metric_is_column(m))
        sqlite3_bind_text(st, 9, m, -1, SQLITE_TRANSIENT);
    size_t first = out->n;
    out->include_incomplete = f->include_incomplete;
    int rc = db_collect(st, out, err, errlen);
    sqlite3_finalize(st);
    if (rc == 0)
        resolve_names(db, out, first);
    return rc;
}

static int rank(const db_cmp_row *r)
{
    if (!r->base || !r->neu)
        return 5;
    switch (r->c.verdict) {
    case DB_WORSE: return 0;
    case DB_BETTER: return 1;
    case DB_SAME: return 2;
    default: return 3;
    }
}

static int cmp_rows(const void *a, const void *b)
{
    const db_cmp_row *x = a, *y = b;
    int rx = rank(x), ry = rank(y);
    if (rx != ry)
        return rx - ry;
    if (rx <= 1) {   /* largest change first */
        double dx = fabs(x->c.rel), dy = fabs(y->c.rel);
        if (dx != dy)
            return dx < dy ? 1 : -1;
    }
    const db_group *gx = x->base ? x->base : x->neu, *gy = y->base ? y->base : y->neu;
    int c = strcmp(gx->trace, gy->trace);
    if (!c)
        c = strcmp(gx->alloc, gy->alloc);
    if (!c)
        c = strcmp(gx->env, gy->env);
    return c ? c : strcmp(gx->mode, gy->mode);
}

int db_compare_metric(hakdb *db, const db_cmp_opts *o, const char *m, db_groups *storage,
                      db_cmp_row **rows, size_t *nrows, char *err, size_t errlen)
{
    char from[128], val[64], tc[400], sql[3072];
    metric_source(m, from, sizeof from, val, sizeof val);
    char base_is[160], match[320], b1[80], b2[80];
    if (o->by_build) {
        /* A build by its stored name or by the name the user gave. */
        snprintf(base_is, sizeof base_is, "%s", db_build_cond(1, b1, sizeof b1));
        snprintf(match, sizeof match, "(%s OR %s)", b1, db_build_cond(2, b2, sizeof b2));
    } else {
        snprintf(base_is, sizeof base_is, "r.label = ?1");
        snprintf(match, sizeof match, "r.label IN (?1, ?2)");
    }
    /* By label, pair within each allocator; by build, pair across the two
     * builds (the alloc column carries '' so the pair shares a key). */
    snprintf(sql, sizeof sql,
        "SELECT t.hash, t.id, %s, r.env, " DB_MODE_EXPR ", CASE WHEN %s THEN 0 ELSE 1 END AS side, %s,"
        " " DB_TRACE_PARTIAL " FROM %s JOIN traces t ON t.id = r.trace_id JOIN builds b ON b.id = r.build_id"
        " WHERE r.status = 'ok' AND %s AND (?3 IS NULL OR %s)"
        " AND (?4 IS NULL OR r.label = ?4)"
        " ORDER BY 1, 3, 4, 5, 6",
        o->by_build ? "''" : "b.name", base_is, val, from, match, db_trace_cond(3, tc, sizeof tc));
    sqlite3_stmt *st;
    if (hakdb_read(db, sql, &st) != SQLITE_OK) {
        snprintf(err, errlen, "%s", hakdb_sql_error(db));
        return -1;
    }
    sqlite3_bind_text(st, 1, o->base, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, o->neu, -1, SQLITE_TRANSIENT);
    if (o->trace)
        sqlite3_bind_text(st, 3, o->trace, -1, SQLITE_TRANSIENT);
    if (o->by_build && o->label)
        sqlite3_bind_text(st, 4, o->label, -1, SQLITE_TRANSIENT);
    if (!db_metric_is_column(m))
        sqlite3_bind_text(st, 9, m, -1, SQLITE_TRANSIENT);
    size_t first = storage->n;
    storage->include_incomplete = o->include_incomplete;
    int rc = db_collect(st, storage, err, errlen);
    sqlite3_finalize(st);
    if (rc)
        return -1;
    resolve_names(db, storage, first);
    int higher = hakdb_metric_higher_better(db, m);
    size_t cap = storage->n - first + 1, n = 0;
    db_cmp_row *r = calloc(cap, sizeof *r);
    for (size_t i = first; i < storage->n; i++) {
        db_group *g = &storage->g[i];
        db_group *next = i + 1 < storage->n ? &storage->g[i + 1] : NULL;
        db_cmp_row *row = &r[n++];
        row->metric = m;
        if (g->side == 0 && next && next->side == 1 && !strcmp(g->hash, next->hash) &&
            !strcmp(g->alloc, next->alloc) && !strcmp(g->env, next->env) &&
            !strcmp(g->mode, next->mode)) {
            row->base = g;
            row->neu = next;
            row->c = db_metric_deterministic(m) ? db_compare_exact(&g->s, &next->s, higher, o->min_change)
                                                : db_compare(&g->s, &next->s, higher, o->min_change);
            i++;
        } else if (g->side == 0) {
            row->base = g;
        } else {
            row->neu = g;
        }
    }
    qsort(r, n, sizeof *r, cmp_rows);
    *rows = r;
    *nrows = n;
    return 0;
}
