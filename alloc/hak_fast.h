/* hak_fast.h - the inlined fast paths of malloc and free.
 *
 * malloc: size -> bin offset by arithmetic, pop the thread cache's stack.
 * free:   SuperSlab by address mask, registry bit check, class from the
 *         header's unit_cls byte, push on the thread cache's stack.
 * Neither reads nor writes the block itself.
 * No locks, no atomics, no calls; everything else (empty cache, full cache,
 * first use, large blocks, foreign pointers) goes to an out-of-line slow
 * path.  A thread whose heap is not initialised has empty bins with cap 0,
 * so both fast paths fall through to the slow path without a state check.
 */
#ifndef HAK_FAST_H
#define HAK_FAST_H

#include "hak_internal.h"

/* The calling thread's bin at byte offset off.  On x86-64 with GCC's named
 * address spaces the bin is addressed %fs-relative: the thread-pointer
 * offset of hak_tls_heap is the initial-exec GOT slot (a load-time
 * constant, so the asm is not volatile and may be hoisted/CSEd), which
 * saves the read of %fs:0 and an add on both fast paths.  Elsewhere (and
 * under ASan, which does not instrument %fs accesses) it is plain C. */
#if defined(__x86_64__) && defined(__SEG_FS) && !defined(__SANITIZE_ADDRESS__)
typedef hak_bin __seg_fs hak_tbin;
static inline __attribute__((always_inline)) hak_tbin *hak_bin_at(size_t off)
{
    uintptr_t tpoff;
    __asm__("movq hak_tls_heap@gottpoff(%%rip), %0" : "=r"(tpoff));
    return (hak_tbin *)(tpoff + offsetof(hak_heap, bins) + off);
}
#else
typedef hak_bin hak_tbin;
static inline __attribute__((always_inline)) hak_tbin *hak_bin_at(size_t off)
{
    return (hak_tbin *)((char *)hak_tls_heap.bins + off);
}
#endif

static inline __attribute__((always_inline)) void *hak_malloc_fast(size_t n)
{
    /* 0..1024: the bin's byte offset is the size rounded up to 16 (bins are
     * 16 bytes and class = (n + 15) / 16), no table, no config load.  n == 0
     * lands on bins[0], which never holds a block, so it goes to the slow
     * path; so does everything before init (all bins empty). */
    size_t off;
    if (HAK_LIKELY(n <= HAK_SMALL_MAX))
        off = (n + 15) & ~(size_t)15;
    else if (n - 1 < (size_t)hak_cfg.mid_max)
        off = (size_t)hak_size_class(n) * sizeof(hak_bin);
    else
        return hak_malloc_slow(n);
    hak_tbin *b = hak_bin_at(off);
    void **t = b->top;
    if (HAK_LIKELY(hak_lo32(t) != b->empty_lo)) {
        b->top = --t;
        return *t;
    }
    return hak_malloc_slow(n);
}

static inline __attribute__((always_inline)) void hak_free_fast(void *p)
{
    uintptr_t a = (uintptr_t)p;
    uintptr_t base = a & hak_cfg.ss_mask;
    uintptr_t bit = base >> HAK_REG_SHIFT;
    /* The registry bit is the validation: it is set only for the base of a
     * mapping of ours laid out as a hak_ss header, so after it the header
     * can be read.  No magic compare here: a large block's header has
     * unit_cls all zero and a free unit has class 0, and bins[0] is always
     * full (cap 0), so both fall to the slow path (which checks the magic). */
    if (HAK_LIKELY(bit < HAK_REG_BITS && ((hak_registry[bit >> 6] >> (bit & 63)) & 1))) {
        const hak_ss *ss = (const hak_ss *)base;
        size_t cls = ss->unit_cls[(a - base) >> hak_cfg.slab_shift];
        hak_tbin *b = hak_bin_at(cls * sizeof(hak_bin));
        void **t = b->top;
        if (HAK_LIKELY(hak_lo32(t) != b->full_lo)) {
            *t = p;
            b->top = t + 1;
            return;
        }
    }
    hak_free_slow(p);
}

#endif /* HAK_FAST_H */
