/* hak_large.c - blocks above the largest slab class, mapped directly.
 *
 * A large mapping is aligned to ss_size and starts with a header laid out
 * like a SuperSlab's (magic HAK_LARGE_MAGIC, unit_cls all zero), so free()
 * finds and validates it exactly like a small block and its fast path falls
 * through (class 0) to hak_large_free.  The user pointer is base + user_off
 * (the header's pages, large_hdr(), or the requested alignment if larger),
 * always within the first ss_size bytes.  The header covers gran_cls for
 * every page of the first ss_size bytes: free()'s fast path reads the byte
 * of the pointer's page there before anything else, so with one page of
 * header and HAKMEM_SUPERSLAB_SIZE >= 8 MiB (gran_cls then runs past 4 KiB)
 * free(p + 6 MiB) read its class from the block's own bytes, and a byte
 * above the last class indexed past the thread's bins: a program's interior
 * free was cached into the heap's slab lists instead of aborting
 * (misuse.sh interior_free_large).  Freed mappings go to a small cache
 * (LARGE_CACHE entries, LARGE_CACHE_BYTES in total) reused for requests that fit within 8x (an
 * unused tail costs address space, not memory); a request bigger than
 * every cached mapping grows the biggest resident one with mremap.
 * Up to HAKMEM_LARGE_CACHE bytes of them stay resident, so a freed
 * multi-MB block is reused without a fresh mmap and without a page fault
 * per page (purging every freed block made a 2..8 MiB malloc/write/free
 * loop 7x slower than glibc); beyond that budget a freed mapping's body is
 * purged as before.  A resident entry idle for HAKMEM_LARGE_DECAY_MS is
 * purged on the next large allocation or free (there is no background
 * thread), and any resident entry once the small heaps have carved as
 * many new bytes as it holds (hak_large_carved); malloc_trim unmaps the
 * whole cache.
 *
 * Alignments above ss_size/2 cannot keep the pointer inside the first
 * SuperSlab granule; those are hak_huge.c's.
 */
#include "hak_guard.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

/* Entries: over-aligned small blocks (posix_memalign with 8 KiB..1 MiB
 * alignment) are large mappings too, and with 8 entries a workload of
 * random 1..4 MiB blocks evicted (unmapped) a resident mapping on every
 * 8th free: 4x tcmalloc's page faults (alloc/tests/race.c). */
#define LARGE_CACHE 32
#define LARGE_CACHE_BYTES (64u << 20)
#define FIT_RATIO 8     /* a cached mapping serves requests down to 1/8 of its size */

HAK_HOT static hak_ss *cache[LARGE_CACHE];
HAK_HOT static size_t cache_bytes, resident_bytes;

/* cache_bytes and resident_bytes are the sums over the entries; under the lock. */
static int cache_counts_ok(void)
{
    size_t all = 0, res = 0;
    for (int i = 0; i < LARGE_CACHE; i++) {
        if (!cache[i]) continue;
        if (cache[i]->magic != HAK_LARGE_MAGIC || cache[i]->user_off) return 0;
        all += cache[i]->map_size;
        if (cache[i]->large_resident) res += cache[i]->map_size;
    }
    return all == cache_bytes && res == resident_bytes && res <= all;
}

static size_t page_round(size_t n) { return (n + HAK_PAGE - 1) & ~(size_t)(HAK_PAGE - 1); }

/* Bytes before a large block's user data: the header up to the end of
 * gran_cls (one page up to 4 MiB SuperSlabs, 2 or 3 pages above). */
static size_t large_hdr(void)
{
    return page_round(offsetof(hak_ss, gran_cls) + (hak_cfg.ss_size >> HAK_GRAN_SHIFT));
}

/* Gives the body of cached mapping ss back to the kernel; under the lock. */
static void purge_body(hak_ss *ss)
{
    if (ss->large_resident) { resident_bytes -= ss->map_size; ss->large_resident = 0; }
    size_t hdr = large_hdr();
    if (ss->map_size > hdr) {
        int how = hak_cfg.purge == PURGE_OFF ? PURGE_DONTNEED : hak_cfg.purge;
        hak_os_purge((char *)ss + hdr, ss->map_size - hdr, how);
        ss->large_fresh = how == PURGE_DONTNEED;
    }
}

/* Purges resident entries idle past the decay delay; under the lock. */
static void decay(uint64_t now)
{
    if (!resident_bytes) return;
    for (int i = 0; i < LARGE_CACHE; i++)
        if (cache[i] && cache[i]->large_resident &&
            now - cache[i]->large_freed_ns >= hak_cfg.large_decay_ns)
            purge_body(cache[i]);
}

/* Bytes the small heaps have carved from bump areas (new pages, as a
 * rule), added in steps of CARVE_STEP by each thread.  A resident cached
 * mapping is purged once the heaps have carved as many bytes as it holds
 * since it was freed: a program that frees a large block and then grows
 * its small heap (sqlite3: its sorter's 2 MiB buffer, freed before its
 * page cache peaks) would otherwise hold both at its peak, and the time
 * decay only runs at large allocations and frees, maybe never again.  A
 * program reusing a large block while its small heap is steady carves
 * nothing, and keeps the block resident. */
HAK_HOT static _Atomic uint64_t carved_total;

void hak_large_carved(uint64_t bytes)
{
    uint64_t total = atomic_fetch_add_explicit(&carved_total, bytes, memory_order_relaxed) + bytes;
    if (!__atomic_load_n(&resident_bytes, __ATOMIC_RELAXED)) return;    /* racy peek */
    hak_lock();
    for (int i = 0; i < LARGE_CACHE; i++)
        if (cache[i] && cache[i]->large_resident &&
            total - cache[i]->large_freed_carved >= cache[i]->map_size)
            purge_body(cache[i]);
    hak_assert_internal(cache_counts_ok());
    hak_unlock();
}

static void take(int i)   /* removes cache entry i; under the lock */
{
    hak_ss *ss = cache[i];
    cache[i] = NULL;
    cache_bytes -= ss->map_size;
    if (ss->large_resident) { resident_bytes -= ss->map_size; ss->large_resident = 0; }
    HAK_SUB(large_cached, 1);
}

static void large_unmap(hak_ss *ss)
{
    hak_registry_set((uintptr_t)ss, 0);
    ss->magic = 0;
    hak_os_unmap(ss, ss->map_size);
}

static hak_ss *remap_bigger(hak_ss *ss, size_t need);

/* The cache entry to take for a mapping of `need` bytes; under the lock.
 * Best: the smallest entry that fits (within FIT_RATIO).  Else the biggest
 * resident entry, which the caller grows by mremap: its pages stay
 * resident and only the missing tail faults, where a fresh mapping would
 * fault every page (a program allocating 1..4 MiB blocks at random sizes
 * otherwise rarely finds a cached mapping big enough, and took 4x the page
 * faults of tcmalloc).  Else -1: a fresh mapping. */
static int cache_pick(size_t need, int *grow)
{
    int best = -1, big = -1;
    for (int i = 0; i < LARGE_CACHE; i++) {
        if (!cache[i]) continue;
        if (cache[i]->map_size >= need && cache[i]->map_size / FIT_RATIO <= need &&
            (best < 0 || cache[i]->map_size < cache[best]->map_size))
            best = i;
        if (cache[i]->large_resident && cache[i]->map_size < need &&
            (big < 0 || cache[i]->map_size > cache[big]->map_size))
            big = i;
    }
    *grow = best < 0 && big >= 0;
    return best >= 0 ? best : big;
}

void *hak_large_alloc(size_t size, size_t align, int *fresh)
{
    size_t hdr = large_hdr();
    size_t off = align ? (hdr + align - 1) & ~(align - 1) : hdr;   /* (align: a power of two) */
    if (size > (SIZE_MAX >> 1) - off - hak_cfg.ss_size) { errno = ENOMEM; return NULL; }
    size_t need = page_round(off + size);
    hak_ss *ss = NULL;
    hak_lock();
    decay(hak_now_ns());
    int grow;
    int pick = cache_pick(need, &grow);
    hak_ss *drop[LARGE_CACHE];
    int ndrop = 0;
    if (pick >= 0) {
        ss = cache[pick];
        take(pick);
    } else {
        /* A new, bigger mapping and nothing resident to grow: the cached
         * (purged) ones too small for it go, so a program stepping up
         * through sizes keeps one mapping, not one per size. */
        for (int i = 0; i < LARGE_CACHE; i++)
            if (cache[i] && cache[i]->map_size < need) { drop[ndrop++] = cache[i]; take(i); }
    }
    hak_assert_internal(cache_counts_ok());
    hak_unlock();
    for (int i = 0; i < ndrop; i++) large_unmap(drop[i]);
    if (ss && grow) {
        hak_ss *g = remap_bigger(ss, need);
        if (!g) large_unmap(ss);      /* no address space to grow into: map afresh */
        ss = g;
    }
    if (ss) {
        *fresh = (int)ss->large_fresh;
    } else {
        ss = hak_os_map_aligned(need, hak_cfg.ss_size, 1);
        if (!ss) return NULL;
        ss->map_size = need;
        ss->kind = SS_LARGE;
        ss->magic = HAK_LARGE_MAGIC;
        hak_registry_set((uintptr_t)ss, 1);
        *fresh = 1;
    }
    ss->user_off = off;
    ss->req_size = size;
    ss->large_fresh = 0;
    HAK_ADD(large_blocks, 1);
    HAK_ADD(large_bytes, ss->map_size);
    return (char *)ss + off;
}

void hak_large_free(hak_ss *ss, void *p)
{
    if ((char *)p != (char *)ss + ss->user_off)     /* hak_free_slow checked it */
        hak_misuse("free(): invalid pointer", p);
    HAK_SUB(large_blocks, 1);
    HAK_SUB(large_bytes, ss->map_size);
    size_t sz = ss->map_size;
    if (sz > LARGE_CACHE_BYTES / 4) { large_unmap(ss); return; }
    ss->user_off = 0;   /* a second free of p is now detected (hak_api.c check_live) */
    hak_ss *evict = NULL;
    uint64_t now = hak_now_ns();
    hak_lock();
    decay(now);
    int slot = -1;
    for (int i = 0; i < LARGE_CACHE; i++) if (!cache[i]) { slot = i; break; }
    if (slot < 0) {
        slot = 0;
        for (int i = 1; i < LARGE_CACHE; i++)
            if (cache[i]->map_size > cache[slot]->map_size) slot = i;
        evict = cache[slot];
        take(slot);
    }
    while (cache_bytes + sz > LARGE_CACHE_BYTES) {   /* over budget: drop the biggest */
        int big = -1;
        for (int i = 0; i < LARGE_CACHE; i++)
            if (cache[i] && (big < 0 || cache[i]->map_size > cache[big]->map_size)) big = i;
        if (big < 0) break;
        hak_ss *v = cache[big];
        take(big);
        hak_unlock();
        large_unmap(v);
        hak_lock();
    }
    /* Resident within the budget (everything with HAKMEM_PURGE=off), else
     * purged now, as every freed mapping used to be. */
    ss->large_freed_ns = now;
    ss->large_freed_carved = atomic_load_explicit(&carved_total, memory_order_relaxed);
    ss->large_resident = 0;
    if (hak_cfg.purge == PURGE_OFF || resident_bytes + sz <= hak_cfg.large_cache) {
        ss->large_resident = 1;
        resident_bytes += sz;
    } else {
        purge_body(ss);
    }
    for (slot = 0; slot < LARGE_CACHE && cache[slot]; slot++) {}
    hak_assert(slot < LARGE_CACHE);
    cache[slot] = ss;
    cache_bytes += sz;
    HAK_ADD(large_cached, 1);
    hak_assert_internal(cache_counts_ok());
    hak_unlock();
    if (evict) large_unmap(evict);
}

/* Makes mapping ss `need` bytes long without copying: mremap in place,
 * else moves its pages (header and all) to a new ss_size-aligned range, as
 * glibc's realloc of an mmapped chunk moves pages instead of copying them.
 * Returns the mapping's new address (map_size updated), or NULL with ss
 * untouched.  ss is not in the cache (live, or just taken from it). */
static hak_ss *remap_bigger(hak_ss *ss, size_t need)
{
    size_t old = ss->map_size;
    void *q = mremap(ss, old, need, 0);
    if (q != MAP_FAILED) {
        HAK_ADD(bytes_mapped, need - old);
    } else {
        void *dst = hak_os_map_aligned(need, hak_cfg.ss_size, 0);
        if (!dst) return NULL;
        hak_registry_set((uintptr_t)ss, 0);
        q = mremap(ss, old, need, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
        if (q == MAP_FAILED) {
            hak_registry_set((uintptr_t)ss, 1);
            hak_os_unmap(dst, need);
            return NULL;
        }
        hak_registry_set((uintptr_t)q, 1);
        HAK_SUB(bytes_mapped, old);
    }
    hak_ss *nss = q;
    nss->map_size = need;
    return nss;
}

/* Grows large block p of ss to n bytes without copying (remap_bigger).
 * Returns the block's new address, or NULL (the caller copies). */
void *hak_large_grow(hak_ss *ss, size_t n)
{
    size_t hdr = large_hdr();
    if (ss->user_off != hdr || n > (SIZE_MAX >> 1) - hak_cfg.ss_size) return NULL;
    size_t old = ss->map_size, need = page_round(hdr + n);
    if (need <= old) return (char *)ss + hdr;
    hak_ss *nss = remap_bigger(ss, need);
    if (!nss) return NULL;
    nss->req_size = n;
    HAK_ADD(large_bytes, need - old);
    return (char *)nss + hdr;
}

int hak_large_trim(void)
{
    int did = 0;
    for (;;) {
        hak_ss *v = NULL;
        hak_lock();
        for (int i = 0; i < LARGE_CACHE && !v; i++)
            if (cache[i]) { v = cache[i]; take(i); }
        hak_unlock();
        if (!v) return did;
        large_unmap(v);
        did = 1;
    }
}
