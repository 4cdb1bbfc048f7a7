/* trace_cli.c - `hak trace`: dispatches to the subcommands in cli_*.c. */
#include "cli_common.h"
#include "cli_views.h"
#include "cli_export.h"
#include "hak_cmd.h"
#include "trace_cli.h"
#include "hak_util.h"

#include <stdio.h>
#include <string.h>

static const hak_cmd subs[] = {
    {"info",     trace_info,     "metadata, operation counts, threads, peak live bytes, truncation"},
    {"dump",     trace_dump,     "print events one per line"},
    {"stats",    trace_stats,    "size and lifetime histograms, top call sites"},
    {"validate", trace_validate, "check structure and semantics (bad frees, ordering)"},
    {"synth",    trace_synth,    "write a deterministic synthetic trace"},
    {"import",   trace_import,   "convert an Android malloc_debug record_allocs file"},
    {"leaks",    trace_leaks,    "blocks never freed, by call site, with stacks"},
    {"peak",     trace_peak,     "the moment of peak live bytes (and RSS) and who held it"},
    {"temporaries", trace_temporaries, "blocks freed right after allocation, short-lived blocks"},
    {"flame",    trace_flame,    "folded stacks for flame graphs (allocs, bytes, leaked, peak)"},
    {"diff",     trace_diff,     "per call site changes between two recordings"},
    {"views",    trace_views,    "leaks, peak and temporaries (and --flame) in one pass"},
    {"timeline", trace_timeline, "live bytes of the top call sites over time (chart data)"},
    {"export",   trace_export,   "per call site allocations as a pprof profile (--pprof)"},
};

static void usage(FILE *out);
static const hak_cmd_level level = {"trace", subs, HAK_CMD_COUNT(subs), usage};

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak trace SUBCOMMAND [OPTIONS] [ARGS]\n"
        "\n"
        "Inspect, validate, synthesise and import hakmem traces (.hkt): the\n"
        "malloc/free stream of one program, as written by 'hak record' (the\n"
        "format is described in traces/FORMAT.md).\n"
        "\n"
        "subcommands:\n");
    hak_cmd_list(out, &level, 11);
    fprintf(out,
        "\n"
        "'hak trace SUBCOMMAND --help' describes one subcommand and its options.\n"
        "\n"
        "examples:\n"
        "  hak trace synth random-mixed --iters 1M --slots 256 --seed 42 -o rm.hkt\n"
        "  hak trace info rm.hkt\n"
        "  hak trace stats --top 5 rm.hkt\n"
        "  hak trace validate rm.hkt && echo clean\n"
        "  hak trace leaks run.hkt\n"
        "  hak trace flame --weight peak run.hkt > run.folded\n"
        "  hak trace views --flame run.folded run.hkt\n"
        "  hak trace import app.record_allocs.txt -o app.hkt\n"
        "\n"
        "exit status: 0 ok, 1 failure (bad input, errors found), 2 usage error.\n");
}

int cmd_trace(int argc, char **argv)
{
    return hak_cmd_dispatch(&level, argc, argv);
}
