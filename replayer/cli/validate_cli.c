/* validate_cli.c - `hak validate`: does a replay predict the program?
 *
 * Runs the program live under each allocator (interleaved repeats, the
 * allocator preloaded and nothing else), records it once with `hak record`,
 * replays the recording under the same allocators with `hak replay`, and
 * compares per metric the live and replayed medians and the allocators'
 * rankings (Kendall's tau-b).  The three steps are the ordinary commands,
 * run as child processes, so a validation measures exactly what a user's
 * record and replay would. */
#include "replayer_cli.h"
#include "hak_util.h"
#include "hakdb.h"
#include "replay.h"
#include "touch.h"
#include "hakdb_validation.h"
#include "live_run.h"
#include "rank_stats.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "validate"
#define MAX_ALLOCS 16
#define MAX_REPEAT 64

static const char *const default_allocs[] = {"glibc", "hakmem", "mimalloc", "jemalloc", "tcmalloc"};

enum { M_PEAK, M_FINAL, M_FAULTS, M_HFAULTS, M_TIME, NMETRIC };
static const char *const metric_name[NMETRIC] = {
    "peak_heap_rss_bytes", "final_heap_rss_bytes", "minor_faults", "heap_minor_faults", "wall_ns"};
static const char *const metric_label[NMETRIC] = {
    "peak heap RSS", "final heap RSS", "minor faults", "heap faults", "time"};

/* The metrics part of --help. */
static const char usage_metrics[] =
"metrics:\n"
"  peak heap RSS     heap-only resident memory: the brk heap and private\n"
"                    anonymous mappings, without .bss, stacks, files and\n"
"                    shared memory.  Live: sampled from /proc/PID/smaps\n"
"                    every --interval-ms (a peak shorter than that can be\n"
"                    missed); replay: the worker's peak, exact.  Memory\n"
"                    the program maps itself (mmap: GCC's collected pages)\n"
"                    is on both sides: the recording is made with --mmap\n"
"                    and the replays map and unmap it as the program did\n"
"                    (traces/lib/trace.h, HAK_REPLAY_MMAP)\n"
"  final heap RSS    live: read when the program exits, before its memory\n"
"                    is unmapped (a run where that read failed has no\n"
"                    final figure: live_n says how many had); replay: at\n"
"                    the end of the replay.\n"
"  minor faults      live: the whole program's (code, stacks, files too)\n"
"                    after start-up; replay: the allocation work's alone.\n"
"                    Ratios below 1 are expected; the ranking is what to\n"
"                    read.\n"
"  heap faults       live: the minor faults whose address lies in the\n"
"                    program's heap (the brk heap and private anonymous\n"
"                    memory, not .bss: where heap RSS counts), sampled\n"
"                    with perf (page-faults, every fault, with its\n"
"                    address) after start-up, in a second set of --repeat\n"
"                    live runs (the sampling slows a program that faults\n"
"                    a lot: mt_churn ~10%; time is not taken from them);\n"
"                    replay: the replay's faults, all of them the\n"
"                    allocation work's.\n"
"                    Like with like: cc1's live faults under glibc are\n"
"                    10,735, 9,924 of them in its heap; the others are its\n"
"                    code and data pages, .bss and stack.  Not measured\n"
"                    (with a note) where perf refuses or drops samples\n"
"  time              live: the whole program's wall time after start-up;\n"
"                    replay: the allocation work's.  Ranked only where\n"
"                    allocation dominates the program.\n"
"  Start-up (process start, the allocator loaded and called once) is on\n"
"  neither side: a replay's window opens after it, and each live run's\n"
"  faults and time are less those of an empty program (hak-replay-worker\n"
"  --startup) run under the same allocator just before it.\n"
"\n";

static void usage(FILE *out)
{
    fprintf(out,
"usage: hak validate [--alloc LIST]... [options] -- PROGRAM [ARGS...]\n"
"\n"
"Checks what replays of a recording of PROGRAM predict about PROGRAM itself.\n"
"Runs PROGRAM live under each allocator (LD_PRELOAD of that allocator and\n"
"nothing else; --repeat times, allocators interleaved), records it once\n"
"(--recordings times) with `hak record --mmap` (under glibc), replays each\n"
"recording under the same allocators with `hak replay` (--repeat times\n"
"each, one pass), and prints\n"
"for each metric and allocator the live median, the replayed median and\n"
"their ratio, and per metric Kendall's tau-b between the allocators'\n"
"order live and their order replayed (1 = same order, -1 = reversed;\n"
"two allocators whose runs overlap, min..max, are a tie on that side:\n"
"the runs cannot order them; '-' when every pair ties).\n"
"\n"
"%s"
"Results are stored in the run-history database: the replays as ordinary\n"
"runs labelled validate-<id>, the comparison in the validations,\n"
"validation_values and validation_rankings tables (analysis/store/schema.sql;\n"
"query: analysis/queries/validation.sql); `hak report` shows them.\n"
"\n"
"options:\n"
"  --alloc LIST        allocators, comma-separated or repeated: glibc,\n"
"                      hakmem, mimalloc, jemalloc, tcmalloc, PATH.so,\n"
"                      hakmem@REV (see hak replay --help).  Default: those\n"
"                      five, leaving out (with a note) peers not installed;\n"
"                      an allocator named here that cannot be loaded is an\n"
"                      error\n"
"  --repeat N          live runs and replays per allocator (default 3, at\n"
"                      most %d); medians are reported\n"
"  --stdin FILE        PROGRAM's standard input, for every run (default\n"
"                      /dev/null); PROGRAM's standard output is discarded\n"
"  --recordings N      record the program N times (default 1, at most 16)\n"
"                      and replay each recording --repeat times: the\n"
"                      replayed median and range are over all of them.  A\n"
"                      recording is one interleaving of a multi-threaded\n"
"                      program's threads, which its replays repeat, and\n"
"                      some allocators' heaps follow the interleaving\n"
"                      (mt_churn under jemalloc: live runs 65-87 MiB,\n"
"                      replays of one recording within 1 MiB, of four\n"
"                      recordings 79-86 MiB); --repeat x N <= %d\n"
"  -o, --trace FILE    keep the recording as FILE (default: a temporary\n"
"                      file, removed at the end); with --recordings N the\n"
"                      others as FILE.2 ... FILE.N\n"
"  --record-opt OPT    pass OPT to hak record (repeatable), e.g.\n"
"                      --record-opt=--mmap\n"
"  --touch MODE        replay touch policy: auto (default: pages:F fitted\n"
"                      to the upper half of the recording's heap timeline\n"
"                      under glibc), none, first, pages, pages:F, all (hak\n"
"                      replay --help)\n"
"  --threads MODE      replay threads mode: recorded or serial (default: as\n"
"                      hak replay chooses: recorded for threaded traces)\n"
"  --calloc-touch MODE hak replay --calloc-touch: first (calloc'd blocks get\n"
"                      only their first byte written) or same (default)\n"
"  --pace MODE         the pace of the replays whose heap and faults are\n"
"                      compared: program (default when glibc is among the\n"
"                      allocators), asap, program:D, recorded or recorded:F\n"
"                      (hak replay --help).  program: each op at its\n"
"                      recorded time less the recorder's cost of the ops\n"
"                      before it, so that the replay lasts what the live\n"
"                      runs under glibc (the recording's allocator) took:\n"
"                      allocators that give freed memory back after a delay\n"
"                      (mimalloc, hakmem, jemalloc) fault as often as time\n"
"                      lets them.  Time is always compared from replays as\n"
"                      fast as possible (a second set of replays); their\n"
"                      heap and faults too with asap\n"
"  --interval-ms N     live heap sampling period (default 5)\n"
"  --timeout S         per live run, recording and replay (default 600)\n"
"  --label L           label stored with the validation\n"
"  --db FILE           run-history database (default ./hak.db, or $HAK_DB)\n"
"  -h, --help          this text\n"
"\n"
"exit status: 0 when every run succeeded; 1 when a live run, the recording\n"
"or a replay failed (each named in one line; the rest is still reported);\n"
"2 on a usage error.\n"
"\n"
"example:\n"
"  hak validate --alloc glibc,hakmem,jemalloc -- python3 script.py\n"
"  hak validate --stdin work.sql -- sqlite3 :memory:\n"
"  hak validate --recordings 3 --repeat 5 -- ./threaded-server --bench\n",
            usage_metrics, MAX_REPEAT, MAX_REPEAT);
}

typedef struct vallocs {
    rp_alloc a[MAX_ALLOCS];
    size_t n;
} vallocs;

static int add_alloc(vallocs *v, const char *spec, int optional)
{
    for (size_t i = 0; i < v->n; i++)
        if (!strcmp(v->a[i].spec, spec))
            return 0;
    if (v->n == MAX_ALLOCS) {
        hak_cmd_err(CMD, "--alloc: at most %d allocators", MAX_ALLOCS);
        return -1;
    }
    rp_alloc *a = &v->a[v->n];
    if (rp_alloc_resolve(spec, a, 0) != 0) {
        hak_cmd_err(CMD, "--alloc '%s': not an allocator (hak replay --help lists them)", spec);
        return -1;
    }
    if (a->error[0]) {
        if (optional) {
            fprintf(stderr, "hak validate: leaving out %s: %s\n", spec, a->error);
            return 0;
        }
        hak_cmd_err(CMD, "--alloc '%s': %s", spec, a->error);
        return -1;
    }
    v->n++;
    return 0;
}

static int add_list(vallocs *v, const char *list)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    int any = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!*t)
            continue;
        any = 1;
        if (add_alloc(v, t, 0) != 0)
            return -1;
    }
    if (!any) {
        hak_cmd_err(CMD, "--alloc '%s': no allocator named", list);
        return -1;
    }
    return 0;
}

static const char *self_exe(void)
{
    static char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0)
        return "hak";
    path[n] = 0;
    /* rebuilt while running: the path now names the new binary */
    size_t len = (size_t)n, sl = strlen(" (deleted)");
    if (len > sl && !strcmp(path + len - sl, " (deleted)"))
        path[len - sl] = 0;
    return path;
}

static void fmt_value(int m, double v, char *b, size_t n)
{
    if (isnan(v))
        snprintf(b, n, "-");
    else if (m == M_PEAK || m == M_FINAL)
        snprintf(b, n, "%.1f MiB", v / 1048576.0);
    else if (m == M_TIME)
        snprintf(b, n, "%.1f ms", v / 1e6);
    else
        snprintf(b, n, "%.0f", v);
}

/* Replay figures collected from the database, per allocator.  Time is
 * always the asap replays' (a paced replay's wall time is mostly the
 * pace's waiting); the heap and faults are the paced replays' when the
 * validation paces (paced set), else the asap ones'. */
typedef struct replay_acc {
    vallocs *al;
    double v[MAX_ALLOCS][NMETRIC][MAX_REPEAT];
    size_t n[MAX_ALLOCS][NMETRIC];
    int failed;
    int paced;            /* heap and faults from the runs whose pace is not asap */
    int quiet;            /* a failed run is said once, when all are collected */
    char touch_last[32];  /* that of the newest asap run: the recording replayed last */
    char pace[40];        /* the paced runs' pace as stored */
} replay_acc;

static void acc_put(replay_acc *acc, size_t i, int m, double x)
{
    if (acc->n[i][m] < MAX_REPEAT)
        acc->v[i][m][acc->n[i][m]++] = x;
}

static int take_run(const hakdb_vrun *r, void *arg)
{
    replay_acc *acc = arg;
    size_t i = 0;
    while (i < acc->al->n && strcmp(acc->al->a[i].spec, r->alloc_spec ? r->alloc_spec : ""))
        i++;
    if (i == acc->al->n)
        return 0;
    if (strcmp(r->status, "ok")) {
        if (!acc->quiet)
            fprintf(stderr, "hak validate: replay under %s: %s: %s\n", r->alloc_spec, r->status,
                r->error ? r->error : "");
        acc->failed = 1;
        return 0;
    }
    int asap = !r->pace || !strcmp(r->pace, "asap");
    if (r->touch && asap)
        snprintf(acc->touch_last, sizeof acc->touch_last, "%s", r->touch);
    if (!asap && !acc->pace[0])
        snprintf(acc->pace, sizeof acc->pace, "%s", r->pace);
    if (asap)
        acc_put(acc, i, M_TIME, r->wall_ns == HAKDB_NULL ? NAN : (double)r->wall_ns);
    if (asap == !acc->paced) {
        acc_put(acc, i, M_PEAK, r->heap_peak);
        acc_put(acc, i, M_FINAL, r->heap_final);
        acc_put(acc, i, M_FAULTS, r->minor_faults == HAKDB_NULL ? NAN : (double)r->minor_faults);
        /* a replay faults only where the allocation work does */
        acc_put(acc, i, M_HFAULTS, r->minor_faults == HAKDB_NULL ? NAN : (double)r->minor_faults);
    }
    return 0;
}

/* argv for a child `hak ...` command: a small growable vector. */
typedef struct argvec { char *v[256]; int n; } argvec;

static void push(argvec *a, const char *s)
{
    if (a->n < 254)
        a->v[a->n++] = (char *)s;
    a->v[a->n] = NULL;
}

static int run_step(const char *what, char *const *argv, const char *stdin_path, double timeout_s)
{
    rp_live_spec sp = {argv, NULL, stdin_path, 20000000ull, timeout_s, 0};
    rp_live_result r;
    if (rp_live_run(&sp, &r) != 0 || (!r.ok && !strstr(r.error, "sampled once"))) {
        hak_cmd_err(CMD, "%s failed: %s", what, r.error);
        return -1;
    }
    return 0;
}

/* ---- parse ---- */

typedef struct validate_args {
    vallocs *al;                 /* the allocators (static: large) */
    int repeat, named;
    int recordings;              /* --recordings: each replayed --repeat times */
    const char *stdin_path, *trace_out, *touch, *threads, *label, *dbpath;
    const char *pace;            /* asap, program, program:D, recorded[:F] */
    const char *calloc_touch;    /* NULL, first or same (hak replay --calloc-touch) */
    const char *record_opts[32];
    int nrecord_opts;
    double interval_ms, timeout_s;
    char **prog;
} validate_args;

/* --pace's forms (hak replay checks them again; here they are refused
 * before the live runs) */
static int pace_ok(const char *p)
{
    uint64_t ns;
    char *end;
    if (!strcmp(p, "asap") || !strcmp(p, "program") || !strcmp(p, "recorded"))
        return 1;
    if (!strncmp(p, "program:", 8))
        return hak_parse_duration_ns(p + 8, &ns) == 0 && ns > 0;
    if (strncmp(p, "recorded:", 9))
        return 0;
    double f = strtod(p + 9, &end);
    return end != p + 9 && !*end && f > 0 && f <= 1000;
}

/* After the options: limits across them, the default allocators and
 * pace.  -1 when good, else the exit status. */
static int validate_finish(validate_args *a, vallocs *al)
{
    if (a->recordings * a->repeat > MAX_REPEAT) {
        hak_cmd_err(CMD, "--recordings %d x --repeat %d: at most %d replays per allocator",
                    a->recordings, a->repeat, MAX_REPEAT);
        return 2;
    }
    if (!a->named)
        for (size_t i = 0; i < sizeof default_allocs / sizeof *default_allocs; i++)
            if (add_alloc(al, default_allocs[i], 1) != 0)
                return 1;
    if (al->n == 0) {
        hak_cmd_err(CMD, "no allocator can be loaded");
        return 1;
    }
    int glibc = 0;
    for (size_t i = 0; i < al->n; i++)
        glibc |= al->a[i].kind == RP_ALLOC_GLIBC;
    if (a->pace && !strcmp(a->pace, "program") && !glibc) {
        hak_cmd_err(CMD, "--pace program: needs glibc among the allocators (the program is"
                    " recorded on glibc: its live duration there sets the pace); give program:D");
        return 2;
    }
    if (!a->pace) {
        a->pace = glibc ? "program" : "asap";
        if (!glibc)
            fprintf(stderr, "hak validate: note: replaying as fast as possible (--pace asap):"
                    " glibc, whose live duration sets --pace program, is not among the allocators\n");
    }
    if (!a->dbpath)
        a->dbpath = hakdb_default_path();
    return -1;
}

/* -1 when the arguments are good, else the exit status (help: 0). */
static int validate_parse(int argc, char **argv, validate_args *a)
{
    static const struct option opts[] = {
        {"alloc", required_argument, 0, 'a'},
        {"repeat", required_argument, 0, 'r'},
        {"recordings", required_argument, 0, 'N'},
        {"stdin", required_argument, 0, 'i'},
        {"trace", required_argument, 0, 'o'},
        {"record-opt", required_argument, 0, 'R'},
        {"touch", required_argument, 0, 'T'},
        {"threads", required_argument, 0, 't'},
        {"pace", required_argument, 0, 'P'},
        {"calloc-touch", required_argument, 0, 'C'},
        {"interval-ms", required_argument, 0, 'I'},
        {"timeout", required_argument, 0, 'W'},
        {"label", required_argument, 0, 'l'},
        {"db", required_argument, 0, 'd'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    static vallocs al;
    memset(&al, 0, sizeof al);
    memset(a, 0, sizeof *a);
    a->al = &al;
    a->repeat = 3;
    a->recordings = 1;
    a->touch = "auto";
    a->pace = NULL;              /* program, or asap without glibc (validate_pace) */
    a->interval_ms = 5;
    a->timeout_s = 600;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'a':
            a->named = 1;
            if (add_list(&al, optarg) != 0)
                return 1;
            break;
        case 'r':
            a->repeat = (int)strtol(optarg, &end, 10);
            if (*end || end == optarg || a->repeat < 1 || a->repeat > MAX_REPEAT) {
                hak_cmd_err(CMD, "--repeat '%s': expected 1..%d", optarg, MAX_REPEAT);
                return 2;
            }
            break;
        case 'N':
            a->recordings = (int)strtol(optarg, &end, 10);
            if (*end || end == optarg || a->recordings < 1 || a->recordings > 16) {
                hak_cmd_err(CMD, "--recordings '%s': expected 1..16", optarg);
                return 2;
            }
            break;
        case 'i':
            if (access(optarg, R_OK) != 0) {
                hak_cmd_err(CMD, "--stdin '%s': %s", optarg, strerror(errno));
                return 2;
            }
            a->stdin_path = optarg;
            break;
        case 'o': a->trace_out = optarg; break;
        case 'R':
            if (a->nrecord_opts == 32) {
                hak_cmd_err(CMD, "--record-opt: at most 32");
                return 2;
            }
            a->record_opts[a->nrecord_opts++] = optarg;
            break;
        case 'T':
            if (strcmp(optarg, "auto") &&
                hak_touch_parse_part(optarg, &(hak_touch){0}, &(unsigned){0})) {
                hak_cmd_err(CMD, "--touch '%s': expected auto, " HAK_TOUCH_CHOICES " or pages:F",
                            optarg);
                return 2;
            }
            a->touch = optarg;
            break;
        case 't':
            if (strcmp(optarg, "recorded") && strcmp(optarg, "serial")) {
                hak_cmd_err(CMD, "--threads '%s': expected recorded or serial", optarg);
                return 2;
            }
            a->threads = optarg;
            break;
        case 'C':
            if (strcmp(optarg, "first") && strcmp(optarg, "same")) {
                hak_cmd_err(CMD, "--calloc-touch '%s': expected first or same", optarg);
                return 2;
            }
            a->calloc_touch = optarg;
            break;
        case 'P':
            if (!pace_ok(optarg)) {
                hak_cmd_err(CMD, "--pace '%s': expected asap, program, program:D (a duration:"
                            " 340ms), recorded or recorded:F (F above 0, at most 1000)", optarg);
                return 2;
            }
            a->pace = optarg;
            break;
        case 'I':
            a->interval_ms = strtod(optarg, &end);
            if (*end || end == optarg || !(a->interval_ms >= 0.1 && a->interval_ms <= 10000)) {
                hak_cmd_err(CMD, "--interval-ms '%s': expected 0.1..10000", optarg);
                return 2;
            }
            break;
        case 'W':
            a->timeout_s = strtod(optarg, &end);
            if (*end || end == optarg || !(a->timeout_s > 0)) {
                hak_cmd_err(CMD, "--timeout '%s': expected seconds > 0", optarg);
                return 2;
            }
            break;
        case 'l': a->label = optarg; break;
        case 'd': a->dbpath = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        hak_cmd_err(CMD, "no program given (hak validate [options] -- PROGRAM [ARGS...])");
        return 2;
    }
    a->prog = argv + optind;
    return validate_finish(a, &al);
}

/* ---- run: live runs, one recording, the replays ---- */

/* Start-up: the worker's empty program (`hak-replay-worker --startup`:
 * process start, the allocator loaded and called once) under allocator
 * preload.  0 with *out, or 1 after saying why. */
static int startup_run(const validate_args *a, const char *spec, const char *preload,
                       int heap_faults, rp_live_result *out)
{
    char *argv[] = {(char *)rp_worker_path(), "--startup", NULL};
    rp_live_spec sp = {argv, preload, NULL, (uint64_t)(a->interval_ms * 1e6), a->timeout_s,
                       heap_faults};
    if (rp_live_run(&sp, out) != 0 || !out->ok) {
        hak_cmd_err(CMD, "start-up run (%s --startup) under %s: %s", argv[0], spec, out->error);
        return 1;
    }
    return 0;
}

/* Heap faults: a second set of live runs, interleaved the same way, with
 * every fault sampled with its address (fault_map.h), less the start-up
 * run's heap faults.  Apart from the timed runs: the sampling costs the
 * program time in proportion to its faults (mt_churn ~10%), which would
 * slow the allocators that fault most.  A run perf cannot sample leaves
 * its figure NaN and the first reason in a note.  0, or 1 after saying
 * why (the program failed). */
static int validate_heap_faults(const validate_args *a,
                                double live[MAX_ALLOCS][NMETRIC][MAX_REPEAT])
{
    const vallocs *al = a->al;
    char note[160] = "";
    for (int k = 0; k < a->repeat; k++) {
        for (size_t i = 0; i < al->n; i++) {
            const char *preload = al->a[i].kind == RP_ALLOC_PRELOAD ? al->a[i].path : NULL;
            rp_live_spec sp = {a->prog, preload, a->stdin_path, (uint64_t)(a->interval_ms * 1e6),
                               a->timeout_s, 1};
            rp_live_result r, s0;
            live[i][M_HFAULTS][k] = NAN;
            if (startup_run(a, al->a[i].spec, preload, 1, &s0))
                return 1;
            if (rp_live_run(&sp, &r) != 0 || !r.ok) {
                hak_cmd_err(CMD, "live run of %s under %s: %s", a->prog[0], al->a[i].spec, r.error);
                return 1;
            }
            if (r.heap_faults_ok && s0.heap_faults_ok)
                live[i][M_HFAULTS][k] = r.heap_minflt > s0.heap_minflt
                                        ? (double)(r.heap_minflt - s0.heap_minflt) : 0;
            else if (!*note)
                snprintf(note, sizeof note, "%s", r.heap_faults_ok ? s0.heap_faults_why
                                                                   : r.heap_faults_why);
        }
    }
    if (*note)
        fprintf(stderr, "hak validate: note: heap faults not measured in some live runs: %s\n",
                note);
    return 0;
}

/* The program live under each allocator, interleaved within each repeat.
 * Faults and time leave start-up out, as replays do (their window opens
 * after the allocator's first call): each run's minus those of the
 * start-up run under the same allocator just before it.  tcmalloc takes
 * ~1,040 faults at start-up (68 under glibc), which made it the worst
 * allocator live and not in replays.  0, or 1 after saying why. */
/* Each live run's whole wall time, start-up included (validate_pace). */
static double raw_wall[MAX_ALLOCS][MAX_REPEAT];

static int validate_live(const validate_args *a, double live[MAX_ALLOCS][NMETRIC][MAX_REPEAT])
{
    const vallocs *al = a->al;
    for (int k = 0; k < a->repeat; k++) {
        for (size_t i = 0; i < al->n; i++) {
            const char *preload = al->a[i].kind == RP_ALLOC_PRELOAD ? al->a[i].path : NULL;
            rp_live_spec sp = {a->prog, preload, a->stdin_path, (uint64_t)(a->interval_ms * 1e6),
                               a->timeout_s, 0};
            rp_live_result r, s0;
            if (startup_run(a, al->a[i].spec, preload, 0, &s0))
                return 1;
            if (rp_live_run(&sp, &r) != 0 || !r.ok) {
                hak_cmd_err(CMD, "live run of %s under %s: %s", a->prog[0], al->a[i].spec, r.error);
                return 1;
            }
            r.minflt = r.minflt > s0.minflt ? r.minflt - s0.minflt : 0;
            raw_wall[i][k] = (double)r.wall_ns;
            r.wall_ns = r.wall_ns > s0.wall_ns ? r.wall_ns - s0.wall_ns : 0;
            live[i][M_PEAK][k] = (double)r.peak_heap;
            /* only the exit stop's read is the final heap: a periodic sample
             * is earlier, and one taken while the kernel unmaps is too low */
            live[i][M_FINAL][k] = r.exact_final ? (double)r.final_heap : NAN;
            live[i][M_FAULTS][k] = (double)r.minflt;
            live[i][M_TIME][k] = (double)r.wall_ns;
        }
    }
    return validate_heap_faults(a, live);
}

/* One recording of the program into trace.  0, or 1 after saying why. */
static int validate_record(const validate_args *a, const char *trace)
{
    argvec rv = {{0}, 0};
    push(&rv, self_exe());
    push(&rv, "record");
    push(&rv, "-o");
    push(&rv, trace);
    push(&rv, "--no-follow");
    push(&rv, "--mmap");       /* the program's own mappings are heap too */
    for (int i = 0; i < a->nrecord_opts; i++)
        push(&rv, a->record_opts[i]);
    push(&rv, "--");
    for (char **p = a->prog; *p; p++)
        push(&rv, *p);
    return run_step("recording", rv.v, a->stdin_path, a->timeout_s) != 0;
}

/* One `hak replay` of the recording under every allocator, stored under
 * uuid_label: pace and touch as given.  0 when it ran (its runs say how
 * each went), -1 when it could not be started. */
static int replay_pass(const validate_args *a, const char *trace, const char *uuid_label,
                       const char *pace, const char *touch, rp_live_result *pr)
{
    char rep_s[16], timeout_str[32];
    snprintf(rep_s, sizeof rep_s, "%d", a->repeat);
    snprintf(timeout_str, sizeof timeout_str, "%g", a->timeout_s);
    argvec pv = {{0}, 0};
    push(&pv, self_exe());
    push(&pv, "replay");
    push(&pv, trace);
    for (size_t i = 0; i < a->al->n; i++) {
        push(&pv, "--alloc");
        push(&pv, a->al->a[i].spec);
    }
    const char *fixed[] = {"--repeat", rep_s, "--min-time", "0", "--touch", touch, "--pace", pace,
                           "--db", a->dbpath, "--label", uuid_label, "--timeout", timeout_str};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        push(&pv, fixed[i]);
    if (a->threads) {
        push(&pv, "--threads");
        push(&pv, a->threads);
    }
    if (a->calloc_touch) {
        push(&pv, "--calloc-touch");
        push(&pv, a->calloc_touch);
    }
    /* hak replay exits 1 when a run failed; the runs it stored say which */
    rp_live_spec sp = {pv.v, NULL, NULL, 50000000ull,
                       a->timeout_s * (double)(a->al->n * (size_t)a->repeat + 1), 0};
    return rp_live_run(&sp, pr);
}

/* A fresh label for a validation's replays: validate-<12 hex digits>. */
static void new_runs_label(char uuid_label[64])
{
    FILE *f = fopen("/dev/urandom", "rb");
    unsigned char u[6] = {0};
    if (!f || fread(u, 1, sizeof u, f) != sizeof u)
        snprintf((char *)u, sizeof u, "%05x", (unsigned)getpid() & 0xfffff);
    if (f)
        fclose(f);
    snprintf(uuid_label, 64, "validate-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5]);
}

/* One recording replayed under each allocator by `hak replay`, stored
 * under the validation's label: as fast as possible (time; with --touch
 * auto, the fit to this recording), then, unless pace is asap, at that
 * pace with the touch policy that pass used (heap and faults).  The policy
 * goes to touch_used.  0, or -1 after saying why; *replay_ok is cleared
 * when hak replay said a run failed. */
static int replay_recording(hakdb *db, const validate_args *a, const char *trace,
                            const char *pace, const char *uuid_label, char touch_used[32],
                            int *replay_ok)
{
    static replay_acc acc;
    rp_live_result pr, pr2;
    replay_pass(a, trace, uuid_label, "asap", a->touch, &pr);
    memset(&acc, 0, sizeof acc);
    acc.al = a->al;
    acc.quiet = 1;
    if (hakdb_validation_runs(db, uuid_label, take_run, &acc) < 0) {
        hak_cmd_err(CMD, "%s", hakdb_error(db));
        return -1;
    }
    if (!acc.touch_last[0]) {
        hak_cmd_err(CMD, "replay stored no runs%s%s", pr.error[0] ? ": " : "", pr.error);
        return -1;
    }
    /* the newest asap runs are this recording's */
    snprintf(touch_used, 32, "%s", acc.touch_last);
    pr2.ok = 1;
    if (strcmp(pace, "asap")) {
        char touch[32];
        snprintf(touch, sizeof touch, "%s", touch_used);
        touch[strcspn(touch, "+")] = 0;      /* "+calloc:first": --calloc-touch's */
        replay_pass(a, trace, uuid_label, pace, touch, &pr2);
    }
    *replay_ok &= pr.ok && pr2.ok;
    return 0;
}

/* Every replay of the validation (all its recordings) read back into acc:
 * time from the asap ones, heap and faults from the paced ones unless
 * pace is asap.  The runs read, or -1 after saying why. */
static int collect_replays(hakdb *db, const char *pace, const char *uuid_label, const vallocs *al,
                           replay_acc *acc, int *replay_ok)
{
    memset(acc, 0, sizeof *acc);
    acc->al = (vallocs *)al;
    acc->paced = strcmp(pace, "asap") != 0;
    int nruns = hakdb_validation_runs(db, uuid_label, take_run, acc);
    if (nruns < 0) {
        hak_cmd_err(CMD, "%s", hakdb_error(db));
        return -1;
    }
    if (acc->paced && !acc->pace[0]) {
        hak_cmd_err(CMD, "paced replay (--pace %s) stored no runs", pace);
        return -1;
    }
    *replay_ok &= !acc->failed;
    return nruns;
}

/* ---- print: live, replayed and their ratio per metric and allocator,
 * then the rankings' agreement ---- */
static void validate_print(const vallocs *al, const char *command, int repeat, int recordings,
                           const char *pace,
                           double lx[NMETRIC][MAX_ALLOCS], double ry[NMETRIC][MAX_ALLOCS],
                           const hakdb_vrank ranks[NMETRIC], int64_t vid, hakdb *db,
                           const char *uuid_label)
{
    if (recordings > 1)
        printf("hak validate: %s  (%d live run%s per allocator; %d recordings, each replayed"
               " %d time%s per allocator)\n", command, repeat, repeat > 1 ? "s" : "", recordings,
               repeat, repeat > 1 ? "s" : "");
    else
        printf("hak validate: %s  (%d live run%s and replay%s per allocator)\n", command, repeat,
               repeat > 1 ? "s" : "", repeat > 1 ? "s" : "");
    printf("%-16s %-12s %12s %12s %12s\n", "metric", "alloc", "live", "replay", "replay/live");
    for (int m = 0; m < NMETRIC; m++)
        for (size_t i = 0; i < al->n; i++) {
            char a[32], b[32], r[32];
            fmt_value(m, lx[m][i], a, sizeof a);
            fmt_value(m, ry[m][i], b, sizeof b);
            if (isnan(lx[m][i]) || isnan(ry[m][i]) || lx[m][i] == 0)
                snprintf(r, sizeof r, "-");
            else
                snprintf(r, sizeof r, "%.3f", ry[m][i] / lx[m][i]);
            printf("%-16s %-12s %12s %12s %12s\n", i ? "" : metric_label[m], al->a[i].spec, a, b, r);
        }
    printf("ranking agreement, Kendall's tau-b over the allocators:");
    for (int m = 0; m < NMETRIC; m++) {
        if (isnan(ranks[m].tau))
            printf("  %s -", metric_label[m]);
        else
            printf("  %s %.2f", metric_label[m], ranks[m].tau);
    }
    printf("\n");
    printf("live faults and time are the whole program's after start-up, replayed ones the allocation work's\n");
    if (strcmp(pace, "asap"))
        printf("replayed heap and faults at --pace %s, time as fast as possible\n", pace);
    if (vid >= 0)
        printf("stored as validation %lld in %s (replays: runs labelled %s)\n", (long long)vid,
               hakdb_path(db), uuid_label);
}

/* The pace of the replays whose heap and faults are compared: program:D,
 * D the median of the program's live runs under glibc (the allocator it
 * is recorded with), after start-up; for a program no longer than its
 * start-up (the empty program's run took as long: `true`, or a 60 ms
 * program on a loaded machine), its whole duration, with a note: this
 * was an error in 6 of 10 validations of `true` at load 8-10.  0, or 1
 * after saying why. */
static int validate_pace(const validate_args *a, double live[MAX_ALLOCS][NMETRIC][MAX_REPEAT],
                         char *out, size_t n)
{
    if (strcmp(a->pace, "program")) {
        snprintf(out, n, "%s", a->pace);
        return 0;
    }
    for (size_t i = 0; i < a->al->n; i++)
        if (a->al->a[i].kind == RP_ALLOC_GLIBC) {
            double d = rp_median(live[i][M_TIME], (size_t)a->repeat, NULL);
            if (!(d >= 1000)) {
                d = rp_median(raw_wall[i], (size_t)a->repeat, NULL);
                fprintf(stderr, "hak validate: note: the program runs no longer than its start-up"
                        " under glibc; --pace program uses its whole duration, %.3f ms\n", d / 1e6);
            }
            if (!(d >= 1000)) {
                hak_cmd_err(CMD, "--pace program: the live runs under glibc have no duration");
                return 1;
            }
            snprintf(out, n, "program:%.3fms", d / 1e6);
            return 0;
        }
    hak_cmd_err(CMD, "--pace program: needs glibc among the allocators");
    return 1;
}

/* Medians, ranges, ratios and rankings of the live runs and the replays;
 * stored as a validation and printed.  0, or 1 when storing failed. */
static int validate_compare(hakdb *db, const validate_args *a,
                            double live[MAX_ALLOCS][NMETRIC][MAX_REPEAT], const replay_acc *acc,
                            const char *uuid_label, const char *touches)
{
    const vallocs *al = a->al;
    static hakdb_vvalue vals[MAX_ALLOCS * NMETRIC];
    hakdb_vrank ranks[NMETRIC];
    size_t nv = 0;
    double lx[NMETRIC][MAX_ALLOCS], ry[NMETRIC][MAX_ALLOCS];
    double llo[NMETRIC][MAX_ALLOCS], lhi[NMETRIC][MAX_ALLOCS];
    double rlo[NMETRIC][MAX_ALLOCS], rhi[NMETRIC][MAX_ALLOCS];
    for (size_t i = 0; i < al->n; i++)
        for (int m = 0; m < NMETRIC; m++) {
            size_t ln, rn;
            lx[m][i] = rp_median(live[i][m], (size_t)a->repeat, &ln);
            ry[m][i] = rp_median(acc->v[i][m], acc->n[i][m], &rn);
            rp_range(live[i][m], (size_t)a->repeat, &llo[m][i], &lhi[m][i]);
            rp_range(acc->v[i][m], acc->n[i][m], &rlo[m][i], &rhi[m][i]);
            vals[nv++] = (hakdb_vvalue){al->a[i].spec, metric_name[m], lx[m][i], ry[m][i],
                                        (int)ln, (int)rn, llo[m][i], lhi[m][i], rlo[m][i],
                                        rhi[m][i]};
        }
    for (int m = 0; m < NMETRIC; m++) {
        size_t n;
        ranks[m].metric = metric_name[m];
        /* allocators whose runs overlap tie: the runs cannot order them */
        ranks[m].tau = rp_kendall_tau_b_ranges(lx[m], llo[m], lhi[m], ry[m], rlo[m], rhi[m],
                                               al->n, &n);
        ranks[m].nallocs = (int)n;
    }
    char command[4096] = "";
    size_t pos = 0;
    for (char **p = a->prog; *p && pos < sizeof command - 1; p++)
        pos += (size_t)snprintf(command + pos, sizeof command - pos, "%s%s",
                                p == a->prog ? "" : " ", *p);
    /* auto is stored with its choice, "auto:first": the figures are that
     * policy's (each recording's fit: "auto:first,pages:0.90" when they differ) */
    char touch_used[600];
    if (!strcmp(a->touch, "auto") && touches[0])
        snprintf(touch_used, sizeof touch_used, "auto:%s", touches);
    else
        snprintf(touch_used, sizeof touch_used, "%s", a->touch);
    const char *pace = acc->paced ? acc->pace : "asap";
    hakdb_validation v = {a->label, uuid_label, command, touch_used, a->threads, pace, a->repeat,
                          a->recordings, (int64_t)(a->interval_ms * 1e6), vals, nv, ranks,
                          NMETRIC};
    int64_t vid = hakdb_insert_validation(db, &v);
    int rc = 0;
    if (vid < 0) {
        hak_cmd_err(CMD, "%s", hakdb_error(db));
        rc = 1;
    }
    validate_print(al, command, a->repeat, a->recordings, pace, lx, ry, ranks, vid, db,
                   uuid_label);
    return rc;
}

/* Recording k (from 0) of the program, replayed under uuid_label; its
 * touch policy is added to touches (comma-separated, each once).  The
 * recording is kept as -o FILE (k = 0) or FILE.k+1, else removed.  0, or
 * 1 after saying why. */
static int record_and_replay(hakdb *db, const validate_args *a, int k, const char *pace,
                             const char *uuid_label, char *touches, size_t n, int *replay_ok)
{
    char trace[4096];
    int tmp = !a->trace_out;
    if (tmp) {
        snprintf(trace, sizeof trace, "/tmp/hak-validate-XXXXXX");
        int fd = mkstemp(trace);
        if (fd < 0) {
            hak_cmd_err(CMD, "temporary trace file: %s", strerror(errno));
            return 1;
        }
        close(fd);
    } else if (k == 0) {
        snprintf(trace, sizeof trace, "%s", a->trace_out);
    } else {
        snprintf(trace, sizeof trace, "%s.%d", a->trace_out, k + 1);
    }
    int rc = validate_record(a, trace);
    char touch[32] = "";
    if (rc == 0 && replay_recording(db, a, trace, pace, uuid_label, touch, replay_ok) != 0)
        rc = 1;
    if (tmp)
        unlink(trace);
    if (rc == 0 && touch[0]) {
        char item[40];
        snprintf(item, sizeof item, ",%s,", touch);
        char have[520];
        snprintf(have, sizeof have, ",%s,", touches);
        size_t len = strlen(touches);
        if (!strstr(have, item))
            snprintf(touches + len, n - len, "%s%s", len ? "," : "", touch);
    }
    return rc;
}

int cmd_validate(int argc, char **argv)
{
    validate_args a;
    int rc = validate_parse(argc, argv, &a);
    if (rc >= 0)
        return rc;
    char err[512];
    hakdb *db = hakdb_open(a.dbpath, err, sizeof err);
    if (!db) {
        hak_cmd_err(CMD, "%s", err);
        return 1;
    }

    /* 1. live runs, allocators interleaved within each repeat */
    static double live[MAX_ALLOCS][NMETRIC][MAX_REPEAT];
    char pace[64];
    if ((rc = validate_live(&a, live)) != 0 || (rc = validate_pace(&a, live, pace, sizeof pace))) {
        hakdb_close(db);
        return rc;
    }

    /* 2, 3. the recordings, each replayed under the validation's label */
    char uuid_label[64];
    new_runs_label(uuid_label);
    char touches[512] = "";
    int replay_ok = 1;
    for (int k = 0; k < a.recordings; k++) {
        if ((rc = record_and_replay(db, &a, k, pace, uuid_label, touches, sizeof touches,
                                    &replay_ok)) != 0) {
            hakdb_close(db);
            return rc;
        }
    }
    static replay_acc acc;
    if (collect_replays(db, pace, uuid_label, a.al, &acc, &replay_ok) <= 0) {
        hakdb_close(db);
        return 1;
    }
    rc = !replay_ok;
    /* 4. medians, ratios, rankings */
    rc |= validate_compare(db, &a, live, &acc, uuid_label, touches);
    hakdb_close(db);
    return rc;
}
