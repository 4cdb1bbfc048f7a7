/* cli_allviews.c - `hak trace views`: leaks, peak consumers and temporaries
 * (and, with --flame, the folded stacks) from one pass over a trace.
 *
 * Each single view reads the whole trace for a few lines of answer; the
 * pass is nearly all of their cost, so the set of them costs four passes
 * where heaptrack_print answers all its questions in one run.  This
 * command runs the pass once (vw_load) and prints what each view would
 * (vw_print_*), so the full set costs about what one view does. */
#include "cli_common.h"
#include "cli_views.h"
#include "hak_util.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define UNSET UINT64_MAX

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak trace views [--flame FILE] [--weight allocs|bytes|leaked|peak]\n"
        "                       [--scope global|thread] [--max-events N]\n"
        "                       [--max-time DURATION] [--top N] [--depth N] [--json]\n"
        "                       [--no-demangle] [--no-lines] [--sysroot DIR]\n"
        "                       [--debug-dir DIR] [--progress] TRACE\n"
        "\n"
        "Reads TRACE once and prints what 'hak trace leaks', 'hak trace peak' and\n"
        "'hak trace temporaries' print, one after the other, with the same\n"
        "definitions (see their --help); with --flame FILE it also writes the\n"
        "folded stacks of 'hak trace flame' to FILE.  The pass over the trace is\n"
        "nearly all of each view's cost, so the set costs about as much as one\n"
        "view: use it for the whole picture of a large trace, the single views\n"
        "for one question or for CSV.\n"
        "\n"
        "options:\n"
        "  --flame FILE also write folded stacks (flamegraph.pl, speedscope) to FILE\n"
        "  --weight W   their weight: allocs, bytes (default), leaked or peak\n"
        "  --scope S, --max-events N, --max-time D\n"
        "               the temporaries' definitions (see hak trace temporaries)\n"
        "  --json       one JSON object {\"leaks\": ..., \"peak\": ...,\n"
        "               \"temporaries\": ...}, each what that view's --json prints\n"
        "  --top N      call sites listed per view (default 20; 0 = all)\n"
        "  --depth N    frames per call site (default: each view's own, 0 for\n"
        "               leaks and 8 for peak and temporaries; 0 = all)\n"
        "  --no-demangle, --no-lines, --sysroot DIR, --debug-dir DIR, --progress\n"
        "               as for the single views (see hak trace leaks --help)\n"
        "  -h, --help   this text\n"
        "\n"
        "examples:\n"
        "  hak trace views run.hkt\n"
        "  hak trace views --flame run.folded --weight peak run.hkt\n"
        "  hak trace views --json --top 5 run.hkt > views.json\n"
        "\n"
        "exit status: 0 ok (also for a truncated trace, with a warning), 1\n"
        "unreadable trace, decoding error or FILE not writable, 2 usage error\n"
        "(--csv: the views are three tables; ask each view for its own).\n");
}

typedef struct av_opts {
    vw_temp_opts to;
    const char *flame;
    int weight;
} av_opts;

enum { O_FLAME = 3001, O_WEIGHT };

static int own_opt(void *ctx, int c, const char *arg)
{
    av_opts *a = ctx;
    if (c == O_FLAME) {
        if (!*arg)
            return cli_usage_err("views", "--flame: empty file name");
        a->flame = arg;
        return 0;
    }
    if (c == O_WEIGHT) {
        a->weight = vw_flame_weight(arg);
        return a->weight < 0 ? cli_usage_err("views", "--weight: '%s' is not allocs, bytes, "
                                             "leaked or peak", arg) : 0;
    }
    return vw_temp_opt(&a->to, c, arg);
}

/* Prints one view with its own default depth when --depth was not given. */
static vw_opts with_depth(const vw_opts *o, uint64_t dflt)
{
    vw_opts r = *o;
    if (r.depth == UNSET)
        r.depth = dflt;
    return r;
}

int trace_views(int argc, char **argv)
{
    static const struct option own[] = {
        {"flame", required_argument, NULL, O_FLAME},
        {"weight", required_argument, NULL, O_WEIGHT},
        VW_TEMP_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    av_opts a = {.weight = VW_W_BYTES};
    vw_temp_default(&a.to);
    const vw_cmd cmd = {.name = "views", .usage = usage, .own = own, .own_opt = own_opt,
                        .ctx = &a, .common = VW_O_ALL, .ntraces = 1};
    vw_opts o;
    vw_opts_default(&o, 20, UNSET);
    int rc = vw_parse(&cmd, argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.format == VW_CSV)
        return cli_usage_err("views", "--csv: the views are three tables; use hak trace "
                             "leaks|peak|temporaries --csv for each");
    if (a.to.sort_short)
        return cli_usage_err("views", "--sort: only for hak trace temporaries");
    FILE *ff = NULL;
    if (a.flame && !(ff = fopen(a.flame, "w"))) {
        hak_cmd_err("trace views", "%s: %s", a.flame, strerror(errno));
        return 1;
    }
    vw_trace t;
    if (vw_load(&t, "views", argv[optind], &a.to.so, &o)) {
        if (ff)
            fclose(ff);
        return 1;
    }
    vw_opts ol = with_depth(&o, 0), op = with_depth(&o, 8), ot = with_depth(&o, 8);
    int json = o.format == VW_JSON;
    if (json)
        printf("{\"leaks\": ");
    rc = vw_print_leaks(&t, &ol);
    printf(json ? ", \"peak\": " : "\n--------\n\n");
    rc = rc ? rc : vw_print_peak(&t, &op, 0);
    printf(json ? ", \"temporaries\": " : "\n--------\n\n");
    rc = rc ? rc : vw_print_temporaries(&t, &ot, &a.to);
    if (json)
        printf("}\n");
    fflush(stdout);
    if (!rc && ff)
        rc = vw_print_flame(&t, o.depth == UNSET ? 0 : o.depth, a.weight, ff);
    if (ff) {
        int bad = ferror(ff);
        bad |= fclose(ff) != 0;
        if (bad && !rc)
            hak_cmd_err("trace views", "%s: write failed: %s", a.flame, strerror(errno));
        rc |= bad;
    }
    vw_unload(&t);
    return rc;
}
