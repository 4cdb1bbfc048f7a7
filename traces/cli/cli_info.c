/* cli_info.c - `hak trace info`: what a trace contains, in one screen. */
#include "cli_common.h"
#include "cli_info_json.h"
#include "heapmodel.h"
#include "symbolize.h"
#include "hak_util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHOW_THREADS 16


/* "rss samples:   N (peak X)": a sample series' count and peak. */
static void print_samples(const char *head, const hak_rss_sample *s, size_t n, uint32_t stride)
{
    char b[32];
    printf("%s %zu", head, n);
    if (n)
        printf(" (peak %s)", hak_fmt_bytes(hak_rss_peak(s, n), b, sizeof b));
    if (stride > 1)
        printf(" (1 in %" PRIu32 " of the file's samples: more than a reader keeps)", stride);
    printf("\n");
}

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak trace info [--threads] [--modules] [--json] [--progress] TRACE\n"
        "\n"
        "Describes TRACE: the recording's metadata (command, pid, host, kernel,\n"
        "CPU, page size, THP mode, recorder and its options), the number of\n"
        "events per operation, the threads, the duration, the peak of live\n"
        "requested bytes (replaying mallocs and frees), what is still live at the\n"
        "end, the size of the side tables (call sites, modules, RSS samples),\n"
        "the file's bytes per event, and whether the file is complete or was cut\n"
        "off (then: at which byte offset and why; the readable prefix is used),\n"
        "and one 'status: incomplete: REASON after N events (detail)' line per\n"
        "loss record (the recorder lost events: out of memory, write failed,\n"
        "descriptor taken, recorder disabled, not followed, unflushed threads).\n"
        "A trace of a forked child (options forked_from=PPID) counts its frees of\n"
        "blocks inherited from the parent's heap as 'inherited', not anomalies.\n"
        "\n"
        "options:\n"
        "  --threads    list every thread and loss record (default: the first %d)\n"
        "  --modules    list the module map (path, load address, size, build-id)\n"
        "               and whether each file can be symbolised on this machine\n"
        "  --json       everything above as one JSON object (raw bytes, ns, counts;\n"
        "               every thread and loss record; null = not recorded)\n"
        "  --progress   report progress on stderr (default: only on a terminal,\n"
        "               for runs longer than 2 s)\n"
        "  -h, --help   this text\n"
        "\n"
        "examples:\n"
        "  hak trace info run.hkt\n"
        "  hak trace info run.hkt | grep '^peak live'\n"
        "\n"
        "exit status: 0 ok (also for a truncated trace), 1 unreadable trace or\n"
        "decoding error, 2 usage error.\n", SHOW_THREADS);
}

typedef info_thread thread_info;

static void print_meta(const hak_trace_meta *m)
{
    if (m->recorder)
        printf("recorder:      %s\n", m->recorder);
    if (m->options && m->options[0])
        printf("options:       %s\n", m->options);
    if (m->argc && m->argv) {
        printf("command:      ");
        for (uint32_t i = 0; i < m->argc; i++)
            printf(" %s", m->argv[i] ? m->argv[i] : "?");
        printf("\n");
    }
    if (m->pid || m->ppid)
        printf("pid:           %" PRId32 " (parent %" PRId32 ")\n", m->pid, m->ppid);
    if (m->start_wall_ns) {
        time_t t = (time_t)(m->start_wall_ns / 1000000000u);
        struct tm tm;
        char when[64];
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
        printf("started:       %s\n", when);
    }
    if (m->hostname || m->kernel)
        printf("host:          %s, kernel %s\n", m->hostname ? m->hostname : "?",
               m->kernel ? m->kernel : "?");
    if (m->cpu_model)
        printf("cpu:           %s\n", m->cpu_model);
    if (m->page_size || m->thp_mode)
        printf("page size:     %" PRIu32 ", THP %s\n", m->page_size,
               m->thp_mode ? m->thp_mode : "unknown");
}

static void fmt_duration(uint64_t ns, char *buf, size_t len)
{
    if (ns >= 1000000000ull)
        snprintf(buf, len, "%.3f s", ns / 1e9);
    else if (ns >= 1000000)
        snprintf(buf, len, "%.3f ms", ns / 1e6);
    else if (ns >= 1000)
        snprintf(buf, len, "%.3f us", ns / 1e3);
    else
        snprintf(buf, len, "%" PRIu64 " ns", ns);
}

/* Decodes every event once: counts per operation and thread, the time
 * span and the heap model.  0, or 1 with the decoding error in f->decode_err. */
static int info_collect(hak_trace_reader *r, int progress, uint64_t ops[256], thread_info *th,
                        hak_heap_model *hm, info_facts *f, char *decode_err, size_t errlen)
{
    uint64_t n = 0, first_ts = 0, last_ts = 0;
    uint32_t nthreads = f->nthreads;
    hak_event ev;
    int got;
    cli_progress pr;
    cli_progress_init(&pr, "info", progress, hak_tr_nevents(r));
    while ((got = hak_tr_next(r, &ev)) == 1) {
        cli_progress_tick(&pr, n);
        if (n == 0 || ev.ts_ns < first_ts)
            first_ts = ev.ts_ns;
        if (ev.ts_ns > last_ts)
            last_ts = ev.ts_ns;
        n++;
        ops[ev.op]++;
        if (ev.tid < nthreads) {
            thread_info *t = &th[ev.tid];
            t->events++;
            if (ev.op == HAK_OP_THREAD_START) {
                t->started = 1;
                t->os_tid = ev.size;
            } else if (ev.op == HAK_OP_THREAD_EXIT) {
                t->exited = 1;
            } else if (ev.op == HAK_OP_FREE) {
                t->frees++;
            } else if (hak_op_allocates(ev.op)) {
                t->allocs++;
            }
        }
        hak_hm_apply(hm, &ev);
    }
    cli_progress_done(&pr);
    f->events = n;
    f->first_ts = first_ts;
    f->last_ts = last_ts;
    if (got < 0) {
        snprintf(decode_err, errlen, "%s", hak_tr_error(r));
        return 1;
    }
    return 0;
}

/* The facts as the aligned text `hak trace info` prints. */
static void info_print_text(const info_facts *f, int rc, int all_threads, int list_modules)
{
    hak_trace_reader *r = f->r;
    const char *path = f->path, *decode_err = f->decode_err;
    const uint64_t *ops = f->ops;
    uint64_t n = f->events, first_ts = f->first_ts, last_ts = f->last_ts;
    uint32_t nthreads = f->nthreads;
    const thread_info *th = f->th;
    const hak_heap_model hm = *f->hm;
    long forked_from = f->forked_from;
    const hak_tr_status *st = hak_tr_status_get(r);
    const hak_trace_meta *m = hak_tr_meta(r);
    char b1[64], b2[64];
    printf("file:          %s (%s bytes)\n", path, hak_fmt_count(st->file_bytes, b1, sizeof b1));
    printf("format:        version %" PRIu32 "\n", m->version);
    if (st->truncated)
        printf("status:        %s at offset %" PRIu64 " of %" PRIu64 ": %s"
               " (the %" PRIu64 " readable bytes are used)\n",
               cli_is_cut(st) ? "TRUNCATED" : "DAMAGED", st->valid_bytes, st->file_bytes,
               st->reason[0] ? st->reason : "no end marker", st->valid_bytes);
    else if (!st->incomplete)
        printf("status:        complete\n");
    /* One line per loss record: the recorder lost events there. */
    const hak_tr_loss *loss;
    size_t nloss = hak_tr_losses(r, &loss);
    for (size_t i = 0; i < nloss && (all_threads || i < SHOW_THREADS); i++) {
        char d[1200];
        printf("status:        incomplete: %s\n", cli_loss_text(&loss[i], d, sizeof d));
    }
    if (!all_threads && nloss > SHOW_THREADS)
        printf("status:        ... %zu more loss records (--threads lists all)\n",
               nloss - SHOW_THREADS);
    if (rc)
        printf("decoding:      stopped after %" PRIu64 " events: %s\n", n, decode_err);
    print_meta(m);
    printf("events:        %s", hak_fmt_count(n, b1, sizeof b1));
    if (n)
        printf(" (%.2f file bytes per event)",
               (double)(st->truncated ? st->valid_bytes : st->file_bytes) / (double)n);
    printf("\n");
    fmt_duration(n ? last_ts - first_ts : 0, b1, sizeof b1);
    printf("duration:      %s\n", b1);
    printf("operations:\n");
    for (int op = 0; op < 256; op++)
        if (ops[op])
            printf("  %-16s %14s\n", hak_op_name(op), hak_fmt_count(ops[op], b1, sizeof b1));
    printf("threads:       %" PRIu32 "\n", nthreads);
    for (uint32_t t = 0; t < nthreads && (all_threads || t < SHOW_THREADS); t++) {
        char os[32] = "?";
        if (th[t].started)
            snprintf(os, sizeof os, "%" PRIu64, th[t].os_tid);
        printf("  t%-4" PRIu32 " os tid %-8s %12s events %12s allocs %12s frees%s\n", t, os,
               hak_fmt_count(th[t].events, b1, sizeof b1),
               hak_fmt_count(th[t].allocs, b2, sizeof b2),
               hak_fmt_count(th[t].frees, (char[32]){0}, 32),
               th[t].exited ? "" : "  (no exit recorded)");
    }
    if (!all_threads && nthreads > SHOW_THREADS)
        printf("  ... %" PRIu32 " more (--threads lists all)\n", nthreads - SHOW_THREADS);
    printf("allocated:     %s blocks, %s requested",
           hak_fmt_count(hm.allocs, b1, sizeof b1), hak_fmt_bytes(hm.alloc_bytes, b2, sizeof b2));
    if (hm.failed_allocs)
        printf(", %" PRIu64 " failed", hm.failed_allocs);
    printf("\n");
    printf("peak live:     %s (%" PRIu64 " bytes) in %s blocks at most\n",
           hak_fmt_bytes(hm.peak_live_bytes, b1, sizeof b1), hm.peak_live_bytes,
           hak_fmt_count(hm.peak_live_objects, b2, sizeof b2));
    printf("live at end:   %s blocks, %s (not freed in the trace)\n",
           hak_fmt_count(hm.live_objects, b1, sizeof b1), hak_fmt_bytes(hm.live_bytes, b2, sizeof b2));
    if (hm.unknown_frees || hm.double_frees || hm.inversions)
        printf("anomalies:     %" PRIu64 " unknown frees, %" PRIu64 " double frees, %" PRIu64
               " inversions (see 'hak trace validate')\n",
               hm.unknown_frees, hm.double_frees, hm.inversions);
    if (forked_from)
        printf("inherited:     %" PRIu64 " frees of blocks from the parent's heap (forked from"
               " pid %ld)\n", hm.inherited_frees, forked_from);
    if (hm.pre_blocks)
        printf("pre-existing:  %s blocks, %s allocated before the recording window, freed or "
               "realloc'd in it (the replay allocates them first, untimed)\n",
               hak_fmt_count(hm.pre_blocks, b1, sizeof b1), hak_fmt_bytes(hm.pre_bytes, b2, sizeof b2));
    const hak_site *sites;
    const hak_module *mods;
    const hak_rss_sample *rss;
    size_t nsites = hak_tr_sites(r, &sites), nmods = hak_tr_modules(r, &mods);
    size_t nrss = hak_tr_rss(r, &rss);
    printf("call sites:    %zu\n", nsites);
    printf("modules:       %zu%s\n", nmods, nmods && !list_modules ? " (--modules lists them)" : "");
    if (list_modules && nmods) {
        hak_symbolizer *sym = hak_sym_new(mods, nmods);
        for (size_t i = 0; i < nmods; i++) {
            char id[2 * sizeof mods[i].build_id + 1] = "-";
            for (unsigned k = 0; k < mods[i].build_id_len && k < sizeof mods[i].build_id; k++)
                snprintf(id + 2 * k, 3, "%02x", mods[i].build_id[k]);
            size_t ns = 0;
            int st = hak_sym_status(sym, i, &ns);
            printf("  0x%012" PRIx64 " %10s  %s\n      build-id %s: ", mods[i].base,
                   hak_fmt_bytes(mods[i].size, b1, sizeof b1), mods[i].path ? mods[i].path : "?", id);
            if (st == HAK_SYM_OK)
                printf("%zu function symbols\n", ns);
            else
                printf("%s\n", hak_sym_status_name(st));
        }
        hak_sym_free(sym);
    }
    print_samples("rss samples:  ", rss, nrss, hak_tr_rss_stride(r));
    const hak_rss_sample *heap;
    size_t nheap = hak_tr_heap(r, &heap);
    if (nheap)          /* heap-only RSS (FORMAT.md kind 6); older traces have none */
        print_samples("heap samples: ", heap, nheap, hak_tr_heap_stride(r));
}

int trace_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"threads", no_argument, NULL, 't'},
        {"modules", no_argument, NULL, 'm'},
        {"progress", no_argument, NULL, 'P'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int all_threads = 0, list_modules = 0, progress = 0, json = 0, c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 't': all_threads = 1; break;
        case 'm': list_modules = 1; break;
        case 'P': progress = 1; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return 0;
        default:
            return cli_usage_err("info", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_err("info", optind == argc ? "missing TRACE" : "expected one TRACE");
    const char *path = argv[optind];
    hak_trace_reader *r = cli_open("info", path);
    if (!r)
        return 1;
    uint64_t ops[256] = {0};
    uint32_t nthreads = hak_tr_nthreads(r);
    thread_info *th = calloc(nthreads ? nthreads : 1, sizeof *th);
    hak_heap_model hm;
    if (!th || hak_hm_init(&hm, NULL, NULL)) {
        hak_cmd_err("trace info", "out of memory");
        free(th);
        hak_tr_close(r);
        return 1;
    }
    long forked_from = cli_forked_from(hak_tr_meta(r));
    hm.inherited_heap = forked_from != 0;
    char decode_err[512] = "";
    info_facts f = {path, r, ops, 0, 0, 0, nthreads, th, &hm, forked_from, decode_err};
    int rc = info_collect(r, progress, ops, th, &hm, &f, decode_err, sizeof decode_err);
    if (json)
        info_print_json(stdout, &f);
    else
        info_print_text(&f, rc, all_threads, list_modules);
    fflush(stdout);
    if (rc)
        hak_cmd_err("trace info", "%s: %s", path, decode_err);
    else if (!json)
        cli_warn_truncated("info", path, r);
    hak_hm_destroy(&hm);
    free(th);
    hak_tr_close(r);
    return rc;
}
