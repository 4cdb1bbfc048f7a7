/* db_runs.c - `hak db runs`, `hak db show RUN`, `hak db info`: browsing the
 * run history. */
#include "db_cli.h"
#include "hak_util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_DB = 1000, OPT_CSV, OPT_JSON, OPT_TRACE, OPT_ALLOC, OPT_LABEL, OPT_STATUS,
       OPT_KIND, OPT_LIMIT, OPT_SWEEP };

static void runs_usage(FILE *out)
{
    fprintf(out,
        "usage: hak db runs [--db FILE] [--trace T] [--alloc NAME] [--label L]\n"
        "                   [--status S] [--kind measured|simulated] [--sweep ID]\n"
        "                   [--limit N] [--csv|--json] [-o FILE]\n"
        "\n"
        "Lists the most recent runs, newest first (default 20; --limit 0 = all).\n"
        "  --trace T    the trace: exactly its program (full or base name), path,\n"
        "               file name or a content-hash prefix (>= 4 digits); a glob\n"
        "               pattern only when T has * ? or [ (e.g. 'py*')\n"
        "  --alloc NAME allocator build name as stored (hakmem@652251e2ee40) or as\n"
        "               given to --alloc (hakmem@HEAD~50); hakmem, glibc, ...\n"
        "  --label L    runs made with --label L\n"
        "A --trace, --alloc or --label matching nothing is an error naming the\n"
        "nearest existing values (never an empty list with exit status 0).\n"
        "  --status S   ok, crashed, timeout, load_failed or error\n"
        "A run of a trace that is not whole shows 'ok (truncated trace)' or\n"
        "'ok (incomplete trace)' (--csv/--json: trace_completeness).\n"
        "Text output formats the figures; --csv/--json give raw values (ns, bytes).\n"
        "A '-' is a figure that was not measured (NULL), never a zero.\n");
    fputs("\nexamples:\n"
          "  hak db runs --limit 20\n"
          "  hak db runs --trace redis --alloc hakmem --status crashed\n"
          "  hak db runs --sweep 3 --csv -o runs.csv\n", out);
}

typedef struct runs_args {
    const char *dbp, *trace, *alloc, *label, *status, *kind, *sweep;
    uint64_t limit;
    db_out o;
} runs_args;

/* -1 when the arguments are good, else the exit status (help: 0). */
static int runs_parse(int argc, char **argv, runs_args *a)
{
    static const struct option lo[] = {
        {"db", required_argument, 0, OPT_DB}, {"csv", no_argument, 0, OPT_CSV},
        {"json", no_argument, 0, OPT_JSON}, {"trace", required_argument, 0, OPT_TRACE},
        {"alloc", required_argument, 0, OPT_ALLOC}, {"label", required_argument, 0, OPT_LABEL},
        {"status", required_argument, 0, OPT_STATUS}, {"kind", required_argument, 0, OPT_KIND},
        {"sweep", required_argument, 0, OPT_SWEEP},
        {"limit", required_argument, 0, OPT_LIMIT}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    *a = (runs_args){.limit = 20, .o = {DB_FMT_TEXT, NULL}};
    int c;
    optind = 0;
    opterr = 0; /* one-line errors: hak_cmd_bad_option */
    while ((c = getopt_long(argc, argv, "ho:", lo, NULL)) != -1) {
        switch (c) {
        case OPT_DB: a->dbp = optarg; break;
        case OPT_CSV: a->o.fmt = DB_FMT_CSV; break;
        case OPT_JSON: a->o.fmt = DB_FMT_JSON; break;
        case OPT_TRACE: a->trace = optarg; break;
        case OPT_ALLOC: a->alloc = optarg; break;
        case OPT_LABEL: a->label = optarg; break;
        case OPT_STATUS:
            if (db_check_filter("db runs", "--status", optarg))
                return 2;
            a->status = optarg;
            break;
        case OPT_KIND:
            if (db_check_filter("db runs", "--kind", optarg))
                return 2;
            a->kind = optarg;
            break;
        case OPT_SWEEP:
            if (db_check_filter("db runs", "--sweep", optarg))
                return 2;
            a->sweep = optarg;
            break;
        case 'o': a->o.path = optarg; break;
        case OPT_LIMIT:
            if (hak_parse_u64(optarg, &a->limit) != 0) {
                hak_cmd_err("db runs", "--limit: '%s' is not a count", optarg);
                return 2;
            }
            break;
        case 'h': runs_usage(stdout); return 0;
        default: return hak_cmd_bad_option("db runs", argc, argv);
        }
    }
    if (optind < argc) {
        hak_cmd_err("db runs", "unexpected argument '%s'; see --help", argv[optind]);
        return 2;
    }
    return -1;
}

/* Every name given exists (else an error naming the nearest); the query,
 * with the filters bound.  NULL after saying why. */
static sqlite3_stmt *runs_query(hakdb *db, const runs_args *a)
{
    if (db_require_match(db, "db runs", "--trace", DB_MATCH_TRACE, a->trace) ||
        db_require_match(db, "db runs", "--alloc", DB_MATCH_BUILD, a->alloc) ||
        db_require_match(db, "db runs", "--label", DB_MATCH_LABEL, a->label))
        return NULL;
    char tc[400], sql[3072];
    snprintf(sql, sizeof sql,
        "SELECT r.id, r.started_at, " DB_TRACE_NAME ", b.name, r.env, r.label, r.kind, r.status,"
        " r.ops_per_s, r.wall_ns, r.minor_faults, r.peak_rss_bytes, r.error, t.completeness"
        " FROM runs r JOIN traces t ON t.id = r.trace_id JOIN builds b ON b.id = r.build_id"
        " WHERE (?1 IS NULL OR %s) AND (?2 IS NULL OR b.name = ?2 OR r.alloc_spec = ?2)"
        " AND (?3 IS NULL OR r.label = ?3) AND (?4 IS NULL OR r.status = ?4)"
        " AND (?5 IS NULL OR r.kind = ?5) AND (?6 IS NULL OR r.sweep_id = ?6)"
        " ORDER BY r.id DESC LIMIT ?7", db_trace_cond(1, tc, sizeof tc));
    sqlite3_stmt *st;
    if (hakdb_read(db, sql, &st) != SQLITE_OK) {
        hak_cmd_err("db runs", "%s", hakdb_sql_error(db));
        return NULL;
    }
    const char *args[6] = {a->trace, a->alloc, a->label, a->status, a->kind, a->sweep};
    for (int i = 0; i < 6; i++)
        if (args[i])
            sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, a->limit ? (int64_t)a->limit : -1);
    return st;
}

/* --csv/--json: the columns as stored, named by what they hold. */
static int runs_print_raw(sqlite3_stmt *st, const db_out *o, FILE *out)
{
    int rc = 0;
    char err[256];
    db_tbl *t = db_tbl_from_stmt(st, err, sizeof err);
    if (!t) {
        hak_cmd_err("db runs", "%s", err);
        rc = 1;
    } else {
        /* Name raw columns by what they hold. */
        static const char *const nm[] = {"id", "started_at", "trace", "alloc", "env", "label",
            "kind", "status", "ops_per_s", "wall_ns", "minor_faults", "peak_rss_bytes", "error",
            "trace_completeness"};
        for (int i = 0; i < t->ncols && i < 14; i++) {
            free(t->names[i]);
            t->names[i] = strdup(nm[i]);
        }
        db_tbl_print(t, o->fmt, out);
        db_tbl_free(t);
    }
    return rc;
}

/* The aligned table: one line a run, figures in their units. */
static int runs_print_text(hakdb *db, sqlite3_stmt *st, const db_out *o, FILE *out)
{
    int rc;
    static const char *const nm[] = {"run", "started (UTC)", "trace", "alloc", "knobs",
        "label", "status", "ops/s", "wall", "minflt", "peak RSS"};
    db_tbl *t = db_tbl_new(11, nm);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t r = db_tbl_add_row(t);
        char b[64];
        db_tbl_setf(t, r, 0, DB_INT, "%lld", (long long)sqlite3_column_int64(st, 0));
        const char *ts = (const char *)sqlite3_column_text(st, 1);
        db_tbl_setf(t, r, 1, DB_TEXT, "%.10s %.8s", ts, ts && strlen(ts) > 11 ? ts + 11 : "");
        db_tbl_set(t, r, 2, DB_TEXT, (const char *)sqlite3_column_text(st, 2));
        db_tbl_set(t, r, 3, DB_TEXT, (const char *)sqlite3_column_text(st, 3));
        const char *env = (const char *)sqlite3_column_text(st, 4);
        db_tbl_set(t, r, 4, DB_TEXT, env && *env ? env : "-");
        db_tbl_set(t, r, 5, DB_TEXT, (const char *)sqlite3_column_text(st, 5));
        const char *s = (const char *)sqlite3_column_text(st, 7);
        const char *k = (const char *)sqlite3_column_text(st, 6);
        if (strcmp(s, "ok") != 0) {
            const char *e = (const char *)sqlite3_column_text(st, 12);
            db_tbl_setf(t, r, 6, DB_TEXT, "%s%s%.40s", s, e ? ": " : "", e ? e : "");
        } else {
            /* A run of a partial trace (traces.completeness) says so. */
            const char *tc = (const char *)sqlite3_column_text(st, 13);
            int partial = tc && strcmp(tc, "complete");
            int sim = !strcmp(k, "simulated");
            db_tbl_setf(t, r, 6, DB_TEXT, "%s%s%s%s%s%s", s, sim || partial ? " (" : "",
                        sim ? "sim" : "", sim && partial ? ", " : "", partial ? tc : "",
                        partial ? " trace)" : sim ? ")" : "");
        }
        static const char *const units[] = {"ops/s", "ns", "count", "bytes"};
        for (int i = 0; i < 4; i++)
            if (sqlite3_column_type(st, 8 + i) != SQLITE_NULL)
                db_tbl_set(t, r, 7 + i, DB_REAL,
                           db_fmt_value(sqlite3_column_double(st, 8 + i), units[i], b, sizeof b));
            else
                db_tbl_set(t, r, 7 + i, DB_REAL, NULL);
    }
    if (rc != SQLITE_DONE) {
        hak_cmd_err("db runs", "%s", hakdb_sql_error(db));
        rc = 1;
    } else {
        rc = 0;
        for (int i = 7; i < 11; i++)
            t->right[i] = 1;
        db_tbl_print(t, o->fmt, out);
    }
    db_tbl_free(t);
    return rc;
}

int db_cmd_runs(int argc, char **argv)
{
    runs_args a;
    int rc = runs_parse(argc, argv, &a);
    if (rc >= 0)
        return rc;
    hakdb *db = db_open_for("db runs", a.dbp);
    if (!db)
        return 1;
    sqlite3_stmt *st = runs_query(db, &a);
    if (!st) {
        hakdb_close(db);
        return 1;
    }
    FILE *out = db_out_open("db runs", &a.o);
    rc = !out ? 1 : a.o.fmt != DB_FMT_TEXT ? runs_print_raw(st, &a.o, out)
                                          : runs_print_text(db, st, &a.o, out);
    if (db_out_close("db runs", &a.o, out))
        rc = 1;
    sqlite3_finalize(st);
    hakdb_close(db);
    return rc;
}

/* ---- show ------------------------------------------------------------- */

static void show_usage(FILE *out)
{
    fprintf(out,
        "usage: hak db show [--db FILE] [--json] RUN\n"
        "\n"
        "Prints everything stored about one run: trace, build, machine, settings,\n"
        "every figure (NULL shown as '-' with the reason it was not measured),\n"
        "the extra metrics and a summary of its timeline.  RUN is a run id or a\n"
        "prefix of its uuid.\n");
    fputs("\nexamples:\n"
          "  hak db show 42\n"
          "  hak db show --json 62fa9e89 | python3 -m json.tool\n", out);
}

static int print_query(hakdb *db, const char *sql, sqlite3_int64 id, db_fmt fmt, FILE *out)
{
    sqlite3_stmt *st;
    if (hakdb_read(db, sql, &st) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    char err[256];
    db_tbl *t = db_tbl_from_stmt(st, err, sizeof err);
    sqlite3_finalize(st);
    if (!t)
        return -1;
    db_tbl_print(t, fmt, out);
    db_tbl_free(t);
    return 0;
}

int db_cmd_show(int argc, char **argv)
{
    static const struct option lo[] = {
        {"db", required_argument, 0, OPT_DB}, {"json", no_argument, 0, OPT_JSON},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *dbp = NULL;
    int json = 0, c;
    optind = 0;
    opterr = 0; /* one-line errors: hak_cmd_bad_option */
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case OPT_DB: dbp = optarg; break;
        case OPT_JSON: json = 1; break;
        case 'h': show_usage(stdout); return 0;
        default: return hak_cmd_bad_option("db show", argc, argv);
        }
    }
    if (optind != argc - 1) {
        hak_cmd_err("db show", "expected one RUN (id or uuid prefix); see --help");
        return 2;
    }
    const char *arg = argv[optind];
    hakdb *db = db_open_for("db show", dbp);
    if (!db)
        return 1;
    sqlite3_stmt *st;
    hakdb_read(db, "SELECT id FROM runs WHERE CAST(id AS TEXT) = ?1"
        " UNION ALL SELECT id FROM runs WHERE length(?1) >= 4 AND uuid LIKE ?1 || '%' LIMIT 2", &st);
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
    sqlite3_int64 id = -1;
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n++ == 0)
            id = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (n != 1) {
        hak_cmd_err("db show", "%s: %s", arg, n ? "ambiguous uuid prefix" : "no such run");
        hakdb_close(db);
        return 1;
    }
    if (json) {
        printf("{\"run\": ");
        print_query(db, "SELECT * FROM run_summary WHERE run_id = ?1", id, DB_FMT_JSON, stdout);
        printf(", \"metrics\": ");
        print_query(db, "SELECT name, value, unit, source, reason FROM run_metrics WHERE run_id = ?1"
                        " ORDER BY name", id, DB_FMT_JSON, stdout);
        printf(", \"timeline\": ");
        print_query(db, "SELECT t_ns, rss_bytes, live_bytes FROM timelines WHERE run_id = ?1 ORDER BY idx",
                    id, DB_FMT_JSON, stdout);
        printf("}\n");
        hakdb_close(db);
        return 0;
    }
    hakdb_read(db, "SELECT s.*, t.events AS trace_events, t.threads AS trace_threads,"
        " b.path AS build_path, m.cpu_model, m.kernel, m.thp_mode, m.counters AS perf_counters"
        " FROM run_summary s JOIN traces t ON t.id = s.trace_id JOIN builds b ON b.id = s.build_id"
        " JOIN machines m ON m.id = s.machine_id WHERE s.run_id = ?1", &st);
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        int nc = sqlite3_column_count(st);
        for (int i = 0; i < nc; i++) {
            const char *name = sqlite3_column_name(st, i);
            const char *unit = strstr(name, "_ns") ? "ns" : strstr(name, "bytes") ? "bytes"
                             : !strcmp(name, "ops_per_s") ? "ops/s" : NULL;
            char b[64];
            const char *v;
            if (sqlite3_column_type(st, i) == SQLITE_NULL)
                v = "-";
            else if (unit && sqlite3_column_type(st, i) != SQLITE_TEXT)
                v = db_fmt_value(sqlite3_column_double(st, i), unit, b, sizeof b);
            else
                v = (const char *)sqlite3_column_text(st, i);
            char safe[2048];
            printf("%-18s %s", name, db_esc(v, safe, sizeof safe));
            if (unit && sqlite3_column_type(st, i) != SQLITE_NULL && sqlite3_column_type(st, i) != SQLITE_TEXT)
                printf("   (%s)", sqlite3_column_text(st, i));
            printf("\n");
        }
    }
    sqlite3_finalize(st);
    printf("\nmetrics (NULL = not measured, with the reason):\n");
    print_query(db, "SELECT name, value, unit, source, reason FROM run_metrics WHERE run_id = ?1"
                    " ORDER BY name", id, DB_FMT_TEXT, stdout);
    printf("\ntimeline:\n");
    print_query(db, "SELECT count(*) AS samples, max(t_ns) AS span_ns, max(rss_bytes) AS max_rss_bytes,"
                    " max(live_bytes) AS max_live_bytes FROM timelines WHERE run_id = ?1",
                id, DB_FMT_TEXT, stdout);
    hakdb_close(db);
    return 0;
}

/* ---- info ------------------------------------------------------------- */

static void info_usage(FILE *out)
{
    fprintf(out,
        "usage: hak db info [--db FILE]\n"
        "\n"
        "Prints the database's schema version, how many rows each table holds,\n"
        "and every machine with the perf counters it could (not) open and why.\n");
    fputs("\nexamples:\n"
          "  hak db info\n"
          "  HAK_DB=lab.db hak db info\n", out);
}

int db_cmd_info(int argc, char **argv)
{
    static const struct option lo[] = {
        {"db", required_argument, 0, OPT_DB}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *dbp = NULL;
    int c;
    optind = 0;
    opterr = 0; /* one-line errors: hak_cmd_bad_option */
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case OPT_DB: dbp = optarg; break;
        case 'h': info_usage(stdout); return 0;
        default: return hak_cmd_bad_option("db info", argc, argv);
        }
    }
    if (optind < argc) {
        hak_cmd_err("db info", "unexpected argument '%s'", argv[optind]);
        return 2;
    }
    hakdb *db = db_open_for("db info", dbp);
    if (!db)
        return 1;
    printf("database   %s\nschema     version %d\n\n", hakdb_path(db), hakdb_schema_version());
    print_query(db,
        "SELECT 'traces' AS tbl, count(*) AS rows FROM traces UNION ALL SELECT 'builds', count(*) FROM builds"
        " UNION ALL SELECT 'machines', count(*) FROM machines UNION ALL SELECT 'sweeps', count(*) FROM sweeps"
        " UNION ALL SELECT 'runs', count(*) FROM runs UNION ALL SELECT 'run_metrics', count(*) FROM run_metrics"
        " UNION ALL SELECT 'timelines', count(*) FROM timelines"
        " UNION ALL SELECT 'trace_sites', count(*) FROM trace_sites WHERE ?1 = ?1", 0, DB_FMT_TEXT, stdout);
    printf("\n");
    print_query(db,
        "SELECT m.id AS machine, m.hostname, m.cores, m.kernel, m.thp_mode AS thp, c.name AS counter,"
        " CASE c.available WHEN 1 THEN 'yes' ELSE 'no' END AS available, c.reason"
        " FROM machines m JOIN machine_counters c ON c.machine_id = m.id WHERE ?1 = ?1"
        " ORDER BY m.id, c.name", 0, DB_FMT_TEXT, stdout);
    hakdb_close(db);
    return 0;
}
