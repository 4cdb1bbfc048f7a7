/* hakmem.h - public API of the HAKMEM allocator (alloc/).
 *
 * The allocator is a complete malloc: libhakmem.so, when preloaded, also
 * answers malloc/free/calloc/realloc/... under their libc names.  The hak_*
 * names below are the same allocator under stable names, exported from both
 * libhakmem.so and libhakmem.a, so a program (the replayer) can call them
 * directly or find them with dlsym(RTLD_DEFAULT, "hak_alloc_stats") in a
 * process where libhakmem.so is preloaded.
 *
 * Semantics follow glibc for every edge case: hak_malloc(0) returns a unique
 * pointer, hak_free(NULL) does nothing, hak_realloc(p, 0) frees p and returns
 * NULL, failures return NULL with errno ENOMEM, bad alignments give EINVAL.
 *
 * Layout policy is chosen by HAKMEM_* environment variables read once, at the
 * first allocation of the process (see alloc/KNOBS.md); hak_alloc_config()
 * reports the effective values.
 */
#ifndef HAKMEM_H
#define HAKMEM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void  *hak_malloc(size_t size);
void   hak_free(void *ptr);
void  *hak_calloc(size_t nmemb, size_t size);
void  *hak_realloc(void *ptr, size_t size);
void  *hak_reallocarray(void *ptr, size_t nmemb, size_t size);
void  *hak_memalign(size_t alignment, size_t size);
int    hak_posix_memalign(void **out, size_t alignment, size_t size);
void  *hak_aligned_alloc(size_t alignment, size_t size);
size_t hak_usable_size(const void *ptr);
/* Returns purgeable memory to the kernel now (ignores HAKMEM_PURGE_DELAY_MS;
 * uses MADV_DONTNEED unless HAKMEM_PURGE=free).  1 if anything was released. */
int    hak_trim(size_t pad);
/* 1 if ptr is the start of a live-or-cached block of this allocator, 0 for a
 * foreign pointer.  Never dereferences memory it does not own. */
int    hak_owns(const void *ptr);

/* Size classes: 16-byte steps to 1 KiB (malloc uses 32- and 64-byte steps
 * above 256 B), then 8 per doubling up to 256 KiB. */
#define HAK_NCLASS 129

struct hak_class_stats {
    uint64_t block_size;     /* bytes per block of this class */
    uint64_t slabs;          /* slabs carved for this class */
    uint64_t blocks_total;   /* capacity of those slabs */
    uint64_t blocks_used;    /* blocks held by the program (excludes thread
                                caches; includes frees still queued on a
                                slab's remote list) */
    uint64_t blocks_cached;  /* blocks sitting in thread caches */
};

/* Figures are exact when no other thread is allocating, approximate while
 * threads run (they are read without stopping anyone). */
struct hak_alloc_stats {
    uint32_t struct_size;    /* caller sets sizeof(struct hak_alloc_stats) or
                                0; the library fills at most that many bytes */
    uint32_t nclass;         /* number of entries used in cls[] */
    uint64_t bytes_mapped;   /* everything currently mmapped (SuperSlabs+large) */
    uint64_t bytes_live;     /* bytes in blocks held by the program (block sizes) */
    uint64_t bytes_cached;   /* bytes in thread caches */
    uint64_t superslabs;     /* SuperSlabs currently mapped */
    uint64_t superslabs_cached;  /* empty SuperSlabs kept for reuse */
    uint64_t superslabs_abandoned; /* owned by no thread (their thread exited) */
    uint64_t superslab_size, slab_size;
    uint64_t large_blocks;   /* live directly-mapped blocks */
    uint64_t large_bytes;    /* bytes mapped for them */
    uint64_t large_cached;   /* large mappings in the reuse cache */
    uint64_t purges;         /* madvise calls releasing memory */
    uint64_t purged_bytes;
    uint64_t calloc_zeroed_bytes;   /* calloc bytes cleared with memset */
    uint64_t calloc_skipped_bytes;  /* calloc bytes known zero (fresh from kernel) */
    uint64_t remote_frees;   /* blocks pushed to another thread's slab queue */
    uint64_t foreign_frees;  /* free() of pointers that are not ours (ignored) */
    uint64_t threads;        /* thread heaps alive */
    uint64_t thread_exits;   /* thread heaps returned at thread exit */
    uint64_t adopted;        /* abandoned SuperSlabs taken over by a thread */
    uint64_t prefault_bytes; /* bytes prefaulted by HAKMEM_PREFAULT */
    struct hak_class_stats cls[HAK_NCLASS];
    /* Effective layout knobs (appended: older builds leave them 0).
     * prefault: 0 off, 1 populate, 2 populate_write, 3 touch; hugepage: 0 off,
     * 1 madvise; zero_always: 0 lazy, 1 always; purge: 0 off, 1 dontneed,
     * 2 free.  knobs_valid is 1 when these fields were filled. */
    uint32_t knobs_valid;
    uint32_t knob_prefault, knob_hugepage, knob_zero_always, knob_purge;
    uint32_t knob_tcache;
    uint64_t knob_purge_delay_ms;
    /* Thread hand-over (appended): heaps of exited threads a new thread
     * took over whole, and heaps parked now, waiting for one. */
    uint64_t heaps_adopted, heaps_parked;
};

/* Fills *st; returns 0. */
int hak_alloc_stats(struct hak_alloc_stats *st);
/* Effective knobs, "HAKMEM_PREFAULT=off HAKMEM_HUGEPAGE=off ...". */
const char *hak_alloc_config(void);
/* "hakmem 0.1.0 build <git rev>" */
const char *hak_alloc_version(void);

#ifdef __cplusplus
}
#endif
#endif /* HAKMEM_H */
