/* cli_timeline.c - `hak trace timeline`: live bytes of the top call sites
 * over the trace, for a stacked chart or a script. */
#include "cli_common.h"
#include "cli_views.h"
#include "hak_util.h"
#include "site_timeline.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak trace timeline [--points N] [--by time|events] [--top N] [--depth N]\n"
        "                          [--csv|--json] [--no-demangle] [--no-lines]\n"
        "                          [--sysroot DIR] [--debug-dir DIR] [--progress] TRACE\n"
        "\n"
        "Memory over time per call site: the live requested bytes of the heap\n"
        "and of the top call sites at N evenly spaced points of TRACE, the data\n"
        "of a stacked area chart.  The top sites are those with the largest live\n"
        "bytes at any moment of their own (the site's maximum); the rest is\n"
        "summed as 'other'.  A point at time T is the state after every event up\n"
        "to T (--by events: after every K-th event, K = events / N); the last\n"
        "point is the end of the trace.\n"
        "\n"
        "The trace is read twice, streaming: once to rank the sites and find the\n"
        "trace's duration, once to sample.  Memory grows with the live blocks,\n"
        "the call sites and N x top, not with the number of events.\n"
        "\n"
        "options:\n"
        "  --points N   samples (default 50, at most 100000)\n"
        "  --by K       time (default: points evenly spaced in time) or events\n"
        VW_COMMON_HELP
        "  (defaults: --top 5 --depth 4)\n"
        "\n"
        "output: text, a table of the points (time, heap, each site, other) and\n"
        "the frames of each site; --csv: one row per point, columns ts_ns, seq,\n"
        "live_bytes, site_ID... (top sites, by rank), other; --json: the sites\n"
        "with their frames and the points with their values.\n"
        "\n"
        "examples:\n"
        "  hak trace timeline run.hkt\n"
        "  hak trace timeline --csv --points 200 --top 8 run.hkt > timeline.csv\n"
        "\n"
        "exit status: 0 ok (also for a truncated trace, with a warning), 1\n"
        "unreadable trace or decoding error, 2 usage error.\n");
}

typedef struct tl_opts { uint64_t npoints; int by_events; } tl_opts;

static int own_opt(void *ctx, int c, const char *arg)
{
    tl_opts *to = ctx;
    if (c == 'p') {
        if (cli_u64("timeline", "--points", arg, &to->npoints))
            return 2;
        if (!to->npoints || to->npoints > 100000)
            return cli_usage_err("timeline", "--points: %s is not in 1..100000", arg);
        return 0;
    }
    if (!strcmp(arg, "time"))   /* --by */
        to->by_events = 0;
    else if (!strcmp(arg, "events"))
        to->by_events = 1;
    else
        return cli_usage_err("timeline", "--by: '%s' is not time or events", arg);
    return 0;
}

int trace_timeline(int argc, char **argv)
{
    static const struct option own[] = {
        {"points", required_argument, NULL, 'p'},
        {"by", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    tl_opts to = {50, 0};
    const vw_cmd cmd = {.name = "timeline", .usage = usage, .own = own, .own_opt = own_opt,
                        .ctx = &to, .common = VW_O_ALL, .ntraces = 1};
    vw_opts o;
    vw_opts_default(&o, 5, 4);
    int prc = vw_parse(&cmd, argc, argv, &o);
    if (prc >= 0)
        return prc;
    uint64_t npoints = to.npoints;
    int by_events = to.by_events;
    vw_trace t;
    if (vw_load(&t, "timeline", argv[optind], NULL, &o))
        return 1;
    /* pass 1 (vw_load) ranked the sites; pass 2 samples */
    hak_stl tl;
    char err[512];
    if (hak_stl_run(&tl, &t.v, t.r, (size_t)o.top, (size_t)npoints, by_events, err, sizeof err)) {
        hak_cmd_err("trace timeline", "%s: %s", t.path, err);
        vw_unload(&t);
        return 1;
    }
    size_t ntop = tl.ntop, n = tl.nranked;
    const uint32_t *ids = tl.ids;
    struct { size_t npoints; const uint64_t *val, *at_ns, *at_seq; } s = {
        tl.npoints, tl.val, tl.at_ns, tl.at_seq};
    char b1[32], b2[32];
    size_t w = ntop + 2;
    if (o.format == VW_CSV) {
        printf("ts_ns,seq,live_bytes");
        for (size_t i = 0; i < ntop; i++)
            printf(",site_%" PRIu32, ids[i]);
        printf(",other\n");
        for (size_t p = 0; p < s.npoints; p++) {
            printf("%" PRIu64 ",%" PRIu64, s.at_ns[p], s.at_seq[p]);
            for (size_t i = 0; i < w; i++)
                printf(",%" PRIu64, s.val[p * w + i]);
            printf("\n");
        }
    } else if (o.format == VW_JSON) {
        printf("{");
        vw_json_trace(stdout, &t);
        printf(", \"by\": \"%s\", \"sites\": [", by_events ? "events" : "time");
        for (size_t i = 0; i < ntop; i++) {
            printf("%s\n  {\"site\": %" PRIu32 ", \"max_bytes\": %" PRIu64 ", \"frames\": ",
                   i ? "," : "", ids[i], tl.max_bytes[i]);
            vw_json_frames(stdout, &t, ids[i], o.depth);
            printf("}");
        }
        printf("], \"points\": [");
        for (size_t p = 0; p < s.npoints; p++) {
            printf("%s\n  {\"ts_ns\": %" PRIu64 ", \"seq\": %" PRIu64 ", \"live_bytes\": %" PRIu64
                   ", \"sites\": [", p ? "," : "", s.at_ns[p], s.at_seq[p], s.val[p * w]);
            for (size_t i = 0; i < ntop; i++)
                printf("%s%" PRIu64, i ? ", " : "", s.val[p * w + 1 + i]);
            printf("], \"other\": %" PRIu64 "}", s.val[p * w + ntop + 1]);
        }
        printf("]}\n");
    } else {
        printf("live bytes over time in %s (%zu points by %s; top %zu of %zu call sites)\n",
               t.path, s.npoints, by_events ? "events" : "time", ntop, n);
        if (t.trunc_note[0])
            printf("note: %s.\n", t.trunc_note);
        printf("\n  %14s %12s", "time", "heap");
        for (size_t i = 0; i < ntop; i++) {
            char h[24];
            snprintf(h, sizeof h, "#%zu", i + 1);
            printf(" %12s", h);
        }
        printf(" %12s\n", "other");
        for (size_t p = 0; p < s.npoints; p++) {
            printf("  %14s", vw_fmt_ns(s.at_ns[p], b1, sizeof b1));
            for (size_t i = 0; i < w; i++)
                printf(" %12s", hak_fmt_bytes(s.val[p * w + i], b2, sizeof b2));
            printf("\n");
        }
        for (size_t i = 0; i < ntop; i++) {
            printf("\n#%zu  site %" PRIu32 ": at most %s live\n", i + 1, ids[i],
                   hak_fmt_bytes(tl.max_bytes[i], b1, sizeof b1));
            vw_text_frames(stdout, &t, ids[i], o.depth, "      ");
        }
    }
    fflush(stdout);
    hak_stl_free(&tl);
    vw_unload(&t);
    return 0;
}
