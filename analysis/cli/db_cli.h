/* db_cli.h - internals shared by the `hak db` subcommands and `hak report`:
 * opening the database for a command, metric lookup (which column or
 * run_metrics name, which direction is better, unit) and value formatting. */
#ifndef DB_CLI_H
#define DB_CLI_H

#include "db_group.h"
#include "db_metric.h"
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
