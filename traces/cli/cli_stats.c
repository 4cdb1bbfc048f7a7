/* cli_stats.c - `hak trace stats`: size and lifetime histograms, top call
 * sites by count and by bytes, cross-thread frees. */
#include "cli_common.h"
#include "cli_views.h"
#include "heapmodel.h"
#include "symbolize.h"
#include "hak_util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define NB 66   /* power-of-two buckets: 0, 1, 2-3, ... 2^63.. */

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak trace stats [--top N] [--depth N] [--no-demangle] [--json] [--progress] TRACE\n"
        "\n"
        "Summarises the allocation behaviour recorded in TRACE:\n"
        "\n"
        "  - allocation sizes: a histogram of requested bytes in power-of-two\n"
        "    buckets (calloc counts nmemb * size);\n"
        "  - lifetimes of freed blocks, in events (how many events of the whole\n"
        "    trace happened between the allocation and its free) and in time,\n"
        "    also in power-of-two buckets; blocks never freed are counted apart;\n"
        "  - frees by another thread than the allocating one;\n"
        "  - the top call sites by number of allocations and by bytes, each with\n"
        "    its innermost frames symbolised from the trace's module map: the\n"
        "    module's ELF file is read (.symtab, else .dynsym) when it is still\n"
        "    present with the recorded build-id; otherwise MODULE+OFFSET is shown.\n"
        "\n"
        "options:\n"
        "  --top N      call sites to list in each ranking (default 10, 0 = none)\n"
        "  --depth N    frames shown per call site (default 4)\n"
        "  --no-demangle  show C++ names as mangled (default: demangled with\n"
        "               libstdc++'s __cxa_demangle when libstdc++.so.6 is installed)\n"
        "  --json       the same as one JSON object: histograms as [{lo, hi, count}]\n"
        "               (hi inclusive; lifetimes in events and in ns), the top\n"
        "               sites with their frames\n"
        "  --progress   report progress on stderr (default: only on a terminal,\n"
        "               for runs longer than 2 s)\n"
        "  -h, --help   this text\n"
        "\n"
        "examples:\n"
        "  hak trace stats run.hkt\n"
        "  hak trace stats --top 3 --depth 8 run.hkt\n"
        "\n"
        "exit status: 0 ok (also for a truncated trace, with a warning), 1\n"
        "unreadable trace or decoding error, 2 usage error.\n");
}

typedef struct site_agg { uint32_t id; uint64_t count, bytes; } site_agg;

typedef struct stats {
    uint64_t size_h[NB], life_ev_h[NB], life_ns_h[NB];
    uint64_t deaths, cross;
    /* site id -> aggregate, open addressing */
    site_agg *sites;
    size_t cap, used;
    int oom;
} stats;

static void on_death(void *ctx, const hak_hm_obj *o, const hak_event *ev)
{
    stats *s = ctx;
    s->deaths++;
    s->life_ev_h[cli_pow2_bucket(ev->seq - o->seq)]++;
    s->life_ns_h[cli_pow2_bucket(ev->ts_ns >= o->ts_ns ? ev->ts_ns - o->ts_ns : 0)]++;
    if (o->tid != ev->tid)
        s->cross++;
}

static site_agg *site_slot(stats *s, uint32_t id)
{
    if ((s->used + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 256;
        site_agg *n = calloc(ncap, sizeof *n);
        if (!n)
            return NULL;
        for (size_t i = 0; i < s->cap; i++)
            if (s->sites[i].count) {
                size_t j = (s->sites[i].id * 2654435761u) & (ncap - 1);
                while (n[j].count)
                    j = (j + 1) & (ncap - 1);
                n[j] = s->sites[i];
            }
        free(s->sites);
        s->sites = n;
        s->cap = ncap;
    }
    size_t j = (id * 2654435761u) & (s->cap - 1);
    while (s->sites[j].count && s->sites[j].id != id)
        j = (j + 1) & (s->cap - 1);
    if (!s->sites[j].count) {
        s->sites[j].id = id;
        s->used++;
    }
    return &s->sites[j];
}

static int by_count(const void *a, const void *b)
{
    const site_agg *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int by_bytes(const void *a, const void *b)
{
    const site_agg *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void fmt_ns(uint64_t ns, char *buf, size_t len)
{
    if (ns >= 1000000000ull) snprintf(buf, len, "%.3gs", ns / 1e9);
    else if (ns >= 1000000) snprintf(buf, len, "%.3gms", ns / 1e6);
    else if (ns >= 1000) snprintf(buf, len, "%.3gus", ns / 1e3);
    else snprintf(buf, len, "%" PRIu64 "ns", ns);
}

static void histogram(const char *title, const uint64_t *h, uint64_t total, int time_units)
{
    printf("%s\n", title);
    if (!total) {
        printf("  (none)\n");
        return;
    }
    unsigned lo_b = NB, hi_b = 0;
    uint64_t max = 0;
    for (unsigned b = 0; b < NB; b++)
        if (h[b]) {
            if (b < lo_b) lo_b = b;
            hi_b = b;
            if (h[b] > max) max = h[b];
        }
    for (unsigned b = lo_b; b <= hi_b; b++) {
        uint64_t lo, hi;
        cli_pow2_range(b, &lo, &hi);
        char label[64], l1[32], l2[32], cnt[32], bar[48];
        if (time_units) {
            fmt_ns(lo, l1, sizeof l1);
            fmt_ns(hi, l2, sizeof l2);
        } else {
            snprintf(l1, sizeof l1, "%" PRIu64, lo);
            snprintf(l2, sizeof l2, "%" PRIu64, hi);
        }
        if (lo == hi)
            snprintf(label, sizeof label, "%s", l1);
        else
            snprintf(label, sizeof label, "%s-%s", l1, l2);
        printf("  %-24s %14s %6.2f%% %s\n", label, hak_fmt_count(h[b], cnt, sizeof cnt),
               100.0 * (double)h[b] / (double)total, cli_bar(h[b], max, 40, bar, sizeof bar));
    }
}

/* Lists the first `top` sites of v; the % column is the share of the
 * ranking's quantity (allocations, or bytes when rank_bytes). */
static void print_sites(const char *title, site_agg *v, size_t n, uint64_t top, uint32_t depth,
                        int rank_bytes, uint64_t total, hak_trace_reader *r, hak_symbolizer *sym)
{
    printf("%s\n", title);
    if (!n) {
        printf("  (no allocations)\n");
        return;
    }
    printf("  %4s %8s %14s %7s %12s %10s  %s\n", "rank", "site", "allocs", "%", "bytes", "avg",
           "frames (innermost first)");
    for (size_t i = 0; i < n && i < top; i++) {
        char c1[32], c2[32], frame[512];
        printf("  %4zu %8" PRIu32 " %14s %6.2f%% %12s %10.1f  ", i + 1, v[i].id,
               hak_fmt_count(v[i].count, c1, sizeof c1),
               100.0 * (double)(rank_bytes ? v[i].bytes : v[i].count) / (double)(total ? total : 1),
               hak_fmt_bytes(v[i].bytes, c2, sizeof c2),
               v[i].count ? (double)v[i].bytes / (double)v[i].count : 0.0);
        const hak_site *s = v[i].id ? hak_tr_site(r, v[i].id) : NULL;
        if (!v[i].id)
            printf("(no call site recorded)");
        else if (!s || !s->depth)
            printf("(no stack in the trace)");
        else
            for (uint32_t d = 0; d < s->depth && d < depth; d++)
                printf("%s%s", d ? " <- " : "", hak_sym_format(sym, s->ips[d], frame, sizeof frame));
        printf("\n");
    }
}

/* --json: histogram buckets that hold anything, as [{lo, hi, count}]. */
static void json_hist(FILE *o, const char *name, const uint64_t *h)
{
    fprintf(o, ",\n  \"%s\": [", name);
    int first = 1;
    for (unsigned b = 0; b < NB; b++) {
        if (!h[b])
            continue;
        uint64_t lo, hi;
        cli_pow2_range(b, &lo, &hi);
        fprintf(o, "%s{\"lo\": %" PRIu64 ", \"hi\": %" PRIu64 ", \"count\": %" PRIu64 "}",
                first ? "" : ", ", lo, hi, h[b]);
        first = 0;
    }
    fputs("]", o);
}

static void json_sites(FILE *o, const char *name, const site_agg *v, size_t n, uint64_t top,
                       uint64_t depth, hak_trace_reader *r, hak_symbolizer *sym)
{
    fprintf(o, ",\n  \"%s\": [", name);
    for (size_t i = 0; i < n && i < top; i++) {
        fprintf(o, "%s\n    {\"site\": %" PRIu32 ", \"allocs\": %" PRIu64 ", \"bytes\": %" PRIu64
                   ", \"frames\": [", i ? "," : "", v[i].id, v[i].count, v[i].bytes);
        const hak_site *st = v[i].id ? hak_tr_site(r, v[i].id) : NULL;
        for (uint32_t d = 0; st && d < st->depth && d < depth; d++) {
            char frame[512];
            fputs(d ? ", " : "", o);
            vw_json_str(o, hak_sym_format(sym, st->ips[d], frame, sizeof frame));
        }
        fputs("]}", o);
    }
    fputs(n && top ? "\n  ]" : "]", o);
}

/* Both outputs rank the sites twice, by allocations then by bytes: this
 * compacts the table to the sites seen, sorts it by allocations and makes
 * the symbolizer (*sym, for hak_sym_free).  Returns the number of sites. */
static size_t rank_sites_by_count(stats *s, hak_trace_reader *r, int demangle,
                                  hak_symbolizer **sym)
{
    size_t n = 0;
    for (size_t i = 0; i < s->cap; i++)
        if (s->sites[i].count)
            s->sites[n++] = s->sites[i];
    const hak_module *mods;
    size_t nmods = hak_tr_modules(r, &mods);
    *sym = hak_sym_new(mods, nmods);
    hak_sym_demangle(*sym, demangle);
    if (n)   /* sites is NULL when no call site was seen (qsort: nonnull) */
        qsort(s->sites, n, sizeof *s->sites, by_count);
    return n;
}

static void stats_json(stats *s, const char *path, uint64_t nalloc, uint64_t nbytes,
                       const hak_heap_model *hm, uint64_t top, uint64_t depth, int demangle,
                       hak_trace_reader *r)
{
    FILE *o = stdout;
    fputs("{\n  \"file\": ", o);
    vw_json_str(o, path);
    fprintf(o, ",\n  \"allocations\": %" PRIu64 ",\n  \"bytes_requested\": %" PRIu64
               ",\n  \"frees\": %" PRIu64 ",\n  \"freed_blocks\": %" PRIu64
               ",\n  \"live_at_end\": %" PRIu64 ",\n  \"cross_thread_frees\": %" PRIu64,
            nalloc, nbytes, hm->frees, s->deaths, hm->live_objects, s->cross);
    json_hist(o, "sizes", s->size_h);
    json_hist(o, "lifetimes_events", s->life_ev_h);
    json_hist(o, "lifetimes_ns", s->life_ns_h);
    hak_symbolizer *sym;
    size_t n = rank_sites_by_count(s, r, demangle, &sym);
    json_sites(o, "top_sites_by_allocations", s->sites, n, top, depth, r, sym);
    if (n)
        qsort(s->sites, n, sizeof *s->sites, by_bytes);
    json_sites(o, "top_sites_by_bytes", s->sites, n, top, depth, r, sym);
    hak_sym_free(sym);
    fputs("\n}\n", o);
}

/* One decoding pass: the size histogram and per-site totals here, the
 * lifetimes through the heap model's on_death (into s).  0, or 1 with the
 * reason in derr. */
static int stats_collect(hak_trace_reader *r, int progress, stats *s, hak_heap_model *hm,
                         uint64_t *nalloc, uint64_t *nbytes, char *derr, size_t errlen)
{
    hak_event ev;
    int got, rc = 0;
    uint64_t n = 0;
    cli_progress pr;
    cli_progress_init(&pr, "stats", progress, hak_tr_nevents(r));
    while ((got = hak_tr_next(r, &ev)) == 1) {
        cli_progress_tick(&pr, n++);
        unsigned f = hak_hm_apply(hm, &ev);
        if (hak_op_allocates(ev.op) && ev.out_ptr && !(f & HAK_HM_FAILED)) {
            uint64_t bytes = hak_hm_request_bytes(&ev);
            s->size_h[cli_pow2_bucket(bytes)]++;
            (*nalloc)++;
            *nbytes += bytes;
            site_agg *a = site_slot(s, ev.site);
            if (!a) {
                s->oom = 1;
                break;
            }
            a->count++;
            a->bytes += bytes;
        }
    }
    cli_progress_done(&pr);
    if (got < 0) {
        snprintf(derr, errlen, "%s", hak_tr_error(r));
        rc = 1;
    }
    if (s->oom) {
        snprintf(derr, errlen, "out of memory");
        rc = 1;
    }
    return rc;
}

/* The histograms and the top call sites by count and by bytes, as text. */
static void stats_print_text(const char *path, stats *s, const hak_heap_model *hm, uint64_t nalloc,
                             uint64_t nbytes, uint64_t top, uint64_t depth, int demangle,
                             hak_trace_reader *r)
{
    char b1[32], b2[32], b3[32];
    printf("trace: %s: %s allocations, %s requested, %s frees\n\n", path,
           hak_fmt_count(nalloc, b1, sizeof b1), hak_fmt_bytes(nbytes, b2, sizeof b2),
           hak_fmt_count(hm->frees, b3, sizeof b3));
    histogram("allocation sizes (requested bytes):", s->size_h, nalloc, 0);
    char title[160];
    snprintf(title, sizeof title,
             "\nlifetimes of %s freed blocks, in events (%s blocks still live at the end):",
             hak_fmt_count(s->deaths, b1, sizeof b1), hak_fmt_count(hm->live_objects, b2, sizeof b2));
    histogram(title, s->life_ev_h, s->deaths, 0);
    printf("\n");
    histogram("lifetimes of freed blocks, in time:", s->life_ns_h, s->deaths, 1);
    printf("\ncross-thread frees: %s of %s (%.2f%%)\n", hak_fmt_count(s->cross, b1, sizeof b1),
           hak_fmt_count(s->deaths, b2, sizeof b2),
           s->deaths ? 100.0 * (double)s->cross / (double)s->deaths : 0.0);
    if (!top)
        return;
    hak_symbolizer *sym;
    size_t n = rank_sites_by_count(s, r, demangle, &sym);
    snprintf(title, sizeof title, "\ntop %" PRIu64 " call sites by allocations (of %zu):", top, n);
    print_sites(title, s->sites, n, top, (uint32_t)depth, 0, nalloc, r, sym);
    if (n)
        qsort(s->sites, n, sizeof *s->sites, by_bytes);
    snprintf(title, sizeof title, "\ntop %" PRIu64 " call sites by bytes (of %zu):", top, n);
    print_sites(title, s->sites, n, top, (uint32_t)depth, 1, nbytes, r, sym);
    hak_sym_free(sym);
}

int trace_stats(int argc, char **argv)
{
    static const struct option opts[] = {
        {"top", required_argument, NULL, 't'},
        {"depth", required_argument, NULL, 'd'},
        {"no-demangle", no_argument, NULL, 'D'},
        {"progress", no_argument, NULL, 'P'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t top = 10, depth = 4;
    int progress = 0, demangle = 1, json = 0, c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 't': if (cli_u64("stats", "--top", optarg, &top)) return 2; break;
        case 'd': if (cli_u64("stats", "--depth", optarg, &depth)) return 2; break;
        case 'P': progress = 1; break;
        case 'D': demangle = 0; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return 0;
        default:
            return cli_usage_err("stats", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_err("stats", optind == argc ? "missing TRACE" : "expected one TRACE");
    if (depth > 1024)
        depth = 1024;
    const char *path = argv[optind];
    hak_trace_reader *r = cli_open("stats", path);
    if (!r)
        return 1;
    stats *s = calloc(1, sizeof *s);
    hak_heap_model hm;
    if (!s || hak_hm_init(&hm, on_death, s)) {
        hak_cmd_err("trace stats", "out of memory");
        free(s);
        hak_tr_close(r);
        return 1;
    }
    uint64_t nalloc = 0, nbytes = 0;
    char derr[512] = "";
    int rc = stats_collect(r, progress, s, &hm, &nalloc, &nbytes, derr, sizeof derr);
    if (json)
        stats_json(s, path, nalloc, nbytes, &hm, top, depth, demangle, r);
    else
        stats_print_text(path, s, &hm, nalloc, nbytes, top, depth, demangle, r);
    fflush(stdout);
    if (rc)
        hak_cmd_err("trace stats", "%s: %s", path, derr);
    else
        cli_warn_truncated("stats", path, r);
    hak_hm_destroy(&hm);
    free(s->sites);
    free(s);
    hak_tr_close(r);
    return rc;
}
