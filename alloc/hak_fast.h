/* hak_fast.h - the inlined fast paths of malloc and free.
 *
 * malloc: size -> bin offset by arithmetic (hak_small_last), pop the
 *         thread cache's stack, clear the freed mark in the block's first
 *         word (see below and hak_guard.h).
 * free:   SuperSlab by address mask, registry byte check, class from the
 *         header's gran_cls byte, block-start test (a multiply and a
 *         compare, both reading the divisor from memory), freed-mark test
 *         on the block's first word (its first byte, then the word), the
 *         mark stored there (the only store into the block), push on the
 *         thread cache's stack.
 *         Anything unusual (interior pointer, a first word equal to the
 *         mark) goes to the slow path, which decides exactly and aborts
 *         naming the pointer on misuse (hak_guard.h).
 * No locks, no atomics, no calls; everything else (empty cache, full cache,
 * first use, large blocks, foreign pointers) goes to an out-of-line slow
 * path.  A thread whose heap is not initialised has empty bins with cap 0,
 * so both fast paths fall through to the slow path without a state check.
 */
#ifndef HAK_FAST_H
#define HAK_FAST_H

#include "hak_guard.h"

/* The calling thread's bin at byte offset off.  On x86-64 with GCC's named
 * address spaces the bin is addressed %fs-relative: the thread-pointer
 * offset of hak_tls_heap is the initial-exec GOT slot (a load-time
 * constant, so the asm is not volatile and may be hoisted/CSEd), which
 * saves the read of %fs:0 and an add on both fast paths.  Elsewhere (and
 * under ASan, which does not instrument %fs accesses) it is plain C. */
#if defined(__x86_64__) && defined(__SEG_FS) && !defined(__SANITIZE_ADDRESS__)
typedef hak_bin __seg_fs hak_tbin;
typedef char __seg_fs hak_tchar;
static inline __attribute__((always_inline)) hak_tbin *hak_bin_at(size_t off)
{
    uintptr_t tpoff;
    __asm__("movq hak_tls_heap@gottpoff(%%rip), %0" : "=r"(tpoff));
    return (hak_tbin *)(tpoff + offsetof(hak_heap, bins) + off);
}
#else
typedef hak_bin hak_tbin;
typedef char hak_tchar;
static inline __attribute__((always_inline)) hak_tbin *hak_bin_at(size_t off)
{
    return (hak_tbin *)((char *)hak_tls_heap.bins + off);
}
#endif

static inline __attribute__((always_inline)) void *hak_malloc_fast(size_t n)
{
    /* 0..1024: the bin's byte offset is the block size (bins are 16 bytes
     * and class = block size / 16: hak_small_last), no table, no config
     * load.  n == 0 lands on bins[0] (the offset wraps to 0), which never
     * holds a block, so it goes to the slow path; so does everything before
     * init (all bins empty). */
    size_t last;    /* the bin's byte offset - 1: the + 1 goes into the loads' displacement */
    if (HAK_LIKELY(n <= HAK_SMALL_MAX))
        last = hak_small_last(n);
    else if (n - 1 < (size_t)hak_cfg.mid_max)
        last = (size_t)hak_size_class(n) * sizeof(hak_bin) - 1;
    else
        return hak_malloc_slow(n);
    hak_tbin *b = (hak_tbin *)((hak_tchar *)hak_bin_at(last) + 1);
    void **t = b->top;
    if (HAK_LIKELY(hak_lo32(t) != b->empty_lo)) {
        b->top = --t;
        void *p = *t;
        /* One store, so that a block the program never writes before its
         * free does not look freed: left in place, such frees (sh6bench,
         * glibc's bench-malloc-thread) all took the exact double-free
         * search, 2-10x mimalloc's CPU time.  Its cost: tiny_hot_16
         * -6% (medians of 7, noisy machine), random_mixed +5%. */
        *hak_mark_word(p) = 0;
        return p;
    }
    return hak_malloc_slow(n);
}

static inline __attribute__((always_inline)) void hak_free_fast(void *p)
{
    uintptr_t a = (uintptr_t)p;
    uintptr_t base = a & hak_cfg.ss_mask;
    uintptr_t bit = base >> HAK_REG_SHIFT;
    /* The registry byte is the validation: it is set only for the base of a
     * mapping of ours laid out as a hak_ss header, so after it the header
     * can be read.  No magic compare here: a large block's header has
     * cls_div all zero (no offset passes the block-start test), a free unit
     * and a page not yet carved have class 0, and bins[0] is always full
     * (cap 0), so all fall to the slow path (which checks the magic). */
    if (HAK_LIKELY(bit < HAK_REG_BITS && hak_cfg.registry[bit])) {
        const hak_ss *ss = (const hak_ss *)base;
        uintptr_t off = a - base;
        size_t cls = ss->gran_cls[off >> HAK_GRAN_SHIFT];
        size_t boff = cls * sizeof(hak_bin);
        hak_tbin *b = hak_bin_at(boff);
        void **t = b->top;
        uintptr_t mark = hak_free_mark(p);
        /* The block is read only after the class proved it one of ours
         * (class 0 fails the block-start test). */
        _Static_assert(sizeof(ss->cls_div[0]) == sizeof(hak_bin), "indexed by the bin offset");
        /* No owner test here: it cost random_mixed 6-10% of its CPU time
         * (class test first or owner test first alike; larson_2t 1.7x
         * with the owner test first), so only the slow path sends other
         * threads' small blocks home (HAK_LINE, hak_api.c). */
        /* The mark test reads the first byte, and the whole word only when
         * that byte is the mark's (the same test: a word equal to the mark
         * has the mark's low byte).  Since malloc stores 0 into the word, a
         * program's one-byte write into the block sits behind that 8-byte
         * store in the store buffer, and an 8-byte load over both cannot
         * take its data from them: it waits for both to reach the cache.
         * A 1-byte load is forwarded from the byte store (or from malloc's
         * store when the program wrote nothing).  small_loop (malloc, write
         * p[0], free) 183 -> 226M ops per CPU s, tcmalloc 218; tiny_hot and
         * random_mixed unchanged (medians of 7 interleaved runs). */
        if (HAK_LIKELY(hak_lo32(t) != b->full_lo &&
                       hak_off_div_ok(off, base, offsetof(hak_ss, cls_div), boff) &&
                       (*(const uint8_t *)p != (uint8_t)mark || *hak_mark_word(p) != mark))) {
            *hak_mark_word(p) = mark;
            *t = p;
            b->top = t + 1;
            return;
        }
    }
    hak_free_slow(p);
}

#endif /* HAK_FAST_H */
