/* cli_validate.c - `hak trace validate`: structural and semantic checks. */
#include "cli_common.h"
#include "heapmodel.h"
#include "hak_util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak trace validate [--strict] [--allow-prefix] [--show N] [-q]\n"
        "                          [--progress] TRACE\n"
        "\n"
        "Checks that TRACE is well formed and that its malloc/free stream makes\n"
        "sense, replaying it against a model of the live heap, and prints what\n"
        "it found with the first few events of each kind of finding.\n"
        "\n"
        "A trace that is truncated (cut off: no end marker) or incomplete (it\n"
        "holds a loss record: the recorder lost events, e.g. out of memory or a\n"
        "failed write) is not the whole recording: validate checks its readable\n"
        "part and fails (exit status 1, verdict INCOMPLETE, a one-line reason on\n"
        "stderr) unless --allow-prefix is given.\n"
        "\n"
        "errors (exit status 1):\n"
        "  decode error         a chunk could not be decoded, or the events decoded\n"
        "                       differ in number from the chunk headers' counts\n"
        "  damaged chunk        a chunk inside the file fails its checks (checksum,\n"
        "                       sizes): the file is corrupt; only the part before\n"
        "                       it was checked\n"
        "  bad operation        an event with an unknown operation code\n"
        "  seq not increasing   the global order has a repeated or backward seq\n"
        "  time goes backwards  a thread's timestamps decrease\n"
        "  unknown free         free/realloc of a pointer never returned before\n"
        "  double free          free/realloc of a pointer already freed\n"
        "warnings (exit status 0, 1 with --strict; truncated and incomplete: 1\n"
        "unless --allow-prefix):\n"
        "  truncated            the file was cut off (e.g. the recorded program was\n"
        "                       killed); only the readable prefix was checked\n"
        "  incomplete           a loss record: why the recorder lost events and\n"
        "                       after how many (one per record)\n"
        "  bad free after cut   in a truncated or damaged file, an unknown or double\n"
        "                       free later than the end of some thread's readable\n"
        "                       events: its allocation may be in a lost chunk (each\n"
        "                       chunk holds one thread's events, so threads lose\n"
        "                       different tails); earlier ones stay errors\n"
        "  bad free after loss  in an incomplete trace, an unknown or double free:\n"
        "                       its allocation may be among the lost events\n"
        "  inversion            an address returned again while still live (a free\n"
        "                       recorded after the reuse; the replay form resolves it)\n"
        "  event after exit     a thread has events after its thread_exit\n"
        "  thread restarted     a second thread_start for the same thread\n"
        "  missing site         an event names a call site absent from the site table\n"
        "                       (checked when the trace has a site table)\n"
        "counts only (never a failure):\n"
        "  leaks                blocks still live at the end of the trace\n"
        "  failed allocations   calls that returned NULL; free(NULL) calls\n"
        "  inherited frees      in a trace of a forked child (its options carry\n"
        "                       forked_from=PPID): frees of pointers it never saw\n"
        "                       allocated, i.e. blocks inherited from the parent's\n"
        "                       heap; in any other trace these are unknown frees\n"
        "\n"
        "options:\n"
        "  --strict     treat warnings as errors\n"
        "  --allow-prefix\n"
        "               accept a truncated or incomplete trace whose readable\n"
        "               part is valid (exit status 0; verdict 'valid prefix')\n"
        "  --show N     events shown per kind of finding (default 5)\n"
        "  -q, --quiet  print only the verdict line\n"
        "  --progress   report progress on stderr (default: only on a terminal,\n"
        "               for runs longer than 2 s)\n"
        "  -h, --help   this text\n"
        "\n"
        "examples:\n"
        "  hak trace validate run.hkt\n"
        "  hak trace validate --strict -q run.hkt || echo damaged\n"
        "  hak trace validate --allow-prefix killed.hkt   # a SIGKILLed recording\n"
        "\n"
        "exit status: 0 no errors, 1 errors found, a truncated or incomplete\n"
        "trace without --allow-prefix (or unreadable trace), 2 usage error.\n");
}

enum { F_DECODE, F_DAMAGED, F_BADOP, F_SEQ, F_TIME, F_UNKNOWN, F_DOUBLE, /* errors */
       F_TRUNC, F_INCOMPLETE, F_CUT_FREE, F_LOSS_FREE, F_INVERSION, F_AFTER_EXIT, /* warnings */
       F_RESTART, F_SITE,
       F_COUNT };
#define FIRST_WARNING F_TRUNC

static const char *const fname[F_COUNT] = {
    "decode error", "damaged chunk", "bad operation", "seq not increasing", "time goes backwards",
    "unknown free", "double free", "truncated", "incomplete", "bad free after cut",
    "bad free after loss", "inversion", "event after exit",
    "thread restarted", "missing site",
};

typedef struct finding {
    uint64_t count;
    char **examples;       /* [show] */
    uint64_t nexamples;
} finding;

typedef struct vstate {
    finding f[F_COUNT];
    uint64_t show;
} vstate;

/* Counts a finding and keeps its first `show` examples: the event (when
 * there is one) followed by the detail text.  Formatting happens only for
 * kept examples, so clean traces validate at decoding speed. */
static void note(vstate *v, int kind, const hak_event *ev, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void note(vstate *v, int kind, const hak_event *ev, const char *fmt, ...)
{
    finding *f = &v->f[kind];
    f->count++;
    if (f->nexamples >= v->show)
        return;
    if (!f->examples && !(f->examples = calloc(v->show, sizeof *f->examples)))
        return;
    char buf[1024] = "";
    size_t n = 0;
    if (ev) {
        cli_format_event(ev, buf, 512);
        n = strlen(buf);
        if (fmt[0])
            n += (size_t)snprintf(buf + n, sizeof buf - n, ": ");
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof buf - n, fmt, ap);
    va_end(ap);
    if ((f->examples[f->nexamples] = strdup(buf)))
        f->nexamples++;
}

typedef struct thr { uint64_t last_ts; int seen, started, exited; } thr;

/* A cut or damaged file holds each thread's readable prefix: events of a
 * thread that did not reach its exit may be missing after its last
 * readable seq.  Bad frees later than the earliest such point (the
 * horizon) may refer to lost allocations.  One pass over r finds it
 * (rewound after); UINT64_MAX for a whole file, 0 without memory. */
static uint64_t cut_horizon(hak_trace_reader *r, uint32_t nthreads)
{
    if (!hak_tr_status_get(r)->truncated)
        return UINT64_MAX;
    uint64_t horizon = UINT64_MAX;
    uint64_t *last = calloc(nthreads ? nthreads : 1, sizeof *last);
    uint8_t *done = calloc(nthreads ? nthreads : 1, 1);
    uint8_t *any = calloc(nthreads ? nthreads : 1, 1);
    hak_event ev;
    if (last && done && any) {
        while (hak_tr_next(r, &ev) == 1)
            if (ev.tid < nthreads) {
                last[ev.tid] = ev.seq;
                any[ev.tid] = 1;
                if (ev.op == HAK_OP_THREAD_EXIT)
                    done[ev.tid] = 1;
            }
        for (uint32_t t = 0; t < nthreads; t++)
            if (!done[t]) {
                uint64_t h = any[t] ? last[t] : 0;
                if (h < horizon)
                    horizon = h;
            }
        hak_tr_rewind(r);
    } else {
        horizon = 0;              /* no memory for the pass: be lenient */
    }
    free(last);
    free(done);
    free(any);
    return horizon;
}

/* One trace being checked. */
typedef struct vcheck {
    hak_trace_reader *r;
    const hak_tr_status *st;
    uint32_t nthreads;
    thr *th;                      /* [nthreads] */
    hak_heap_model hm;
    long forked_from;             /* cli_forked_from */
    uint64_t n;                   /* events decoded */
    vstate v;                     /* findings */
} vcheck;

/* Checks every event: order, threads, sites, and the heap (bad frees).
 * Returns hak_tr_next's last result (< 0: a decoding error). */
static int check_events(vcheck *c, int progress)
{
    hak_trace_reader *r = c->r;
    vstate *v = &c->v;
    const hak_site *sites;
    size_t nsites = hak_tr_sites(r, &sites);
    uint64_t horizon = cut_horizon(r, c->nthreads), last_seq = 0;
    hak_event ev;
    int got;
    cli_progress pr;
    cli_progress_init(&pr, "validate", progress, hak_tr_nevents(r));
    while ((got = hak_tr_next(r, &ev)) == 1) {
        cli_progress_tick(&pr, c->n);
        if (c->n && ev.seq <= last_seq)
            note(v, F_SEQ, &ev, "seq %" PRIu64 " after %" PRIu64, ev.seq, last_seq);
        last_seq = ev.seq;
        c->n++;
        if (ev.op == 0 || ev.op >= HAK_OP_COUNT_) {
            note(v, F_BADOP, &ev, "operation code %u", ev.op);
            continue;
        }
        if (ev.tid < c->nthreads) {
            thr *t = &c->th[ev.tid];
            if (t->seen && ev.ts_ns < t->last_ts)
                note(v, F_TIME, &ev, "ts %" PRIu64 " after %" PRIu64 " on t%" PRIu32,
                     ev.ts_ns, t->last_ts, ev.tid);
            t->seen = 1;
            t->last_ts = ev.ts_ns;
            if (t->exited)
                note(v, F_AFTER_EXIT, &ev, "after t%" PRIu32 " exited", ev.tid);
            if (ev.op == HAK_OP_THREAD_START) {
                if (t->started)
                    note(v, F_RESTART, &ev, "t%" PRIu32 " had already started", ev.tid);
                t->started = 1;
            } else if (ev.op == HAK_OP_THREAD_EXIT) {
                t->exited = 1;
            }
        }
        if (ev.site && nsites && !hak_tr_site(r, ev.site))
            note(v, F_SITE, &ev, "site %" PRIu32 " is not in the site table", ev.site);
        unsigned f = hak_hm_apply(&c->hm, &ev);
        /* A loss record does not say which events were lost (a thread's
         * buffered events of any age may be among them), so in an
         * incomplete trace every bad free may be explained by one. */
        int incomplete = c->st->incomplete, after_cut = ev.seq > horizon;
        int kind_u = incomplete ? F_LOSS_FREE : after_cut ? F_CUT_FREE : F_UNKNOWN;
        int kind_d = incomplete ? F_LOSS_FREE : after_cut ? F_CUT_FREE : F_DOUBLE;
        const char *why = incomplete ? " (events were lost)" : after_cut ? " (after the cut)" : "";
        if (f & HAK_HM_UNKNOWN_FREE)
            note(v, kind_u, &ev, "pointer never returned by an allocation%s", why);
        if (f & HAK_HM_DOUBLE_FREE)
            note(v, kind_d, &ev, "pointer already freed%s", why);
        if (f & HAK_HM_INVERSION)
            note(v, F_INVERSION, &ev, "address still live");
        if (f & HAK_HM_OOM) {
            note(v, F_DECODE, NULL, "out of memory in the heap model after %" PRIu64 " events", c->n);
            break;
        }
    }
    cli_progress_done(&pr);
    return got;
}

/* The file-level findings: decoding, the cut or damage, loss records. */
static void check_file(vcheck *c, int got)
{
    hak_trace_reader *r = c->r;
    const hak_tr_status *st = c->st;
    if (got < 0)
        note(&c->v, F_DECODE, NULL, "after %" PRIu64 " events: %s", c->n, hak_tr_error(r));
    else if (!(c->v.f[F_DECODE].count) && c->n != hak_tr_nevents(r))
        note(&c->v, F_DECODE, NULL, "decoded %" PRIu64 " events but the chunk index counts %" PRIu64,
             c->n, hak_tr_nevents(r));
    if (st->truncated)
        note(&c->v, cli_is_cut(st) ? F_TRUNC : F_DAMAGED, NULL, "at offset %" PRIu64 " of %" PRIu64 ": %s",
             st->valid_bytes, st->file_bytes, st->reason[0] ? st->reason : "no end marker");
    const hak_tr_loss *loss;
    size_t nloss = hak_tr_losses(r, &loss);
    for (size_t i = 0; i < nloss; i++) {
        char d[160];
        cli_loss_text(&loss[i], d, sizeof d);
        note(&c->v, F_INCOMPLETE, NULL, "%s", d);
    }
}

/* The findings by kind with examples, and the heap's counts. */
static void print_findings(const char *path, const vcheck *c)
{
    const vstate *v = &c->v;
    char b1[32], b2[32];
    printf("trace: %s: %s events, %" PRIu32 " thread%s\n", path,
           hak_fmt_count(c->n, b1, sizeof b1), c->nthreads, c->nthreads == 1 ? "" : "s");
    for (int pass = 0; pass < 2; pass++) {
        printf("%s:", pass ? "warnings" : "errors");
        uint64_t any = 0;
        for (int k = pass ? FIRST_WARNING : 0; k < (pass ? F_COUNT : FIRST_WARNING); k++)
            any += v->f[k].count;
        printf(any ? "\n" : " none\n");
        for (int k = pass ? FIRST_WARNING : 0; k < (pass ? F_COUNT : FIRST_WARNING); k++) {
            if (!v->f[k].count)
                continue;
            printf("  %-20s %14s\n", fname[k], hak_fmt_count(v->f[k].count, b1, sizeof b1));
            for (uint64_t i = 0; i < v->f[k].nexamples; i++)
                printf("      %s\n", v->f[k].examples[i]);
            if (v->f[k].count > v->f[k].nexamples)
                printf("      ...\n");
        }
    }
    const hak_heap_model *hm = &c->hm;
    printf("counts:\n");
    printf("  %-20s %14s blocks, %s\n", "leaks (live at end)",
           hak_fmt_count(hm->live_objects, b1, sizeof b1), hak_fmt_bytes(hm->live_bytes, b2, sizeof b2));
    printf("  %-20s %14s\n", "failed allocations", hak_fmt_count(hm->failed_allocs, b1, sizeof b1));
    printf("  %-20s %14s\n", "free(NULL)", hak_fmt_count(hm->null_frees, b1, sizeof b1));
    if (c->forked_from)
        printf("  %-20s %14s (forked from pid %ld: blocks of the parent's heap)\n",
               "inherited frees", hak_fmt_count(hm->inherited_frees, b1, sizeof b1), c->forked_from);
}

/* The verdict line, and why a partial trace fails without --allow-prefix.
 * Returns the exit status. */
static int verdict(const char *path, const vcheck *c, int strict, int allow_prefix)
{
    const hak_tr_status *st = c->st;
    uint64_t errors = 0, warnings = 0;
    for (int k = 0; k < F_COUNT; k++)
        *(k < FIRST_WARNING ? &errors : &warnings) += c->v.f[k].count;
    int invalid = errors || (strict && warnings);
    /* Not the whole recording: valid at best as a prefix, and only when
     * asked to accept one.  A damaged chunk is an error above. */
    int partial = st->truncated || st->incomplete;
    int fail = invalid || (partial && !allow_prefix);
    printf("%s: %s (%" PRIu64 " errors, %" PRIu64 " warnings, %" PRIu64 " leaked blocks",
           path, invalid ? "INVALID" : !partial ? "valid" : allow_prefix ? "valid prefix"
           : "INCOMPLETE", errors, warnings, c->hm.live_objects);
    if (c->forked_from)
        printf(", %" PRIu64 " inherited frees", c->hm.inherited_frees);
    printf(")\n");
    if (partial && !allow_prefix && !invalid) {
        fflush(stdout);
        const hak_tr_loss *loss;
        size_t nloss = hak_tr_losses(c->r, &loss);
        char d[160] = "";
        if (nloss)
            cli_loss_text(&loss[0], d, sizeof d);
        if (st->truncated)
            hak_cmd_err("trace validate", "%s: truncated at offset %" PRIu64 " of %" PRIu64
                        "%s%s: only the readable part was checked (valid); --allow-prefix "
                        "accepts it", path, st->valid_bytes, st->file_bytes,
                        nloss ? ", and incomplete: " : "", d);
        else
            hak_cmd_err("trace validate", "%s: incomplete: %s%s: the events kept are valid; "
                        "--allow-prefix accepts them", path, d,
                        nloss > 1 ? " (and more loss records)" : "");
    }
    return fail ? 1 : 0;
}

int trace_validate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"strict", no_argument, NULL, 's'},
        {"allow-prefix", no_argument, NULL, 'a'},
        {"show", required_argument, NULL, 'n'},
        {"quiet", no_argument, NULL, 'q'},
        {"progress", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int strict = 0, quiet = 0, progress = 0, allow_prefix = 0, o;
    vcheck c;
    memset(&c, 0, sizeof c);
    c.v.show = 5;
    optind = 0;
    opterr = 0;
    while ((o = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (o) {
        case 's': strict = 1; break;
        case 'a': allow_prefix = 1; break;
        case 'q': quiet = 1; break;
        case 'n':
            if (cli_u64("validate", "--show", optarg, &c.v.show))
                return 2;
            if (c.v.show > 100000)
                c.v.show = 100000;
            break;
        case 'P': progress = 1; break;
        case 'h': usage(stdout); return 0;
        default:
            return cli_usage_err("validate", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_err("validate", optind == argc ? "missing TRACE" : "expected one TRACE");
    const char *path = argv[optind];
    c.r = cli_open("validate", path);
    if (!c.r)
        return 1;
    c.st = hak_tr_status_get(c.r);
    c.nthreads = hak_tr_nthreads(c.r);
    c.th = calloc(c.nthreads ? c.nthreads : 1, sizeof *c.th);
    if (!c.th || hak_hm_init(&c.hm, NULL, NULL)) {
        hak_cmd_err("trace validate", "out of memory");
        free(c.th);
        hak_tr_close(c.r);
        return 1;
    }
    c.forked_from = cli_forked_from(hak_tr_meta(c.r));
    c.hm.inherited_heap = c.forked_from != 0;

    check_file(&c, check_events(&c, progress));
    if (!quiet)
        print_findings(path, &c);
    int rc = verdict(path, &c, strict, allow_prefix);

    for (int k = 0; k < F_COUNT; k++) {
        for (uint64_t i = 0; i < c.v.f[k].nexamples; i++)
            free(c.v.f[k].examples[i]);
        free(c.v.f[k].examples);
    }
    hak_hm_destroy(&c.hm);
    free(c.th);
    hak_tr_close(c.r);
    return rc;
}
