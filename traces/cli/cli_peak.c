/* cli_peak.c - `hak trace peak`: the moment of peak live heap bytes (and of
 * peak RSS when sampled) and what each call site held then. */
#include "cli_common.h"
#include "cli_views.h"
#include "hak_util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak trace peak [--by heap|rss] [--top N] [--depth N] [--csv|--json]\n"
        "                      [--no-demangle] [--no-lines] [--sysroot DIR]\n"
        "                      [--debug-dir DIR] [--progress] TRACE\n"
        "\n"
        "Finds the moment of TRACE at which the live heap was largest and shows\n"
        "which call sites held it: for each site its live blocks and requested\n"
        "bytes at that moment, their share of the peak, the site's own largest\n"
        "live bytes at any time, and its call stack (innermost frame first).\n"
        "\n"
        "Definitions:\n"
        "  live bytes   bytes requested by malloc, calloc, realloc, the memalign\n"
        "               family, valloc and pvalloc and not freed yet (what the\n"
        "               program asked for, not what the allocator used);\n"
        "  peak         the first event after which the live bytes are at their\n"
        "               maximum (its sequence number and time are shown);\n"
        "  peak RSS     the first of the trace's RSS samples with the largest\n"
        "               value (hak record samples the resident set size as it\n"
        "               runs); a site's bytes there are its live bytes after every\n"
        "               event up to the sample's time.  Traces without samples\n"
        "               (synthetic or imported ones) say so.\n"
        "\n"
        "The trace is read once: when live bytes reach a new maximum only a\n"
        "counter moves, and each site saves its own value lazily just before it\n"
        "next changes (siteview.c), so there is no second pass over the file and\n"
        "no copy of every site per new maximum.  Memory grows with the live\n"
        "blocks and the call sites, not with the number of events.\n"
        "\n"
        "options:\n"
        "  --by heap    rank sites by their live bytes at the heap peak (default)\n"
        "  --by rss     rank them by their live bytes at the peak RSS sample\n"
        VW_COMMON_HELP
        "  (defaults: --top 20 --depth 8)\n"
        "\n"
        "examples:\n"
        "  hak trace peak run.hkt\n"
        "  hak trace peak --by rss --top 5 run.hkt\n"
        "  hak trace peak --csv --top 0 run.hkt > peak.csv\n"
        "\n"
        "exit status: 0 ok (also for a truncated trace, with a warning), 1\n"
        "unreadable trace or decoding error, --by rss on a trace without RSS\n"
        "samples, 2 usage error.\n");
}

static int cmp_rows(const void *a, const void *b, void *ctx)
{
    const hak_sv_site *x = *(const hak_sv_site *const *)a, *y = *(const hak_sv_site *const *)b;
    int by_rss = *(const int *)ctx;
    if (by_rss)
        return vw_rank(x->rss_bytes, y->rss_bytes, x->rss_live, y->rss_live, x->id, y->id);
    return vw_rank(x->peak_bytes, y->peak_bytes, x->peak_live, y->peak_live, x->id, y->id);
}

static int held(const hak_sv_site *s, void *ctx)
{
    return *(const int *)ctx ? s->rss_live != 0 : s->peak_live != 0;
}

static int own_opt(void *ctx, int c, const char *arg)
{
    int *by_rss = ctx;
    (void)c;   /* --by */
    if (!strcmp(arg, "heap"))
        *by_rss = 0;
    else if (!strcmp(arg, "rss"))
        *by_rss = 1;
    else
        return cli_usage_err("peak", "--by: '%s' is not heap or rss", arg);
    return 0;
}

static int print(vw_trace *t, const vw_opts *o, void *ctx)
{
    int by_rss = *(const int *)ctx;
    if (by_rss && !t->v.have_rss) {
        hak_cmd_err("trace peak", "%s: --by rss: the trace has no RSS samples", t->path);
        return 1;
    }
    return vw_print_peak(t, o, by_rss);
}

int trace_peak(int argc, char **argv)
{
    static const struct option own[] = {
        {"by", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    int by_rss = 0;
    const vw_cmd cmd = {.name = "peak", .usage = usage, .own = own, .own_opt = own_opt,
                        .ctx = &by_rss, .common = VW_O_ALL, .ntraces = 1};
    return vw_main(&cmd, argc, argv, 20, 8, NULL, print);
}

int vw_print_peak(vw_trace *t, const vw_opts *o, int by_rss)
{
    hak_siteview *v = &t->v;
    size_t n, shown;
    hak_sv_site **rows = vw_rows(v, "peak", held, cmp_rows, &by_rss, o->top, &n, &shown);
    if (!rows)
        return 1;
    uint64_t total = by_rss ? v->rss_heap_bytes : v->peak_bytes;
    char b1[32], b2[32], b3[32], b4[32], b5[32];
    if (o->format == VW_CSV) {
        printf("rank,site,bytes_at_peak,blocks_at_peak,share,bytes_at_peak_rss,blocks_at_peak_rss,"
               "site_max_bytes,frames\n");
        for (size_t i = 0; i < shown; i++) {
            const hak_sv_site *s = rows[i];
            printf("%zu,%" PRIu32 ",%" PRIu64 ",%" PRIu64 ",%.4f,", i + 1, s->id, s->peak_bytes,
                   s->peak_live, total ? (double)(by_rss ? s->rss_bytes : s->peak_bytes) / (double)total : 0.0);
            if (v->have_rss)
                printf("%" PRIu64 ",%" PRIu64 ",", s->rss_bytes, s->rss_live);
            else
                printf(",,");
            printf("%" PRIu64 ",", s->max_bytes);
            vw_csv_frames(stdout, t, s->id, o->depth);
            printf("\n");
        }
    } else if (o->format == VW_JSON) {
        printf("{");
        vw_json_trace(stdout, t);
        printf(", \"ranked_by\": \"%s\", \"peak\": ", by_rss ? "rss" : "heap");
        if (v->have_peak)
            printf("{\"live_bytes\": %" PRIu64 ", \"live_blocks\": %" PRIu64 ", \"seq\": %" PRIu64
                   ", \"ts_ns\": %" PRIu64 "}", v->peak_bytes, v->peak_live, v->peak_seq, v->peak_ns);
        else
            printf("null");
        printf(", \"peak_rss\": ");
        if (v->have_rss)
            printf("{\"rss_bytes\": %" PRIu64 ", \"ts_ns\": %" PRIu64 ", \"live_bytes\": %" PRIu64
                   ", \"live_blocks\": %" PRIu64 "}", v->rss_peak, v->rss_ns, v->rss_heap_bytes,
                   v->rss_heap_live);
        else
            printf("null");
        printf(", \"sites\": [");
        for (size_t i = 0; i < shown; i++) {
            const hak_sv_site *s = rows[i];
            printf("%s\n  {\"rank\": %zu, \"site\": %" PRIu32 ", \"bytes_at_peak\": %" PRIu64
                   ", \"blocks_at_peak\": %" PRIu64, i ? "," : "", i + 1, s->id, s->peak_bytes,
                   s->peak_live);
            if (v->have_rss)
                printf(", \"bytes_at_peak_rss\": %" PRIu64 ", \"blocks_at_peak_rss\": %" PRIu64,
                       s->rss_bytes, s->rss_live);
            printf(", \"site_max_bytes\": %" PRIu64 ", \"frames\": ", s->max_bytes);
            vw_json_frames(stdout, t, s->id, o->depth);
            printf("}");
        }
        printf("]}\n");
    } else {
        printf("peak of %s\n", t->path);
        if (t->trunc_note[0])
            printf("note: %s.\n", t->trunc_note);
        if (v->have_peak)
            printf("heap peak: %s bytes (%s) live in %s blocks, after event seq %" PRIu64 " at %s\n",
                   hak_fmt_count(v->peak_bytes, b1, sizeof b1), hak_fmt_bytes(v->peak_bytes, b2, sizeof b2),
                   hak_fmt_count(v->peak_live, b3, sizeof b3), v->peak_seq,
                   vw_fmt_ns(v->peak_ns, b4, sizeof b4));
        else
            printf("heap peak: none (no allocation in %s events)\n",
                   hak_fmt_count(v->events, b1, sizeof b1));
        if (v->have_rss)
            printf("peak RSS:  %s (%s bytes) at %s; live heap then %s bytes in %s blocks\n",
                   hak_fmt_bytes(v->rss_peak, b1, sizeof b1), hak_fmt_count(v->rss_peak, b2, sizeof b2),
                   vw_fmt_ns(v->rss_ns, b3, sizeof b3), hak_fmt_count(v->rss_heap_bytes, b4, sizeof b4),
                   hak_fmt_count(v->rss_heap_live, b5, sizeof b5));
        else
            printf("peak RSS:  not sampled in this trace\n");
        if (v->have_rss && hak_tr_rss_stride(t->r) > 1)
            printf("note: the trace has more RSS samples than the reader keeps: every %" PRIu32
                   "th was used, so the true peak RSS may lie between two of them.\n",
                   hak_tr_rss_stride(t->r));
        printf("live bytes: requested by the program and not yet freed.\n");
        printf("\ncall sites by live bytes at the %s (%zu of %zu):\n",
               by_rss ? "peak RSS sample" : "heap peak", shown, n);
        if (!n)
            printf("  (none)\n");
        for (size_t i = 0; i < shown; i++) {
            const hak_sv_site *s = rows[i];
            uint64_t bytes = by_rss ? s->rss_bytes : s->peak_bytes;
            uint64_t live = by_rss ? s->rss_live : s->peak_live;
            printf("\n#%zu  site %" PRIu32 ": %s bytes (%s) in %s blocks, %.1f%% of the %s; "
                   "the site's own maximum %s bytes\n", i + 1, s->id,
                   hak_fmt_count(bytes, b1, sizeof b1), hak_fmt_bytes(bytes, b2, sizeof b2),
                   hak_fmt_count(live, b3, sizeof b3),
                   total ? 100.0 * (double)bytes / (double)total : 0.0,
                   by_rss ? "live heap at the peak RSS" : "peak",
                   hak_fmt_count(s->max_bytes, b4, sizeof b4));
            vw_text_frames(stdout, t, s->id, o->depth, "      ");
        }
        vw_more(shown, n);
    }
    fflush(stdout);
    free(rows);
    return 0;
}
