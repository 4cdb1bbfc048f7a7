/* hak_fast.h - the inlined fast paths of malloc and free.
 *
 * malloc: size -> class by arithmetic, pop the thread cache's list.
 * free:   SuperSlab by address mask, registry bit + magic check, class from
 *         the header's unit_cls byte, push on the thread cache's list.
 * No locks, no atomics, no calls; everything else (empty cache, full cache,
 * first use, large blocks, foreign pointers) goes to an out-of-line slow
 * path.  A thread whose heap is not initialised has empty bins with cap 0,
 * so both fast paths fall through to the slow path without a state check.
 */
#ifndef HAK_FAST_H
#define HAK_FAST_H

#include "hak_internal.h"

static inline __attribute__((always_inline)) void *hak_malloc_fast(size_t n)
{
    size_t cls;   /* size_t: (n + 15) >> 4 << 4 folds into one AND */
    /* 1..1024 needs no table and no config load; before init the bins are
     * empty, so this path falls to the slow path by itself.  n == 0 wraps. */
    if (HAK_LIKELY(n - 1 < HAK_SMALL_MAX))
        cls = (n + 15) >> 4;
    else if (n - 1 < (size_t)hak_cfg.mid_max)
        cls = hak_size_class(n);
    else
        return hak_malloc_slow(n);
    hak_bin *b = &hak_tls_heap.bins[cls];
    void *p = b->head;
    if (HAK_LIKELY(p != NULL)) {
        b->head = *(void **)p;
        b->count--;
        return p;
    }
    return hak_malloc_slow(n);
}

static inline __attribute__((always_inline)) void hak_free_fast(void *p)
{
    uintptr_t a = (uintptr_t)p;
    uintptr_t base = a & hak_cfg.ss_mask;
    uintptr_t bit = base >> HAK_REG_SHIFT;
    if (HAK_LIKELY(bit < HAK_REG_BITS && ((hak_registry[bit >> 6] >> (bit & 63)) & 1))) {
        const hak_ss *ss = (const hak_ss *)base;
        size_t cls = ss->unit_cls[(a - base) >> hak_cfg.slab_shift];
        /* Low half of the magic: the registry bit already vouches for the
         * mapping.  cls 0 (free unit, large block) needs no test of its
         * own: bins[0].cap is always 0, so it falls to the slow path. */
        if (HAK_LIKELY(*(const uint32_t *)ss == (uint32_t)HAK_SS_MAGIC)) {
            hak_bin *b = &hak_tls_heap.bins[cls];
            if (HAK_LIKELY(b->count < b->cap)) {
                *(void **)p = b->head;
                b->head = p;
                b->count++;
                return;
            }
        }
    }
    hak_free_slow(p);
}

#endif /* HAK_FAST_H */
