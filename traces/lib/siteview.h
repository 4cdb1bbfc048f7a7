/* siteview.h - one streaming pass over a trace that gives, per call site,
 * what the memory-profiler views ask for: allocations, leaks, the live
 * bytes at the moment of the peak, temporaries and short-lived blocks.
 *
 * `hak trace leaks|peak|temporaries|flame|diff` all run this one pass; they
 * differ only in what they print.  Memory is bounded by the live blocks (one
 * 40-byte record each, in an open-addressing table that removes freed
 * blocks, unlike heapmodel.h which remembers every address ever freed) and
 * by the call sites; never by the number of events.
 *
 * Block semantics are heapmodel.h's (realloc(p, 0) returning NULL frees p,
 * a failed allocation leaves nothing, an address handed out while still live
 * is a second block and a free kills the oldest one, free(NULL) and
 * mmap/thread events are ignored), except that a free of an address not
 * live is counted as `unknown_frees` whether or not it was freed before
 * (telling double frees apart would need every freed address: `hak trace
 * validate` does that).
 *
 * Definitions (exact; the tests in traces/tests/test_siteview.c pin them):
 *  - leaked: a block still live after the last readable event ("not
 *    freed"; reachability is not examined).  For a truncated trace that is
 *    the end of the readable prefix.
 *  - peak: the first event after which the live requested bytes are at
 *    their maximum; a site's peak bytes are its live bytes right after that
 *    event.  Found in the same single pass by a lazy snapshot (see
 *    siteview.c): no second pass and no per-peak copy of every site.
 *  - peak RSS: the first RSS sample with the largest value; a site's bytes
 *    there are its live bytes after every event with ts_ns <= the sample's
 *    time (the samples are known before the events are read).
 *  - temporary (heaptrack's definition): a block whose free is the very
 *    next allocation or free after its own allocation, with no other
 *    allocation or free in between.  HAK_SV_TEMP_GLOBAL (default) looks at
 *    the trace's global order, as heaptrack does (so the figures compare);
 *    HAK_SV_TEMP_THREAD at the allocating thread's own operations (a block
 *    freed by another thread is then never temporary), so that another
 *    thread's activity in between does not hide a temporary.  A realloc
 *    counts as a free of its old block followed by an allocation.
 *  - short-lived: a freed block whose lifetime is at most short_events
 *    events (seq of the free - seq of the allocation) and, when short_ns is
 *    set, at most short_ns nanoseconds.
 */
#ifndef HAK_SITEVIEW_H
#define HAK_SITEVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "trace.h"

enum { HAK_SV_TEMP_GLOBAL = 0, HAK_SV_TEMP_THREAD = 1 };

typedef struct hak_sv_opts {
    int temp_scope;          /* HAK_SV_TEMP_GLOBAL or HAK_SV_TEMP_THREAD */
    uint64_t short_events;   /* short-lived: lifetime <= this many events ... */
    uint64_t short_ns;       /* ... and <= this many ns (0 = no time limit) */
} hak_sv_opts;

/* Per-call-site results.  `id` is the trace's site id (0: no stack). */
typedef struct hak_sv_site {
    uint32_t id;
    uint64_t allocs, alloc_bytes;      /* blocks born here (realloc results too) */
    uint64_t frees;                    /* of those, freed */
    uint64_t live, live_bytes;         /* live now; after hak_sv_finish: leaked */
    uint64_t leak_largest;             /* largest leaked block (after finish) */
    uint64_t peak_live, peak_bytes;    /* live at the peak (after finish) */
    uint64_t rss_live, rss_bytes;      /* live at the peak RSS sample (after finish) */
    uint64_t temporary, short_lived;
    uint64_t max_bytes;                /* the site's own largest live bytes */
    /* lazy peak snapshot (siteview.c) */
    uint64_t snap_epoch, snap_live, snap_bytes;
} hak_sv_site;

typedef struct hak_sv_block hak_sv_block;

typedef struct hak_siteview {
    hak_sv_opts opt;
    hak_sv_site *sites;          /* [nsites], in order of first appearance */
    uint32_t nsites, capsites;
    uint32_t *site_idx;          /* hash: site id -> index + 1 (0 = empty) */
    uint32_t *site_key;
    uint32_t site_mask;
    uint32_t last_id, last_idx;  /* one-entry cache */
    hak_sv_block *blk;           /* live blocks by address */
    size_t blk_mask, nblk;
    unsigned blk_shift;          /* 64 - log2(table size) */
    /* Totals. */
    uint64_t events, allocs, alloc_bytes, frees, failed_allocs, null_frees;
    uint64_t unknown_frees, inversions;
    uint64_t live, live_bytes;
    uint64_t temporary, short_lived;
    /* The peak: live bytes and blocks after event peak_seq (time peak_ns). */
    uint64_t peak_bytes, peak_live, peak_seq, peak_ns, peak_epoch;
    int have_peak;
    /* Peak RSS (from the trace's samples); rss_taken once sites hold it. */
    int have_rss, rss_taken;
    uint64_t rss_peak, rss_ns, rss_heap_bytes, rss_heap_live;
    uint64_t rss_take_after;     /* rss_ns until taken, else UINT64_MAX */
    /* Temporaries: birth seq of the last allocation (per thread in
     * HAK_SV_TEMP_THREAD mode; UINT64_MAX = none since the last free). */
    uint64_t last_alloc;
    uint64_t *thr_last;
    uint32_t nthr;
    uint64_t last_seq, last_ns;  /* of the last event seen */
    int oom;
} hak_siteview;

/* rss/nrss: the trace's samples (hak_tr_rss), may be NULL/0.  0, or -1 on
 * out of memory. */
int hak_sv_init(hak_siteview *v, const hak_sv_opts *opt,
                const hak_rss_sample *rss, size_t nrss);
void hak_sv_destroy(hak_siteview *v);
/* Applies events in global order.  0, or -1 when out of memory. */
int hak_sv_apply(hak_siteview *v, const hak_event *ev, size_t n);
/* Index in sites of site id, or UINT32_MAX when not seen (yet). */
uint32_t hak_sv_find(const hak_siteview *v, uint32_t id);
/* Ends the pass: fills leak_largest, peak_* and rss_* of every site. */
void hak_sv_finish(hak_siteview *v);
/* The whole pass over r's readable events (hak_tr_read in batches), with
 * an optional progress callback every ~1M events.  0; -1 with a reason in
 * err (decoding error or out of memory). */
int hak_sv_run(hak_siteview *v, hak_trace_reader *r,
               void (*progress)(void *ctx, uint64_t done), void *ctx,
               char *err, size_t errlen);

#endif
