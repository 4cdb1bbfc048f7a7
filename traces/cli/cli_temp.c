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

static int sort_short;

static int cmp_rows(const void *a, const void *b)
{
    const hak_sv_site *x = *(const hak_sv_site *const *)a, *y = *(const hak_sv_site *const *)b;
    uint64_t kx = sort_short ? x->short_lived : x->temporary;
    uint64_t ky = sort_short ? y->short_lived : y->temporary;
    uint64_t k2x = sort_short ? x->temporary : x->short_lived;
    uint64_t k2y = sort_short ? y->temporary : y->short_lived;
    if (kx != ky)
        return kx < ky ? 1 : -1;
    if (k2x != k2y)
        return k2x < k2y ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static double pct(uint64_t a, uint64_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0.0;
}

int trace_temporaries(int argc, char **argv)
{
    static const struct option opts[] = {
        VW_COMMON_LONGOPTS,
        {"scope", required_argument, NULL, 's'},
        {"max-events", required_argument, NULL, 'e'},
        {"max-time", required_argument, NULL, 'T'},
        {"sort", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    vw_opts o;
    vw_opts_default(&o, 20, 8);
    hak_sv_opts so = {HAK_SV_TEMP_GLOBAL, DEF_MAX_EVENTS, 0};
    const char *max_time = NULL;
    int c;
    sort_short = 0;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case 's':
            if (!strcmp(optarg, "global"))
                so.temp_scope = HAK_SV_TEMP_GLOBAL;
            else if (!strcmp(optarg, "thread"))
                so.temp_scope = HAK_SV_TEMP_THREAD;
            else
                return cli_usage_err("temporaries", "--scope: '%s' is not global or thread", optarg);
            continue;
        case 'e':
            if (cli_u64("temporaries", "--max-events", optarg, &so.short_events))
                return 2;
            continue;
        case 'T':
            if (hak_parse_duration_ns(optarg, &so.short_ns) || !so.short_ns)
                return cli_usage_err("temporaries", "--max-time: '%s' is not a positive duration "
                                     "(e.g. 10us, 5ms, 1s)", optarg);
            max_time = optarg;
            continue;
        case 'S':
            if (!strcmp(optarg, "temporary"))
                sort_short = 0;
            else if (!strcmp(optarg, "short"))
                sort_short = 1;
            else
                return cli_usage_err("temporaries", "--sort: '%s' is not temporary or short", optarg);
            continue;
        }
        int k = vw_common_opt("temporaries", c, optarg, &o);
        if (k < 0)
            return 2;
        if (!k)
            return cli_usage_err("temporaries", "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    if (optind != argc - 1)
        return cli_usage_err("temporaries", optind == argc ? "missing TRACE" : "expected one TRACE");
    vw_trace t;
    if (vw_load(&t, "temporaries", argv[optind], &so, &o))
        return 1;
    hak_siteview *v = &t.v;
    hak_sv_site **rows = malloc(((size_t)v->nsites + 1) * sizeof *rows);
    if (!rows) {
        hak_cmd_err("trace temporaries", "out of memory");
        vw_unload(&t);
        return 1;
    }
    size_t n = 0;
    for (uint32_t i = 0; i < v->nsites; i++)
        if (v->sites[i].temporary || v->sites[i].short_lived)
            rows[n++] = &v->sites[i];
    qsort(rows, n, sizeof *rows, cmp_rows);
    size_t shown = o.top && o.top < n ? (size_t)o.top : n;
    const char *scope = so.temp_scope == HAK_SV_TEMP_THREAD ? "thread" : "global";
    char b1[32], b2[32], b3[32], shortdef[160];
    snprintf(shortdef, sizeof shortdef, "lifetime <= %" PRIu64 " events%s%s", so.short_events,
             max_time ? " and <= " : "", max_time ? max_time : "");
    if (o.format == VW_CSV) {
        printf("rank,site,allocations,temporary,temporary_share,short_lived,short_lived_share,frames\n");
        for (size_t i = 0; i < shown; i++) {
            const hak_sv_site *s = rows[i];
            printf("%zu,%" PRIu32 ",%" PRIu64 ",%" PRIu64 ",%.4f,%" PRIu64 ",%.4f,", i + 1, s->id,
                   s->allocs, s->temporary, pct(s->temporary, s->allocs) / 100,
                   s->short_lived, pct(s->short_lived, s->allocs) / 100);
            vw_csv_frames(stdout, &t, s->id, o.depth);
            printf("\n");
        }
    } else if (o.format == VW_JSON) {
        printf("{");
        vw_json_trace(stdout, &t);
        printf(", \"temporary_scope\": \"%s\", \"temporary\": %" PRIu64 ", \"short_lived_max_events\": %"
               PRIu64 ", \"short_lived_max_ns\": %" PRIu64 ", \"short_lived\": %" PRIu64 ", \"sites\": [",
               scope, v->temporary, so.short_events, so.short_ns, v->short_lived);
        for (size_t i = 0; i < shown; i++) {
            const hak_sv_site *s = rows[i];
            printf("%s\n  {\"rank\": %zu, \"site\": %" PRIu32 ", \"allocations\": %" PRIu64
                   ", \"temporary\": %" PRIu64 ", \"short_lived\": %" PRIu64 ", \"frames\": ",
                   i ? "," : "", i + 1, s->id, s->allocs, s->temporary, s->short_lived);
            vw_json_frames(stdout, &t, s->id, o.depth);
            printf("}");
        }
        printf("]}\n");
    } else {
        printf("temporaries in %s\n", t.path);
        if (t.trunc_note[0])
            printf("note: %s.\n", t.trunc_note);
        printf("temporary: freed with no other allocation or free in between (heaptrack's "
               "definition), in %s order\n",
               so.temp_scope == HAK_SV_TEMP_THREAD ? "each allocating thread's own" : "the global");
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
