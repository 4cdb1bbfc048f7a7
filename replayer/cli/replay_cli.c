/* replay_cli.c - `hak replay`: replays traces against allocators (a matrix
 * of traces x allocators x repeats), one fresh worker process per run,
 * stores every run in the run-history database and prints a table. */
#include "replayer_cli.h"
#include "hak_util.h"
#include "hakdb_import.h"
#include "hakdb_sweep.h"
#include "replay.h"
#include "touch_auto.h"

/* Messages are cut to their buffers on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <errno.h>
#include <getopt.h>
#include <gnu/libc-version.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "replay"

static void usage(FILE *out)
{
    fprintf(out,
"usage: hak replay TRACE... [--alloc A]... [--env KEY=VALUE]... [options]\n"
"\n"
"Replays each trace's malloc/free stream against each allocator, every run\n"
"in a fresh worker process with the allocator loaded as a user would load\n"
"it (LD_PRELOAD), measures the replay loop and stores one row per run in\n"
"the run-history database.  Prints a table of the runs.\n"
"\n"
"A trace of a window (hak record --off/--start, --rotate, -p PID) frees\n"
"blocks allocated before it began: they are allocated first, untimed, so\n"
"the window's own ops run on a heap of the right size; that heap is built\n"
"in one burst, not the way the program built it, so RSS and page faults\n"
"of such a replay are those of a more compact heap (replayer/README.md,\n"
"Windows).\n"
"\n"
"A trace recorded with --mmap holds the program's own mappings (memory it\n"
"maps outside malloc, as GCC does for its collected pages): their private\n"
"anonymous writable mmaps, munmaps (whole or of pages inside a mapping)\n"
"and mremaps are replayed as recorded, touched like blocks; file, shared\n"
"and fixed mappings are left out, and a note counts both.\n"
"\n"
"allocators (--alloc, repeatable; default hakmem):\n"
"  hakmem              this tree's build/lib/libhakmem.so\n"
"  glibc               the system malloc (nothing preloaded)\n"
"  bump                a trivial built-in bump allocator (harness cost)\n"
"  mimalloc, jemalloc, tcmalloc   the Debian packages' libraries\n"
"  PATH.so             any malloc-replacing shared library\n"
"  hakmem@REV          the allocator built at git revision REV of this\n"
"                      repository (cached in ~/.cache/hakmem/builds/)\n"
"\n"
"options:\n"
"  --env KEY=VALUE     set in the worker's environment (allocator knobs);\n"
"                      for hakmem an unknown HAKMEM_* knob or an invalid\n"
"                      value is refused before any run (alloc/KNOBS.md)\n"
"  --threads MODE      serial: one thread in the trace's global order,\n"
"                      deterministic, address randomisation off;\n"
"                      recorded: one thread per recorded thread with\n"
"                      cross-thread dependencies enforced point to point.\n"
"                      Default: recorded for a trace where two or more\n"
"                      threads allocate, serial otherwise (and with\n"
"                      --verify); a multi-threaded trace replayed serially\n"
"                      gets a one-line note.  The mode is part of the\n"
"                      setting: runs of different modes are never merged.\n"
"                      Recorded runs store replay.waits (a thread waited\n"
"                      for another's op) and replay.sleeps (of those, it\n"
"                      slept), the first pass's\n"
"  --sync-every N      recorded threads: every N ops a thread also waits\n"
"                      until the others have done all ops that precede it\n"
"                      in the trace, so threads cannot drift apart further\n"
"                      than the recording allowed (default 256; 0 = object\n"
"                      dependencies only).  Another value than 256 is a\n"
"                      setting of its own: its runs are stored with threads\n"
"                      mode recorded:sync-every=N and never merged with\n"
"                      the default's\n"
"  --touch MODE        what is written into each new block: none, first\n"
"                      (one byte), pages (one byte per 4 KiB page; default),\n"
"                      all (every byte), or auto: the trace is first replayed\n"
"                      under glibc with first and pages, and the part of\n"
"                      each block written page by page (pages:F, one byte\n"
"                      per page over the first F of each block, also\n"
"                      accepted by --touch) is fitted to the recording's\n"
"                      heap timeline: at each of its heap samples at or\n"
"                      above half its peak, where between the two replays\n"
"                      the recording lies; the median, weighted by time.  F near 0 is first, near 1\n"
"                      pages.  Used for every allocator (a note names it;\n"
"                      runs store it).  A program that writes little of its\n"
"                      blocks holds less memory than a page-touching replay\n"
"  --calloc-touch MODE same (default): calloc'd blocks are touched as --touch\n"
"                      says; first: only their first byte (the allocator's\n"
"                      calloc does its own zeroing in the replay as in the\n"
"                      program; what the program then wrote of a zeroed\n"
"                      table is not known).  git: peak heap replay/live\n"
"                      0.59-0.80 -> 0.66-0.84 with --touch auto.  Runs\n"
"                      store it with the touch policy (pages:0.70+calloc:first)\n"
"  --pace MODE         asap (default), recorded (keep the recorded gaps) or\n"
"                      recorded:F (the gaps times F: 0.5 replays twice as\n"
"                      fast as recorded, e.g. to take the recorder's own\n"
"                      slowdown out).  Allocators that purge after a delay\n"
"                      (hakmem, mimalloc, jemalloc) fault and hold memory\n"
"                      according to the time that passes; an asap replay\n"
"                      compresses it (perl, hakmem: 17,665 faults asap,\n"
"                      19,017 at the live run's pace, 19,200 live).\n"
"                      program:D: each op at its recorded time less the\n"
"                      recorder's cost of the ops its thread recorded before\n"
"                      it, that cost chosen so the trace lasts D (the\n"
"                      program's own duration, e.g. 340ms): bursts of\n"
"                      allocation, which the recorder slowed most, shrink\n"
"                      and the program's idle gaps stay (hak validate's\n"
"                      default, with D its live runs' under glibc)\n"
"  --repeat N          runs per trace and allocator (default 1)\n"
"  --min-time S        replay the trace again and again in\n"
"                      the one worker process (freeing what a pass leaves\n"
"                      live, untimed) until the window lasts S seconds, and\n"
"                      report per-op figures over all passes: a real trace\n"
"                      replays in milliseconds, too short to time stably.\n"
"                      Default 0.5 ($HAK_REPLAY_MIN_TIME overrides); 0 = one\n"
"                      pass.  Faults, context switches, perf counters,\n"
"                      peak and final RSS and the heap figures are the\n"
"                      first pass's (a later pass runs on a heap the\n"
"                      earlier ones shaped);\n"
"                      replay.passes is stored.  With --threads\n"
"                      recorded each pass starts the threads afresh\n"
"                      (untimed).  Not with --pace recorded or --verify\n"
"  --timeout S         seconds before a run is killed (default 300)\n"
"  --label TEXT        stored with every run\n"
"  --sweep-id N        store the runs under sweep N of the database (which\n"
"                      must exist; 'hak sweep' creates sweeps and passes\n"
"                      this to its jobs); default $HAK_SWEEP_ID, else none\n"
"  --db FILE           database (default $HAK_DB or ./hak.db)\n"
"  --verify            serial mode: run every trace/allocator pair at least\n"
"                      twice and fail unless the address digests match\n"
"  --lat-every K       time every Kth operation (default 64, or fewer on\n"
"                      long traces: at least 65536 samples per run)\n"
"  --progress          progress on stderr (default: when it is a terminal)\n"
"  -q, --quiet         no table\n"
"  -h, --help          this text\n"
"\n"
"Each run measures, over the replay loop only: wall, user and system time,\n"
"ops/s, page faults, context switches, peak and final RSS, an RSS and\n"
"live-bytes timeline, sampled latency percentiles, perf counters\n"
"(page-faults, cycles, instructions, dTLB/iTLB misses; NULL with a reason\n"
"where the machine lacks them), the allocator's own statistics when it\n"
"offers them, and the fidelity of the RSS timeline to the recorded one.\n"
"A run that crashes, hangs or fails to load is stored with its status and\n"
"reason and the matrix goes on.  Exit status: 0 all runs ok, 1 a run failed\n"
"or --verify found different digests, 2 usage error.\n"
"\n"
"example:\n"
"  hak replay app.hkt --alloc hakmem --alloc glibc --alloc mimalloc\n"
"  sqlite3 hak.db 'select * from runs'\n");
}

typedef struct row {
    char trace[64], alloc[64], status[16], digest[20];
    double ops_per_s, fidelity;
    int64_t wall_ns, minflt, peak_rss, p50, p99;
    char error[160];
} row;

static void fmt_rate(double v, char *b, size_t n)
{
    if (isnan(v)) snprintf(b, n, "-");
    else if (v >= 1e9) snprintf(b, n, "%.2fG", v / 1e9);
    else if (v >= 1e6) snprintf(b, n, "%.2fM", v / 1e6);
    else if (v >= 1e3) snprintf(b, n, "%.1fk", v / 1e3);
    else snprintf(b, n, "%.0f", v);
}

static void fmt_i(int64_t v, char *b, size_t n)
{
    if (v == HAKDB_NULL) snprintf(b, n, "-");
    else snprintf(b, n, "%lld", (long long)v);
}

static void fmt_bytes(int64_t v, char *b, size_t n)
{
    if (v == HAKDB_NULL) snprintf(b, n, "-");
    else hak_fmt_bytes((uint64_t)v, b, n);
}

static void print_table(const row *rows, size_t n)
{
    printf("%-20s %-18s %-11s %9s %9s %9s %10s %7s %7s %5s %-16s\n",
           "trace", "alloc", "status", "ops/s", "wall_ms", "minflt", "peak_rss",
           "p50_ns", "p99_ns", "fid", "digest");
    for (size_t i = 0; i < n; i++) {
        const row *r = &rows[i];
        char rate[16], wall[24], flt[24], peak[24], p50[24], p99[24], fid[16];
        fmt_rate(r->ops_per_s, rate, sizeof rate);
        if (r->wall_ns == HAKDB_NULL) snprintf(wall, sizeof wall, "-");
        else snprintf(wall, sizeof wall, "%.1f", (double)r->wall_ns / 1e6);
        fmt_i(r->minflt, flt, sizeof flt);
        fmt_bytes(r->peak_rss, peak, sizeof peak);
        fmt_i(r->p50, p50, sizeof p50);
        fmt_i(r->p99, p99, sizeof p99);
        if (isnan(r->fidelity)) snprintf(fid, sizeof fid, "-");
        else snprintf(fid, sizeof fid, "%.2f", r->fidelity);
        printf("%-20.20s %-18.18s %-11s %9s %9s %9s %10s %7s %7s %5s %-16s\n",
               r->trace, r->alloc, r->status, rate, wall, flt, peak, p50, p99, fid,
               r->digest[0] ? r->digest : "-");
        if (strcmp(r->status, "ok"))
            printf("  ^ %s\n", r->error);
    }
}

static int parse_choice(const char *v, const char *const *names, int n, const char *opt)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v, names[i]))
            return i;
    hak_cmd_err(CMD, "%s: '%s' is not one of the choices (see --help)", opt, v);
    return -1;
}

/* A trace prepared for replay: database id, image, what fidelity needs. */
typedef struct prepared {
    const char *path;
    int64_t trace_id;
    rp_image im;
    uint64_t *op_ts;
    hak_rss_sample *rss;      /* the recorded timeline fidelity compares with */
    size_t nrss;
    int rss_is_heap;          /* rss holds the heap-only samples (kind 6) */
    uint64_t nops;
    uint32_t alloc_threads;   /* threads of the trace that allocate or free */
    int recorded;             /* threads mode of this trace's runs */
} prepared;

/* Threads of the replay that do any operation. */
static uint32_t active_threads(const hak_replay *rp)
{
    uint32_t n = 0;
    for (uint32_t t = 0; t < rp->nthreads; t++)
        n += rp->thread_nops && rp->thread_nops[t] > 0;
    return n;
}

/* o->recorded < 0: not given, so recorded for a multi-threaded trace
 * unless verify (address digests need the deterministic serial mode). */
static int prepare(const char *path, const rp_opts *o, int verify, hakdb *db, prepared *p)
{
    char err[512];
    memset(p, 0, sizeof *p);
    p->path = path;
    p->im.fd = -1;
    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    if (!r) {
        if (hak_msg_names_path(err, path))
            hak_cmd_err(CMD, "%s", err);
        else
            hak_cmd_err(CMD, "%s: %s", path, err);
        return -1;
    }
    const hak_tr_status *st = hak_tr_status_get(r);
    if (st && st->truncated)
        fprintf(stderr, "hak replay: %s: warning: %s; replaying the readable prefix\n",
                path, st->reason[0] ? st->reason : "truncated");
    /* Runs of a partial trace are stored as such (traces.completeness), and
     * `hak db compare`/`best` leave them out unless asked. */
    const char *completeness = st->incomplete ? "incomplete" : st->truncated ? "truncated"
                             : "complete";
    if (st->incomplete) {
        const hak_tr_loss *l;
        hak_tr_losses(r, &l);
        fprintf(stderr, "hak replay: %s: note: incomplete trace (the recorder lost events: "
                "%s after %llu events); its runs are stored as runs of an incomplete trace\n",
                path, hak_loss_reason_name((int)l[0].reason), (unsigned long long)l[0].at_events);
    } else if (st->truncated) {
        fprintf(stderr, "hak replay: %s: note: its runs are stored as runs of a truncated "
                "trace\n", path);
    }
    hak_replay rp;
    memset(&rp, 0, sizeof rp);
    /* With the program's own anonymous mappings (a trace recorded with
     * --mmap): heap it holds outside malloc, which every allocator's run
     * of the program holds too (trace.h, HAK_REPLAY_MMAP). */
    if (hak_replay_build_opts(r, &rp, HAK_REPLAY_MMAP, err, sizeof err) != 0) {
        hak_cmd_err(CMD, "%s: %s", path, err);
        hak_tr_close(r);
        return -1;
    }
    if (rp.npre) {
        char b[32];
        fprintf(stderr, "hak replay: %s: note: a window of a running process; %llu blocks (%s) "
                "it frees or reallocs were allocated before it and are allocated first, "
                "untimed: the replay starts on that approximate heap, not on the program's "
                "(replayer/README.md, Windows)\n", path, (unsigned long long)rp.npre,
                hak_fmt_bytes(rp.pre_bytes, b, sizeof b));
    }
    if (rp.mmap_kept)
        fprintf(stderr, "hak replay: %s: note: %llu mmap/munmap/mremap calls of the program "
                "are replayed as recorded (its anonymous mappings); %llu others left out\n",
                path, (unsigned long long)rp.mmap_kept, (unsigned long long)rp.mmap_ops);
    p->rss = hak_tr_take_rss(r, &p->nrss);   /* no copy: the samples may be 32 MiB */
    /* Heap-only samples, when the recording has them, are what the
     * replay's growth measures (its allocator's memory): like with like,
     * instead of the whole program's RSS (code, runtime, files...). */
    const hak_rss_sample *heap;
    size_t nheap = hak_tr_heap(r, &heap);
    hak_rss_sample *hcopy = nheap >= 2 ? malloc(nheap * sizeof *hcopy) : NULL;
    if (hcopy) {
        memcpy(hcopy, heap, nheap * sizeof *hcopy);
        free(p->rss);
        p->rss = hcopy;
        p->nrss = nheap;
        p->rss_is_heap = 1;
    }
    if (o->pace_recorded || p->nrss >= 2) {
        p->op_ts = rp_op_timestamps(r, &rp, err, sizeof err);
        if (!p->op_ts && o->pace_recorded) {
            hak_cmd_err(CMD, "%s: %s", path, err);
            goto fail;
        }
    }
    p->alloc_threads = active_threads(&rp);
    p->recorded = o->recorded >= 0 ? o->recorded : !verify && p->alloc_threads > 1;
    if (!p->recorded && p->alloc_threads > 1)
        fprintf(stderr, "hak replay: %s: note: %u threads allocate; replaying them serially"
                " (--threads serial%s); --threads recorded replays them concurrently\n",
                path, p->alloc_threads, o->recorded < 0 ? ", for --verify" : "");
    /* A serial replay also samples its heap where the recording sampled
     * (its highest samples): fidelity and --touch auto then compare the
     * two heaps at the same points, not a replay's peak that falls
     * between two of the recorder's samples (at most one per 20 ms). */
    uint64_t at[RP_IMG_MAX_AT];
    size_t nat = p->rss_is_heap && p->op_ts && !p->recorded
               ? rp_sample_positions(p->rss, p->nrss, p->op_ts, rp.nops, at, RP_IMG_MAX_AT) : 0;
    /* --pace program:D paces by due times of its own; op_ts stays the
     * recording's (fidelity aligns the samples by it) */
    uint64_t *due = NULL;
    if (o->pace_program_ns) {
        double cost;
        if (!(due = rp_pace_program(&rp, p->op_ts, o->pace_program_ns, &cost, err, sizeof err))) {
            hak_cmd_err(CMD, "%s: %s", path, err);
            goto fail;
        }
        fprintf(stderr, "hak replay: %s: note: paced at the program's own speed: %.0f ns of"
                " recorder cost taken off per op of a thread (recorded %.1f ms, program %.1f ms)\n",
                path, cost, rp.nops ? (double)(p->op_ts[rp.nops - 1] - p->op_ts[0]) / 1e6 : 0.0,
                (double)o->pace_program_ns / 1e6);
    }
    int brc = rp_image_build_at(&rp, p->recorded, due ? due : o->pace_recorded ? p->op_ts : NULL,
                                o->sync_every, at, nat, &p->im, err, sizeof err);
    free(due);
    if (brc != 0) {
        hak_cmd_err(CMD, "%s: %s", path, err);
        goto fail;
    }
    p->nops = rp.nops;

    char hash[17] = "";
    if (hak_hash_file(path, hash) != 0) {
        hak_cmd_err(CMD, "%s: cannot hash the file", path);
        goto fail;
    }
    const hak_trace_meta *m = hak_tr_meta(r);
    static char json[16384];
    hakdb_trace_meta_json(m, json, sizeof json);
    hakdb_trace t;
    memset(&t, 0, sizeof t);
    t.hash = hash;
    t.path = path;
    t.program = hakdb_trace_program(m, path);
    t.events = (int64_t)hak_tr_nevents(r);
    t.threads = (int64_t)hak_tr_nthreads(r);
    t.duration_ns = p->op_ts && rp.nops ? (int64_t)(p->op_ts[rp.nops - 1] - p->op_ts[0]) : HAKDB_NULL;
    t.file_bytes = st ? (int64_t)st->file_bytes : HAKDB_NULL;
    t.meta_json = json;
    t.completeness = completeness;
    p->trace_id = hakdb_upsert_trace(db, &t);
    if (p->trace_id < 0) {
        hak_cmd_err(CMD, "%s: storing the trace: %s", path, hakdb_error(db));
        goto fail;
    }
    hak_replay_free(&rp);
    hak_tr_close(r);
    return 0;
fail:
    hak_replay_free(&rp);
    hak_tr_close(r);
    return -1;
}

static int64_t upsert_build(hakdb *db, const rp_alloc *a, const rp_outcome *oc)
{
    char hash[64] = "";
    hakdb_build b;
    memset(&b, 0, sizeof b);
    b.name = a->name;
    if (a->kind == RP_ALLOC_BUMP) {
        snprintf(hash, sizeof hash, "bump-builtin-%s", HAK_VERSION);
    } else {
        b.path = a->kind == RP_ALLOC_GLIBC ? NULL : a->path;
        hakdb_build_hash(b.path, hash);
    }
    b.hash = hash;
    b.version = oc->res && oc->res->alloc_version[0] ? oc->res->alloc_version
              : a->kind == RP_ALLOC_GLIBC ? gnu_get_libc_version() : NULL;
    return hakdb_upsert_build(db, &b);
}

/* ---- parse: the command line as given --------------------------------- */

static const char *const mode_names[] = {"serial", "recorded"};
static const char *const pace_names[] = {"asap", "recorded"};

/* --pace asap | recorded | recorded:F (the recorded gaps times F: 0.5 plays
 * the trace twice as fast as it was recorded) | program:D (the recorder's
 * cost per op taken off so that the trace lasts D: pace.c). */
static int parse_pace(const char *arg, rp_opts *o)
{
    o->pace_scale = 0;
    o->pace_program_ns = 0;
    o->pace_recorded = strcmp(arg, "asap") != 0;
    if (!strcmp(arg, "asap") || !strcmp(arg, "recorded")) return 0;
    if (!strncmp(arg, "program:", 8)) {
        uint64_t ns;
        if (hak_parse_duration_ns(arg + 8, &ns) != 0 || ns == 0) {
            hak_cmd_err(CMD, "--pace '%s': expected program:D with a duration above 0 (340ms, 1.5s)",
                        arg);
            return -1;
        }
        o->pace_program_ns = ns;
        return 0;
    }
    char *end = NULL;
    double f = strncmp(arg, "recorded:", 9) ? 0 : strtod(arg + 9, &end);
    if (!end || end == arg + 9 || *end || !(f > 0 && f <= 1000)) {
        hak_cmd_err(CMD, "--pace '%s': expected asap, recorded, recorded:F with F above 0, at most 1000,"
                    " or program:D", arg);
        return -1;
    }
    o->pace_scale = f == 1 ? 0 : f;
    return 0;
}

/* The pace as runs store it: asap, recorded, recorded:F or program:Dms. */
static const char *pace_label(const rp_opts *o, char *buf, size_t n)
{
    if (o->pace_program_ns) {
        snprintf(buf, n, "program:%.6gms", (double)o->pace_program_ns / 1e6);
        return buf;
    }
    if (!o->pace_recorded || !o->pace_scale) return pace_names[o->pace_recorded];
    snprintf(buf, n, "recorded:%.6g", o->pace_scale);
    return buf;
}

typedef struct replay_args {
    rp_opts o;
    const char *allocs[64];
    size_t nallocs;
    const char *envs[128];
    size_t nenv;
    char envbuf[4096];        /* the --env settings as runs.env stores them */
    uint64_t repeat;
    const char *label, *dbpath;
    const char *sweep_arg, *sweep_src;
    int64_t sweep_id;         /* HAKDB_NULL: not in a sweep */
    int verify, quiet, progress;
    int touch_auto;           /* --touch auto: chosen per trace (touch_auto.h) */
    char **traces;
    int ntraces;
} replay_args;

/* -1 when the arguments are good, else the exit status (help: 0). */
static int parse_args(int argc, char **argv, replay_args *a)
{
    static const struct option longopts[] = {
        {"alloc", required_argument, 0, 'a'},
        {"env", required_argument, 0, 'e'},
        {"threads", required_argument, 0, 't'},
        {"touch", required_argument, 0, 'T'},
        {"calloc-touch", required_argument, 0, 'C'},
        {"pace", required_argument, 0, 'p'},
        {"repeat", required_argument, 0, 'r'},
        {"timeout", required_argument, 0, 'o'},
        {"label", required_argument, 0, 'l'},
        {"sweep-id", required_argument, 0, 'S'},
        {"db", required_argument, 0, 'd'},
        {"verify", no_argument, 0, 'v'},
        {"lat-every", required_argument, 0, 'k'},
        {"sync-every", required_argument, 0, 's'},
        {"min-time", required_argument, 0, 'M'},
        {"progress", no_argument, 0, 'P'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    memset(a, 0, sizeof *a);
    rp_opts *o = &a->o;
    o->recorded = -1;   /* per trace: recorded when several threads allocate */
    o->touch = HAK_TOUCH_PAGES;
    o->timeout_s = 300;
    o->sync_every = RP_SYNC_EVERY_DEFAULT;
    a->repeat = 1;
    a->sweep_src = "--sweep-id";
    a->sweep_id = HAKDB_NULL;
    a->progress = isatty(2);
    int min_time_given = 0;

    optind = 1;
    opterr = 0; /* one-line errors: hak_cmd_bad_option */
    int c;
    while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'a':
            if (a->nallocs == sizeof a->allocs / sizeof *a->allocs) {
                hak_cmd_err(CMD, "too many --alloc (max %zu)", sizeof a->allocs / sizeof *a->allocs);
                return 2;
            }
            a->allocs[a->nallocs++] = optarg;
            break;
        case 'e': {
            if (!strchr(optarg, '=') || optarg[0] == '=') {
                hak_cmd_err(CMD, "--env '%s': expected KEY=VALUE", optarg);
                return 2;
            }
            if (a->nenv == sizeof a->envs / sizeof *a->envs) {
                hak_cmd_err(CMD, "too many --env");
                return 2;
            }
            a->envs[a->nenv++] = optarg;
            size_t l = strlen(a->envbuf);
            snprintf(a->envbuf + l, sizeof a->envbuf - l, "%s%s", l ? " " : "", optarg);
            break;
        }
        case 't':
            if ((o->recorded = parse_choice(optarg, mode_names, 2, "--threads")) < 0) return 2;
            break;
        case 'C':
            if (strcmp(optarg, "first") && strcmp(optarg, "same")) {
                hak_cmd_err(CMD, "--calloc-touch '%s': expected first or same", optarg);
                return 2;
            }
            o->calloc_first = !strcmp(optarg, "first");
            break;
        case 'T':
            a->touch_auto = !strcmp(optarg, "auto");
            if (!a->touch_auto && hak_touch_parse_part(optarg, &o->touch, &o->touch_part)) {
                hak_cmd_err(CMD, "--touch '%s': expected " HAK_TOUCH_CHOICES ", pages:F or auto",
                            optarg);
                return 2;
            }
            break;
        case 'p':
            if (parse_pace(optarg, o) < 0) return 2;
            break;
        case 'r':
            if (hak_parse_u64(optarg, &a->repeat) != 0 || a->repeat == 0 || a->repeat > 1000) {
                hak_cmd_err(CMD, "--repeat '%s': expected a count from 1 to 1000", optarg);
                return 2;
            }
            break;
        case 'o': {
            uint64_t ns;
            if (hak_parse_duration_ns(optarg, &ns) != 0 || ns == 0) {
                hak_cmd_err(CMD, "--timeout '%s': expected seconds, e.g. 30 or 1.5s", optarg);
                return 2;
            }
            o->timeout_s = (double)ns / 1e9;
            break;
        }
        case 'l': a->label = optarg; break;
        case 'S': a->sweep_arg = optarg; break;
        case 'd': a->dbpath = optarg; break;
        case 'v': a->verify = 1; break;
        case 'k':
            if (hak_parse_u64(optarg, &o->lat_every) != 0 || o->lat_every == 0) {
                hak_cmd_err(CMD, "--lat-every '%s': expected a positive count", optarg);
                return 2;
            }
            break;
        case 's': {
            uint64_t v;
            if (hak_parse_u64(optarg, &v) != 0 || v > UINT32_MAX) {
                hak_cmd_err(CMD, "--sync-every '%s': expected a count (0 = off)", optarg);
                return 2;
            }
            o->sync_every = (uint32_t)v;
            break;
        }
        case 'M': {
            uint64_t ns;
            if (hak_parse_duration_ns(optarg, &ns) != 0 && strcmp(optarg, "0")) {
                hak_cmd_err(CMD, "--min-time '%s': expected seconds, e.g. 0.5 or 2s (0 = one pass)", optarg);
                return 2;
            }
            if (!strcmp(optarg, "0"))
                ns = 0;
            o->min_time_ns = ns;
            min_time_given = 1;
            break;
        }
        case 'P': a->progress = 1; break;
        case 'q': a->quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default:
            return hak_cmd_bad_option(CMD, argc, argv);
        }
    }
    a->traces = argv + optind;
    a->ntraces = argc - optind;
    if (a->ntraces <= 0) {
        hak_cmd_err(CMD, "no trace given; see 'hak replay --help'");
        return 2;
    }
    if (a->verify && o->recorded == 1) {
        hak_cmd_err(CMD, "--verify needs --threads serial (recorded threads are not deterministic)");
        return 2;
    }
    if (!a->sweep_arg) {
        const char *e = getenv("HAK_SWEEP_ID");
        if (e && *e) {
            a->sweep_arg = e;
            a->sweep_src = "$HAK_SWEEP_ID";
        }
    }
    if (a->sweep_arg) {
        uint64_t v;
        if (hak_parse_u64(a->sweep_arg, &v) != 0 || v == 0 || v > INT64_MAX) {
            hak_cmd_err(CMD, "%s '%s': expected a positive sweep id", a->sweep_src, a->sweep_arg);
            return 2;
        }
        a->sweep_id = (int64_t)v;
    }
    if (a->verify && a->repeat < 2)
        a->repeat = 2;
    if (!min_time_given) {
        const char *e = getenv("HAK_REPLAY_MIN_TIME");
        uint64_t ns = 500000000ull;
        if (e && *e && hak_parse_duration_ns(e, &ns) != 0)
            ns = strcmp(e, "0") ? 500000000ull : 0;
        o->min_time_ns = ns;
    }
    if (o->min_time_ns && (a->verify || o->pace_recorded)) {
        if (min_time_given) {
            hak_cmd_err(CMD, "--min-time needs one pass per run with %s",
                        a->verify ? "--verify" : "--pace recorded");
            return 2;
        }
        o->min_time_ns = 0;   /* digests and pacing need exactly one pass */
    }
    if (a->nallocs == 0)
        a->allocs[a->nallocs++] = "hakmem";
    o->env = a->envs;
    o->nenv = a->nenv;
    return -1;
}

/* ---- plan: everything checked before the first run ---------------------- */

typedef struct replay_plan {
    rp_alloc *as;             /* [nallocs] resolved allocators */
    hakdb *db;
    int64_t machine_id;
} replay_plan;

static void plan_free(replay_plan *pl)
{
    if (pl->db)
        hakdb_close(pl->db);
    free(pl->as);
}

/* Resolves the allocators, checks the knobs, opens the database and checks
 * the sweep: a mistake found here costs no replay.  -1 ok, else the exit
 * status (the plan freed). */
static int make_plan(const replay_args *a, replay_plan *pl)
{
    memset(pl, 0, sizeof *pl);
    pl->as = calloc(a->nallocs, sizeof *pl->as);
    if (!pl->as) {
        hak_cmd_err(CMD, "out of memory");
        return 1;
    }
    for (size_t i = 0; i < a->nallocs; i++)
        if (rp_alloc_resolve(a->allocs[i], &pl->as[i], 1) != 0) {
            hak_cmd_err(CMD, "--alloc '%s': not an allocator name or a .so path "
                        "(hakmem, glibc, bump, mimalloc, jemalloc, tcmalloc, PATH.so, hakmem@REV)",
                        a->allocs[i]);
            plan_free(pl);
            return 2;
        }
    char err[1024];
    for (size_t i = 0; i < a->nallocs; i++)
        if (rp_alloc_is_hakmem(&pl->as[i]) && rp_check_knobs(a->envs, a->nenv, err, sizeof err) != 0) {
            hak_cmd_err(CMD, "%s", err);
            plan_free(pl);
            return 2;
        }
    pl->db = hakdb_open(a->dbpath, err, sizeof err);
    if (!pl->db) {
        hak_cmd_err(CMD, "%s", err);
        plan_free(pl);
        return 1;
    }
    /* The foreign key would only reject the rows at storing time, after
     * the replays had been run for nothing. */
    int have = a->sweep_id == HAKDB_NULL ? 1 : hakdb_sweep_exists(pl->db, a->sweep_id);
    if (have != 1) {
        if (have < 0)
            hak_cmd_err(CMD, "%s: %s", hakdb_path(pl->db), hakdb_error(pl->db));
        else
            hak_cmd_err(CMD, "%s %lld: no such sweep in %s", a->sweep_src, (long long)a->sweep_id,
                        hakdb_path(pl->db));
        plan_free(pl);
        return have < 0 ? 1 : 2;
    }
    pl->machine_id = hakdb_upsert_machine(pl->db);
    if (pl->machine_id < 0) {
        hak_cmd_err(CMD, "storing the machine: %s", hakdb_error(pl->db));
        plan_free(pl);
        return 1;
    }
    return -1;
}

/* ---- run: one measured run, stored, as a row of the table --------------- */

static void prepared_close(prepared *p)
{
    rp_image_close(&p->im);
    free(p->op_ts);
    free(p->rss);
}

/* --touch auto: the policy for this trace's runs (replay/touch_auto.h),
 * named in a note.  0, or -1 after one line. */
static int choose_touch(const char *path, const prepared *p, rp_opts *to)
{
    rp_touch_auto ta;
    char err[600];
    if (rp_touch_auto_run(&p->im, to, p->rss_is_heap ? p->rss : NULL, p->rss_is_heap ? p->nrss : 0,
                          p->op_ts, p->nops,
                          &ta, err, sizeof err) != 0) {
        hak_cmd_err(CMD, "%s: %s", path, err);
        return -1;
    }
    to->touch = ta.chosen;
    to->touch_part = ta.part;
    char rb[32], b0[32], b1[32], bp[32], lb[32];
    fprintf(stderr, "hak replay: %s: --touch auto: %s (recorded heap peak %s; glibc replay, "
            "where the recording sampled, with pages %s, first %s%s%s)\n", path,
            hak_touch_label(ta.chosen, ta.part, lb, sizeof lb),
            hak_fmt_bytes((uint64_t)ta.recorded_peak, rb, sizeof rb),
            isnan(ta.peak[0]) ? "-" : hak_fmt_bytes((uint64_t)ta.peak[0], b0, sizeof b0),
            isnan(ta.peak[1]) ? "-" : hak_fmt_bytes((uint64_t)ta.peak[1], b1, sizeof b1),
            ta.part != HAK_TOUCH_WHOLE ? ", fitted part " : "",
            ta.part != HAK_TOUCH_WHOLE ? hak_fmt_bytes((uint64_t)ta.part_peak, bp, sizeof bp) : "");
    return 0;
}

/* Runs trace p under allocator al once (repeat rep), stores the run and
 * fills *w.  Returns 0 when the run is ok and stored, 1 otherwise (said). */
static int run_one(const replay_args *a, const replay_plan *pl, const prepared *p,
                   const rp_opts *to, const rp_alloc *al, uint64_t rep, rp_rowbuf *buf, row *w)
{
    int status = 0;
    rp_outcome oc;
    uint64_t start_wall = hak_wall_ns();
    rp_run(&p->im, al, to, &oc);
    double fid = oc.res && !strcmp(oc.status, "ok")
        ? rp_fidelity(p->rss, p->nrss, p->op_ts, p->nops, oc.res->samples, oc.res->nsamples)
        : NAN;
    hakdb_run run;
    hakdb_run_init(&run);
    run.trace_id = p->trace_id;
    run.build_id = upsert_build(pl->db, al, &oc);
    run.machine_id = pl->machine_id;
    run.kind = "measured";
    run.label = a->label;
    run.sweep_id = a->sweep_id;
    run.env = a->envbuf;
    /* --sync-every shapes a recorded-threads replay (how far threads may
     * drift apart: waits, interleaving, timing), so a value other than the
     * default is a setting of its own, like the mode: runs at 0 and at 256
     * were merged by db compare/best and report. */
    char mode[48];
    if (to->recorded && to->sync_every != RP_SYNC_EVERY_DEFAULT)
        snprintf(mode, sizeof mode, "recorded:sync-every=%u", (unsigned)to->sync_every);
    else
        snprintf(mode, sizeof mode, "%s", mode_names[to->recorded]);
    run.threads_mode = mode;
    char touch[48];
    hak_touch_label(to->touch, to->touch_part, touch, sizeof touch);
    if (to->calloc_first)   /* a setting of its own */
        snprintf(touch + strlen(touch), sizeof touch - strlen(touch), "+calloc:first");
    run.touch = touch;
    char pace[40];
    run.pace = pace_label(to, pace, sizeof pace);
    run.repeat_idx = (int64_t)rep;
    run.start_wall_ns = (int64_t)start_wall;
    run.alloc_spec = al->spec;
    rp_outcome_to_run(&oc, fid, &run, buf);
    if (!isnan(fid) && run.nmetrics < sizeof buf->metrics / sizeof *buf->metrics)
        buf->metrics[run.nmetrics++] = (hakdb_metric){
            "fidelity.recorded_heap_samples", p->rss_is_heap ? (double)p->nrss : 0, 0,
            "count", "derived", NULL};
    if (run.build_id < 0 || hakdb_insert_run(pl->db, &run) < 0) {
        hak_cmd_err(CMD, "storing a run of %s x %s: %s", p->path, al->name, hakdb_error(pl->db));
        status = 1;
    }
    snprintf(w->trace, sizeof w->trace, "%s", hak_base_name(p->path));
    snprintf(w->alloc, sizeof w->alloc, "%s", al->name);
    snprintf(w->status, sizeof w->status, "%s", oc.status);
    snprintf(w->error, sizeof w->error, "%s", oc.error);
    snprintf(w->digest, sizeof w->digest, "%s", run.addr_digest ? run.addr_digest : "");
    w->ops_per_s = run.ops_per_s;
    w->fidelity = fid;
    w->wall_ns = run.wall_ns;
    w->minflt = run.minor_faults;
    w->peak_rss = run.peak_rss_bytes;
    w->p50 = run.lat_p50_ns;
    w->p99 = run.lat_p99_ns;
    if (strcmp(oc.status, "ok"))
        status = 1;
    rp_outcome_free(&oc);
    return status;
}

/* --verify: every repeat of a trace x allocator gives the first one's
 * address digest.  0 or 1 (said). */
static int verify_digest(const prepared *p, const rp_alloc *al, const row *w, char first[20])
{
    if (strcmp(w->status, "ok"))
        return 0;
    if (!w->digest[0]) {
        hak_cmd_err(CMD, "--verify: %s x %s: no address digest (address "
                    "randomisation could not be switched off)", p->path, al->name);
        return 1;
    }
    if (!first[0]) {
        snprintf(first, 20, "%s", w->digest);
        return 0;
    }
    if (strcmp(first, w->digest)) {
        hak_cmd_err(CMD, "--verify: %s x %s: address digest %s differs from %s",
                    p->path, al->name, w->digest, first);
        return 1;
    }
    return 0;
}

int cmd_replay(int argc, char **argv)
{
    replay_args *a = malloc(sizeof *a);
    if (!a) {
        hak_cmd_err(CMD, "out of memory");
        return 1;
    }
    int rc = parse_args(argc, argv, a);
    replay_plan pl;
    if (rc < 0)
        rc = make_plan(a, &pl);
    if (rc >= 0) {
        free(a);
        return rc;
    }
    size_t total = (size_t)a->ntraces * a->nallocs * a->repeat, done = 0, nrows = 0;
    row *rows = calloc(total, sizeof *rows);
    rp_rowbuf *buf = malloc(sizeof *buf);
    int status = 0;
    if (!rows || !buf) {
        hak_cmd_err(CMD, "out of memory");
        status = 1;
        goto out;
    }
    for (int ti = 0; ti < a->ntraces; ti++) {
        prepared p;
        if (prepare(a->traces[ti], &a->o, a->verify, pl.db, &p) != 0) {
            status = 1;
            done += a->nallocs * a->repeat;
            continue;
        }
        rp_opts to = a->o;   /* this trace's threads mode */
        to.recorded = p.recorded;
        if (a->touch_auto && choose_touch(a->traces[ti], &p, &to) != 0) {
            status = 1;
            done += a->nallocs * a->repeat;
            prepared_close(&p);
            continue;
        }
        for (size_t ai = 0; ai < a->nallocs; ai++) {
            char first_digest[20] = "";
            for (uint64_t rep = 0; rep < a->repeat; rep++) {
                row *w = &rows[nrows++];
                status |= run_one(a, &pl, &p, &to, &pl.as[ai], rep, buf, w);
                done++;
                if (a->progress) {
                    char rate[16];
                    fmt_rate(w->ops_per_s, rate, sizeof rate);
                    int ok = !strcmp(w->status, "ok");
                    fprintf(stderr, "hak replay: [%zu/%zu] %s x %s: %s%s%s\n", done, total,
                            w->trace, w->alloc, w->status, ok ? ", ops/s " : "", ok ? rate : "");
                }
                if (a->verify)
                    status |= verify_digest(&p, &pl.as[ai], w, first_digest);
            }
        }
        prepared_close(&p);
    }
    /* ---- print ---- */
    if (!a->quiet && nrows)
        print_table(rows, nrows);
out:
    free(rows);
    free(buf);
    plan_free(&pl);
    free(a);
    return status;
}
