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

enum { M_PEAK, M_FINAL, M_FAULTS, M_TIME, NMETRIC };
static const char *const metric_name[NMETRIC] = {
    "peak_heap_rss_bytes", "final_heap_rss_bytes", "minor_faults", "wall_ns"};
static const char *const metric_label[NMETRIC] = {
    "peak heap RSS", "final heap RSS", "minor faults", "time"};

static void usage(FILE *out)
{
    fprintf(out,
"usage: hak validate [--alloc LIST]... [options] -- PROGRAM [ARGS...]\n"
"\n"
"Checks what replays of a recording of PROGRAM predict about PROGRAM itself.\n"
"Runs PROGRAM live under each allocator (LD_PRELOAD of that allocator and\n"
"nothing else; --repeat times, allocators interleaved), records it once\n"
"with `hak record --mmap` (under glibc), replays the recording under the same\n"
"allocators with `hak replay` (--repeat times each, one pass), and prints\n"
"for each metric and allocator the live median, the replayed median and\n"
"their ratio, and per metric Kendall's tau-b between the allocators'\n"
"order live and their order replayed (1 = same order, -1 = reversed;\n"
"two allocators whose runs overlap, min..max, are a tie on that side:\n"
"the runs cannot order them; '-' when every pair ties).\n"
"\n"
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
"  time              live: the whole program's wall time after start-up;\n"
"                    replay: the allocation work's.  Ranked only where\n"
"                    allocation dominates the program.\n"
"  Start-up (process start, the allocator loaded and called once) is on\n"
"  neither side: a replay's window opens after it, and each live run's\n"
"  faults and time are less those of an empty program (hak-replay-worker\n"
"  --startup) run under the same allocator just before it.\n"
"\n"
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
"  -o, --trace FILE    keep the recording as FILE (default: a temporary\n"
"                      file, removed at the end)\n"
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
"  hak validate --stdin work.sql -- sqlite3 :memory:\n", MAX_REPEAT);
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
    char touch[32];       /* the policy the replays used (--touch auto: the chosen one) */
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
        fprintf(stderr, "hak validate: replay under %s: %s: %s\n", r->alloc_spec, r->status,
                r->error ? r->error : "");
        acc->failed = 1;
        return 0;
    }
    if (r->touch && !acc->touch[0])
        snprintf(acc->touch, sizeof acc->touch, "%s", r->touch);
    int asap = !r->pace || !strcmp(r->pace, "asap");
    if (!asap && !acc->pace[0])
        snprintf(acc->pace, sizeof acc->pace, "%s", r->pace);
    if (asap)
        acc_put(acc, i, M_TIME, r->wall_ns == HAKDB_NULL ? NAN : (double)r->wall_ns);
    if (asap == !acc->paced) {
        acc_put(acc, i, M_PEAK, r->heap_peak);
        acc_put(acc, i, M_FINAL, r->heap_final);
        acc_put(acc, i, M_FAULTS, r->minor_faults == HAKDB_NULL ? NAN : (double)r->minor_faults);
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
    rp_live_spec sp = {argv, NULL, stdin_path, 20000000ull, timeout_s};
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

/* -1 when the arguments are good, else the exit status (help: 0). */
static int validate_parse(int argc, char **argv, validate_args *a)
{
    static const struct option opts[] = {
        {"alloc", required_argument, 0, 'a'},
        {"repeat", required_argument, 0, 'r'},
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
    if (!a->named)
        for (size_t i = 0; i < sizeof default_allocs / sizeof *default_allocs; i++)
            if (add_alloc(&al, default_allocs[i], 1) != 0)
                return 1;
    if (al.n == 0) {
        hak_cmd_err(CMD, "no allocator can be loaded");
        return 1;
    }
    int glibc = 0;
    for (size_t i = 0; i < al.n; i++)
        glibc |= al.a[i].kind == RP_ALLOC_GLIBC;
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

/* ---- run: live runs, one recording, the replays ---- */

/* Start-up: the worker's empty program (`hak-replay-worker --startup`:
 * process start, the allocator loaded and called once) under allocator
 * preload.  0 with *out, or 1 after saying why. */
static int startup_run(const validate_args *a, const char *spec, const char *preload,
                       rp_live_result *out)
{
    char *argv[] = {(char *)rp_worker_path(), "--startup", NULL};
    rp_live_spec sp = {argv, preload, NULL, (uint64_t)(a->interval_ms * 1e6), a->timeout_s};
    if (rp_live_run(&sp, out) != 0 || !out->ok) {
        hak_cmd_err(CMD, "start-up run (%s --startup) under %s: %s", argv[0], spec, out->error);
        return 1;
    }
    return 0;
}

/* The program live under each allocator, interleaved within each repeat.
 * Faults and time leave start-up out, as replays do (their window opens
 * after the allocator's first call): each run's minus those of the
 * start-up run under the same allocator just before it.  tcmalloc takes
 * ~1,040 faults at start-up (68 under glibc), which made it the worst
 * allocator live and not in replays.  0, or 1 after saying why. */
static int validate_live(const validate_args *a, double live[MAX_ALLOCS][NMETRIC][MAX_REPEAT])
{
    const vallocs *al = a->al;
    for (int k = 0; k < a->repeat; k++) {
        for (size_t i = 0; i < al->n; i++) {
            const char *preload = al->a[i].kind == RP_ALLOC_PRELOAD ? al->a[i].path : NULL;
            rp_live_spec sp = {a->prog, preload, a->stdin_path, (uint64_t)(a->interval_ms * 1e6),
                               a->timeout_s};
            rp_live_result r, s0;
            if (startup_run(a, al->a[i].spec, preload, &s0))
                return 1;
            if (rp_live_run(&sp, &r) != 0 || !r.ok) {
                hak_cmd_err(CMD, "live run of %s under %s: %s", a->prog[0], al->a[i].spec, r.error);
                return 1;
            }
            r.minflt = r.minflt > s0.minflt ? r.minflt - s0.minflt : 0;
            r.wall_ns = r.wall_ns > s0.wall_ns ? r.wall_ns - s0.wall_ns : 0;
            live[i][M_PEAK][k] = (double)r.peak_heap;
            /* only the exit stop's read is the final heap: a periodic sample
             * is earlier, and one taken while the kernel unmaps is too low */
            live[i][M_FINAL][k] = r.exact_final ? (double)r.final_heap : NAN;
            live[i][M_FAULTS][k] = (double)r.minflt;
            live[i][M_TIME][k] = (double)r.wall_ns;
        }
    }
    return 0;
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
                       a->timeout_s * (double)(a->al->n * (size_t)a->repeat + 1)};
    return rp_live_run(&sp, pr);
}

/* The recording replayed under each allocator by `hak replay`, stored
 * under a label of its own (uuid_label), and read back into acc: as fast
 * as possible (time; with --touch auto, the fit), then, unless pace is
 * asap, at that pace with the touch policy the first pass used (heap and
 * faults).  Returns the runs read, or -1 after saying why; *replay_ok is
 * 0 when hak replay said a run failed. */
static int validate_replay(hakdb *db, const validate_args *a, const char *trace,
                           const char *pace, char uuid_label[64], replay_acc *acc,
                           int *replay_ok)
{
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
    rp_live_result pr, pr2;
    replay_pass(a, trace, uuid_label, "asap", a->touch, &pr);
    memset(acc, 0, sizeof *acc);
    acc->al = a->al;
    int paced = strcmp(pace, "asap") != 0;
    pr2.ok = 1;
    pr2.error[0] = 0;
    if (paced) {
        /* the touch policy the asap pass fitted (or was given) */
        if (hakdb_validation_runs(db, uuid_label, take_run, acc) < 0) {
            hak_cmd_err(CMD, "%s", hakdb_error(db));
            return -1;
        }
        char touch[32];
        snprintf(touch, sizeof touch, "%s", acc->touch[0] ? acc->touch : a->touch);
        touch[strcspn(touch, "+")] = 0;      /* "+calloc:first": --calloc-touch's */
        replay_pass(a, trace, uuid_label, pace, touch, &pr2);
        memset(acc, 0, sizeof *acc);
        acc->al = a->al;
        acc->paced = 1;
    }
    int nruns = hakdb_validation_runs(db, uuid_label, take_run, acc);
    if (nruns <= 0) {
        hak_cmd_err(CMD, "replay stored no runs%s%s", pr.error[0] ? ": " : "", pr.error);
        return -1;
    }
    if (paced && !acc->pace[0]) {
        hak_cmd_err(CMD, "paced replay (--pace %s) stored no runs%s%s", pace,
                    pr2.error[0] ? ": " : "", pr2.error);
        return -1;
    }
    *replay_ok = pr.ok && pr2.ok && !acc->failed;
    return nruns;
}

/* ---- print: live, replayed and their ratio per metric and allocator,
 * then the rankings' agreement ---- */
static void validate_print(const vallocs *al, const char *command, int repeat, const char *pace,
                           double lx[NMETRIC][MAX_ALLOCS], double ry[NMETRIC][MAX_ALLOCS],
                           const hakdb_vrank ranks[NMETRIC], int64_t vid, hakdb *db,
                           const char *uuid_label)
{
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
 * is recorded with), after start-up.  0, or 1 after saying why. */
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
                            const char *uuid_label)
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
    /* auto is stored with its choice, "auto:first": the figures are that policy's */
    char touch_used[48];
    if (!strcmp(a->touch, "auto") && acc->touch[0])
        snprintf(touch_used, sizeof touch_used, "auto:%s", acc->touch);
    else
        snprintf(touch_used, sizeof touch_used, "%s", a->touch);
    const char *pace = acc->paced ? acc->pace : "asap";
    hakdb_validation v = {a->label, uuid_label, command, touch_used, a->threads, pace, a->repeat,
                          (int64_t)(a->interval_ms * 1e6), vals, nv, ranks, NMETRIC};
    int64_t vid = hakdb_insert_validation(db, &v);
    int rc = 0;
    if (vid < 0) {
        hak_cmd_err(CMD, "%s", hakdb_error(db));
        rc = 1;
    }
    validate_print(al, command, a->repeat, pace, lx, ry, ranks, vid, db, uuid_label);
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

    /* 2. one recording */
    char tmp_trace[] = "/tmp/hak-validate-XXXXXX";
    const char *trace = a.trace_out;
    if (!trace) {
        int fd = mkstemp(tmp_trace);
        if (fd < 0) {
            hak_cmd_err(CMD, "temporary trace file: %s", strerror(errno));
            hakdb_close(db);
            return 1;
        }
        close(fd);
        trace = tmp_trace;
    }
    if (validate_record(&a, trace) != 0) {
        if (!a.trace_out)
            unlink(tmp_trace);
        hakdb_close(db);
        return 1;
    }

    /* 3. replays, stored under a label of their own */
    char uuid_label[64];
    static replay_acc acc;
    int replay_ok = 0;
    int nruns = validate_replay(db, &a, trace, pace, uuid_label, &acc, &replay_ok);
    if (!a.trace_out)
        unlink(tmp_trace);
    if (nruns < 0) {
        hakdb_close(db);
        return 1;
    }
    rc = !replay_ok;
    /* 4. medians, ratios, rankings */
    rc |= validate_compare(db, &a, live, &acc, uuid_label);
    hakdb_close(db);
    return rc;
}
