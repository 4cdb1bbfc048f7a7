/* hak_guard.h - the cheap checks that keep misuse from corrupting the heap.
 *
 * Block geometry: every block of a slab of class c starts at a multiple of
 * cls_size[c] from its SuperSlab's base (slab_init rounds the slab's first
 * block up to one).  So "is p a block start" needs no slab descriptor: it is
 * (p - base) % size == 0, tested without a division as
 * (p - base) * cls_div[c] < cls_div[c] with cls_div[c] = ceil(2^64 / size)
 * (exact for offsets and sizes below 2^32: Lemire, Kaser, Kurz, "Faster
 * remainder by direct computation", 2019).  Class 0 has cls_div 0, so the
 * test is false there.  The header pages of a SuperSlab have class 0,
 * so a pointer into the header never passes either; nor does one into a
 * page that carving has not entered (hak_slab_enter, hak_internal.h).
 *
 * Freed mark: free() stores HAK_FREE_MARK in a block's first word; a block
 * in a thread cache or on a slab's free list or remote queue carries it
 * (a listed block's link is in the second word).  malloc clears it on
 * every path, fast path included: when the fast path left it (to save a
 * store), a block the program never wrote kept a stale mark, and loops that
 * allocate and free without writing (sh6bench, glibc's bench-malloc-thread)
 * sent every free to the exact search below, 2-10x mimalloc's CPU time.
 * A stale mark is now left only by a program that writes the mark's value
 * into a live block's first word.  The mark is the only store free()
 * makes into the block: it does not record the cache slot (one store per
 * free, 1 instruction of ~31).  free() of a block whose first word is the
 * mark goes to the slow path, which decides exactly: the block is free if
 * a live entry of some thread's cache of its class holds it (the calling
 * thread's bin searched first, newest entry first, then the other threads'
 * under the global lock), or if it is on its slab's free list or remote
 * queue (hak_block_is_free, hak_check.c).  Free: abort ("double free
 * detected"); not free: a stale mark, the free goes ahead.
 *
 * Free-list links (a slab's local list and its remote queue, in the
 * block's second word) are stored encoded with the block's own address
 * and link_secret, and every decoded link must name a block slot of the
 * same slab, or the process aborts: an overwrite of a freed block (a use
 * after free) cannot steer a later malloc to an address of the writer's
 * choice.  Thread-cache stacks are arrays outside the blocks, so writes
 * into freed blocks cannot reach them at all.
 */
#ifndef HAK_GUARD_H
#define HAK_GUARD_H

#include "hak_internal.h"

/* Aborts with "hakmem: WHAT: POINTER" on stderr (hak_check.c). */
__attribute__((noreturn, cold, noinline)) void hak_misuse(const char *what, const void *p);

/* HAKMEM_CHECK=1 (hak_check.c): bytes added to every request for the
 * canary, arming a new block, its requested size, verifying a block being
 * freed (then poisoning it) and one taken from a free list again. */
#define HAK_CHECK_PAD 16
void   hak_check_arm(void *p, size_t n);
size_t hak_check_size(const hak_ss *ss, const void *p);
void   hak_check_free(const hak_ss *ss, void *p);
void   hak_check_reuse(void *p, size_t block);

/* 1 if off (from the SuperSlab base, < 2^32) is a block start of class cls. */
static inline int hak_is_block_off(uintptr_t off, unsigned cls)
{
    uint64_t d = hak_cfg.cls_div[cls];
    return (uint64_t)off * d < d;
}

/* The fast path's form of the block-start test, off * div < div, with div
 * the 8 bytes at base + disp + boff (the SuperSlab header's cls_div, which
 * the bin offset indexes).  On x86-64 the multiply and the compare both
 * take div as a memory operand (GCC otherwise loads it into a register and
 * copies off first). */
static inline __attribute__((always_inline)) int hak_off_div_ok(uint64_t off, uintptr_t base,
                                                                size_t disp, size_t boff)
{
#if defined(__x86_64__) && defined(__GCC_ASM_FLAG_OUTPUTS__) && !defined(__SANITIZE_ADDRESS__)
    int below;
    __asm__("imulq %c3(%2,%4), %0\n\tcmpq %c3(%2,%4), %0"
            : "+r"(off), "=@ccb"(below)
            : "r"(base), "i"(disp), "r"(boff), "m"(*(const uint64_t *)(base + disp + boff)));
    return below;
#else
    uint64_t div = *(const uint64_t *)(base + disp + boff);
    return off * div < div;
#endif
}

/* The mark is only a filter in front of an exact search, so it needs no
 * secret: a constant that fits a sign-extended 32-bit immediate saves
 * free() a load (cmp and mov with an immediate).  Its low byte 0xb7 is odd
 * and above 0x7f: a program that writes just the first byte of a block
 * (a small number, an ASCII character, a pointer's low byte) rarely
 * leaves a stale mark behind. */
#define HAK_FREE_MARK ((uintptr_t)(intptr_t)(int32_t)0xa5c3e1b7u)
static inline uintptr_t hak_free_mark(const void *p)
{
    (void)p;
    return HAK_FREE_MARK;
}

static inline uintptr_t *hak_mark_word(void *p) { return (uintptr_t *)p; }

/* Exact: p (a block slot of class cls in ss) is in a thread cache or on
 * its slab's lists (hak_check.c; slow, for free() of a marked block). */
int hak_block_is_free(hak_ss *ss, void *p, unsigned cls);

/* Byte offsets (from the SuperSlab base) of the first block and of the end
 * of the last whole block of a slab of class cls whose head unit is u. */
static inline uintptr_t hak_slab_lo_off(unsigned u, unsigned cls)
{
    uintptr_t start = (uintptr_t)u << hak_cfg.slab_shift;
    if (start < hak_cfg.hdr_size) start = hak_cfg.hdr_size;
    uintptr_t b = hak_cfg.cls_size[cls];
    return (start + b - 1) / b * b;
}

static inline uintptr_t hak_slab_end_off(unsigned u, unsigned cls)
{
    uintptr_t lo = hak_slab_lo_off(u, cls);
    uintptr_t hi = (uintptr_t)(u + hak_cfg.cls_units[cls]) << hak_cfg.slab_shift;
    uintptr_t b = hak_cfg.cls_size[cls];
    return hi > lo ? lo + (hi - lo) / b * b : lo;
}

/* Exact test, from the geometry alone (no slab field is read, so it is
 * safe on any thread): p is a block slot of the slab covering its unit. */
static inline int hak_is_block(const hak_ss *ss, const void *p)
{
    uintptr_t off = (uintptr_t)p - (uintptr_t)ss;
    unsigned u = (unsigned)(off >> hak_cfg.slab_shift);
    unsigned cls = ss->unit_cls[u];
    if (!cls || !hak_is_block_off(off, cls)) return 0;
    unsigned head = ss->unit_head[u];
    return off >= hak_slab_lo_off(head, cls) && off < hak_slab_end_off(head, cls);
}

/* hak_is_block, and the block has been carved: handed out at some time,
 * not still in the slab's bump area (a slot never handed out is not a
 * block to free, realloc or measure).  bump is read on any thread: it only
 * grows while the slab lives, and a block the caller holds was carved
 * before the caller could hold it. */
static inline int hak_is_carved_block(hak_ss *ss, const void *p)
{
    if (!hak_is_block(ss, p)) return 0;
    const hak_slab *s = hak_slab_of(ss, p);
    return (const char *)p < __atomic_load_n(&s->bump, __ATOMIC_RELAXED);
}

/* ---- remote queues ----
 * A slab's remote queue is one word: the head block's address in the low
 * 48 bits and the number of blocks queued in the top 16 (HAK_RQ_MANY:
 * "many", counted by a walk).  Pushers add their run's length in the same
 * compare-and-swap, so the owner knows the count after its one exchange
 * and, when its local free list is empty, takes the queue as its free list
 * without walking it: the links are encoded the same way in both lists
 * (by the block's own address), and refill checks each as it pops it. */
#define HAK_RQ_SHIFT 48
#define HAK_RQ_MANY  0xffffu
static inline void *hak_rq_ptr(uintptr_t v)
{
    return (void *)(v & (((uintptr_t)1 << HAK_RQ_SHIFT) - 1));
}
static inline uint32_t hak_rq_count(uintptr_t v) { return (uint32_t)(v >> HAK_RQ_SHIFT); }
/* The queue word after pushing n blocks headed by head onto old. */
static inline uintptr_t hak_rq_push(uintptr_t old, const void *head, uint32_t n)
{
    uint64_t c = (uint64_t)hak_rq_count(old) + n;
    if (hak_rq_count(old) == HAK_RQ_MANY || c > HAK_RQ_MANY) c = HAK_RQ_MANY;
    return (uintptr_t)head | (uintptr_t)(c << HAK_RQ_SHIFT);
}
_Static_assert(HAK_ADDR_BITS <= HAK_RQ_SHIFT, "user addresses fit below the count");

/* ---- free-list links ---- */
#define HAK_LINK_ROT 23
static inline void hak_link_set(void *blk, const void *next)
{
    uintptr_t v = (uintptr_t)next ^ hak_cfg.link_secret;
    v = (v << HAK_LINK_ROT) | (v >> (64 - HAK_LINK_ROT));
    ((uintptr_t *)blk)[1] = v + (uintptr_t)blk;
}

static inline void *hak_link_get(const void *blk)
{
    uintptr_t v = __atomic_load_n((const uintptr_t *)blk + 1, __ATOMIC_RELAXED) - (uintptr_t)blk;
    v = (v >> HAK_LINK_ROT) | (v << (64 - HAK_LINK_ROT));
    return (void *)(v ^ hak_cfg.link_secret);
}

/* 1 if p is a block slot of slab s (s->lo .. s->end, block aligned). */
static inline int hak_slab_has(const hak_slab *s, const void *p)
{
    uintptr_t base = (uintptr_t)s & hak_cfg.ss_mask;
    return (const char *)p >= s->lo && (const char *)p < s->end &&
           hak_is_block_off((uintptr_t)p - base, s->cls);
}

/* The decoded successor of blk on one of slab s's lists; aborts when the
 * link was overwritten. */
static inline void *hak_link_next(const hak_slab *s, const void *blk)
{
    void *next = hak_link_get(blk);
    if (HAK_UNLIKELY(next && !hak_slab_has(s, next)))
        hak_misuse("corrupted free list (freed block overwritten)", blk);
    return next;
}

/* ---- invariants (hak_assert.h; compiled out of release builds) ---- */

/* Every block slot of a slab is held (used: by the program, a thread cache
 * or the remote queue), on its local free list (nfree) or not carved yet
 * (the bump area).  Holds whenever the owner is not inside an update. */
static inline int hak_slab_counts_ok(const hak_slab *s)
{
    return s->block && s->lo <= s->bump && s->bump <= s->end && s->used <= s->capacity &&
           (uint64_t)s->used + s->nfree + (uint64_t)(s->end - s->bump) / s->block == s->capacity;
}

/* The local free list really has nfree blocks (a walk: HAK_DEBUG=3). */
static inline int hak_slab_free_len_ok(const hak_slab *s)
{
    uint32_t n = 0;
    for (const void *q = s->free; q && n <= s->capacity; q = hak_link_next(s, q)) n++;
    return n == s->nfree;
}

/* The slab's SuperSlab belongs to heap h: only its owner may touch the
 * local free list, the bump pointer and the counts. */
static inline int hak_slab_owned_by(const hak_slab *s, const struct hak_heap *h)
{
    const hak_ss *ss = (const hak_ss *)((uintptr_t)s & hak_cfg.ss_mask);
    return atomic_load_explicit(&((hak_ss *)ss)->owner, memory_order_relaxed) == h;
}

#endif /* HAK_GUARD_H */
