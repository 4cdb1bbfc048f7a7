/* db_query.c - `hak db query FILE|SQL` and `hak db export`: plain SQL over
 * the run history with aligned, CSV or JSON output. */
#include "db_cli.h"
#include "hak_util.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

enum { OPT_DB = 1000, OPT_CSV, OPT_JSON, OPT_PARAM, OPT_WRITE, OPT_TABLE };

static void query_usage(FILE *out)
{
    fprintf(out,
        "usage: hak db query [--db FILE] [-p NAME=VALUE]... [--csv|--json] [-o FILE]\n"
        "                    [--write] FILE.sql|SQL\n"
        "\n"
        "Runs the statements of FILE.sql (or the SQL text given) against the run\n"
        "history and prints each result as an aligned table (NULL shown as '-'),\n"
        "CSV or JSON (one JSON array per statement that returns rows).  Named\n"
        "parameters in the SQL (:trace, :metric, :base ...) take their values\n"
        "from -p/--param NAME=VALUE; a parameter left unset is an error naming it.\n"
        "The database is opened read-only unless --write: a statement that would\n"
        "write anything (INSERT ..., VACUUM INTO 'file', ATTACH creating a file)\n"
        "is refused before it runs.\n"
        "The parameters trace, label, base, new, alloc and metric must match\n"
        "something in the database (trace: exactly, see 'hak db runs --help';\n"
        "a glob pattern only when the value has * ? or [); one matching\n"
        "nothing is an error naming the nearest existing values.\n"
        "Ready-made questions: analysis/queries/*.sql (each file's header says\n"
        "which parameters it takes).\n");
    fputs("\nexamples:\n"
          "  hak db query 'select alloc, count(*) from run_summary group by alloc'\n"
          "  hak db query analysis/queries/best_setting.sql -p metric=minor_faults --csv\n", out);
}

typedef struct param {
    const char *name;   /* without the :/$/@ sigil */
    const char *value;
} param;

static char *read_all(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    size_t got;
    while (s && (got = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap)
            s = realloc(s, cap *= 2);
    }
    fclose(f);
    if (s)
        s[n] = 0;
    return s;
}

static void bind_value(sqlite3_stmt *st, int i, const char *v)
{
    char *end;
    errno = 0;
    long long ll = strtoll(v, &end, 10);
    if (*v && !*end && !errno) {
        sqlite3_bind_int64(st, i, ll);
        return;
    }
    double d = strtod(v, &end);
    if (*v && !*end) {
        sqlite3_bind_double(st, i, d);
        return;
    }
    sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

/* Runs every statement of sql; prints results. 0 or 1. */
/* The read-only query mode runs only statements that write nothing:
 * sqlite3_stmt_readonly() is false for VACUUM (INTO a file too) and every
 * change; ATTACH counts as read-only to SQLite but creates the file it
 * names, so it is refused as well (as is DETACH, for symmetry). */
static int statement_reads_only(sqlite3_stmt *st)
{
    if (!sqlite3_stmt_readonly(st))
        return 0;
    const char *s = sqlite3_sql(st);
    s += strspn(s, " \t\r\n;");
    return strncasecmp(s, "attach", 6) != 0 && strncasecmp(s, "detach", 6) != 0;
}

static int run_sql(hakdb *db, const char *src, const char *sql, const param *ps, int np,
                   db_fmt fmt, FILE *out, int write)
{
    const char *tail = sql;
    int shown = 0;
    while (tail && *tail) {
        sqlite3_stmt *st = NULL;
        const char *start = tail;
        if (hakdb_user_statement(db, tail, &tail, &st) != 0) {
            /* Name the line the failing statement starts on. */
            int line = 1;
            for (const char *p = sql; p < start; p++)
                line += *p == '\n';
            while (*start == ' ' || *start == '\n' || *start == '\t') {
                line += *start == '\n';
                start++;
            }
            hak_cmd_err("db query", "%s: statement at line %d: %s", src, line,
                        hakdb_sql_error(db));
            return 1;
        }
        if (!st)
            continue;   /* whitespace or comment */
        if (!write && !statement_reads_only(st)) {
            char safe[120];
            db_escape_text(sqlite3_sql(st), safe, sizeof safe);
            hak_cmd_err("db query", "%s: '%s' would write (a database or a file); the query"
                        " mode only reads (use --write to change the database)", src, safe);
            sqlite3_finalize(st);
            return 1;
        }
        for (int i = 1; i <= sqlite3_bind_parameter_count(st); i++) {
            const char *name = sqlite3_bind_parameter_name(st, i);
            if (!name) {
                hak_cmd_err("db query", "%s: positional '?' parameters are not supported; use :name", src);
                sqlite3_finalize(st);
                return 1;
            }
            int found = 0;
            for (int k = 0; k < np; k++)
                if (!strcmp(ps[k].name, name + 1)) {
                    bind_value(st, i, ps[k].value);
                    found = 1;
                }
            if (!found) {
                hak_cmd_err("db query", "%s: parameter %s not given (use -p %s=VALUE)", src, name, name + 1);
                sqlite3_finalize(st);
                return 1;
            }
        }
        char err[512];
        if (sqlite3_column_count(st) == 0) {
            int rc = sqlite3_step(st);
            sqlite3_finalize(st);
            if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
                hak_cmd_err("db query", "%s: %s", src, hakdb_sql_error(db));
                return 1;
            }
            continue;
        }
        db_tbl *t = db_tbl_from_stmt(st, err, sizeof err);
        sqlite3_finalize(st);
        if (!t) {
            hak_cmd_err("db query", "%s: %s", src, err);
            return 1;
        }
        if (shown++ && fmt == DB_FMT_TEXT)
            fputc('\n', out);
        db_tbl_print(t, fmt, out);
        db_tbl_free(t);
    }
    return 0;
}

/* The parameters the ready-made queries share name a trace, label, build
 * or metric; one that matches nothing would give "(no rows)" and exit 0,
 * so it is refused with the nearest existing values instead. */
static int check_params(hakdb *db, const param *ps, int np)
{
    static const struct { const char *name; db_match_kind k; } known[] = {
        {"trace", DB_MATCH_TRACE}, {"label", DB_MATCH_LABEL}, {"base", DB_MATCH_LABEL},
        {"new", DB_MATCH_LABEL}, {"alloc", DB_MATCH_BUILD}, {"metric", DB_MATCH_METRIC},
    };
    for (int i = 0; i < np; i++)
        for (size_t k = 0; k < sizeof known / sizeof *known; k++) {
            if (strcmp(ps[i].name, known[k].name))
                continue;
            char opt[80];
            snprintf(opt, sizeof opt, "-p %s", ps[i].name);
            if (db_require_match(db, "db query", opt, known[k].k, ps[i].value))
                return 1;
        }
    return 0;
}

int db_cmd_query(int argc, char **argv)
{
    static const struct option lo[] = {
        {"db", required_argument, 0, OPT_DB}, {"csv", no_argument, 0, OPT_CSV},
        {"json", no_argument, 0, OPT_JSON}, {"param", required_argument, 0, 'p'},
        {"write", no_argument, 0, OPT_WRITE}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *dbp = NULL;
    param ps[64];
    int np = 0, write = 0, c;
    db_out o = {DB_FMT_TEXT, NULL};
    optind = 0;
    opterr = 0; /* one-line errors: hak_cmd_bad_option */
    while ((c = getopt_long(argc, argv, "hp:o:", lo, NULL)) != -1) {
        switch (c) {
        case OPT_DB: dbp = optarg; break;
        case OPT_CSV: o.fmt = DB_FMT_CSV; break;
        case OPT_JSON: o.fmt = DB_FMT_JSON; break;
        case OPT_WRITE: write = 1; break;
        case 'o': o.path = optarg; break;
        case 'p': {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || np == 64) {
                hak_cmd_err("db query", "--param: '%s' is not NAME=VALUE", optarg);
                return 2;
            }
            *eq = 0;
            const char *name = optarg;
            if (*name == ':' || *name == '$' || *name == '@')
                name++;
            ps[np++] = (param){name, eq + 1};
            break;
        }
        case 'h': query_usage(stdout); return 0;
        default: return hak_cmd_bad_option("db query", argc, argv);
        }
    }
    if (optind != argc - 1) {
        hak_cmd_err("db query", "expected one FILE.sql or SQL statement; see --help");
        return 2;
    }
    const char *arg = argv[optind];
    if (!arg[strspn(arg, " \t\n;")]) {   /* would print nothing and exit 0 */
        hak_cmd_err("db query", "empty SQL statement");
        return 2;
    }
    char err[600];
    char *sql;
    struct stat sb;
    const char *src = arg;
    if (stat(arg, &sb) == 0 && S_ISREG(sb.st_mode)) {
        sql = read_all(arg, err, sizeof err);
        if (!sql) {
            hak_cmd_err("db query", "%s", err);
            return 1;
        }
    } else if (strlen(arg) > 4 && !strcmp(arg + strlen(arg) - 4, ".sql")) {
        hak_cmd_err("db query", "%s: no such file", arg);
        return 1;
    } else {
        sql = strdup(arg);
        src = "SQL";
    }
    hakdb *db = NULL;
    if (write) {   /* a writer: refuses a damaged database */
        db = hakdb_open_ex(dbp, HAKDB_OPEN_EXISTING, err, sizeof err);
        if (!db)
            hak_cmd_err("db query", "%s", err);
    } else {
        db = db_open_for("db query", dbp);
    }
    if (!db) {
        free(sql);
        return 1;
    }
    if (!write)
        hakdb_query_only(db);
    if (check_params(db, ps, np)) {
        free(sql);
        hakdb_close(db);
        return 1;
    }
    FILE *out = db_out_open("db query", &o);
    int rc = out ? run_sql(db, src, sql, ps, np, o.fmt, out, write) : 1;
    if (db_out_close("db query", &o, out))
        rc = 1;
    free(sql);
    hakdb_close(db);
    return rc;
}

/* ---- export ----------------------------------------------------------- */

static void export_usage(FILE *out)
{
    fprintf(out,
        "usage: hak db export [--db FILE] [--csv|--json] [--table T] [-o FILE]\n"
        "\n"
        "Writes a table or view (default run_summary: one row per run with its\n"
        "trace, allocator, machine and the common counters) as CSV (default) or\n"
        "JSON, for spreadsheets, pandas or another tool.  Raw units: ns, bytes,\n"
        "counts; NULL (not measured) is an empty CSV field or JSON null.\n");
    fputs("\nexamples:\n"
          "  hak db export -o runs.csv\n"
          "  hak db export --table run_metric_values --json -o metrics.json\n", out);
}

int db_cmd_export(int argc, char **argv)
{
    static const struct option lo[] = {
        {"db", required_argument, 0, OPT_DB}, {"csv", no_argument, 0, OPT_CSV},
        {"json", no_argument, 0, OPT_JSON}, {"table", required_argument, 0, OPT_TABLE},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *dbp = NULL, *table = "run_summary";
    db_out o = {DB_FMT_CSV, NULL};
    int c;
    optind = 0;
    opterr = 0; /* one-line errors: hak_cmd_bad_option */
    while ((c = getopt_long(argc, argv, "ho:", lo, NULL)) != -1) {
        switch (c) {
        case OPT_DB: dbp = optarg; break;
        case OPT_CSV: o.fmt = DB_FMT_CSV; break;
        case OPT_JSON: o.fmt = DB_FMT_JSON; break;
        case OPT_TABLE: table = optarg; break;
        case 'o': o.path = optarg; break;
        case 'h': export_usage(stdout); return 0;
        default: return hak_cmd_bad_option("db export", argc, argv);
        }
    }
    if (optind < argc) {
        hak_cmd_err("db export", "unexpected argument '%s'; see --help", argv[optind]);
        return 2;
    }
    hakdb *db = db_open_for("db export", dbp);
    if (!db)
        return 1;
    /* Only names that exist: the name is spliced into SQL. */
    sqlite3_stmt *st;
    if (hakdb_read(db, "SELECT name FROM sqlite_master WHERE type IN ('table','view') AND name = ?1",
                   &st) != 0) {
        hak_cmd_err("db export", "%s", hakdb_error(db));
        hakdb_close(db);
        return 1;
    }
    sqlite3_bind_text(st, 1, table, -1, SQLITE_TRANSIENT);
    int ok = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (!ok) {
        hak_cmd_err("db export", "--table: no table or view '%s' (see analysis/store/schema.sql)", table);
        hakdb_close(db);
        return 2;
    }
    char sql[256], err[512];
    snprintf(sql, sizeof sql, "SELECT * FROM \"%s\"", table);
    if (hakdb_read(db, sql, &st) != 0) {
        hak_cmd_err("db export", "%s", hakdb_error(db));
        hakdb_close(db);
        return 1;
    }
    db_tbl *t = db_tbl_from_stmt(st, err, sizeof err);
    sqlite3_finalize(st);
    int rc = 0;
    if (!t) {
        hak_cmd_err("db export", "%s", err);
        rc = 1;
    } else {
        FILE *f = db_out_open("db export", &o);
        if (f)
            db_tbl_print(t, o.fmt, f);
        else
            rc = 1;
        if (db_out_close("db export", &o, f))
            rc = 1;
        db_tbl_free(t);
    }
    hakdb_close(db);
    return rc;
}
