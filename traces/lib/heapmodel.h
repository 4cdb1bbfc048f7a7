/* heapmodel.h - replays a trace's events against a model of the live heap.
 *
 * `hak trace info`, `stats` and `validate` all need the same thing: which
 * blocks are live after each event, how many bytes that is, when each block
 * died and what was wrong with the stream.  The model keeps one record per
 * live block (address, requested bytes, birth seq/ts/thread/site) and
 * remembers every address it has seen freed, so a second free of it is a
 * double free rather than a free of an unknown pointer.
 *
 * Semantics (the same as the replay form in trace.h):
 *  - malloc/calloc/memalign/posix_memalign/aligned_alloc/valloc/pvalloc with
 *    a non-zero out_ptr create a block of `size` bytes (calloc and
 *    reallocarray: nmemb * size, saturating); a zero out_ptr is a failure.
 *  - realloc/reallocarray: in_ptr 0 is an allocation; out_ptr 0 with a
 *    requested size of 0 frees in_ptr (glibc and bionic); out_ptr 0 otherwise
 *    is a failure that leaves in_ptr live; else in_ptr dies and out_ptr is
 *    born (also when they are equal).
 *  - free(0) is counted and ignored.
 *  - An address handed out again while still live ("inversion": imported
 *    traces can record a free after the reuse) creates a second block at
 *    that address; a later free kills the *oldest* one.
 *  - mmap/munmap/mremap and thread events do not touch the model.
 *  - With inherited_heap set (a trace of a forked child, whose recording
 *    starts with the parent's heap already live), a free/realloc of a
 *    never-seen pointer is an "inherited free", not an unknown free: it
 *    frees a block allocated before the fork.  The address then counts as
 *    freed, so a second free of it is still a double free.
 * Memory: one 48-byte record per live block plus 12 bytes per distinct
 * address ever seen.
 */
#ifndef HAK_HEAPMODEL_H
#define HAK_HEAPMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "trace.h"

typedef struct hak_hm_obj {
    uint64_t addr, size;     /* size: requested bytes */
    uint64_t seq, ts_ns;     /* of the allocating event */
    uint32_t tid, site;
    uint32_t next;           /* newer block at the same address, or HAK_HM_NIL */
} hak_hm_obj;

#define HAK_HM_NIL UINT32_MAX

/* Findings of one event (bit mask returned by hak_hm_apply). */
enum {
    HAK_HM_UNKNOWN_FREE = 1 << 0,  /* free/realloc of a pointer never returned */
    HAK_HM_DOUBLE_FREE  = 1 << 1,  /* free/realloc of a pointer already freed */
    HAK_HM_INVERSION    = 1 << 2,  /* an address returned while still live */
    HAK_HM_FAILED       = 1 << 3,  /* an allocation returned NULL */
    HAK_HM_FREE_NULL    = 1 << 4,  /* free(NULL) */
    HAK_HM_OOM          = 1 << 5,  /* the model itself ran out of memory */
    HAK_HM_INHERITED_FREE = 1 << 6,/* inherited_heap: free of a pre-fork block */
};

/* Called when a block dies: `obj` is the dead block, `ev` the freeing event. */
typedef void (*hak_hm_death_fn)(void *ctx, const hak_hm_obj *obj, const hak_event *ev);

typedef struct hak_heap_model {
    /* address -> index of the oldest live block, or HM_FREED */
    uint64_t *keys;
    uint32_t *vals;
    size_t cap, used;
    hak_hm_obj *objs;
    uint32_t nobjs, capobjs, free_head;
    hak_hm_death_fn on_death;
    void *ctx;
    /* Counters. */
    uint64_t live_objects, live_bytes, peak_live_bytes, peak_live_objects;
    uint64_t allocs, alloc_bytes, frees;
    uint64_t unknown_frees, double_frees, inversions, failed_allocs, null_frees;
    /* Set by the caller after hak_hm_init (0 by default): the trace starts
     * with an unseen live heap (a forked child's; see the semantics). */
    int inherited_heap;
    uint64_t inherited_frees;
    /* Blocks from before a window (FORMAT.md, "Windows"): a free or realloc
     * of an address never seen that carries the block's size.  Counted
     * here, not as unknown frees; the address is then a freed one. */
    uint64_t pre_blocks, pre_bytes;
} hak_heap_model;

/* 0, or -1 on out of memory.  on_death may be NULL. */
int hak_hm_init(hak_heap_model *m, hak_hm_death_fn on_death, void *ctx);
void hak_hm_destroy(hak_heap_model *m);
/* Applies one event; returns its findings (0 when clean). */
unsigned hak_hm_apply(hak_heap_model *m, const hak_event *ev);
/* Bytes an allocating event asks for (nmemb * size for calloc/reallocarray). */
uint64_t hak_hm_request_bytes(const hak_event *ev);
/* Calls fn for every live block (in no particular order). */
void hak_hm_foreach_live(const hak_heap_model *m,
                         void (*fn)(void *ctx, const hak_hm_obj *obj), void *ctx);

#endif
