/* result.h - what a worker hands back to the parent: one fixed-size struct
 * in a shared memfd mapping.  The parent zeroes it and sets magic before the
 * fork; the worker advances `phase` as it goes, so after a crash the parent
 * knows how far the run got (loading the allocator, preparing, inside the
 * measured window).  Plain data only; both sides are built from this tree.
 */
#ifndef RP_RESULT_H
#define RP_RESULT_H

#include <stdint.h>

#include "counters.h"
#include "latency.h"

#define RP_RES_MAGIC       0x3153455250504852ull   /* "RHPPRES1" */
#define RP_MAX_SAMPLES     1024
#define RP_MAX_ASTATS      64

enum rp_phase {
    RP_PH_EXEC = 0,      /* parent forked; the worker's main has not run */
    RP_PH_MAIN = 1,      /* main entered: the allocator loaded */
    RP_PH_READY = 2,     /* image mapped, tables prefaulted, threads parked */
    RP_PH_WINDOW = 3,    /* inside the measured window */
    RP_PH_DONE = 4,      /* figures written */
};

enum rp_fail {
    RP_FAIL_NONE = 0,
    RP_FAIL_LOAD = 1,    /* the allocator under test is not what runs malloc */
    RP_FAIL_ERROR = 2,   /* harness problem (bad image, mmap failure...) */
};

typedef struct rp_tsample {
    int64_t t_ns, rss_bytes, live_bytes;
    int64_t op;                    /* ops completed when taken (all threads) */
} rp_tsample;

typedef struct rp_astat {          /* one figure from the allocator's own stats */
    char   name[48];
    char   unit[12];
    double value;
} rp_astat;

typedef struct rp_wresult {
    uint64_t magic;
    volatile uint32_t phase;       /* enum rp_phase */
    int32_t  fail;                 /* enum rp_fail */
    char     error[512];
    char     malloc_from[256];     /* object that provides malloc in the worker */

    uint64_t wall_ns, user_ns, sys_ns, ops;
    uint64_t minflt, majflt, nvcsw, nivcsw;
    int64_t  peak_rss, final_rss;  /* bytes, harness mappings excluded; -1 unknown */
    int64_t  vmhwm_raw, harness_rss;
    char     peak_note[160];       /* how peak_rss was obtained, or why not */

    uint32_t has_digest;
    uint64_t digest;               /* of returned addresses, serial mode */

    uint64_t lat[RP_LAT_BUCKETS];  /* raw tick deltas minus timer overhead */
    uint64_t lat_nsamples;
    double   ns_per_tick;

    rp_counters counters;

    char     alloc_version[128];
    char     alloc_config[1024];
    uint32_t nastats;
    rp_astat astats[RP_MAX_ASTATS];

    uint32_t nsamples;
    rp_tsample samples[RP_MAX_SAMPLES];

    /* --min-time: passes over the trace in the window (1 = once).  Times,
     * ops and latencies cover every pass (cleanup between passes excluded
     * from wall_ns); faults and context switches the first pass only, so
     * they stay comparable with one-pass runs. */
    uint64_t passes;
    /* Recorded threads: how often a replay thread waited for another's op
     * (rp_wait.h), and how many of those waits slept (futex) rather than
     * spun or yielded; the first pass's.  recorded: 1 in that mode. */
    uint64_t waits, sleeps;
    uint32_t recorded;

    /* Heap-only RSS (traces/common/heap_rss.h), comparable with a live
     * run's and the recorder's heap samples.  heap_offset: the worker's
     * anonymous resident memory that is not heap (.bss, stack, relocated
     * data), from smaps just before the window; it stays put during the
     * window, so heap = peak_rss/final_rss/samples minus heap_offset.
     * heap_final is read from smaps after the window (a check on the
     * offset).  -1 when smaps could not be read. */
    int64_t  heap_offset, heap_start, heap_final;
} rp_wresult;

#endif /* RP_RESULT_H */
