/* hakdb_sweep.c - sweeps and their rankings (hakdb_sweep.h). */
#include "hakdb_sweep.h"
#include "hakdb_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int hakdb_sweep_exists(hakdb *db, int64_t id)
{
    sqlite3_stmt *st;
    if (hakdb_prepare(db, &st, "SELECT 1 FROM sweeps WHERE id = ?") != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return hakdb_fail(db, "reading sweeps");
    return rc == SQLITE_ROW;
}

static int64_t sweep_id_of(hakdb *db, const char *uuid)
{
    sqlite3_stmt *st;
    if (hakdb_prepare(db, &st, "SELECT id FROM sweeps WHERE uuid = ?") != SQLITE_OK)
        return -2;
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_TRANSIENT);
    int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return id;
}

int64_t hakdb_sweep_by_uuid(hakdb *db, const char *uuid, const char *command,
                            const char *grid)
{
    int64_t id = sweep_id_of(db, uuid);
    if (id != -1)
        return id < 0 ? -1 : id;
    /* OR IGNORE: another job of the same sweep may insert it first. */
    sqlite3_stmt *st;
    if (hakdb_prepare(db, &st,
            "INSERT OR IGNORE INTO sweeps(uuid, command, grid, created_at)"
            " VALUES(?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ','now'))") != SQLITE_OK)
        return -1;
    hakdb_bind_text(st, 1, uuid);
    hakdb_bind_text(st, 2, command);
    hakdb_bind_text(st, 3, grid);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return hakdb_fail(db, "sweeps");
    id = sweep_id_of(db, uuid);
    if (id < 0)
        return id == -1 ? hakdb_failf(db, "sweeps: cannot create %s", uuid) : -1;
    return id;
}

int hakdb_sweep_adopt(hakdb *db, int64_t id)
{
    sqlite3_stmt *st;
    if (hakdb_prepare(db, &st, "UPDATE runs SET sweep_id = ? WHERE sweep_id IS NULL") != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : hakdb_fail(db, "adopting runs");
}

int hakdb_sweep_has_metric(hakdb *db, int64_t sweep, const char *metric)
{
    sqlite3_stmt *st;
    int seen = 1;
    if (hakdb_prepare(db, &st,
            "SELECT EXISTS(SELECT 1 FROM runs WHERE sweep_id = ?1 AND status = 'ok'),"
            " EXISTS(SELECT 1 FROM run_metric_values v JOIN runs r ON r.id = v.run_id"
            "        WHERE r.sweep_id = ?1 AND r.status = 'ok' AND v.name = ?2)") != SQLITE_OK)
        return 1;
    sqlite3_bind_int64(st, 1, sweep);
    sqlite3_bind_text(st, 2, metric, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        seen = !sqlite3_column_int(st, 0) || sqlite3_column_int(st, 1);
    sqlite3_finalize(st);
    return seen;
}

int hakdb_metric_higher_better(hakdb *db, const char *m)
{
    sqlite3_stmt *st;
    int better = -1;
    if (hakdb_prepare(db, &st, "SELECT better FROM metric_info WHERE name = ?") == SQLITE_OK) {
        sqlite3_bind_text(st, 1, m, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW)
            better = !strcmp((const char *)sqlite3_column_text(st, 0), "higher");
        sqlite3_finalize(st);
    }
    if (better >= 0)
        return better;
    size_t n = strlen(m);
    return (n > 6 && !strcmp(m + n - 6, "_per_s")) || strstr(m, "throughput") != NULL;
}

static double col_or_nan(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

int hakdb_sweep_ranking(hakdb *db, int64_t sweep, const char *metric,
                        void (*row)(const hakdb_rank_row *r, void *ctx), void *ctx)
{
    int higher = hakdb_metric_higher_better(db, metric);
    char sql[2048];
    snprintf(sql, sizeof sql,
        "SELECT t.path, b.name, r.env,"
        " avg(CASE WHEN v.name = ?1 THEN v.value END) AS k,"
        " avg(CASE WHEN r.kind='simulated' AND v.name='sim.page_walks' THEN v.value END),"
        " avg(CASE WHEN r.kind='simulated' AND v.name='sim.page_faults' THEN v.value END),"
        " avg(CASE WHEN r.kind='simulated' AND v.name='sim.occupancy' THEN v.value END),"
        " avg(CASE WHEN r.kind='measured' AND v.name='minor_faults' THEN v.value END),"
        " avg(CASE WHEN r.kind='measured' AND v.name='ops_per_s' THEN v.value END),"
        " count(DISTINCT CASE WHEN r.status <> 'ok' THEN r.id END),"
        " t.id,"
        " count(DISTINCT CASE WHEN r.kind = 'measured' THEN r.id END),"
        " count(DISTINCT CASE WHEN r.kind = 'simulated' THEN r.id END)"
        " FROM runs r JOIN builds b ON b.id = r.build_id JOIN traces t ON t.id = r.trace_id"
        " LEFT JOIN run_metric_values v ON v.run_id = r.id"
        " WHERE r.sweep_id = ?2"
        " GROUP BY t.id, b.name, r.env"
        " ORDER BY t.id, k IS NULL, k %s", higher ? "DESC" : "ASC");
    sqlite3_stmt *st;
    if (hakdb_prepare(db, &st, sql) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, metric, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, sweep);
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        hakdb_rank_row r = {
            .trace_id = sqlite3_column_int64(st, 10),
            .trace_path = (const char *)sqlite3_column_text(st, 0),
            .alloc = (const char *)sqlite3_column_text(st, 1),
            .env = (const char *)sqlite3_column_text(st, 2),
            .value = col_or_nan(st, 3), .sim_walks = col_or_nan(st, 4),
            .sim_faults = col_or_nan(st, 5), .sim_occupancy = col_or_nan(st, 6),
            .meas_faults = col_or_nan(st, 7), .meas_ops_per_s = col_or_nan(st, 8),
            .failed = sqlite3_column_int(st, 9),
            .measured = sqlite3_column_int(st, 11), .simulated = sqlite3_column_int(st, 12)};
        row(&r, ctx);
        n++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? n : hakdb_fail(db, "ranking");
}
