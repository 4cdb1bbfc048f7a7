/* db_cli.c - `hak db`: the dispatcher over the run-history subcommands and
 * the helpers they share (db_cli.h). */
#include "db_cli.h"
#include "analysis_cli.h"
#include "hak_cmd.h"
#include "hak_util.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static const hak_cmd subs[] = {
    {"runs", db_cmd_runs, "list recent runs (filter by trace, allocator, label, status)"},
    {"show", db_cmd_show, "everything stored about one run"},
    {"info", db_cmd_info, "schema version, row counts, machines and their counters"},
    {"compare", db_cmd_compare, "per trace and allocator: base vs new label (or build), with a noise-aware verdict"},
    {"best", db_cmd_best, "best allocator and knob setting per trace for a metric"},
    {"query", db_cmd_query, "run an SQL file or statement; aligned table, --csv or --json"},
    {"export", db_cmd_export, "dump a table or view as CSV or JSON"},
    {"merge", db_cmd_merge, "merge other databases into this one without duplicates"},
    {"import-trace", db_cmd_import_trace, "load a trace's size/lifetime histograms and call sites"},
};

static void usage(FILE *out);
static const hak_cmd_level level = {"db", subs, HAK_CMD_COUNT(subs), usage};

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak db SUBCOMMAND [--db FILE] [OPTIONS]\n"
        "\n"
        "Questions over the run history in SQLite (default ./hak.db, or $HAK_DB).\n"
        "The schema is documented in analysis/store/schema.sql; ready-made questions\n"
        "are in analysis/queries/*.sql (run them with 'hak db query FILE').\n"
        "\n"
        "subcommands:\n");
    hak_cmd_list(out, &level, 13);
    fprintf(out,
        "\n"
        "'hak db SUBCOMMAND --help' describes one.  Exit status: 0 ok, 1 failure,\n"
        "2 usage error.\n");
    fputs("\nexamples:\n"
          "  hak db runs --limit 10\n"
          "  hak db compare --base v1 --new v2\n", out);
}

int cmd_db(int argc, char **argv)
{
    return hak_cmd_dispatch(&level, argc, argv);
}
