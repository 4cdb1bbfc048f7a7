/* db_metric.c - see db_metric.h. */
#include "db_metric.h"
#include "hak_util.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* runs columns a metric name may refer to directly. */
static const char *const run_cols[] = {
    "ops_per_s", "wall_ns", "user_ns", "sys_ns", "ops", "minor_faults",
    "major_faults", "vol_ctxsw", "invol_ctxsw", "peak_rss_bytes",
    "final_rss_bytes", "lat_p50_ns", "lat_p99_ns", "lat_p999_ns", "fidelity",
};

int db_metric_is_column(const char *m)
{
    for (size_t i = 0; i < sizeof run_cols / sizeof *run_cols; i++)
        if (!strcmp(m, run_cols[i]))
            return 1;
    return 0;
}


void db_metric_unit(hakdb *db, const char *m, char *buf, size_t len)
{
    buf[0] = 0;
    sqlite3_stmt *st;
    if (hakdb_read(db, "SELECT unit FROM metric_info WHERE name = ?1 AND unit IS NOT NULL"
            " UNION ALL SELECT unit FROM run_metrics WHERE name = ?1 AND unit IS NOT NULL LIMIT 1", &st) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, m, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
}

int db_metric_exists(hakdb *db, const char *m, char *err, size_t errlen)
{
    if (db_metric_is_column(m))
        return 1;
    sqlite3_stmt *st;
    int found = 0;
    if (hakdb_read(db, "SELECT 1 FROM run_metrics WHERE name = ? LIMIT 1", &st) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, m, -1, SQLITE_TRANSIENT);
        found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    if (found)
        return 1;
    /* Name the metrics that do exist, so a typo is easy to fix. */
    size_t n = (size_t)snprintf(err, errlen, "no metric '%s'; known: ops_per_s, wall_ns, "
                                "minor_faults, peak_rss_bytes, ...", m);
    if (hakdb_read(db, "SELECT DISTINCT name FROM run_metrics ORDER BY name LIMIT 12", &st) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW && n < errlen)
            n += (size_t)snprintf(err + n, errlen - n, ", %s", sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    return 0;
}

const char *db_trace_cond(int p, char *buf, size_t len)
{
    /* Exact keys (trace_keys: hash, display name, program and path with
     * their base names); a glob pattern only when the value has * ? or [;
     * a hash prefix of at least 4 hex digits.  No LIKE: '%' and '_' are
     * ordinary characters in a name. */
    snprintf(buf, len,
             "(t.id IN (SELECT trace_id FROM trace_keys WHERE key = ?%d"
             " OR (?%d GLOB '*[*?[]*' AND key GLOB ?%d))"
             " OR (length(?%d) >= 4 AND substr(t.hash, 1, length(?%d)) = ?%d))",
             p, p, p, p, p, p);
    return buf;
}

const char *db_build_cond(int p, char *buf, size_t len)
{
    snprintf(buf, len, "(b.name = ?%d OR r.alloc_spec = ?%d)", p, p);
    return buf;
}

const char *db_fmt_value(double v, const char *unit, char *buf, size_t len)
{
    if (isnan(v)) {
        snprintf(buf, len, "-");
        return buf;
    }
    double a = fabs(v);
    if (!strcmp(unit, "ns")) {
        if (a >= 1e9) snprintf(buf, len, "%.3g s", v / 1e9);
        else if (a >= 1e6) snprintf(buf, len, "%.3g ms", v / 1e6);
        else if (a >= 1e3) snprintf(buf, len, "%.3g us", v / 1e3);
        else snprintf(buf, len, "%.0f ns", v);
    } else if (!strcmp(unit, "bytes")) {
        if (a >= 1073741824.0) snprintf(buf, len, "%.2f GiB", v / 1073741824.0);
        else if (a >= 1048576.0) snprintf(buf, len, "%.1f MiB", v / 1048576.0);
        else if (a >= 1024.0) snprintf(buf, len, "%.1f KiB", v / 1024.0);
        else snprintf(buf, len, "%.0f B", v);
    } else if (!strcmp(unit, "ops/s")) {
        if (a >= 1e9) snprintf(buf, len, "%.2f G/s", v / 1e9);
        else if (a >= 1e6) snprintf(buf, len, "%.2f M/s", v / 1e6);
        else if (a >= 1e3) snprintf(buf, len, "%.1f k/s", v / 1e3);
        else snprintf(buf, len, "%.1f /s", v);
    } else if (v == floor(v) && a < 1e15) {
        char tmp[64];
        hak_fmt_count((uint64_t)a, tmp, sizeof tmp);
        snprintf(buf, len, "%s%s", v < 0 ? "-" : "", tmp);
    } else {
        snprintf(buf, len, "%.4g", v);
    }
    return buf;
}
