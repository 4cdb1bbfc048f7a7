/* hakdb_write.c - the writers: deduplicating upserts of traces and builds,
 * sweeps, and runs with their metrics and timeline (one transaction each,
 * retried under contention; see hakdb_int.h). */
#include "hakdb_int.h"
#include "hak_util.h"

#include <gnu/libc-version.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hakdb_run_init(hakdb_run *r)
{
    memset(r, 0, sizeof *r);
    r->trace_id = r->build_id = r->machine_id = HAKDB_NULL;
    r->sweep_id = HAKDB_NULL;
    r->repeat_idx = HAKDB_NULL;
    r->wall_ns = r->user_ns = r->sys_ns = r->ops = HAKDB_NULL;
    r->ops_per_s = NAN;
    r->minor_faults = r->major_faults = r->vol_ctxsw = r->invol_ctxsw = HAKDB_NULL;
    r->peak_rss_bytes = r->final_rss_bytes = HAKDB_NULL;
    r->lat_p50_ns = r->lat_p99_ns = r->lat_p999_ns = HAKDB_NULL;
    r->fidelity = NAN;
    r->start_wall_ns = HAKDB_NULL;
}

/* Step a statement expected to finish without rows. */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* "SELECT id ... WHERE key" helper: *id = the id, or -1 when absent. */
static int select_id(sqlite3_stmt *st, int64_t *id)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        return SQLITE_OK;
    }
    *id = -1;
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* ---- traces ---------------------------------------------------------- */

typedef struct { const hakdb_trace *t; int64_t id; } trace_arg;

static int trace_body(hakdb *db, void *p)
{
    trace_arg *a = p;
    const hakdb_trace *t = a->t;
    char now[32];
    hakdb_iso_time(HAKDB_NULL, now);
    sqlite3_stmt *st;
    int rc = hakdb_prepare(db, &st,
        "INSERT INTO traces(hash, path, program, events, threads, duration_ns,"
        " file_bytes, meta_json, created_at, completeness) VALUES(?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT(hash) DO UPDATE SET"       /* fill what an earlier writer lacked */
        "  path = coalesce(path, excluded.path),"
        "  program = coalesce(program, excluded.program),"
        "  events = coalesce(events, excluded.events),"
        "  threads = coalesce(threads, excluded.threads),"
        "  duration_ns = coalesce(duration_ns, excluded.duration_ns),"
        "  file_bytes = coalesce(file_bytes, excluded.file_bytes),"
        "  meta_json = coalesce(meta_json, excluded.meta_json),"
        "  completeness = coalesce(excluded.completeness, completeness)");
    if (rc)
        return rc;
    hakdb_bind_text(st, 1, t->hash);
    hakdb_bind_text(st, 2, t->path);
    hakdb_bind_text(st, 3, t->program);
    hakdb_bind_i64(st, 4, t->events);
    hakdb_bind_i64(st, 5, t->threads);
    hakdb_bind_i64(st, 6, t->duration_ns);
    hakdb_bind_i64(st, 7, t->file_bytes);
    hakdb_bind_text(st, 8, t->meta_json);
    hakdb_bind_text(st, 9, now);
    hakdb_bind_text(st, 10, t->completeness);
    rc = step_done(st);
    sqlite3_finalize(st);
    if (rc)
        return rc;
    if ((rc = hakdb_prepare(db, &st, "SELECT id FROM traces WHERE hash = ?")))
        return rc;
    hakdb_bind_text(st, 1, t->hash);
    rc = select_id(st, &a->id);
    sqlite3_finalize(st);
    return rc;
}

int64_t hakdb_upsert_trace(hakdb *db, const hakdb_trace *t)
{
    db->err[0] = 0;
    if (!t || !t->hash || !*t->hash)
        return hakdb_failf(db, "upsert trace: missing content hash");
    trace_arg a = {t, -1};
    if (hakdb_tx(db, "upsert trace", trace_body, &a) != 0)
        return -1;
    return a.id;
}

/* ---- builds ---------------------------------------------------------- */

typedef struct { const hakdb_build *b; int64_t id; } build_arg;

static int build_body(hakdb *db, void *p)
{
    build_arg *a = p;
    char now[32];
    hakdb_iso_time(HAKDB_NULL, now);
    sqlite3_stmt *st;
    int rc = hakdb_prepare(db, &st,
        "INSERT INTO builds(name, path, hash, version, created_at) VALUES(?,?,?,?,?)"
        " ON CONFLICT(hash, name) DO UPDATE SET"
        "  path = coalesce(path, excluded.path),"
        "  version = coalesce(version, excluded.version)");
    if (rc)
        return rc;
    hakdb_bind_text(st, 1, a->b->name);
    hakdb_bind_text(st, 2, a->b->path);
    hakdb_bind_text(st, 3, a->b->hash);
    hakdb_bind_text(st, 4, a->b->version);
    hakdb_bind_text(st, 5, now);
    rc = step_done(st);
    sqlite3_finalize(st);
    if (rc)
        return rc;
    if ((rc = hakdb_prepare(db, &st, "SELECT id FROM builds WHERE hash = ? AND name = ?")))
        return rc;
    hakdb_bind_text(st, 1, a->b->hash);
    hakdb_bind_text(st, 2, a->b->name);
    rc = select_id(st, &a->id);
    sqlite3_finalize(st);
    return rc;
}

const char *hakdb_build_hash(const char *so_path, char out[64])
{
    char h[17];
    if (!so_path || !*so_path)
        snprintf(out, 64, "glibc-%s", gnu_get_libc_version());
    else if (hak_hash_file(so_path, h) == 0)
        snprintf(out, 64, "%s", h);
    else
        snprintf(out, 64, "missing:%.50s", so_path);
    return out;
}

int64_t hakdb_upsert_build(hakdb *db, const hakdb_build *b)
{
    db->err[0] = 0;
    if (!b || !b->name || !*b->name || !b->hash || !*b->hash)
        return hakdb_failf(db, "upsert build: name and hash are required");
    build_arg a = {b, -1};
    if (hakdb_tx(db, "upsert build", build_body, &a) != 0)
        return -1;
    return a.id;
}

/* ---- sweeps ---------------------------------------------------------- */

typedef struct { const char *command, *grid; int64_t id; } sweep_arg;

static int sweep_body(hakdb *db, void *p)
{
    sweep_arg *a = p;
    char now[32], uuid[33];
    hakdb_iso_time(HAKDB_NULL, now);
    hakdb_uuid(uuid);
    sqlite3_stmt *st;
    int rc = hakdb_prepare(db, &st,
        "INSERT INTO sweeps(uuid, command, grid, created_at) VALUES(?,?,?,?)");
    if (rc)
        return rc;
    hakdb_bind_text(st, 1, uuid);
    hakdb_bind_text(st, 2, a->command);
    hakdb_bind_text(st, 3, a->grid);
    hakdb_bind_text(st, 4, now);
    rc = step_done(st);
    sqlite3_finalize(st);
    a->id = sqlite3_last_insert_rowid(db->db);
    return rc;
}

int64_t hakdb_new_sweep(hakdb *db, const char *command, const char *grid)
{
    db->err[0] = 0;
    sweep_arg a = {command, grid, -1};
    if (hakdb_tx(db, "new sweep", sweep_body, &a) != 0)
        return -1;
    return a.id;
}

/* ---- runs ------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "B=2  A=1" -> "A=1 B=2": the same knob set always compares equal. */
char *hakdb_normalize_env(const char *env)
{
    if (!env)
        return strdup("");
    char *copy = strdup(env);
    size_t n = 0, cap = 8;
    char **tok = malloc(cap * sizeof *tok);
    if (!copy || !tok) {
        free(copy);
        free(tok);
        return NULL;
    }
    char *save = NULL;
    for (char *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
        if (n == cap) {
            char **nt = realloc(tok, (cap *= 2) * sizeof *tok);
            if (!nt) {
                free(copy);
                free(tok);
                return NULL;
            }
            tok = nt;
        }
        tok[n++] = t;
    }
    qsort(tok, n, sizeof *tok, cmp_str);
    char *out = malloc(strlen(env) + 1);
    if (out) {
        out[0] = 0;
        for (size_t i = 0; i < n; i++) {
            if (i)
                strcat(out, " ");
            strcat(out, tok[i]);
        }
    }
    free(copy);
    free(tok);
    return out;
}

typedef struct { const hakdb_run *r; const char *env; int64_t id; } run_arg;

static int run_body(hakdb *db, void *p)
{
    run_arg *a = p;
    const hakdb_run *r = a->r;
    char now[32], started[32], uuid[33];
    hakdb_iso_time(HAKDB_NULL, now);
    hakdb_iso_time(r->start_wall_ns, started);
    hakdb_uuid(uuid);
    sqlite3_stmt *st;
    int rc = hakdb_prepare(db, &st,
        "INSERT INTO runs(uuid, trace_id, build_id, machine_id, sweep_id, kind, label,"
        " env, config, threads_mode, touch, pace, repeat_idx, status, error,"
        " wall_ns, user_ns, sys_ns, ops, ops_per_s, minor_faults, major_faults,"
        " vol_ctxsw, invol_ctxsw, peak_rss_bytes, final_rss_bytes,"
        " lat_p50_ns, lat_p99_ns, lat_p999_ns, addr_digest, fidelity,"
        " started_at, created_at, alloc_spec)"
        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (rc)
        return rc;
    int i = 1;
    hakdb_bind_text(st, i++, uuid);
    hakdb_bind_i64(st, i++, r->trace_id);
    hakdb_bind_i64(st, i++, r->build_id);
    hakdb_bind_i64(st, i++, r->machine_id);
    hakdb_bind_i64(st, i++, r->sweep_id);
    hakdb_bind_text(st, i++, r->kind ? r->kind : "measured");
    hakdb_bind_text(st, i++, r->label);
    hakdb_bind_text(st, i++, a->env);
    hakdb_bind_text(st, i++, r->config);
    hakdb_bind_text(st, i++, r->threads_mode);
    hakdb_bind_text(st, i++, r->touch);
    hakdb_bind_text(st, i++, r->pace);
    hakdb_bind_i64(st, i++, r->repeat_idx);
    hakdb_bind_text(st, i++, r->status ? r->status : "ok");
    hakdb_bind_text(st, i++, r->error);
    hakdb_bind_i64(st, i++, r->wall_ns);
    hakdb_bind_i64(st, i++, r->user_ns);
    hakdb_bind_i64(st, i++, r->sys_ns);
    hakdb_bind_i64(st, i++, r->ops);
    hakdb_bind_dbl(st, i++, r->ops_per_s);
    hakdb_bind_i64(st, i++, r->minor_faults);
    hakdb_bind_i64(st, i++, r->major_faults);
    hakdb_bind_i64(st, i++, r->vol_ctxsw);
    hakdb_bind_i64(st, i++, r->invol_ctxsw);
    hakdb_bind_i64(st, i++, r->peak_rss_bytes);
    hakdb_bind_i64(st, i++, r->final_rss_bytes);
    hakdb_bind_i64(st, i++, r->lat_p50_ns);
    hakdb_bind_i64(st, i++, r->lat_p99_ns);
    hakdb_bind_i64(st, i++, r->lat_p999_ns);
    hakdb_bind_text(st, i++, r->addr_digest);
    hakdb_bind_dbl(st, i++, r->fidelity);
    hakdb_bind_text(st, i++, started);
    hakdb_bind_text(st, i++, now);
    hakdb_bind_text(st, i++, r->alloc_spec);
    rc = step_done(st);
    sqlite3_finalize(st);
    if (rc) {
        hakdb_fail(db, "insert run");
        return rc;
    }
    a->id = sqlite3_last_insert_rowid(db->db);

    if (r->nmetrics) {
        if ((rc = hakdb_prepare(db, &st,
                "INSERT OR REPLACE INTO run_metrics(run_id, name, value, unit, source, reason)"
                " VALUES(?,?,?,?,?,?)")))
            return rc;
        for (size_t k = 0; k < r->nmetrics && rc == SQLITE_OK; k++) {
            const hakdb_metric *m = &r->metrics[k];
            if (!m->name || !*m->name)
                continue;
            int null = m->is_null || isnan(m->value) || isinf(m->value);
            sqlite3_bind_int64(st, 1, a->id);
            hakdb_bind_text(st, 2, m->name);
            if (null)
                sqlite3_bind_null(st, 3);
            else
                sqlite3_bind_double(st, 3, m->value);
            hakdb_bind_text(st, 4, m->unit);
            hakdb_bind_text(st, 5, m->source);
            /* A NULL figure always says why, even if the writer forgot. */
            hakdb_bind_text(st, 6, null ? (m->reason ? m->reason : "not measured") : NULL);
            rc = step_done(st);
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        if (rc) {
            hakdb_fail(db, "insert run metric");
            return rc;
        }
    }
    if (r->ntimeline) {
        if ((rc = hakdb_prepare(db, &st,
                "INSERT INTO timelines(run_id, idx, t_ns, rss_bytes, live_bytes) VALUES(?,?,?,?,?)")))
            return rc;
        for (size_t k = 0; k < r->ntimeline && rc == SQLITE_OK; k++) {
            const hakdb_sample *s = &r->timeline[k];
            sqlite3_bind_int64(st, 1, a->id);
            sqlite3_bind_int64(st, 2, (int64_t)k);
            sqlite3_bind_int64(st, 3, s->t_ns);
            hakdb_bind_i64(st, 4, s->rss_bytes);
            hakdb_bind_i64(st, 5, s->live_bytes);
            rc = step_done(st);
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        if (rc) {
            hakdb_fail(db, "insert run timeline");
            return rc;
        }
    }
    return SQLITE_OK;
}

int64_t hakdb_insert_run(hakdb *db, const hakdb_run *r)
{
    db->err[0] = 0;
    if (!r)
        return hakdb_failf(db, "insert run: no run");
    if (r->trace_id == HAKDB_NULL || r->build_id == HAKDB_NULL || r->machine_id == HAKDB_NULL ||
        r->trace_id < 0 || r->build_id < 0 || r->machine_id < 0)
        return hakdb_failf(db, "insert run: trace_id, build_id and machine_id are required");
    char *env = hakdb_normalize_env(r->env);
    if (!env)
        return hakdb_failf(db, "insert run: out of memory");
    run_arg a = {r, env, -1};
    int rc = hakdb_tx(db, "insert run", run_body, &a);
    free(env);
    return rc == 0 ? a.id : -1;
}
