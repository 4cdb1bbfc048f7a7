/* hakdb_validation.c - storing and reading `hak validate` results
 * (hakdb_validation.h). */
#include "hakdb_validation.h"
#include "hakdb_int.h"

#include <math.h>
#include <string.h>

typedef struct { const hakdb_validation *v; int64_t id; } vali_arg;

static int insert_body(hakdb *db, void *p)
{
    vali_arg *a = p;
    const hakdb_validation *v = a->v;
    char now[32], uuid[33];
    hakdb_iso_time(HAKDB_NULL, now);
    hakdb_uuid(uuid);
    sqlite3_stmt *st;
    int rc = hakdb_prepare(db, &st,
        "INSERT INTO validations(uuid, trace_id, machine_id, label, runs_label, command, repeats,"
        " touch, threads_mode, sample_interval_ns, created_at, pace, recordings)"
        " VALUES(?, (SELECT trace_id FROM runs WHERE label = ?2 ORDER BY id LIMIT 1),"
        "        (SELECT machine_id FROM runs WHERE label = ?2 ORDER BY id LIMIT 1),"
        "        ?, ?2, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (rc)
        return rc;
    hakdb_bind_text(st, 1, uuid);
    hakdb_bind_text(st, 2, v->runs_label);
    hakdb_bind_text(st, 3, v->label);
    hakdb_bind_text(st, 4, v->command);
    hakdb_bind_i64(st, 5, v->repeats);
    hakdb_bind_text(st, 6, v->touch);
    hakdb_bind_text(st, 7, v->threads_mode);
    hakdb_bind_i64(st, 8, v->interval_ns);
    hakdb_bind_text(st, 9, now);
    hakdb_bind_text(st, 10, v->pace);
    hakdb_bind_i64(st, 11, v->recordings > 0 ? v->recordings : 1);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rc;
    a->id = sqlite3_last_insert_rowid(db->db);

    rc = hakdb_prepare(db, &st,
        "INSERT INTO validation_values(validation_id, alloc, metric, live, replay, ratio,"
        " live_n, replay_n, live_min, live_max, replay_min, replay_max)"
        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
    if (rc)
        return rc;
    for (size_t i = 0; i < v->nvalues && rc == SQLITE_OK; i++) {
        const hakdb_vvalue *x = &v->values[i];
        double ratio = isnan(x->live) || isnan(x->replay) || x->live == 0 ? NAN : x->replay / x->live;
        sqlite3_reset(st);
        hakdb_bind_i64(st, 1, a->id);
        hakdb_bind_text(st, 2, x->alloc);
        hakdb_bind_text(st, 3, x->metric);
        hakdb_bind_dbl(st, 4, x->live);
        hakdb_bind_dbl(st, 5, x->replay);
        hakdb_bind_dbl(st, 6, ratio);
        hakdb_bind_i64(st, 7, x->live_n);
        hakdb_bind_i64(st, 8, x->replay_n);
        hakdb_bind_dbl(st, 9, x->live_min);
        hakdb_bind_dbl(st, 10, x->live_max);
        hakdb_bind_dbl(st, 11, x->replay_min);
        hakdb_bind_dbl(st, 12, x->replay_max);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(st);
    if (rc)
        return rc;
    rc = hakdb_prepare(db, &st,
        "INSERT INTO validation_rankings(validation_id, metric, tau, nallocs) VALUES(?,?,?,?)");
    if (rc)
        return rc;
    for (size_t i = 0; i < v->nranks && rc == SQLITE_OK; i++) {
        sqlite3_reset(st);
        hakdb_bind_i64(st, 1, a->id);
        hakdb_bind_text(st, 2, v->ranks[i].metric);
        hakdb_bind_dbl(st, 3, v->ranks[i].tau);
        hakdb_bind_i64(st, 4, v->ranks[i].nallocs);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(st);
    return rc;
}

int64_t hakdb_insert_validation(hakdb *db, const hakdb_validation *v)
{
    vali_arg a = {v, -1};
    if (hakdb_tx(db, "store validation", insert_body, &a) != 0)
        return -1;
    return a.id;
}

static double col_dbl(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static int64_t col_i64(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? HAKDB_NULL : sqlite3_column_int64(st, i);
}

int hakdb_validation_runs(hakdb *db, const char *runs_label,
                          int (*fn)(const hakdb_vrun *r, void *arg), void *arg)
{
    sqlite3_stmt *st;
    if (hakdb_prepare(db, &st,
        "SELECT coalesce(r.alloc_spec, b.name), r.status, r.error, r.wall_ns, r.minor_faults,"
        " (SELECT value FROM run_metrics m WHERE m.run_id = r.id AND m.name = 'heap.peak_rss_bytes'),"
        " (SELECT value FROM run_metrics m WHERE m.run_id = r.id AND m.name = 'heap.final_rss_bytes'),"
        " r.touch, r.pace FROM runs r JOIN builds b ON b.id = r.build_id WHERE r.label = ? ORDER BY r.id"))
        return -1;
    hakdb_bind_text(st, 1, runs_label);
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        hakdb_vrun r = {
            (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
            (const char *)sqlite3_column_text(st, 2), col_i64(st, 3), col_i64(st, 4),
            col_dbl(st, 5), col_dbl(st, 6), (const char *)sqlite3_column_text(st, 7),
            (const char *)sqlite3_column_text(st, 8),
        };
        n++;
        if (fn(&r, arg))
            break;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return hakdb_fail(db, "read validation runs");
    return n;
}
