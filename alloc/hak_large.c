/* hak_large.c - blocks above the largest slab class, mapped directly.
 *
 * A large mapping is aligned to ss_size and starts with a header laid out
 * like a SuperSlab's (magic HAK_LARGE_MAGIC, unit_cls all zero), so free()
 * finds and validates it exactly like a small block and its fast path falls
 * through (class 0) to hak_large_free.  The user pointer is base + user_off
 * (one page, or the requested alignment), always within the first ss_size
 * bytes.  Freed mappings go to a small cache (LARGE_CACHE entries,
 * LARGE_CACHE_BYTES in total) reused for requests that fit within 2x.
 *
 * Alignments above ss_size/2 cannot keep the pointer inside the first
 * SuperSlab granule; those are hak_huge.c's.
 */
#include "hak_guard.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define LARGE_CACHE 8
#define LARGE_CACHE_BYTES (64u << 20)

static hak_ss *cache[LARGE_CACHE];
static size_t cache_bytes;

static size_t page_round(size_t n) { return (n + HAK_PAGE - 1) & ~(size_t)(HAK_PAGE - 1); }

void *hak_large_alloc(size_t size, size_t align, int *fresh)
{
    size_t off = align > HAK_PAGE ? align : HAK_PAGE;
    if (size > (SIZE_MAX >> 1) - off - hak_cfg.ss_size) { errno = ENOMEM; return NULL; }
    size_t need = page_round(off + size);
    hak_ss *ss = NULL;
    hak_lock();
    int best = -1;
    for (int i = 0; i < LARGE_CACHE; i++)
        if (cache[i] && cache[i]->map_size >= need && cache[i]->map_size <= 2 * need &&
            (best < 0 || cache[i]->map_size < cache[best]->map_size))
            best = i;
    if (best >= 0) {
        ss = cache[best];
        cache[best] = NULL;
        cache_bytes -= ss->map_size;
        HAK_SUB(large_cached, 1);
    }
    hak_unlock();
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

static void large_unmap(hak_ss *ss)
{
    hak_registry_set((uintptr_t)ss, 0);
    ss->magic = 0;
    hak_os_unmap(ss, ss->map_size);
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
    /* Purge the body (not the header page) before caching it. */
    if (hak_cfg.purge != PURGE_OFF && sz > HAK_PAGE) {
        hak_os_purge((char *)ss + HAK_PAGE, sz - HAK_PAGE, hak_cfg.purge);
        ss->large_fresh = hak_cfg.purge == PURGE_DONTNEED;
    }
    hak_ss *evict = NULL;
    hak_lock();
    int slot = -1;
    for (int i = 0; i < LARGE_CACHE; i++) if (!cache[i]) { slot = i; break; }
    if (slot < 0) {
        slot = 0;
        for (int i = 1; i < LARGE_CACHE; i++)
            if (cache[i]->map_size > cache[slot]->map_size) slot = i;
        evict = cache[slot];
        cache_bytes -= evict->map_size;
        HAK_SUB(large_cached, 1);
    }
    cache[slot] = ss;
    cache_bytes += sz;
    HAK_ADD(large_cached, 1);
    while (cache_bytes > LARGE_CACHE_BYTES) {   /* over budget: drop the biggest other */
        int big = -1;
        for (int i = 0; i < LARGE_CACHE; i++)
            if (cache[i] && cache[i] != ss && (big < 0 || cache[i]->map_size > cache[big]->map_size)) big = i;
        if (big < 0) break;
        hak_ss *v = cache[big];
        cache[big] = NULL;
        cache_bytes -= v->map_size;
        HAK_SUB(large_cached, 1);
        hak_unlock();
        large_unmap(v);
        hak_lock();
    }
    hak_unlock();
    if (evict) large_unmap(evict);
}

int hak_large_trim(void)
{
    int did = 0;
    for (;;) {
        hak_ss *v = NULL;
        hak_lock();
        for (int i = 0; i < LARGE_CACHE && !v; i++)
            if (cache[i]) { v = cache[i]; cache[i] = NULL; cache_bytes -= v->map_size; HAK_SUB(large_cached, 1); }
        hak_unlock();
        if (!v) return did;
        large_unmap(v);
        did = 1;
    }
}
