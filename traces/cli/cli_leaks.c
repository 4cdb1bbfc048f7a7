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

static int by_leak(const void *a, const void *b, void *ctx)
{
    const hak_sv_site *x = *(const hak_sv_site *const *)a, *y = *(const hak_sv_site *const *)b;
    (void)ctx;
    return vw_rank(x->live_bytes, y->live_bytes, x->live, y->live, x->id, y->id);
}

static int leaked(const hak_sv_site *s, void *ctx)
{
    (void)ctx;
    return s->live != 0;
}

int vw_print_leaks(vw_trace *t, const vw_opts *o)
{
    hak_siteview *v = &t->v;
    size_t n, shown;
    hak_sv_site **rows = vw_rows(v, "leaks", leaked, by_leak, NULL, o->top, &n, &shown);
    if (!rows)
        return 1;
    char b1[32], b2[32], b3[32], b4[32], b5[32];
    if (o->format == VW_CSV) {
        printf("rank,site,blocks,bytes,largest,frames\n");
        for (size_t i = 0; i < shown; i++) {
            printf("%zu,%" PRIu32 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", i + 1, rows[i]->id,
                   rows[i]->live, rows[i]->live_bytes, rows[i]->leak_largest);
            vw_csv_frames(stdout, t, rows[i]->id, o->depth);
            printf("\n");
        }
    } else if (o->format == VW_JSON) {
        printf("{");
        vw_json_trace(stdout, t);
        printf(", \"definition\": \"%s\", \"leaked_blocks\": %" PRIu64
               ", \"leaked_bytes\": %" PRIu64 ", \"leaking_sites\": %zu, \"sites\": [",
               DEFINITION, v->live, v->live_bytes, n);
        for (size_t i = 0; i < shown; i++) {
            printf("%s\n  {\"rank\": %zu, \"site\": %" PRIu32 ", \"blocks\": %" PRIu64
                   ", \"bytes\": %" PRIu64 ", \"largest\": %" PRIu64 ", \"frames\": ",
                   i ? "," : "", i + 1, rows[i]->id, rows[i]->live, rows[i]->live_bytes,
                   rows[i]->leak_largest);
            vw_json_frames(stdout, t, rows[i]->id, o->depth);
            printf("}");
        }
        printf("]}\n");
    } else {
        printf("leaks in %s\n", t->path);
        printf("definition: %s.\n", DEFINITION);
        if (t->trunc_note[0])
            printf("note: %s; a block listed here may have been freed later.\n", t->trunc_note);
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
            vw_text_frames(stdout, t, s->id, o->depth, "      ");
        }
        vw_more(shown, n);
    }
    fflush(stdout);
    free(rows);
    return 0;
}

static int print(vw_trace *t, const vw_opts *o, void *ctx)
{
    (void)ctx;
    return vw_print_leaks(t, o);
}

int trace_leaks(int argc, char **argv)
{
    const vw_cmd cmd = {.name = "leaks", .usage = usage, .common = VW_O_ALL, .ntraces = 1};
    return vw_main(&cmd, argc, argv, 20, 0, NULL, print);
}
