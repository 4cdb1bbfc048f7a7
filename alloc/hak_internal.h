/* hak_internal.h - the allocator's data structures and invariants.
 *
 * Memory comes in SuperSlabs: mappings of ss_size bytes (default 2 MiB)
 * aligned to ss_size, so the SuperSlab of any pointer is ptr & ss_mask.
 * Every SuperSlab (and every directly mapped large block, which is laid out
 * the same way) is recorded in a registry (a byte per MiB) before any pointer into it
 * is handed out; free() tests that bit before it reads anything else, so a
 * pointer we never returned is detected, never followed.  Every registered
 * base is a hak_ss-layout header (small: HAK_SS_MAGIC; large: HAK_LARGE_MAGIC
 * with gran_cls and unit_cls all zero), so after the bit the fast path may
 * read gran_cls without comparing the magic (class 0 sends it to the slow
 * path); the slow paths check the magic.
 *
 * A SuperSlab is cut into units of slab_size bytes (default 64 KiB).  A slab
 * is a run of 1+ units holding blocks of one size class; unit 0 starts with
 * the SuperSlab header.  unit_cls[u] gives the class of the slab covering
 * unit u (0 = no slab), unit_head[u] the first unit of that slab, whose
 * descriptor slabs[] holds the free lists.  gran_cls repeats unit_cls per
 * 4 KiB page, so that free()'s fast path finds the class with a constant
 * shift instead of loading slab_shift and shifting by it (a variable shift
 * is 2-3 uops on x86), but only for pages the slab's carving has entered:
 * every block start in such a page is a block handed out (or cached, or
 * listed) or still carries the freed mark stamped when the page was
 * entered (hak_slab_enter), so a free() of a never-carved slot or of the
 * slab's tail slot (the last multiple of the block size, with no whole
 * block behind it) always reaches the slow path, which refuses it.  A page
 * not entered yet has class 0 there too.
 *
 * Ownership: each SuperSlab belongs to one thread heap (ss->owner).  Only the
 * owner touches a slab's local free list, bump pointer and counters; any other
 * thread returns a block by pushing it on the slab's atomic remote list, which
 * the owner drains.  slab->used counts blocks not on the slab's own free list
 * nor in its bump area, i.e. held by the program, by a thread cache or on the
 * remote list; a slab is retired only when used == 0 (after draining), so no
 * thread can still be about to touch it.
 *
 * Thread caches (hak_bin) sit in front: per class, a LIFO stack of block
 * pointers in an array (base[0..count), count <= cap) that the thread maps
 * at heap init, one region for all classes.  An array and not a list
 * threaded through the blocks: popping a list needs the popped block's next
 * link before the following malloc can start, one L1 load latency per
 * malloc in a dependent chain; popping an array only needs count.  free()
 * of any of our small blocks, whatever its owner, pushes to the calling
 * thread's cache; overflow goes back to the slabs (locally or through the
 * remote list).  Fast paths live in hak_fast.h; everything else is out of
 * line.
 */
#ifndef HAK_INTERNAL_H
#define HAK_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hak_assert.h"
#include "hakmem.h"

#define HAK_API      __attribute__((visibility("default")))
#define HAK_HIDDEN   __attribute__((visibility("hidden")))
#define HAK_LIKELY(x)   __builtin_expect(!!(x), 1)
#define HAK_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define HAK_NOINLINE __attribute__((noinline))
#define HAK_COLD     __attribute__((noinline, cold))
/* The small globals that start-up and every process write (locks, list
 * heads, counters, the config): in one section, so that they share the
 * page hak_cfg dirties anyway.  As plain .bss they sat among the big
 * arrays (registry, parked heaps) on 4 pages of their own: 16 KiB of a
 * 1.7 MB process's resident set (alloc/tests/startup.sh). */
#define HAK_HOT      __attribute__((section(".data.hak_hot")))

#define HAK_SS_MAGIC     0x48414b4d454d5353ull   /* "HAKMEMSS" */
#define HAK_LARGE_MAGIC  0x48414b4d454d4c47ull   /* "HAKMEMLG" */
#define HAK_PAGE         4096u
#define HAK_MAX_UNITS    256u        /* ss_size / slab_size at most */
#define HAK_GRAN_SHIFT   12          /* a page: gran_cls is set page by page as slabs are carved */
#define HAK_SMALL_MAX    1024u       /* classes 1..64 (16-byte steps; malloc uses hak_small_last's) end here */
#define HAK_REG_SHIFT    20          /* registry granule: 1 MiB (min ss_size) */
#define HAK_ADDR_BITS    47
#define HAK_REG_BITS     (1ull << (HAK_ADDR_BITS - HAK_REG_SHIFT))
#define HAK_DEAD_OWNER   ((struct hak_heap *)1)  /* owner died without handing over */
#define HAK_KNOBS_MAX    16          /* >= HAK_K_NUM (hak_knobs_table.h) */

/* Knobs, read once at init (hak_config.c).  The fast-path fields come first. */
enum { PF_OFF, PF_POPULATE, PF_POPULATE_WRITE, PF_TOUCH };
enum { PURGE_OFF, PURGE_DONTNEED, PURGE_FREE };
typedef struct hak_config {
    uintptr_t ss_mask;        /* ~(ss_size - 1); 0 before init */
    const uint8_t *registry;  /* one byte per 1 MiB of address space (hak_os.c); before
                                 init hak_registry_none, whose byte 0 is all that
                                 ss_mask 0 lets anyone read */
    uint64_t  cls_div[HAK_NCLASS];     /* divisibility test of block offsets; 0 for class 0 */
    unsigned  slab_shift;     /* log2(slab_size) */
    unsigned  mid_max;        /* largest size served from slabs */
    size_t    ss_size, slab_size;
    unsigned  nunits;         /* ss_size / slab_size */
    unsigned  slabs_off;      /* offset of a SuperSlab's slab descriptors (hak_ss_slabs) */
    unsigned  hdr_size;       /* bytes of unit 0 taken by the header */
    unsigned  hdr_units;      /* whole units reserved for a header > slab_size */
    unsigned  usable_units;   /* nunits - hdr_units */
    int       prefault, hugepage, zero_always, purge;
    uint64_t  purge_delay_ns;
    size_t    large_cache;    /* HAKMEM_LARGE_CACHE: resident bytes of freed large blocks */
    uint64_t  large_decay_ns; /* HAKMEM_LARGE_DECAY_MS */
    unsigned  tcache;         /* HAKMEM_TCACHE */
    unsigned  ncls;           /* classes in use (block size <= mid_max) */
    int       check;          /* HAKMEM_CHECK: canaries, poisoning (hak_check.c) */
    uintptr_t link_secret;    /* per-process random: free-list link encoding */
    uint32_t  cls_size[HAK_NCLASS];
    uint16_t  cls_units[HAK_NCLASS];   /* units per slab */
    uint16_t  cls_cap[HAK_NCLASS];     /* thread-cache capacity */
    uint16_t  cls_refill[HAK_NCLASS];  /* blocks moved per refill */
    uint64_t  knob[HAK_KNOBS_MAX];     /* effective value of each hak_knobs_table.h knob */
} hak_config;

/* Hidden in the declaration too (not only by -fvisibility=hidden at the
 * definition): the compiler then addresses them %rip-relative itself
 * instead of through a GOT load that the linker can only relax to a lea,
 * one instruction less on free()'s fast path. */
extern hak_config hak_cfg HAK_HIDDEN;
extern const uint8_t hak_registry_none[1] HAK_HIDDEN;
extern _Atomic int hak_init_state;   /* 0 none, 1 running, 2 done */

/* One slab descriptor per unit; only the head unit's is used. */
typedef struct hak_slab {
    void *free;                 /* owner-only free list */
    _Atomic(uintptr_t) remote;  /* blocks freed by other threads: hak_rq_* */
    char *bump, *end;           /* never-handed-out tail [bump, end) */
    char *lo;                   /* first block (a multiple of block from the SuperSlab base) */
    struct hak_slab *next, *prev;   /* heap's partial/full list of its class */
    uint32_t used, nfree, capacity, block;
    uint16_t units, cls;
    uint8_t  list;              /* LIST_NONE / LIST_PARTIAL / LIST_FULL */
    uint8_t  fresh;             /* bump area is untouched kernel-zero memory */
    uint8_t  unit;              /* index of this (head) unit */
    uint8_t  pad_;
    uint64_t freed_ns;          /* free unit: when it became dirty */
} hak_slab;
enum { LIST_NONE, LIST_PARTIAL, LIST_FULL };
/* Unit states (hak_ss.c): USED = part of a slab (or of a reserved header);
 * the others are free units: FRESH = kernel-zero since mmap, or never
 * touched by the slab it was part of (prefaulted per policy), ZEROED =
 * kernel-zero again after MADV_DONTNEED (pages not present: prefaulted
 * again when re-carved), PURGED = MADV_FREE'd (content unknown), DIRTY =
 * used before, resident, waiting HAKMEM_PURGE_DELAY_MS for its purge. */
enum { U_USED, U_FRESH, U_DIRTY, U_PURGED, U_ZEROED };
enum { SS_SMALL = 1, SS_LARGE = 2 };

typedef struct hak_ss {
    uint64_t magic;             /* HAK_SS_MAGIC or HAK_LARGE_MAGIC */
    /* The owning thread's thread pointer (%fs:0 on x86-64) while a live
     * thread owns it, else 0 (parked, abandoned, orphan, large).  free()'s
     * fast path compares it with its own: a hint only (hak_ss_set_owner),
     * next to magic so that it shares the header's first cache line. */
    uintptr_t owner_tp;
    /* hak_cfg.cls_div, read by free(): here it is addressed from the base
     * (the global table needs a lea in PIC code), and a 16-byte stride lets
     * free() index it with the bin offset.  In a large block's header it
     * is all zero, and so is gran_cls, which the header covers for every
     * page of the first ss_size bytes (hak_large.c large_hdr: one page up
     * to 4 MiB SuperSlabs, more above): free() of a pointer into a large
     * mapping reads class 0 and the slow path decides. */
    struct { uint64_t div, pad_; } cls_div[HAK_NCLASS];
    uint8_t  unit_cls[HAK_MAX_UNITS];   /* the same per unit, for the slow paths */
    uint8_t  unit_head[HAK_MAX_UNITS];
    uint8_t  unit_state[HAK_MAX_UNITS];
    struct hak_heap *_Atomic owner;
    struct hak_ss *next, *prev;         /* owner's list / cache / abandoned list */
    struct hak_ss *all_next, *all_prev; /* every mapped SuperSlab (under lock) */
    uint32_t kind, free_units, dirty_units;
    uint32_t busy;              /* being adopted: retire must not release it */
    /* large blocks */
    size_t   map_size;          /* bytes mapped from base */
    size_t   user_off;          /* user pointer = base + user_off */
    size_t   req_size;          /* bytes asked for */
    uint32_t large_fresh;       /* mapping is kernel-zero beyond the header */
    uint32_t large_resident;    /* cached with its pages kept (hak_large.c) */
    uint64_t large_freed_ns;    /* when it was cached */
    uint64_t large_freed_carved;  /* the small heaps' carved bytes then (hak_large.c) */
    /* One byte per page of the SuperSlab (ss_size >> HAK_GRAN_SHIFT), read
     * by free(): 0 = not a small block, or a page not entered yet.  The
     * nunits slab descriptors follow at hak_cfg.slabs_off (hak_ss_slabs):
     * sized for this ss_size, the array does not push them onto pages of
     * their own (a 32 MiB SuperSlab needs 8 KiB of it, a 2 MiB one 512 B). */
    uint8_t  gran_cls[];
} hak_ss;

_Static_assert(offsetof(hak_ss, cls_div) + sizeof(((hak_ss *)0)->cls_div) <= HAK_PAGE,
               "a large header (one page) holds all of cls_div");

/* A bin is its stack's top pointer plus the low 32 bits of the addresses
 * top has when the stack is empty (base) and full (base + cap): the fast
 * paths test emptiness/fullness with one 32-bit compare against memory and
 * need no count.  The stack spans less than 4 GiB, so equal low halves mean
 * equal pointers, and count/cap are differences of low halves.
 * bins[0] is never used for blocks and keeps cap 0 (free's fast path
 * relies on it to send class-0 units to the slow path).  cap == 0 (all
 * zero: uninitialised or dead thread, the orphan heap, HAKMEM_TCACHE=0, or
 * the array region could not be mapped) means nothing is ever cached. */
typedef struct hak_bin {
    void **top;                 /* next free entry; top[-1] is popped next */
    uint32_t empty_lo;          /* (uint32_t)base */
    uint32_t full_lo;           /* (uint32_t)(base + cap) */
} hak_bin;

static inline uint32_t hak_lo32(const void *p) { return (uint32_t)(uintptr_t)p; }
static inline uint32_t hak_bin_count(const hak_bin *b)
{
    return (hak_lo32(b->top) - b->empty_lo) / (uint32_t)sizeof(void *);
}
static inline uint32_t hak_bin_cap(const hak_bin *b)
{
    return (b->full_lo - b->empty_lo) / (uint32_t)sizeof(void *);
}
static inline void hak_bin_set(hak_bin *b, void **base, uint32_t cap)
{
    b->top = base;
    b->empty_lo = hak_lo32(base);
    b->full_lo = hak_lo32(base + cap);
}

/* malloc's fast path indexes bins by byte offset (the block size, hak_small_last). */
_Static_assert(sizeof(hak_bin) == 16, "hak_bin must be 16 bytes");

typedef struct hak_list { hak_slab *first, *last; } hak_list;

enum { HEAP_UNINIT = 0, HEAP_ACTIVE = 1, HEAP_DEAD = 2, HEAP_PARKED = 3 };
typedef struct hak_heap {
    hak_bin bins[HAK_NCLASS];            /* hot: the thread cache */
    uint32_t state;
    uint32_t tick;
    hak_list partial[HAK_NCLASS], full[HAK_NCLASS];
    hak_ss *ss_first;                    /* owned SuperSlabs */
    void **slots;                        /* the bins' arrays (one mapping) */
    size_t slots_size;
    size_t slots_used;                   /* entries of it given to bins (hak_bin_attach) */
    struct hak_heap *reg_next, *reg_prev;
    uint64_t remote_frees, calloc_zeroed, calloc_skipped;
    uint64_t carved;                     /* bump bytes carved, not yet added to hak_carved_total */
    /* Cache trimming (hak_trim.c): bytes carved since the last look, and
     * per bin its count after that look, the low half of the block then
     * on top, whether it was refilled since, and how many looks in a row
     * found it idle. */
    uint64_t trim_carved;
    uint32_t trim_top[HAK_NCLASS];
    uint16_t trim_count[HAK_NCLASS];
    uint8_t  trim_refilled[HAK_NCLASS];
    uint8_t  trim_idle[HAK_NCLASS];
} hak_heap;

extern __thread hak_heap hak_tls_heap __attribute__((tls_model("initial-exec")));

/* The calling thread's identity for ss->owner_tp (one load, %fs:0). */
static inline uintptr_t hak_tp(void) { return (uintptr_t)__builtin_thread_pointer(); }

/* Blocks smaller than a cache line share their line with neighbours: a
 * free that takes the slow path (the thread's first, or its bin is full)
 * of another thread's such block sends it home instead of caching it, so
 * the freeing thread does not write into a line whose other blocks the
 * owner is using (false sharing).  free()'s fast path does not test the
 * owner (hak_fast.h: it cost random_mixed 6-10%).  A block of 64 bytes
 * or more shares at most the edges of its first and last line. */
#define HAK_LINE 64u

/* Sets ss's owner to h, and the fast path's hint: h's thread pointer when
 * h is the calling thread's live heap, else 0 (every free is then
 * "foreign" for the hint, which only decides where a small block goes;
 * hak_block_return compares owner itself). */
static inline void hak_ss_set_owner(struct hak_ss *ss, hak_heap *h, memory_order mo)
{
    ss->owner_tp = h == &hak_tls_heap && h->state == HEAP_ACTIVE ? hak_tp() : 0;
    atomic_store_explicit(&ss->owner, h, mo);
}

/* ---- small inline helpers shared by fast and slow paths ---- */

/* Block size - 1 of a request of 1..HAK_SMALL_MAX bytes (0 gives all
 * ones, so that the bin offset wraps to 0): 16-byte steps to 256 B,
 * 32-byte steps to 512, 64-byte steps to 1 KiB, i.e. the request rounded
 * up to a multiple of max(16, 2^(floor(log2(n - 1)) - 3)), with no branch,
 * table or clz: a = n - 1 ORed with itself shifted right by 4 and 5 sets
 * exactly the bits below that step (below 256 B the shifted bits fall in
 * the low 4, which are set anyway).  One class per 16 bytes all the way to
 * 1 KiB gave 64 classes whose peaks of live blocks each took pages of
 * their own: a mixed-size heap of 256 blocks touched 80 new pages where
 * glibc touches 44 (the alloc bench's faults case); with these 32 classes
 * below 1 KiB it touches 39.  Cost: 5 instructions on malloc's fast path
 * (a per-thread table by size cost tiny_hot 8-10%, clz 10 instructions).
 * Bins stay indexed by the block size / 16, so the classes between the
 * steps (272, 304, ...) exist, and an aligned allocation may pick one, but
 * malloc never does. */
static inline __attribute__((always_inline)) size_t hak_small_last(size_t n)
{
    size_t a = n - 1;
    return a | (a | a >> 1) >> 4 | 15;      /* the block size - 1 */
}

static inline size_t hak_small_round(size_t n) { return hak_small_last(n) + 1; }

static inline unsigned hak_size_class(size_t n)   /* 1 <= n <= mid_max */
{
    if (n <= HAK_SMALL_MAX)
        return (unsigned)(hak_small_round(n) >> 4);
    size_t m = n - 1;
    unsigned e = 63u - (unsigned)__builtin_clzll(m);       /* e >= 10 */
    return 65u + (e - 10u) * 8u + (unsigned)((m >> (e - 3u)) & 7u);
}

/* The validated SuperSlab (or large header) containing p, or NULL. */
static inline hak_ss *hak_ss_of(const void *p)
{
    uintptr_t base = (uintptr_t)p & hak_cfg.ss_mask;
    uintptr_t bit = base >> HAK_REG_SHIFT;
    if (bit >= HAK_REG_BITS || !hak_cfg.registry[bit])
        return NULL;
    hak_ss *ss = (hak_ss *)base;
    if (ss->magic != HAK_SS_MAGIC && ss->magic != HAK_LARGE_MAGIC)
        return NULL;
    return ss;
}

/* The slab descriptors, one per unit (only a slab's head unit's is used). */
static inline hak_slab *hak_ss_slabs(const hak_ss *ss)
{
    return (hak_slab *)((char *)ss + hak_cfg.slabs_off);
}

static inline hak_slab *hak_slab_of(hak_ss *ss, const void *p)
{
    unsigned u = (unsigned)(((uintptr_t)p - (uintptr_t)ss) >> hak_cfg.slab_shift);
    return &hak_ss_slabs(ss)[ss->unit_head[u]];
}

/* ---- out-of-line parts (see each file's header) ---- */
/* hak_config.c */
void hak_config_init(void);
const char *hak_config_string(void);
/* hak_init.c */
void hak_global_init(void);
hak_heap *hak_heap_get(void);          /* initialised heap of this thread, or NULL (dead) */
int hak_heap_dissolve_parked(void);    /* one parked heap of an exited thread dissolved: 1 */
int hak_bin_attach(hak_heap *h, unsigned cls);   /* bin cls gets its array now: 1 */
unsigned hak_heaps_parked(void);
void hak_lock(void);
void hak_unlock(void);
extern hak_heap hak_orphan_heap;       /* serves threads past their exit, under lock */
extern pthread_mutex_t hak_orphan_lock;
/* hak_os.c */
void *hak_os_map_meta(size_t size);   /* plain zero pages, not in bytes_mapped */
void *hak_os_map_aligned(size_t size, size_t align, int prefault_kind);
void  hak_os_unmap(void *p, size_t size);
void  hak_os_prefault(void *p, size_t size);
void  hak_os_purge(void *p, size_t size, int how);
void  hak_registry_set(uintptr_t base, int on);
int   hak_registry_init(void);   /* 0, or -1 when 128 MiB of address space cannot be reserved */
int   hak_os_getpid(void);
/* hak_clock.c */
void hak_clock_init(void);
int  hak_clock_is_vdso(void);         /* the clock is the vDSO's, not libc's nor the syscall */
uint64_t hak_now_ns(void);            /* CLOCK_MONOTONIC_COARSE */
uint64_t hak_clock_fine_ns(void);     /* CLOCK_MONOTONIC */
/* hak_ss.c */
hak_slab *hak_slab_new(hak_heap *h, unsigned cls);
void hak_slab_retire(hak_heap *h, hak_slab *s);
void hak_slab_enter(hak_slab *s, const char *from, const char *last);
void hak_ss_purge_due(hak_heap *h, int force);
void hak_heap_abandon_all(hak_heap *h);
void hak_ss_atfork_child_drop(hak_heap *h);
int  hak_ss_trim_cache(void);
/* hak_heap.c */
void *hak_heap_refill(hak_heap *h, unsigned cls, int *fresh);
void  hak_heap_flush(hak_heap *h, unsigned cls, uint32_t keep);
void  hak_block_return(hak_heap *h, void *p, hak_ss *ss);
void  hak_list_remove(hak_list *l, hak_slab *s);
void  hak_list_push_front(hak_list *l, hak_slab *s);
void  hak_list_push_back(hak_list *l, hak_slab *s);
uint32_t hak_slab_drain_remote(hak_slab *s);
void  hak_thread_exit(void *arg);
/* hak_trim.c */
void  hak_tcache_trim(hak_heap *h, unsigned skip);   /* every TRIM_STEP carved bytes */
/* hak_large.c */
void *hak_large_alloc(size_t size, size_t align, int *fresh);
void  hak_large_free(hak_ss *ss, void *p);
void *hak_large_grow(hak_ss *ss, size_t n);
int   hak_large_trim(void);
void  hak_large_carved(uint64_t bytes);
void *hak_huge_aligned_alloc(size_t size, size_t align);
int   hak_huge_aligned_free(void *p, size_t *usable);
/* hak_api.c slow paths */
void *hak_malloc_slow(size_t n);
void  hak_free_slow(void *p);
/* hak_report.c: malloc_stats() (glibc's lines, then ours, to fd) and
 * malloc_info() (glibc's XML shape; EINVAL for options != 0). */
struct _IO_FILE;
void  hak_report_stats(int fd);
int   hak_report_info(int options, struct _IO_FILE *fp);

/* Global counters (relaxed atomics, slow paths only). */
typedef struct hak_counters {
    _Atomic uint64_t bytes_mapped, superslabs, ss_cached, ss_abandoned;
    _Atomic uint64_t large_blocks, large_bytes, large_cached;
    _Atomic uint64_t purges, purged_bytes, foreign_frees, threads, thread_exits;
    _Atomic uint64_t adopted, prefault_bytes, heaps_adopted;
    _Atomic uint64_t dead_remote_frees, dead_calloc_zeroed, dead_calloc_skipped;
} hak_counters;
extern hak_counters hak_ctr;
#define HAK_ADD(f, v) atomic_fetch_add_explicit(&hak_ctr.f, (v), memory_order_relaxed)
#define HAK_SUB(f, v) atomic_fetch_sub_explicit(&hak_ctr.f, (v), memory_order_relaxed)
#define HAK_GET(f)    atomic_load_explicit(&hak_ctr.f, memory_order_relaxed)

/* Lists guarded by the global lock. */
extern hak_ss *hak_all_ss;        /* every mapped SuperSlab */
extern hak_ss *hak_abandoned_ss;  /* owner NULL, waiting for adoption */
extern hak_ss *hak_cached_ss;     /* empty, kept for reuse */
extern hak_heap *hak_heaps;       /* live thread heaps */

#endif /* HAK_INTERNAL_H */
