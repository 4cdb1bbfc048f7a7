/* db_import.c - `hak db import-trace` (the import itself: hakdb_import.h). */
#include "db_cli.h"
#include "hakdb_import.h"
#include "hak_util.h"

#include <getopt.h>
#include <stdio.h>

static void import_usage(FILE *out)
{
    fprintf(out,
        "usage: hak db import-trace [--db FILE] [--short-lived DUR] [-q] TRACE...\n"
        "\n"
        "Reads each trace once and stores its statistics, replacing an earlier\n"
        "import of the same trace (matched by content hash):\n"
        "  trace_stats          allocations, frees, bytes, peak live bytes\n"
        "  trace_size_hist      allocations per power-of-two size bucket\n"
        "  trace_lifetime_hist  objects per power-of-two lifetime bucket (ns);\n"
        "  trace_lifetime_events_hist  the same by lifetime in events (not\n"
        "                       quantised by the recording clock, whose\n"
        "                       resolution trace_stats.ts_resolution_ns gives);\n"
        "                       objects never freed in the bucket with NULL bounds\n"
        "  trace_sites          per call site: symbol (first frame outside the\n"
        "                       allocator, from the trace's module map when the\n"
        "                       binaries are still present), allocations, bytes,\n"
        "                       short-lived objects, mean lifetime\n"
        "  trace_rss            the RSS timeline recorded with the program\n"
        "and, from two more streaming passes, the memory-profiler views (the\n"
        "figures of hak trace leaks|peak|temporaries|flame|timeline):\n"
        "  trace_view_stats     leaked blocks and bytes, the heap peak, peak RSS,\n"
        "                       temporaries and short-lived blocks (<= 1000 events)\n"
        "  trace_site_views     the same per call site\n"
        "  trace_flame          folded stacks with four weights (flame graphs)\n"
        "  trace_site_timeline  live bytes of the top 8 call sites and the rest at\n"
        "                       100 points in time (memory over time)\n"
        "so questions such as 'which call sites allocate the most short-lived\n"
        "objects' or 'what leaked' are SQL (analysis/queries/top_call_sites.sql,\n"
        "leaks.sql, peak_consumers.sql, temporaries.sql, flame.sql,\n"
        "memory_over_time.sql), and hak report shows them.\n"
        "  --short-lived DUR    lifetime threshold for 'short-lived' (default 1ms)\n");
    fputs("\nexamples:\n"
          "  hak db import-trace app.hkt\n"
          "  hak db query analysis/queries/top_call_sites.sql -p trace=app\n", out);
}

int db_cmd_import_trace(int argc, char **argv)
{
    static const struct option lo[] = {
        {"db", required_argument, 0, 1000}, {"short-lived", required_argument, 0, 1001},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *dbp = NULL;
    hakdb_import_opts o = {1000000};
    int quiet = 0, c;
    optind = 0;
    opterr = 0; /* one-line errors: hak_cmd_bad_option */
    while ((c = getopt_long(argc, argv, "hq", lo, NULL)) != -1) {
        switch (c) {
        case 1000: dbp = optarg; break;
        case 1001:
            if (hak_parse_duration_ns(optarg, &o.short_lived_ns) != 0 || !o.short_lived_ns) {
                hak_cmd_err("db import-trace", "--short-lived: '%s' is not a duration", optarg);
                return 2;
            }
            break;
        case 'q': quiet = 1; break;
        case 'h': import_usage(stdout); return 0;
        default: return hak_cmd_bad_option("db import-trace", argc, argv);
        }
    }
    if (optind >= argc) {
        hak_cmd_err("db import-trace", "expected a TRACE; see --help");
        return 2;
    }
    char err[600];
    hakdb *db = hakdb_open(dbp, err, sizeof err);
    if (!db) {
        hak_cmd_err("db import-trace", "%s", err);
        return 1;
    }
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        hakdb_import_result res;
        if (hakdb_import_trace(db, argv[i], &o, &res, err, sizeof err) != 0) {
            hak_cmd_err("db import-trace", "%s", err);
            rc = 1;
            continue;
        }
        if (!quiet) {
            char b1[32], b2[32], b3[32];
            printf("%s: trace %lld: %s events, %s allocations, %s bytes, %llu call sites%s%s\n",
                   argv[i], (long long)res.trace_id, hak_fmt_count(res.events, b1, sizeof b1),
                   hak_fmt_count(res.allocs, b2, sizeof b2), hak_fmt_count(res.bytes, b3, sizeof b3),
                   (unsigned long long)res.sites, res.truncated[0] ? "; truncated: " : "",
                   res.truncated);
        }
    }
    hakdb_close(db);
    return rc;
}
