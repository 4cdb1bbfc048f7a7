/* hak_api.c - the hak_* entry points with glibc semantics, and the
 * out-of-line slow paths the inlined fast paths fall back to.
 *
 * Foreign pointers (not in the registry: e.g. allocated by the dynamic
 * loader's bootstrap malloc before we were reachable) are never dereferenced:
 * free() counts and ignores them, malloc_usable_size() says 0, realloc()
 * copies what it can read safely (process_vm_readv stops at the first
 * unmapped byte instead of faulting).  Pointers into our own mappings that
 * are not a live block's start (interior pointers, pointers into free
 * units or headers, blocks freed already) abort with a one-line message
 * (hak_guard.h, hak_check.c).
 */
#include "hak_fast.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* Pops the bin or refills it; the heap is h (locked by the caller if it is
 * the orphan heap). */
static void *heap_alloc(hak_heap *h, unsigned cls, int *fresh)
{
    hak_bin *b = &h->bins[cls];
    if (hak_bin_count(b)) {
        *fresh = 0;
        return *--b->top;
    }
    if (!hak_bin_cap(b)) hak_bin_attach(h, cls);    /* the class's first use */
    void *p = hak_heap_refill(h, cls, fresh);
    if (!p) errno = ENOMEM;
    return p;
}

/* A block of class cls.  Its freed mark is cleared here, where it is cheap
 * (malloc's fast path leaves it: hak_guard.h). */
static void *alloc_class(unsigned cls, int *fresh)
{
    hak_assert(cls > 0 && cls < hak_cfg.ncls);
    hak_heap *h = hak_heap_get();
    void *p;
    if (HAK_LIKELY(h != NULL)) {
        p = heap_alloc(h, cls, fresh);
    } else {
        pthread_mutex_lock(&hak_orphan_lock);
        /* (set here, not at init: its page would be one more page of
         * every process; its bins stay cap 0: no caching) */
        hak_orphan_heap.state = HEAP_ACTIVE;
        p = heap_alloc(&hak_orphan_heap, cls, fresh);
        pthread_mutex_unlock(&hak_orphan_lock);
    }
    hak_assert(!p || hak_is_block(hak_ss_of(p), p));
    if (p) *hak_mark_word(p) = 0;
    return p;
}

static int ensure_init(void)
{
    if (HAK_UNLIKELY(atomic_load_explicit(&hak_init_state, memory_order_acquire) != 2))
        hak_global_init();
    return 1;
}

/* Allocation of n bytes with the block's kernel-zero status in *fresh. */
static void *alloc_plain(size_t n, int *fresh)
{
    if (n == 0) n = 1;
    if (n <= hak_cfg.mid_max)
        return alloc_class(hak_size_class(n), fresh);
    if (n > PTRDIFF_MAX) { errno = ENOMEM; return NULL; }
    return hak_large_alloc(n, 0, fresh);
}

static void *alloc_aligned(size_t align, size_t n, int *fresh);

/* HAKMEM_CHECK: room for the canary, then arm it (hak_check.c). */
static HAK_COLD void *alloc_checked(size_t align, size_t n, int *fresh)
{
    if (n > PTRDIFF_MAX - 2 * HAK_CHECK_PAD) { errno = ENOMEM; return NULL; }
    void *p = align <= 16 ? alloc_plain(n + HAK_CHECK_PAD, fresh)
                          : alloc_aligned(align, n + HAK_CHECK_PAD, fresh);
    if (p) hak_check_arm(p, n);
    return p;
}

static void *alloc_any(size_t n, int *fresh)
{
    ensure_init();
    if (HAK_UNLIKELY(hak_cfg.check)) return alloc_checked(0, n, fresh);
    return alloc_plain(n, fresh);
}

/* Aborts unless p (in our SuperSlab or large mapping ss) is a live block's
 * start; op names the caller in the message. */
static void check_live(hak_ss *ss, void *p, const char *invalid, const char *freed)
{
    if (ss->magic == HAK_LARGE_MAGIC) {
        if ((char *)p == (char *)ss + ss->user_off) return;
        /* user_off 0: the mapping sits in the large cache, freed. */
        hak_misuse(ss->user_off ? invalid : freed, p);
    }
    if (!hak_is_carved_block(ss, p)) hak_misuse(invalid, p);
    if (HAK_UNLIKELY(*hak_mark_word(p) == hak_free_mark(p))) {
        unsigned cls = ss->unit_cls[((uintptr_t)p - (uintptr_t)ss) >> hak_cfg.slab_shift];
        if (hak_block_is_free(ss, p, cls)) hak_misuse(freed, p);
    }
}

HAK_NOINLINE void *hak_malloc_slow(size_t n)
{
    int fresh;
    return alloc_any(n, &fresh);
}

HAK_NOINLINE void hak_free_slow(void *p)
{
    if (!p) return;
    hak_ss *ss = hak_ss_of(p);
    if (!ss) {
        if (!hak_huge_aligned_free(p, NULL)) HAK_ADD(foreign_frees, 1);
        return;
    }
    check_live(ss, p, "free(): invalid pointer", "free(): double free detected");
    if (HAK_UNLIKELY(hak_cfg.check)) hak_check_free(ss, p);
    if (ss->magic == HAK_LARGE_MAGIC) { hak_large_free(ss, p); return; }
    *hak_mark_word(p) = hak_free_mark(p);
    unsigned cls = ss->unit_cls[((uintptr_t)p - (uintptr_t)ss) >> hak_cfg.slab_shift];
    hak_heap *h = hak_heap_get();
    if (!h) {
        pthread_mutex_lock(&hak_orphan_lock);
        hak_orphan_heap.state = HEAP_ACTIVE;
        hak_block_return(&hak_orphan_heap, p, ss);
        pthread_mutex_unlock(&hak_orphan_lock);
        return;
    }
    if (hak_cfg.cls_size[cls] < HAK_LINE && ss->owner_tp != hak_tp()) {
        hak_block_return(h, p, ss);     /* home: no false sharing (hak_fast.h) */
        return;
    }
    hak_bin *b = &h->bins[cls];
    uint32_t cap = hak_bin_cap(b);
    if (!cap && hak_bin_attach(h, cls)) cap = hak_bin_cap(b);
    if (hak_bin_count(b) >= cap) {
        /* Overflow: send half the bin home, then cache p (or return it
         * directly when caching is off).  (Keeping an eighth made
         * producer/consumer 25% slower, for no RSS gain measurable.) */
        hak_heap_flush(h, cls, cap / 2);
        if (cap == 0) { hak_block_return(h, p, ss); return; }
    }
    *b->top++ = p;
}

HAK_API void *hak_malloc(size_t n) { return hak_malloc_fast(n); }
HAK_API void hak_free(void *p) { hak_free_fast(p); }

/* Usable bytes of one of our blocks; 0 for foreign pointers. */
HAK_API size_t hak_usable_size(const void *p)
{
    if (!p) return 0;
    hak_ss *ss = hak_ss_of(p);
    if (!ss) {
        size_t n = 0;
        return hak_huge_aligned_free((void *)p, &n) ? n : 0;
    }
    if (ss->magic == HAK_LARGE_MAGIC) {
        if (!ss->user_off || (const char *)p != (const char *)ss + ss->user_off) return 0;
        if (HAK_UNLIKELY(hak_cfg.check)) return hak_check_size(ss, p);
        return ss->map_size - ss->user_off;
    }
    if (!hak_is_carved_block(ss, p)) return 0;   /* interior, header, free unit, never handed out */
    if (HAK_UNLIKELY(hak_cfg.check)) return hak_check_size(ss, p);
    return hak_cfg.cls_size[ss->unit_cls[((uintptr_t)p - (uintptr_t)ss) >> hak_cfg.slab_shift]];
}

HAK_API int hak_owns(const void *p)
{
    return p && hak_usable_size(p) > 0;
}

HAK_API void *hak_calloc(size_t nmemb, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(nmemb, size, &n)) { errno = ENOMEM; return NULL; }
    int fresh = 0;
    void *p = alloc_any(n, &fresh);
    if (!p) return NULL;
    size_t clear = n ? n : hak_cfg.check ? 0 : 1;   /* (checked: p[0] is the canary) */
    hak_heap *h = &hak_tls_heap;
    int counted = h->state == HEAP_ACTIVE;
    if (fresh && !hak_cfg.zero_always) {
        if (counted) h->calloc_skipped += clear; else HAK_ADD(dead_calloc_skipped, clear);
    } else {
        memset(p, 0, clear);
        if (counted) h->calloc_zeroed += clear; else HAK_ADD(dead_calloc_zeroed, clear);
    }
    return p;
}

/* Copies up to n bytes from a foreign block without risking a fault. */
static void copy_foreign(void *dst, const void *src, size_t n)
{
    struct iovec local = {dst, n}, remote = {(void *)src, n};
    ssize_t r = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    if (r < 0) {
        /* No permission for process_vm_readv: copy the page-bounded prefix. */
        size_t room = HAK_PAGE - ((uintptr_t)src & (HAK_PAGE - 1));
        memcpy(dst, src, n < room ? n : room);
    }
}

/* Block size of p when free()'s fast path would accept p as a live small
 * block (hak_fast.h: registered SuperSlab, a class for its granule, a block
 * start of that class, no freed mark), else 0: the caller then decides
 * exactly, as free()'s slow path does.  realloc() used the exact tests
 * (check_live, then hak_usable_size: two divisions each) on every call:
 * ~130 instructions more than mimalloc's realloc in a perl run. */
static inline size_t small_live_size(const void *p)
{
    uintptr_t a = (uintptr_t)p, base = a & hak_cfg.ss_mask, bit = base >> HAK_REG_SHIFT;
    if (bit >= HAK_REG_BITS || !hak_cfg.registry[bit] || hak_cfg.check) return 0;
    const hak_ss *ss = (const hak_ss *)base;
    uintptr_t off = a - base;
    size_t cls = ss->gran_cls[off >> HAK_GRAN_SHIFT];
    if (!cls || !hak_off_div_ok(off, base, offsetof(hak_ss, cls_div), cls * sizeof(hak_bin)) ||
        *hak_mark_word((void *)p) == hak_free_mark(p))
        return 0;
    return hak_cfg.cls_size[cls];
}

/* Shrinks and small growth stay in place when the class still fits and
 * does not waste more than half of the block. */
static inline int small_fits_in_place(size_t n, size_t old)
{
    return n <= old && (n >= old / 2 || old <= 32);
}

HAK_API void *hak_realloc(void *p, size_t n)
{
    if (!p) return hak_malloc(n);
    if (n == 0) { hak_free(p); return NULL; }
    size_t small = small_live_size(p);
    if (HAK_LIKELY(small)) {
        if (small_fits_in_place(n, small)) return p;
        /* Growth by less than a quarter takes a quarter (as tcmalloc's
         * realloc does): a string grown a few bytes at a time moves ~20
         * times on its way to 1.7 KB, not through all ~40 classes, each
         * leaving a block behind (hak_trim.c): 256 such strings per
         * thread, 2 threads, peak RSS 3.9 -> 3.4 MB (glibc 3.2), CPU
         * 0.15 -> 0.13 s.  Blocks grown so hold up to 25% (+ the class
         * step) more than asked. */
        size_t want = n > small && n < small + small / 4 ? small + small / 4 : n;
        void *q = hak_malloc(want);
        if (!q) return NULL;
        memcpy(q, p, n < small ? n : small);
        hak_free(p);
        return q;
    }
    hak_ss *ss = hak_ss_of(p);
    if (ss) check_live(ss, p, "realloc(): invalid pointer", "realloc(): pointer already freed");
    size_t old = hak_usable_size(p);
    if (old == 0 && !ss) {               /* foreign: copy what is readable */
        void *q = hak_malloc(n);
        if (q) copy_foreign(q, p, n);
        HAK_ADD(foreign_frees, 1);
        return q;
    }
    if (n <= old && !hak_cfg.check) {    /* (checked blocks always move: new canary) */
        if (n > hak_cfg.mid_max || small_fits_in_place(n, old)) return p;
    }
    /* A large block grows by moving pages, not bytes. */
    if (n > old && n > hak_cfg.mid_max && ss && ss->magic == HAK_LARGE_MAGIC && !hak_cfg.check) {
        void *q = hak_large_grow(ss, n);
        if (q) return q;
    }
    void *q = hak_malloc(n);
    if (!q) return NULL;
    memcpy(q, p, n < old ? n : old);
    hak_free(p);
    return q;
}

HAK_API void *hak_reallocarray(void *p, size_t nmemb, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(nmemb, size, &n)) { errno = ENOMEM; return NULL; }
    return hak_realloc(p, n);
}

/* Aligned allocation; align is a power of two above 16. */
static void *alloc_aligned(size_t align, size_t n, int *fresh)
{
    if (n == 0) n = 1;
    if (n > PTRDIFF_MAX) { errno = ENOMEM; return NULL; }
    /* A slab class whose block size is a multiple of align: blocks sit at
     * multiples of their size from the SuperSlab base (which is ss_size
     * aligned), so every block of such a class is aligned.  Above 4 KiB
     * too: a small block with 8..32 KiB alignment took a mapping of its
     * own (an mmap, a header page and page faults on every reuse).  The
     * classes above 1 KiB include every power of two, so the block is
     * less than twice the bytes asked for (alignment included). */
    size_t want = n < align ? align : n;
    if (want <= hak_cfg.mid_max) {
        for (unsigned c = hak_size_class(want); c < hak_cfg.ncls; c++)
            if (hak_cfg.cls_size[c] % align == 0) return alloc_class(c, fresh);
    }
    if (align <= HAK_PAGE) return hak_large_alloc(n, align, fresh);
    if (align <= hak_cfg.ss_size / 2) return hak_large_alloc(n, align, fresh);
    *fresh = 1;
    return hak_huge_aligned_alloc(n, align);
}

static void *aligned(size_t align, size_t n)
{
    ensure_init();
    int fresh;
    if (HAK_UNLIKELY(hak_cfg.check)) return alloc_checked(align, n, &fresh);
    if (align <= 16) return hak_malloc(n);
    /* Up to 1 KiB, malloc's fast path gives aligned blocks: it rounds a
     * request to a block size that is a multiple of 16, 32 or 64 (its
     * step), blocks sit at multiples of their size from the SuperSlab base,
     * and rounding n up to a multiple of align first makes the block size a
     * multiple of align (align >= step: it stays m; align < step: the step
     * is a multiple of align).  posix_memalign(64, 48) in a loop ran the
     * slow path every time: 3x mimalloc's CPU time. */
    size_t m = (n + align - 1) & ~(align - 1);
    if (m - 1 < HAK_SMALL_MAX) return hak_malloc_fast(m);
    return alloc_aligned(align, n, &fresh);
}

static size_t pow2_ceil(size_t a)
{
    if (a <= 1) return 1;
    return (size_t)1 << (64 - __builtin_clzll(a - 1));
}

HAK_API void *hak_memalign(size_t align, size_t n)
{
    /* glibc: non-powers of two are rounded up; beyond half the address
     * space is EINVAL. */
    if (align > SIZE_MAX / 2 + 1) { errno = EINVAL; return NULL; }
    return aligned(pow2_ceil(align), n);
}

HAK_API void *hak_aligned_alloc(size_t align, size_t n)
{
    return hak_memalign(align, n);
}

HAK_API int hak_posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1))) return EINVAL;
    int saved = errno;
    void *p = aligned(align, n);
    if (!p) { int e = errno; errno = saved; return e ? e : ENOMEM; }
    *out = p;
    return 0;
}

HAK_API int hak_trim(size_t pad)
{
    (void)pad;
    ensure_init();
    int did = 0;
    hak_heap *h = hak_heap_get();
    if (h) {
        for (unsigned c = 1; c < hak_cfg.ncls; c++)
            if (hak_bin_count(&h->bins[c])) { hak_heap_flush(h, c, 0); did = 1; }
        hak_ss_purge_due(h, 1);
    }
    while (hak_heap_dissolve_parked()) did = 1;   /* exited threads' heaps */
    did |= hak_ss_trim_cache();
    did |= hak_large_trim();
    return did;
}
