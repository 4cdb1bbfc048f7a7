/* replay.h - running one replay of a trace against one allocator, from C.
 *
 * The pieces, in the order `hak replay` uses them:
 *   rp_alloc_resolve   --alloc NAME -> what to preload (or glibc / bump);
 *                      hakmem@REV builds that revision into a cache first
 *   rp_image_build     the trace's replay form -> a memfd replay image
 *                      (image.h), built once per trace and threads mode
 *   rp_run             one run: a fresh worker process (worker.c) with the
 *                      allocator preloaded, waited for with a timeout; the
 *                      outcome carries status, reason and all figures
 *   rp_outcome_to_run  the outcome -> an analysis/store/hakdb.h hakdb_run row
 *
 * Invariants: rp_run never lets a child's crash, hang or load failure
 * escape as anything but a status ("crashed", "timeout", "load_failed",
 * "error") with a one-line reason; figures of a failed run stay NULL.
 */
#ifndef RP_REPLAY_H
#define RP_REPLAY_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "touch.h"
#include "hakdb.h"
#include "result.h"
#include "trace.h"

/* ---- allocators ---- */
enum rp_alloc_kind { RP_ALLOC_PRELOAD, RP_ALLOC_GLIBC, RP_ALLOC_BUMP };

typedef struct rp_alloc {
    char spec[256];           /* as given on the command line */
    char name[256];           /* "hakmem", "glibc", "bump", "mimalloc", "libfoo.so", "hakmem@1a2b3c4d5e6f" */
    char path[PATH_MAX];      /* library to preload (RP_ALLOC_PRELOAD) */
    int  kind;
    char error[512];          /* non-empty: unusable, stored as load_failed */
} rp_alloc;

/* Resolves a --alloc value.  Returns 0 (out->error may still say it cannot
 * be loaded: a missing file or failed build is a failed run, not a usage
 * error) or -1 when the name is not an allocator spec at all. */
int rp_alloc_resolve(const char *spec, rp_alloc *out, int verbose);
/* 1 when a names hakmem (this tree's or hakmem@REV): its knobs are known. */
int rp_alloc_is_hakmem(const rp_alloc *a);
/* Checks KEY=VALUE settings against hakmem's knob table
 * (alloc/hak_knobs_table.h): an unknown HAKMEM_* name or an invalid value
 * is -1 with one line in err naming the knob and the valid names or
 * values; anything not HAKMEM_* is left alone.  0 when all are valid. */
int rp_check_knobs(const char *const *env, size_t nenv, char *err, size_t errlen);
/* Directory of the running executable's build tree (…/build), or "". */
const char *rp_build_dir(void);

/* ---- replay images ---- */
typedef struct rp_image {
    int      fd;              /* memfd, inherited by workers; -1 when closed */
    uint64_t bytes, nops;
    uint32_t nthreads;
    int      recorded, has_ts;
} rp_image;

/* hak replay's --sync-every default; runs with another value are stored
 * as a setting of their own (threads_mode "recorded:sync-every=N"). */
#define RP_SYNC_EVERY_DEFAULT 256u

/* op_ts (optional): per global op, ns since the trace start (for --pace
 * recorded).  sync_every (recorded mode; 0 = off): every that many ops of
 * a thread, a sync point makes it wait until every other thread has done
 * all its ops that precede this one in the trace's global order.  Object
 * dependencies alone let threads drift apart without bound (a producer runs
 * ahead of its consumer, holding more memory than the program did); sync
 * points bound the drift without a per-op barrier.  They point backwards in
 * the global order, so they cannot deadlock.  Applied when the trace has at
 * most RP_SYNC_MAX_THREADS threads.  0 or -1 with a reason in err. */
#define RP_SYNC_MAX_THREADS 256
int rp_image_build(const hak_replay *rp, int recorded, const uint64_t *op_ts,
                   uint32_t sync_every, rp_image *out, char *err, size_t errlen);
/* rp_image_build with timeline samples also before ops at[0..nat) (sorted
 * op indices; serial images only, at most RP_IMG_MAX_AT): where the
 * recording sampled its heap (rp_sample_positions), so a replay's heap is
 * known exactly there (fidelity, --touch auto). */
#define RP_IMG_MAX_AT 480
int rp_image_build_at(const hak_replay *rp, int recorded, const uint64_t *op_ts,
                      uint32_t sync_every, const uint64_t *at, size_t nat,
                      rp_image *out, char *err, size_t errlen);
void rp_image_close(rp_image *im);

/* Recovers each replay op's timestamp by walking the trace's events in
 * global order alongside the ops (dropped events are skipped by matching
 * thread and operation).  Returns a malloc'd array [rp->nops] or NULL. */
uint64_t *rp_op_timestamps(hak_trace_reader *r, const hak_replay *rp,
                           char *err, size_t errlen);

/* Due times for --pace program:D (pace.c): each op's recorded time
 * (op_ts) less the recorder's cost of the ops its thread recorded before
 * it, a cost per op (*cost_ns) chosen so that the recording lasts
 * program_ns.  A malloc'd array [rp->nops], or NULL with a reason. */
uint64_t *rp_pace_program(const hak_replay *rp, const uint64_t *op_ts, uint64_t program_ns,
                          double *cost_ns, char *err, size_t errlen);

/* ---- runs ---- */

typedef struct rp_opts {
    int recorded;             /* --threads recorded */
    hak_touch touch;
    unsigned touch_part;      /* touch.h: pages over a part of each block
                                 (HAK_TOUCH_WHOLE: all of it) */
    int calloc_first;         /* --calloc-touch first: calloc'd blocks get
                                 HAK_TOUCH_FIRST whatever touch says */
    int pace_recorded;        /* --pace recorded */
    double pace_scale;        /* --pace recorded:F: recorded gaps times F (0 = 1) */
    uint64_t pace_program_ns; /* --pace program:D: the program's own duration
                                 (rp_pace_program); 0 = not that mode */
    double timeout_s;         /* per run; <= 0: none */
    const char *const *env;   /* "KEY=VALUE" set in the worker */
    size_t nenv;
    uint64_t lat_every;       /* time every Kth op (0: 64, or nops/65536 when larger) */
    uint32_t sync_every;      /* recorded mode sync points (see rp_image_build) */
    const char *worker;       /* worker executable; NULL: next to hak */
    uint64_t min_time_ns;     /* serial, asap: repeat the trace in the worker
                                 until the window lasts this long; 0 = once */
} rp_opts;

/* The worker executable: $HAK_REPLAY_WORKER, else hak-replay-worker next
 * to this program. */
const char *rp_worker_path(void);

typedef struct rp_outcome {
    char status[16];          /* "ok", "crashed", "timeout", "load_failed", "error" */
    char error[1024];         /* one line when status != ok */
    rp_wresult *res;          /* worker's figures (mapping; NULL if none) */
} rp_outcome;

int rp_run(const rp_image *im, const rp_alloc *a, const rp_opts *o, rp_outcome *out);
void rp_outcome_free(rp_outcome *out);

/* ---- results ---- */

/* Fidelity of a replay's RSS timeline to the one recorded with the trace
 * (its heap-only samples, FORMAT.md kind 6, when it has them: then both
 * sides are the allocator's memory; else the program's whole RSS),
 * in [0, 1] (1 = identical shape), NAN when the trace has fewer than two
 * RSS samples.  Both curves are taken as growth above their first sample
 * (the recorded program and the worker start from different baselines) and
 * aligned on op progress: a recorded sample at time ts sits at the fraction
 * of ops whose timestamp is <= ts; the replay curve is interpolated there.
 *   fidelity = 1 - mean_k |replay(f_k) - recorded(f_k)| / max(peak growth of either)
 */
double rp_fidelity(const hak_rss_sample *rec, size_t nrec,
                   const uint64_t *op_ts, uint64_t nops,
                   const rp_tsample *rep, size_t nrep);

/* The op positions (sorted, distinct) of the recorded samples rec[] with
 * the largest heap, at most max of them: where a replay's peak is to be
 * compared with the recording's (rp_sampled_peak).  Returns how many. */
size_t rp_sample_positions(const hak_rss_sample *rec, size_t nrec, const uint64_t *op_ts,
                           uint64_t nops, uint64_t *out, size_t max);

/* A replay's heap peak as the recording would have seen it: the largest
 * of the replay's heap (sample minus offset, the worker's non-heap
 * memory) at the op progress of each recorded sample (aligned as above).
 * The recorder samples the heap at most every 20 ms, so a short peak of
 * the program falls between its samples; compared with the recorded peak,
 * this one misses the same.  NAN without two samples on each side. */
double rp_sampled_peak(const hak_rss_sample *rec, size_t nrec,
                       const uint64_t *op_ts, uint64_t nops,
                       const rp_tsample *rep, size_t nrep, double offset);

/* The replay's heap (sample minus offset) at each recorded sample's op
 * progress, aligned as above: out[k] for rec[k].  0, or -1 (and out
 * untouched) without two samples on each side. */
int rp_sampled_values(const hak_rss_sample *rec, size_t nrec, const uint64_t *op_ts,
                      uint64_t nops, const rp_tsample *rep, size_t nrep, double offset,
                      double *out);

/* The touch part that fits a recording's heap timeline (--touch auto,
 * touch_auto.h): given the glibc replays' heap with first and with pages
 * at each recorded sample (first[k], pages[k], from rp_sampled_values)
 * and the recorded rec[k], each sample's heap is taken as linear in the
 * part, so sample k is matched at part (rec_k - first_k) / (pages_k -
 * first_k), clamped to [0, 1]; the part with the least sum of absolute
 * errors is the median of those, each weighted by how much the part moves
 * the sample (pages_k - first_k) times the time it stands for (half-way
 * to each neighbour).  Only samples at or above half the recorded peak
 * count: the part predicts the peak.  NAN when no sample moves by more
 * than a page. */
double rp_timeline_part(const double *first, const double *pages, const hak_rss_sample *rec,
                        size_t n);

/* Storage that a hakdb_run built by rp_outcome_to_run points into. */
typedef struct rp_rowbuf {
    hakdb_metric metrics[RP_NCOUNTERS + RP_MAX_ASTATS + 16];
    char         names[RP_NCOUNTERS + RP_MAX_ASTATS + 16][64];
    hakdb_sample timeline[RP_MAX_SAMPLES];
    char digest[24];
} rp_rowbuf;

/* Fills run (after hakdb_run_init and setting ids/labels) from an outcome. */
void rp_outcome_to_run(const rp_outcome *oc, double fidelity, hakdb_run *run, rp_rowbuf *buf);

#endif /* RP_REPLAY_H */
