/* cli_leaks.c - `hak trace leaks`: blocks never freed, by call site. */
#include "cli_common.h"
#include "cli_views.h"
#include "hak_util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define DEFINITION "a leak is a block allocated and not freed by the end of the trace " \
                   "(reachability is not examined)"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak trace leaks [--top N] [--depth N] [--csv|--json] [--no-demangle]\n"
        "                       [--no-lines] [--sysroot DIR] [--debug-dir DIR]\n"
        "                       [--progress] TRACE\n"
        "\n"
        "Lists the blocks of TRACE that were allocated and never freed, grouped by\n"
        "call site: for each site the number of blocks, their requested bytes and\n"
        "the largest one, with the call stack recorded for the site (innermost\n"
        "frame first, symbolised from the trace's module map when the recorded\n"
        "files are still present with the same build-id).  Sites are ranked by\n"
        "leaked bytes, then blocks.\n"
        "\n"
        "Definition: " DEFINITION ".\n"
        "A block freed after the program's last recorded event (at exit, by the\n"
        "kernel) is a leak by this definition; so is memory the program still\n"
        "reaches through a global pointer.  For a truncated trace the end is the\n"
        "end of its readable prefix: the output says so, since blocks live there\n"
        "may well have been freed later.\n"
        "\n"
        "The trace is read once, streaming: memory grows with the live blocks and\n"
        "the call sites, not with the number of events.\n"
        "\n"
        "options:\n"
        VW_COMMON_HELP
        "  (defaults: --top 20 --depth 0)\n"
        "\n"
        "examples:\n"
        "  hak trace leaks run.hkt\n"
        "  hak trace leaks --top 0 --csv run.hkt > leaks.csv\n"
        "  hak trace leaks --json run.hkt | python3 -m json.tool\n"
        "\n"
        "exit status: 0 ok (also for a truncated trace, with a warning on stderr\n"
        "and a note in the output; also when nothing leaked), 1 unreadable trace or\n"
        "decoding error, 2 usage error.\n");
}

static int by_leak(const void *a, const void *b)
{
    const hak_sv_site *x = *(const hak_sv_site *const *)a, *y = *(const hak_sv_site *const *)b;
    if (x->live_bytes != y->live_bytes)
        return x->live_bytes < y->live_bytes ? 1 : -1;
    if (x->live != y->live)
        return x->live < y->live ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int trace_leaks(int argc, char **argv)
{
    static const struct option opts[] = {
        VW_COMMON_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    vw_opts o;
    vw_opts_default(&o, 20, 0);
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        int k = vw_common_opt("leaks", c, optarg, &o);
        if (k < 0)
            return 2;
        if (!k)
            return cli_usage_err("leaks", "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    if (optind != argc - 1)
        return cli_usage_err("leaks", optind == argc ? "missing TRACE" : "expected one TRACE");
    vw_trace t;
    if (vw_load(&t, "leaks", argv[optind], NULL, &o))
        return 1;
    hak_siteview *v = &t.v;
    hak_sv_site **rows = malloc(((size_t)v->nsites + 1) * sizeof *rows);
    if (!rows) {
        hak_cmd_err("trace leaks", "out of memory");
        vw_unload(&t);
        return 1;
    }
    size_t n = 0;
    for (uint32_t i = 0; i < v->nsites; i++)
        if (v->sites[i].live)
            rows[n++] = &v->sites[i];
    qsort(rows, n, sizeof *rows, by_leak);
    size_t shown = o.top && o.top < n ? (size_t)o.top : n;
    char b1[32], b2[32], b3[32], b4[32], b5[32];
    if (o.format == VW_CSV) {
        printf("rank,site,blocks,bytes,largest,frames\n");
        for (size_t i = 0; i < shown; i++) {
            printf("%zu,%" PRIu32 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", i + 1, rows[i]->id,
                   rows[i]->live, rows[i]->live_bytes, rows[i]->leak_largest);
            vw_csv_frames(stdout, &t, rows[i]->id, o.depth);
            printf("\n");
        }
    } else if (o.format == VW_JSON) {
        printf("{");
        vw_json_trace(stdout, &t);
        printf(", \"definition\": \"%s\", \"leaked_blocks\": %" PRIu64
               ", \"leaked_bytes\": %" PRIu64 ", \"leaking_sites\": %zu, \"sites\": [",
               DEFINITION, v->live, v->live_bytes, n);
        for (size_t i = 0; i < shown; i++) {
            printf("%s\n  {\"rank\": %zu, \"site\": %" PRIu32 ", \"blocks\": %" PRIu64
                   ", \"bytes\": %" PRIu64 ", \"largest\": %" PRIu64 ", \"frames\": ",
                   i ? "," : "", i + 1, rows[i]->id, rows[i]->live, rows[i]->live_bytes,
                   rows[i]->leak_largest);
            vw_json_frames(stdout, &t, rows[i]->id, o.depth);
            printf("}");
        }
        printf("]}\n");
    } else {
        printf("leaks in %s\n", t.path);
        printf("definition: %s.\n", DEFINITION);
        if (t.trunc_note[0])
            printf("note: %s; a block listed here may have been freed later.\n", t.trunc_note);
        printf("not freed: %s blocks, %s bytes (%s), from %zu of %" PRIu32 " call sites; "
               "%s allocations in %s events\n",
               hak_fmt_count(v->live, b1, sizeof b1), hak_fmt_count(v->live_bytes, b2, sizeof b2),
               hak_fmt_bytes(v->live_bytes, b3, sizeof b3), n, v->nsites,
               hak_fmt_count(v->allocs, b4, sizeof b4), hak_fmt_count(v->events, b5, sizeof b5));
        if (!n)
            printf("\nno leaks: %s.\n", v->allocs ? "every allocated block was freed"
                                                    : "the trace has no allocation");
        for (size_t i = 0; i < shown; i++) {
            const hak_sv_site *s = rows[i];
            printf("\n#%zu  site %" PRIu32 ": %s blocks, %s bytes (%s), largest %s bytes; "
                   "%.1f%% of the leaked bytes\n", i + 1, s->id,
                   hak_fmt_count(s->live, b1, sizeof b1), hak_fmt_count(s->live_bytes, b2, sizeof b2),
                   hak_fmt_bytes(s->live_bytes, b3, sizeof b3),
                   hak_fmt_count(s->leak_largest, b4, sizeof b4),
                   v->live_bytes ? 100.0 * (double)s->live_bytes / (double)v->live_bytes : 0.0);
            vw_text_frames(stdout, &t, s->id, o.depth, "      ");
        }
        if (shown < n)
            printf("\n(%zu more call sites; --top 0 lists all)\n", n - shown);
    }
    fflush(stdout);
    free(rows);
    vw_unload(&t);
    return 0;
}
