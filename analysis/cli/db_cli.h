/* db_cli.h - internals shared by the `hak db` subcommands and `hak report`:
 * opening the database for a command, metric lookup (which column or
 * run_metrics name, which direction is better, unit) and value formatting. */
#ifndef DB_CLI_H
#define DB_CLI_H

#include "db_table.h"
#include "hakdb.h"

#include <stdio.h>

/* Subcommands (argv[0] is the subcommand name). */
int db_cmd_runs(int argc, char **argv);
int db_cmd_show(int argc, char **argv);
int db_cmd_info(int argc, char **argv);
int db_cmd_compare(int argc, char **argv);
int db_cmd_best(int argc, char **argv);
int db_cmd_query(int argc, char **argv);
int db_cmd_export(int argc, char **argv);
int db_cmd_merge(int argc, char **argv);
int db_cmd_import_trace(int argc, char **argv);

/* Opens an existing database for `hak CMD`; prints the one-line error and
 * returns NULL on failure. */
hakdb *db_open_for(const char *cmd, const char *path);

/* Checks a --kind, --status or --sweep filter value (opt names which) so a
 * typo is a usage error instead of an empty result.  0 ok; else prints one
 * line for `hak CMD` and returns 2. */
int db_check_filter(const char *cmd, const char *opt, const char *v);

int db_metric_is_column(const char *m);
/* The metric's unit from metric_info/run_metrics, or "" (static/db string copied). */
void db_metric_unit(hakdb *db, const char *m, char *buf, size_t len);
/* 1 when some run has a non-NULL value of m; fills err with the known names otherwise. */
int db_metric_exists(hakdb *db, const char *m, char *err, size_t errlen);

/* Human formatting by unit ("ops/s", "ns", "bytes", "count", "ratio"). */
const char *db_fmt_value(double v, const char *unit, char *buf, size_t len);

/* SQL expression naming trace t for people: its program's base name, or its file name
 * when the program is generic (synthetic traces say "hak trace synth").
 * For use inside a printf format (hence %%). */
#define DB_TRACE_NAME \
    "coalesce(CASE WHEN t.program IS NULL OR t.program LIKE 'hak %%' OR t.program = 'unknown'" \
    " THEN replace(t.path, rtrim(t.path, replace(t.path, '/', '')), '')" \
    " ELSE replace(t.program, rtrim(t.program, replace(t.program, '/', '')), '') END, t.hash)"

/* SQL condition matching a --trace argument against traces t exactly
 * (hash, display name, program or path or their base names: the
 * trace_keys view), or a hash prefix of >= 4 digits; a glob pattern only
 * when the text has * ? or [.  The text is bound as ?param. */
const char *db_trace_cond(int param, char *buf, size_t len);
/* SQL condition matching a build name against builds b / runs r: the
 * stored name (hakmem@652251e2ee40) or the name given (hakmem@HEAD~50). */
const char *db_build_cond(int param, char *buf, size_t len);

/* The setting's mode for runs r, as SQL text: 'threads=serial|recorded'
 * (when stored), then ' touch=X' unless pages, ' pace=recorded', ' sim' for
 * simulated runs (the same expression as run_summary.mode).  A setting is allocator
 * + knobs + mode; nothing merges runs whose settings differ. */
#define DB_MODE_EXPR \
    "ltrim(coalesce(' threads=' || r.threads_mode, '')" \
    " || CASE WHEN r.touch IS NOT NULL AND r.touch <> 'pages' THEN ' touch=' || r.touch ELSE '' END" \
    " || CASE WHEN r.pace = 'recorded' THEN ' pace=recorded' ELSE '' END" \
    " || CASE WHEN r.kind = 'simulated' THEN ' sim' ELSE '' END)"

/* Filters that must match something (db_match.c). */
typedef enum { DB_MATCH_LABEL, DB_MATCH_TRACE, DB_MATCH_BUILD, DB_MATCH_METRIC } db_match_kind;
/* 1 when value matches at least one run/trace, 0 when not, -1 on error. */
int db_value_matches(hakdb *db, db_match_kind k, const char *value);
/* The (up to 3) existing values nearest to value, "'a', 'b', 'c' (of N)". */
void db_nearest(hakdb *db, db_match_kind k, const char *value, char *out, size_t len);
/* 0 when value is NULL or matches; else prints "hak CMD: OPT 'v' matches
 * no K in DB; nearest: ..." and returns 1. */
/* --by build sides: an --alloc value as given must name one build (one
 * given on two days may have resolved to two); 0, or 1 after an error
 * listing them. */
int db_require_one_build(hakdb *db, const char *cmd, const char *opt, const char *value);
int db_require_match(hakdb *db, const char *cmd, const char *opt, db_match_kind k,
                     const char *value);

/* Parses --csv/--json style flags shared by listing commands. */
typedef struct db_out {
    db_fmt fmt;
    const char *path;   /* -o FILE, NULL = stdout */
} db_out;
FILE *db_out_open(const char *cmd, const db_out *o);
/* Closes (or flushes stdout) and checks for write errors: 0, or -1 after
 * printing "hak CMD: PATH: write failed: ..." (a full disk must not look
 * like a successful export).  f may be NULL (returns 0). */
int db_out_close(const char *cmd, const db_out *o, FILE *f);

#endif

/* ---- grouped metric values (compare, best, report) -------------------- */
#include "db_stats.h"

typedef struct db_group {
    char *hash, *trace, *alloc, *env;  /* trace content hash & display name, build name, knobs */
    char *mode;                        /* DB_MODE_EXPR: threads mode (+ touch, pace, sim) */
    int side;                          /* compare: 0 base, 1 new; else 0 */
    double *v;                         /* values of the repeats */
    size_t n, cap;
    db_summary s;                      /* filled by db_collect */
} db_group;

typedef struct db_groups {
    db_group *g;
    size_t n, cap;
    int include_incomplete;     /* in: keep runs of truncated/incomplete traces */
    size_t ignored;             /* out: such runs left out (traces.completeness) */
} db_groups;

/* Steps st (columns: hash, trace, alloc, env, mode, side, value, trace
 * not complete; rows sorted by the first six, NULL values skipped, runs of
 * a trace that is not complete skipped and counted unless
 * out->include_incomplete) into groups.  0 or -1 (err). */
int db_collect(sqlite3_stmt *st, db_groups *out, char *err, size_t errlen);
void db_groups_free(db_groups *g);

typedef struct db_filter {
    const char *trace, *label, *sweep, *kind;   /* NULL = any */
    int include_incomplete;     /* also runs of truncated/incomplete traces */
} db_filter;

/* Groups of metric m by (trace, allocator, knobs, mode) over ok runs matching f. */
int db_collect_metric(hakdb *db, const char *m, const db_filter *f, db_groups *out,
                      char *err, size_t errlen);

typedef struct db_cmp_row {
    const db_group *base, *neu;        /* either may be NULL (only on one side) */
    db_change c;
    const char *metric;
} db_cmp_row;

typedef struct db_cmp_opts {
    const char *base, *neu;            /* labels, or build names when by_build */
    int by_build;
    const char *trace;                 /* NULL = all */
    double min_change;                 /* relative, e.g. 0.02 */
    const char *label;                 /* by_build: only runs with this label; NULL = any */
    int include_incomplete;            /* also runs of truncated/incomplete traces */
} db_cmp_opts;

/* Compares metric m; rows point into *storage (free with db_groups_free),
 * sorted regressions first (largest first), then improvements, same,
 * unsure, one-sided.  0 or -1 (err). */
int db_compare_metric(hakdb *db, const db_cmp_opts *o, const char *m, db_groups *storage,
                      db_cmp_row **rows, size_t *nrows, char *err, size_t errlen);
