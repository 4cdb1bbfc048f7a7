/* db_match.c - "did this filter match anything?" for every `hak db` and
 * `hak report` filter (--trace, --label, --base/--new, --alloc, -p NAME=).
 * A filter that matches nothing is an error naming the filter and the
 * nearest values that do exist, never an empty table with exit status 0. */
#include "db_cli.h"
#include "hak_util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Levenshtein distance, case-insensitive, capped at 64 characters. */
static int distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 64) n = 64;
    if (m > 64) m = 64;
    int d[65], prev;
    for (size_t j = 0; j <= m; j++)
        d[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        prev = d[0];
        d[0] = (int)i;
        for (size_t j = 1; j <= m; j++) {
            int cur = d[j];
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int v = prev + cost;
            if (d[j] + 1 < v) v = d[j] + 1;
            if (d[j - 1] + 1 < v) v = d[j - 1] + 1;
            d[j] = v;
            prev = cur;
        }
    }
    return d[m];
}

/* Candidate values of each kind of filter, for the "nearest" hint. */
static const char *candidates_sql(db_match_kind k)
{
    switch (k) {
    case DB_MATCH_LABEL:
        return "SELECT DISTINCT label FROM runs WHERE label IS NOT NULL";
    case DB_MATCH_BUILD:
        return "SELECT name FROM builds UNION SELECT alloc_spec FROM runs WHERE alloc_spec IS NOT NULL";
    case DB_MATCH_TRACE:
        return "SELECT name FROM trace_names UNION SELECT substr(hash, 1, 12) FROM traces";
    case DB_MATCH_METRIC:
        return "SELECT name FROM metric_info UNION SELECT DISTINCT name FROM run_metrics";
    }
    return NULL;
}

void db_nearest(hakdb *db, db_match_kind k, const char *value, char *out, size_t len)
{
    enum { KEEP = 3 };
    char *best[KEEP] = {0};
    int bd[KEEP] = {0};
    size_t total = 0;
    sqlite3_stmt *st;
    out[0] = 0;
    if (hakdb_read(db, candidates_sql(k), &st) != SQLITE_OK)
        return;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(st, 0);
        if (!c)
            continue;
        total++;
        int dd = distance(value, c);
        /* A value that contains the given one (or is contained) is near. */
        if (*value && (strstr(c, value) || strstr(value, c)))
            dd = dd < 1 ? dd : 1;
        for (int i = 0; i < KEEP; i++) {
            if (!best[i] || dd < bd[i] || (dd == bd[i] && strcmp(c, best[i]) < 0)) {
                free(best[KEEP - 1]);
                memmove(best + i + 1, best + i, (KEEP - 1 - i) * sizeof *best);
                memmove(bd + i + 1, bd + i, (KEEP - 1 - i) * sizeof *bd);
                best[i] = strdup(c);
                bd[i] = dd;
                break;
            }
        }
    }
    sqlite3_finalize(st);
    size_t n = 0;
    for (int i = 0; i < KEEP && best[i] && n < len; i++) {
        char safe[96];
        db_escape_text(best[i], safe, sizeof safe);
        n += (size_t)snprintf(out + n, len - n, "%s'%s'", i ? ", " : "", safe);
        free(best[i]);
    }
    if (total > KEEP && n < len)
        snprintf(out + n, len - n, " (of %zu)", total);
}

static const char *kind_noun(db_match_kind k)
{
    switch (k) {
    case DB_MATCH_LABEL: return "label";
    case DB_MATCH_BUILD: return "allocator build";
    case DB_MATCH_TRACE: return "trace";
    case DB_MATCH_METRIC: return "metric";
    }
    return "value";
}

int db_value_matches(hakdb *db, db_match_kind k, const char *value)
{
    char cond[400], sql[600];
    switch (k) {
    case DB_MATCH_LABEL:
        snprintf(sql, sizeof sql, "SELECT 1 FROM runs WHERE label = ?1 LIMIT 1");
        break;
    case DB_MATCH_BUILD:
        snprintf(sql, sizeof sql, "SELECT 1 FROM runs r JOIN builds b ON b.id = r.build_id"
                 " WHERE %s LIMIT 1", db_build_cond(1, cond, sizeof cond));
        break;
    case DB_MATCH_TRACE:
        snprintf(sql, sizeof sql, "SELECT 1 FROM traces t WHERE %s LIMIT 1",
                 db_trace_cond(1, cond, sizeof cond));
        break;
    case DB_MATCH_METRIC:
        if (db_metric_is_column(value))
            return 1;
        snprintf(sql, sizeof sql, "SELECT 1 FROM run_metrics WHERE name = ?1 LIMIT 1");
        break;
    }
    sqlite3_stmt *st;
    if (hakdb_read(db, sql, &st) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, value, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int db_require_match(hakdb *db, const char *cmd, const char *opt, db_match_kind k,
                     const char *value)
{
    if (!value)
        return 0;
    int m = db_value_matches(db, k, value);
    if (m == 1)
        return 0;
    if (m < 0) {
        hak_cmd_err(cmd, "%s: %s", opt, hakdb_sql_error(db));
        return 1;
    }
    char near[400], safe[160];
    db_nearest(db, k, value, near, sizeof near);
    db_escape_text(value, safe, sizeof safe);
    /* No nearest candidate means the database has no value of this kind at
     * all (runs without labels, say), which is not "no runs". */
    char none[80];
    snprintf(none, sizeof none, "(none: it has no %s at all)", kind_noun(k));
    hak_cmd_err(cmd, "%s '%s' matches no %s in %s; nearest: %s", opt, safe, kind_noun(k),
                hakdb_path(db), near[0] ? near : none);
    return 1;
}

int db_require_one_build(hakdb *db, const char *cmd, const char *opt, const char *value)
{
    if (!value)
        return 0;
    /* An --alloc value as given ('hakmem@HEAD~50') resolves to whatever
     * revision it named on the day: given on two days, it names two builds,
     * and comparing "it" would merge them into one side. */
    static const char sql[] =
        "SELECT b.name, min(r.started_at) FROM runs r JOIN builds b ON b.id = r.build_id"
        " WHERE r.alloc_spec = ?1 AND NOT EXISTS (SELECT 1 FROM builds WHERE name = ?1)"
        " GROUP BY b.name ORDER BY 2";
    sqlite3_stmt *st;
    if (hakdb_read(db, sql, &st) != SQLITE_OK) {
        hak_cmd_err(cmd, "%s: %s", opt, hakdb_sql_error(db));
        return 1;
    }
    sqlite3_bind_text(st, 1, value, -1, SQLITE_TRANSIENT);
    char names[600] = "";
    size_t at = 0;
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *b = (const char *)sqlite3_column_text(st, 0);
        const char *when = (const char *)sqlite3_column_text(st, 1);
        char safe[160];
        db_escape_text(b ? b : "?", safe, sizeof safe);
        if (at < sizeof names)
            at += (size_t)snprintf(names + at, sizeof names - at, "%s%s (first run %s)",
                                   n ? ", " : "", safe, when ? when : "?");
        n++;
    }
    sqlite3_finalize(st);
    if (n <= 1)
        return 0;
    char safe[160];
    db_escape_text(value, safe, sizeof safe);
    hak_cmd_err(cmd, "%s '%s' names %d different builds (a relative name given on "
                "different days): %s; name one of them", opt, safe, n, names);
    return 1;
}
