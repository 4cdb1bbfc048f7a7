/* synth.h - deterministic synthetic allocation workloads.
 *
 * A generator yields hak_event records one at a time in global (seq) order,
 * so arbitrarily long traces stream through bounded memory: the state is the
 * workload's live slots plus the address-space model (synth_heap.h).  The
 * same parameters always give the same events: nothing depends on the clock,
 * the environment or the machine.
 *
 * Every generated stream obeys the trace invariants of trace.h: seq starts
 * at 0 and increases by one per event; ts_ns increases with seq (one shared
 * simulated clock, so it is monotonic per thread too); every thread starts
 * with HAK_OP_THREAD_START (size = a fake OS tid, in_ptr = creating thread)
 * and ends with HAK_OP_THREAD_EXIT; an address is never live twice; blocks
 * still live at the end are left live (they show up as leaks).
 *
 * Workloads (`hak trace synth --help` has the user-facing description):
 *   random-mixed       W slots; each iteration picks a random slot, frees its
 *                      block if any, mallocs a new size uniform in [min,max].
 *   tiny-hot           batches of `batch` mallocs of `size` bytes, then frees
 *                      of the whole batch in allocation order.
 *   larson             T threads, each working on an array of W slots like
 *                      random-mixed; every `round` steps the arrays rotate
 *                      between threads, so blocks are freed by a thread other
 *                      than the one that allocated them (Larson & Krishnan).
 *   producer-consumer  thread 0 mallocs items into a bounded FIFO queue,
 *                      thread 1 frees them: every free is cross-thread.
 */
#ifndef HAK_SYNTH_H
#define HAK_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "trace.h"

typedef enum hak_synth_kind {
    HAK_SYNTH_RANDOM_MIXED,
    HAK_SYNTH_TINY_HOT,
    HAK_SYNTH_LARSON,
    HAK_SYNTH_PRODUCER_CONSUMER,
    HAK_SYNTH_KIND_COUNT_
} hak_synth_kind;

typedef struct hak_synth_params {
    hak_synth_kind kind;
    uint64_t iters;      /* mallocs to generate (producer-consumer: items) */
    uint64_t slots;      /* random-mixed, larson (per thread) */
    uint64_t seed;
    uint64_t min_size;   /* random sizes: uniform in [min_size, max_size] */
    uint64_t max_size;
    uint64_t size;       /* tiny-hot block size */
    uint64_t batch;      /* tiny-hot batch length */
    uint64_t threads;    /* larson */
    uint64_t round;      /* larson: steps between array rotations; 0 = slots*threads */
    uint64_t queue;      /* producer-consumer: most items in flight */
} hak_synth_params;

/* Call-site ids the generators put in hak_event.site. */
#define HAK_SYNTH_SITE_MALLOC 1
#define HAK_SYNTH_SITE_FREE   2

int hak_synth_kind_from_name(const char *name);     /* -1 when unknown */
/* Fills defaults: iters 1000000, slots 256, seed 42, sizes 16..1039,
 * size 16, batch 100, threads 4, queue 64. */
void hak_synth_defaults(hak_synth_kind k, hak_synth_params *p);
/* 0, or -1 with a one-line reason naming the offending option. */
int hak_synth_check(const hak_synth_params *p, char *err, size_t errlen);
/* The parameters as a command line ("random-mixed --iters 1000 ..."), for
 * the trace's options metadata. */
void hak_synth_describe(const hak_synth_params *p, char *buf, size_t len);

typedef struct hak_synth hak_synth;

/* NULL with a reason in err on bad parameters or out of memory. */
hak_synth *hak_synth_new(const hak_synth_params *p, char *err, size_t errlen);
/* 1 with *ev filled, 0 when the workload is finished. */
int hak_synth_next(hak_synth *g, hak_event *ev);
uint32_t hak_synth_nthreads(const hak_synth *g);
void hak_synth_free(hak_synth *g);

#endif
