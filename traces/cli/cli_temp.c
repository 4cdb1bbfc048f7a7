/* cli_temp.c - `hak trace temporaries`: blocks freed right after their
 * allocation (heaptrack's "temporary allocations") and short-lived blocks,
 * per call site. */
#include "cli_common.h"
#include "cli_views.h"
#include "hak_util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define DEF_MAX_EVENTS 1000

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak trace temporaries [--scope global|thread] [--max-events N]\n"
        "                  [--max-time DURATION] [--sort temporary|short]\n"
        "                  [--top N] [--depth N] [--csv|--json] [--no-demangle]\n"
        "                  [--no-lines] [--sysroot DIR] [--debug-dir DIR]\n"
        "                  [--progress] TRACE\n"
        "\n"
        "Finds allocations that did not need the heap for long, per call site:\n"
        "\n"
        "  temporary    (heaptrack's definition) a block whose free is the very\n"
        "               next allocation or free after its own allocation: no other\n"
        "               block was allocated or freed in between.  A realloc counts\n"
        "               as the free of its old block followed by an allocation.\n"
        "               With --scope global (the default) 'in between' is the\n"
        "               trace's global order of all threads, as heaptrack counts,\n"
        "               so the figures compare with heaptrack_print's; with\n"
        "               --scope thread only the allocating thread's own operations\n"
        "               count, so another thread's activity cannot hide a\n"
        "               temporary (a block freed by another thread is then never\n"
        "               temporary).\n"
        "  short-lived  a freed block whose lifetime is at most --max-events events\n"
        "               of the whole trace (sequence number of the free minus that\n"
        "               of the allocation; default %d) and, when --max-time is\n"
        "               given, at most that long in time.\n"
        "\n"
        "For each site: allocations, temporaries and short-lived blocks (counts\n"
        "and shares of the site's allocations), and the call stack (innermost\n"
        "frame first).  The trace is read once, streaming.\n"
        "\n"
        "options:\n"
        "  --scope S    global (default) or thread: see 'temporary' above\n"
        "  --max-events N  short-lived threshold in events (default %d)\n"
        "  --max-time D    also require a lifetime of at most D (e.g. 10us, 5ms,\n"
        "               1s; a trace's times have its recorder's resolution, by\n"
        "               default 1 ms for hak record)\n"
        "  --sort K     rank sites by temporary (default) or short (short-lived)\n"
        VW_COMMON_HELP
        "  (defaults: --top 20 --depth 8)\n"
        "\n"
        "examples:\n"
        "  hak trace temporaries run.hkt\n"
        "  hak trace temporaries --scope thread --sort short --max-events 100 run.hkt\n"
        "  hak trace temporaries --csv --top 0 run.hkt > temporaries.csv\n"
        "\n"
        "exit status: 0 ok (also for a truncated trace, with a warning), 1\n"
        "unreadable trace or decoding error, 2 usage error.\n", DEF_MAX_EVENTS, DEF_MAX_EVENTS);
}

static int cmp_rows(const void *a, const void *b, void *ctx)
{
    const hak_sv_site *x = *(const hak_sv_site *const *)a, *y = *(const hak_sv_site *const *)b;
    int sort_short = *(const int *)ctx;
    if (sort_short)
        return vw_rank(x->short_lived, y->short_lived, x->temporary, y->temporary, x->id, y->id);
    return vw_rank(x->temporary, y->temporary, x->short_lived, y->short_lived, x->id, y->id);
}

static int any_short(const hak_sv_site *s, void *ctx)
{
    (void)ctx;
    return s->temporary || s->short_lived;
}

static double pct(uint64_t a, uint64_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0.0;
}

void vw_temp_default(vw_temp_opts *to)
{
    memset(to, 0, sizeof *to);
    to->so = (hak_sv_opts){HAK_SV_TEMP_GLOBAL, DEF_MAX_EVENTS, 0};
}

int vw_temp_opt(vw_temp_opts *to, int c, const char *arg)
{
    switch (c) {
    case VW_TEMP_SCOPE:
        if (!strcmp(arg, "global"))
            to->so.temp_scope = HAK_SV_TEMP_GLOBAL;
        else if (!strcmp(arg, "thread"))
            to->so.temp_scope = HAK_SV_TEMP_THREAD;
        else
            return cli_usage_err("temporaries", "--scope: '%s' is not global or thread", arg);
        return 0;
    case VW_TEMP_MAX_EVENTS:
        return cli_u64("temporaries", "--max-events", arg, &to->so.short_events) ? 2 : 0;
    case VW_TEMP_MAX_TIME:
        if (hak_parse_duration_ns(arg, &to->so.short_ns) || !to->so.short_ns)
            return cli_usage_err("temporaries", "--max-time: '%s' is not a positive duration "
                                 "(e.g. 10us, 5ms, 1s)", arg);
        to->max_time = arg;
        return 0;
    default:   /* VW_TEMP_SORT */
        if (!strcmp(arg, "temporary"))
            to->sort_short = 0;
        else if (!strcmp(arg, "short"))
            to->sort_short = 1;
        else
            return cli_usage_err("temporaries", "--sort: '%s' is not temporary or short", arg);
        return 0;
    }
}

static int own_opt(void *ctx, int c, const char *arg)
{
    return vw_temp_opt(ctx, c, arg);
}

static int print(vw_trace *t, const vw_opts *o, void *ctx)
{
    return vw_print_temporaries(t, o, ctx);
}

int trace_temporaries(int argc, char **argv)
{
    static const struct option own[] = {VW_TEMP_LONGOPTS, {NULL, 0, NULL, 0}};
    vw_temp_opts to;
    vw_temp_default(&to);
    const vw_cmd cmd = {.name = "temporaries", .usage = usage, .own = own, .own_opt = own_opt,
                        .ctx = &to, .common = VW_O_ALL, .ntraces = 1};
    return vw_main(&cmd, argc, argv, 20, 8, &to.so, print);
}

int vw_print_temporaries(vw_trace *t, const vw_opts *o, const vw_temp_opts *to)
{
    hak_siteview *v = &t->v;
    const hak_sv_opts *so = &to->so;
    const char *max_time = to->max_time;
    int sort_short = to->sort_short;
    size_t n, shown;
    hak_sv_site **rows = vw_rows(v, "temporaries", any_short, cmp_rows, &sort_short, o->top, &n,
                                 &shown);
    if (!rows)
        return 1;
    const char *scope = so->temp_scope == HAK_SV_TEMP_THREAD ? "thread" : "global";
    char b1[32], b2[32], b3[32], shortdef[160];
    snprintf(shortdef, sizeof shortdef, "lifetime <= %" PRIu64 " events%s%s", so->short_events,
             max_time ? " and <= " : "", max_time ? max_time : "");
    if (o->format == VW_CSV) {
        printf("rank,site,allocations,temporary,temporary_share,short_lived,short_lived_share,frames\n");
        for (size_t i = 0; i < shown; i++) {
            const hak_sv_site *s = rows[i];
            printf("%zu,%" PRIu32 ",%" PRIu64 ",%" PRIu64 ",%.4f,%" PRIu64 ",%.4f,", i + 1, s->id,
                   s->allocs, s->temporary, pct(s->temporary, s->allocs) / 100,
                   s->short_lived, pct(s->short_lived, s->allocs) / 100);
            vw_csv_frames(stdout, t, s->id, o->depth);
            printf("\n");
        }
    } else if (o->format == VW_JSON) {
        printf("{");
        vw_json_trace(stdout, t);
        printf(", \"temporary_scope\": \"%s\", \"temporary\": %" PRIu64 ", \"short_lived_max_events\": %"
               PRIu64 ", \"short_lived_max_ns\": %" PRIu64 ", \"short_lived\": %" PRIu64 ", \"sites\": [",
               scope, v->temporary, so->short_events, so->short_ns, v->short_lived);
        for (size_t i = 0; i < shown; i++) {
            const hak_sv_site *s = rows[i];
            printf("%s\n  {\"rank\": %zu, \"site\": %" PRIu32 ", \"allocations\": %" PRIu64
                   ", \"temporary\": %" PRIu64 ", \"short_lived\": %" PRIu64 ", \"frames\": ",
                   i ? "," : "", i + 1, s->id, s->allocs, s->temporary, s->short_lived);
            vw_json_frames(stdout, t, s->id, o->depth);
            printf("}");
        }
        printf("]}\n");
    } else {
        printf("temporaries in %s\n", t->path);
        if (t->trunc_note[0])
            printf("note: %s.\n", t->trunc_note);
        printf("temporary: freed with no other allocation or free in between (heaptrack's "
               "definition), in %s order\n",
               so->temp_scope == HAK_SV_TEMP_THREAD ? "each allocating thread's own" : "the global");
        printf("short-lived: freed with a %s\n", shortdef);
        printf("allocations: %s; temporary: %s (%.2f%%); short-lived: %s (%.2f%%)\n",
               hak_fmt_count(v->allocs, b1, sizeof b1),
               hak_fmt_count(v->temporary, b2, sizeof b2), pct(v->temporary, v->allocs),
               hak_fmt_count(v->short_lived, b3, sizeof b3), pct(v->short_lived, v->allocs));
        printf("\ncall sites by %s (%zu of %zu with any):\n",
               sort_short ? "short-lived blocks" : "temporaries", shown, n);
        if (!n)
            printf("  (none)\n");
        for (size_t i = 0; i < shown; i++) {
            const hak_sv_site *s = rows[i];
            printf("\n#%zu  site %" PRIu32 ": %s allocations, %s temporary (%.1f%%), "
                   "%s short-lived (%.1f%%)\n", i + 1, s->id,
                   hak_fmt_count(s->allocs, b1, sizeof b1),
                   hak_fmt_count(s->temporary, b2, sizeof b2), pct(s->temporary, s->allocs),
                   hak_fmt_count(s->short_lived, b3, sizeof b3), pct(s->short_lived, s->allocs));
            vw_text_frames(stdout, t, s->id, o->depth, "      ");
        }
        vw_more(shown, n);
    }
    fflush(stdout);
    free(rows);
    return 0;
}
