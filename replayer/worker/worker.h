/* worker.h - state shared by the worker's parts (worker.c: setup and
 * measurement; worker_loop.c: the replay loops).  Everything here lives in
 * memory the worker mapped itself before the window: nothing in the loops
 * calls the allocator under test except the replayed operations. */
#ifndef RP_WORKER_H
#define RP_WORKER_H

#include <stdint.h>

#include "image.h"
#include "result.h"
#include "touch.h"


typedef struct rp_bump {           /* the built-in "bump" allocator: a ring */
    char    *base;
    uint64_t cap, off;
} rp_bump;

/* Per replay thread; one cache line each for the fields others read. */
typedef struct rp_tstate {
    volatile uint32_t progress;    /* ops completed */
    volatile uint32_t wake_at;     /* the least progress a sleeping thread waits
                                      for (UINT32_MAX: none) */
    volatile uint32_t wake_seq;    /* futex word: bumped at each wake */
    volatile int64_t  live;        /* requested bytes live, by this thread's ops */
    char pad_[44];
    /* private to the thread */
    uint32_t tid;
    rp_bump  bump;
    uint64_t lat[RP_LAT_BUCKETS];
    uint64_t lat_n;
    uint64_t digest;
    uint64_t ops_done;
    uint64_t waits, sleeps;        /* waits; futex sleeps (several per wait under load) */
    uint64_t slept_waits;          /* waits that slept at least once: replay.sleeps */
} __attribute__((aligned(64))) rp_tstate;

typedef struct rp_wctx {
    const rp_image_hdr *img;
    const rp_wop   *ops;
    const rp_wdep  *deps;
    const uint64_t *obj_size;
    const rp_wbig  *big;
    const rp_wsched *sched;
    const uint64_t *ts;
    void          **tbl;           /* object id -> pointer (prefaulted) */
    int touch, bump, pace, serial;
    int calloc_first;              /* --calloc-touch first: calloc'd blocks get their first byte */
    double pace_scale;             /* --pace-scale: recorded gaps times this (paced runs) */
    unsigned touch_part;           /* touch.h: HAK_TOUCH_WHOLE or 1/65536ths */
    uint64_t lat_every;            /* time every Kth op */
    uint64_t timer_overhead;       /* ticks, subtracted from each sample */
    int statm_fd;
    uint64_t harness_shared;       /* shared bytes resident at the window start */
    uint64_t t0_ns;                /* window start, CLOCK_MONOTONIC */
    rp_tstate *ts_arr;             /* [nthreads] */
    uint32_t sampler_tid;          /* recorded mode: thread that samples */
    uint64_t sample_every;         /* recorded mode: its op interval */
    volatile uint32_t start;       /* futex: threads begin when 1 */
    volatile uint32_t done;        /* threads finished */
    rp_wresult *res;
    int no_samples;                /* later --min-time passes: no timeline */
    uint64_t pre_bytes;            /* the prologue's blocks (a window's trace) */
} rp_wctx;

/* The blocks a window's trace frees or reallocs without having seen them
 * allocated (image.h, pre[]): allocated with malloc before the measured
 * ops, untimed, touched like the others. */
void rp_prologue(rp_wctx *w);

/* Runs the whole image in global order on the calling thread. */
void rp_run_serial(rp_wctx *w);
/* Thread body for recorded mode (arg = rp_tstate of the thread); waits for
 * w->start, runs its ops, increments w->done. */
void *rp_run_thread(void *arg);
extern rp_wctx *rp_wctx_global;
/* One timeline sample into res->samples (thread-safe for one sampler). */
void rp_take_sample(rp_wctx *w, int64_t live, int64_t op);

#endif /* RP_WORKER_H */
