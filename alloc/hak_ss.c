/* hak_ss.c - SuperSlab lifecycle: map, carve slabs out of units, retire
 * slabs, purge dirty units, cache/unmap empty SuperSlabs, and hand
 * SuperSlabs between threads (abandon at thread exit, adopt on demand).
 *
 * Unit states (hak_internal.h): U_USED (in a slab, or the reserved header),
 * U_FRESH (kernel-zero since mmap, or its slab never touched it), U_ZEROED
 * (kernel-zero again after a MADV_DONTNEED purge; its pages are gone, so a
 * prefault policy faults them in again when it is re-carved), U_DIRTY (was
 * used; waits HAKMEM_PURGE_DELAY_MS to be purged), U_PURGED (MADV_FREE'd:
 * cheap to reuse, content unknown).  A slab carved from only FRESH and
 * ZEROED units has fresh = 1, which lets calloc skip memset on its bump
 * area under HAKMEM_ZERO=lazy.  free_units counts the non-USED units,
 * dirty_units the DIRTY ones (checked at HAK_DEBUG=3).
 *
 * Everything here runs on the owning thread except the global lists
 * (all/abandoned/cached), which take the global lock.
 */
#include "hak_guard.h"

#include <string.h>

#define SS_CACHE_MAX 2

/* free_units and dirty_units agree with the unit states, a free unit has
 * class 0, and every page outside the header has its unit's class or 0
 * (not entered yet: hak_slab_enter) (a walk of the whole header). */
static int ss_counts_ok(const hak_ss *ss)
{
    unsigned nfree = 0, ndirty = 0, shift = hak_cfg.slab_shift - HAK_GRAN_SHIFT;
    unsigned hdr_grans = hak_cfg.hdr_size >> HAK_GRAN_SHIFT;
    for (unsigned u = hak_cfg.hdr_units; u < hak_cfg.nunits; u++) {
        nfree += ss->unit_state[u] != U_USED;
        ndirty += ss->unit_state[u] == U_DIRTY;
        if (ss->unit_state[u] != U_USED && ss->unit_cls[u]) return 0;
        for (unsigned g = u << shift; g < (u + 1) << shift; g++)
            if (ss->gran_cls[g] && (g < hdr_grans || ss->gran_cls[g] != ss->unit_cls[u])) return 0;
    }
    return nfree == ss->free_units && ndirty == ss->dirty_units;
}

static void all_link(hak_ss *ss)
{
    ss->all_prev = NULL;
    ss->all_next = hak_all_ss;
    if (hak_all_ss) hak_all_ss->all_prev = ss;
    hak_all_ss = ss;
}

static void all_unlink(hak_ss *ss)
{
    if (ss->all_prev) ss->all_prev->all_next = ss->all_next;
    else hak_all_ss = ss->all_next;
    if (ss->all_next) ss->all_next->all_prev = ss->all_prev;
}

static void heap_link_ss(hak_heap *h, hak_ss *ss)
{
    hak_ss_set_owner(ss, h, memory_order_release);
    ss->prev = NULL;
    ss->next = h->ss_first;
    if (h->ss_first) h->ss_first->prev = ss;
    h->ss_first = ss;
}

static void heap_unlink_ss(hak_heap *h, hak_ss *ss)
{
    if (ss->prev) ss->prev->next = ss->next;
    else h->ss_first = ss->next;
    if (ss->next) ss->next->prev = ss->prev;
    ss->next = ss->prev = NULL;
}

static char *unit_addr(hak_ss *ss, unsigned u)
{
    return (char *)ss + ((size_t)u << hak_cfg.slab_shift);
}

/* Usable byte range of a run of units (unit 0 loses the header). */
static void unit_range(hak_ss *ss, unsigned u, unsigned n, char **lo, char **hi)
{
    *lo = unit_addr(ss, u) + (u == 0 && hak_cfg.hdr_units == 0 ? hak_cfg.hdr_size : 0);
    *hi = unit_addr(ss, u + n);
}

static hak_ss *ss_map_new(void)
{
    hak_ss *ss = hak_os_map_aligned(hak_cfg.ss_size, hak_cfg.ss_size, 1);
    if (!ss) return NULL;
    ss->kind = SS_SMALL;
    for (unsigned c = 0; c < HAK_NCLASS; c++) ss->cls_div[c].div = hak_cfg.cls_div[c];
    ss->free_units = hak_cfg.usable_units;
    for (unsigned u = 0; u < hak_cfg.nunits; u++)
        ss->unit_state[u] = u < hak_cfg.hdr_units ? U_USED : U_FRESH;
    ss->magic = HAK_SS_MAGIC;
    HAK_ADD(superslabs, 1);
    hak_lock();
    all_link(ss);
    hak_unlock();
    hak_registry_set((uintptr_t)ss, 1);
    return ss;
}

static void ss_unmap(hak_ss *ss)
{
    hak_lock();
    all_unlink(ss);
    hak_unlock();
    hak_registry_set((uintptr_t)ss, 0);
    ss->magic = 0;
    HAK_SUB(superslabs, 1);
    hak_os_unmap(ss, hak_cfg.ss_size);
}

/* Purges runs of dirty units of ss that have waited long enough. */
static int ss_purge(hak_ss *ss, uint64_t now, int force, int how)
{
    int did = 0;
    unsigned n = hak_cfg.nunits;
    for (unsigned u = 0; u < n;) {
        if (ss->unit_state[u] != U_DIRTY ||
            (!force && now - hak_ss_slabs(ss)[u].freed_ns < hak_cfg.purge_delay_ns)) { u++; continue; }
        unsigned v = u;
        while (v < n && ss->unit_state[v] == U_DIRTY &&
               (force || now - hak_ss_slabs(ss)[v].freed_ns >= hak_cfg.purge_delay_ns)) v++;
        char *lo, *hi;
        unit_range(ss, u, v - u, &lo, &hi);
        hak_os_purge(lo, (size_t)(hi - lo), how);
        for (unsigned k = u; k < v; k++)
            ss->unit_state[k] = how == PURGE_DONTNEED ? U_ZEROED : U_PURGED;
        ss->dirty_units -= v - u;
        did = 1;
        u = v;
    }
    return did;
}

/* Purges what is due in the heap's SuperSlabs (everything with force). */
void hak_ss_purge_due(hak_heap *h, int force)
{
    int how = hak_cfg.purge;
    if (force && how == PURGE_OFF) how = PURGE_DONTNEED;
    if (how == PURGE_OFF) return;
    uint64_t now = hak_now_ns();
    for (hak_ss *ss = h->ss_first; ss; ss = ss->next)
        if (ss->dirty_units) ss_purge(ss, now, force, how);
}

/* An empty SuperSlab leaves its heap: cached for reuse or unmapped. */
static void ss_release(hak_heap *h, hak_ss *ss)
{
    hak_assert(ss->free_units == hak_cfg.usable_units && !ss->busy);
    hak_assert_expensive(ss_counts_ok(ss));
    heap_unlink_ss(h, ss);
    hak_ss_set_owner(ss, NULL, memory_order_relaxed);
    if (hak_cfg.purge != PURGE_OFF && ss->dirty_units)
        ss_purge(ss, 0, 1, hak_cfg.purge);
    hak_lock();
    if (HAK_GET(ss_cached) < SS_CACHE_MAX) {
        ss->next = hak_cached_ss;
        hak_cached_ss = ss;
        HAK_ADD(ss_cached, 1);
        hak_unlock();
        return;
    }
    hak_unlock();
    ss_unmap(ss);
}

int hak_ss_trim_cache(void)
{
    int did = 0;
    for (;;) {
        hak_lock();
        hak_ss *ss = hak_cached_ss;
        if (ss) { hak_cached_ss = ss->next; HAK_SUB(ss_cached, 1); }
        hak_unlock();
        if (!ss) return did;
        ss_unmap(ss);
        did = 1;
    }
}

static hak_list *list_of(hak_heap *h, hak_slab *s)
{
    return s->list == LIST_PARTIAL ? &h->partial[s->cls] : &h->full[s->cls];
}

/* Takes over an abandoned SuperSlab: its slabs join this heap's lists. */
static void ss_adopt(hak_heap *h, hak_ss *ss)
{
    hak_assert(atomic_load_explicit(&ss->owner, memory_order_relaxed) == NULL);
    heap_link_ss(h, ss);
    ss->busy = 1;
    HAK_ADD(adopted, 1);
    HAK_SUB(ss_abandoned, 1);
    for (unsigned u = 0; u < hak_cfg.nunits; u++) {
        if (!ss->unit_cls[u] || ss->unit_head[u] != u) continue;
        hak_slab *s = &hak_ss_slabs(ss)[u];
        hak_slab_drain_remote(s);
        s->list = LIST_NONE;
        s->next = s->prev = NULL;
        hak_assert_internal(hak_slab_counts_ok(s));
        if (s->used == 0) { hak_slab_retire(h, s); continue; }
        int avail = s->free || s->bump < s->end;
        s->list = avail ? LIST_PARTIAL : LIST_FULL;
        hak_list_push_back(list_of(h, s), s);
    }
    ss->busy = 0;
    if (ss->free_units == hak_cfg.usable_units) ss_release(h, ss);
}

/* First fit of n free units (multi-unit slabs avoid the header unit). */
static int ss_find_units(hak_ss *ss, unsigned n)
{
    if (ss->free_units < n) return -1;
    unsigned start = n > 1 ? 1 : 0;
    if (start < hak_cfg.hdr_units) start = hak_cfg.hdr_units;
    for (unsigned u = start; u + n <= hak_cfg.nunits; u++) {
        unsigned k = 0;
        while (k < n && ss->unit_state[u + k] != U_USED) k++;
        if (k == n) return (int)u;
        u += k;
    }
    return -1;
}

/* Class of units [u, u+n) in unit_cls.  Their pages' gran_cls stays 0 until
 * carving enters them (hak_slab_enter); a retired slab's pages go back to
 * 0 (the header's pages never leave it). */
static void set_cls(hak_ss *ss, unsigned u, unsigned n, uint8_t cls)
{
    if (!cls) {
        unsigned shift = hak_cfg.slab_shift - HAK_GRAN_SHIFT;
        unsigned g0 = u << shift, hdr_grans = hak_cfg.hdr_size >> HAK_GRAN_SHIFT;
        if (g0 < hdr_grans) g0 = hdr_grans;
        for (unsigned g = g0; g < (u + n) << shift; g++)
            __atomic_store_n(&ss->gran_cls[g], 0, __ATOMIC_RELEASE);
    }
    for (unsigned k = u; k < u + n; k++)
        __atomic_store_n(&ss->unit_cls[k], cls, __ATOMIC_RELEASE);
}

/* Carving of slab s is about to hand out the blocks starting at from ..
 * last (inclusive).  Each page holding one of those starts that was not
 * entered before gets the freed mark in every slot start it holds (the
 * uncarved ones, and the tail slot at s->end when a partial block's room
 * follows the last whole block), then its class, published last: from
 * then on free()'s fast path takes a pointer into the page only if it is
 * a block start without the mark, which an uncarved slot never is.  The
 * pages are the ones carving touches anyway (it marks every carved
 * block), so this costs stores, not page faults. */
void hak_slab_enter(hak_slab *s, const char *from, const char *last)
{
    hak_ss *ss = (hak_ss *)((uintptr_t)s & hak_cfg.ss_mask);
    uintptr_t base = (uintptr_t)ss, b = s->block;
    uintptr_t first = (uintptr_t)(s->lo - base);
    uintptr_t stop = (uintptr_t)(s->end - base) + 1;        /* the tail slot's start is s->end */
    uintptr_t units_end = (uintptr_t)(s->unit + s->units) << hak_cfg.slab_shift;
    if (stop > units_end) stop = units_end;                 /* no tail slot: s->end is the next unit */
    uintptr_t g_end = (((uintptr_t)last - base) >> HAK_GRAN_SHIFT) + 1;
    for (uintptr_t g = ((uintptr_t)from - base) >> HAK_GRAN_SHIFT; g < g_end; g++) {
        if (ss->gran_cls[g]) continue;
        uintptr_t lo = g << HAK_GRAN_SHIFT, hi = lo + HAK_PAGE;
        lo = lo <= first ? first : (lo + b - 1) / b * b;
        if (hi > stop) hi = stop;
        for (uintptr_t off = lo; off < hi; off += b)
            *(uintptr_t *)(base + off) = hak_free_mark((void *)(base + off));
        __atomic_store_n(&ss->gran_cls[g], (uint8_t)s->cls, __ATOMIC_RELEASE);
    }
}

static hak_slab *slab_init(hak_ss *ss, unsigned u, unsigned cls)
{
    unsigned n = hak_cfg.cls_units[cls];
    int fresh = 1, refault = 0;
    hak_assert(cls > 0 && cls < hak_cfg.ncls && u >= hak_cfg.hdr_units && u + n <= hak_cfg.nunits);
    for (unsigned k = u; k < u + n; k++) {
        uint8_t st = ss->unit_state[k];
        hak_assert(st != U_USED && ss->unit_cls[k] == 0);
        if (st != U_FRESH && st != U_ZEROED) fresh = 0;
        if (st == U_DIRTY) ss->dirty_units--;
        if (st == U_ZEROED) refault = 1;    /* DONTNEED'd: pages are gone */
        ss->unit_state[k] = U_USED;
        ss->unit_head[k] = (uint8_t)u;
    }
    ss->free_units -= n;
    hak_slab *s = &hak_ss_slabs(ss)[u];
    char *lo, *hi;
    unit_range(ss, u, n, &lo, &hi);
    uint32_t b = hak_cfg.cls_size[cls];
    memset(s, 0, sizeof *s);
    s->block = b;
    s->cls = (uint16_t)cls;
    s->units = (uint16_t)n;
    s->unit = (uint8_t)u;
    /* Blocks sit at multiples of b from the SuperSlab base (hak_guard.h). */
    s->lo = (char *)ss + hak_slab_lo_off(u, cls);
    s->end = (char *)ss + hak_slab_end_off(u, cls);
    s->capacity = (uint32_t)((size_t)(s->end - s->lo) / b);
    s->bump = s->lo;
    s->fresh = (uint8_t)fresh;
    /* Units purged with MADV_DONTNEED and reused under a prefault policy are
     * prefaulted again (the whole SuperSlab was prefaulted when mapped). */
    if (refault && hak_cfg.prefault != PF_OFF)
        hak_os_prefault(lo, (size_t)(hi - lo));
    /* The class for the slow paths; free()'s fast path learns it page by
     * page (hak_slab_enter). */
    set_cls(ss, u, n, (uint8_t)cls);
    hak_assert_internal(hak_slab_counts_ok(s));
    hak_assert_expensive(ss_counts_ok(ss));
    return s;
}

/* A new slab of class cls for heap h: from its own SuperSlabs, an abandoned
 * one, the empty-SuperSlab cache, a parked heap's (dissolved), or a fresh
 * mapping. */
hak_slab *hak_slab_new(hak_heap *h, unsigned cls)
{
    unsigned n = hak_cfg.cls_units[cls];
    for (hak_ss *ss = h->ss_first; ss; ss = ss->next) {
        int u = ss_find_units(ss, n);
        if (u >= 0) return slab_init(ss, (unsigned)u, cls);
    }
    hak_ss *ss = NULL;
    if (hak_abandoned_ss) {        /* racy peek; rechecked under the lock */
        hak_lock();
        ss = hak_abandoned_ss;
        if (ss) hak_abandoned_ss = ss->next;
        hak_unlock();
        if (ss) {
            ss_adopt(h, ss);
            /* Adoption may have provided blocks of this class already. */
            if (h->partial[cls].first) return h->partial[cls].first;
            return hak_slab_new(h, cls);
        }
    }
    hak_lock();
    ss = hak_cached_ss;
    if (ss) { hak_cached_ss = ss->next; HAK_SUB(ss_cached, 1); }
    hak_unlock();
    /* Before mapping more: the memory of an exited thread's heap that no
     * new thread adopted (hak_init.c) becomes abandoned SuperSlabs. */
    if (!ss && hak_heap_dissolve_parked()) return hak_slab_new(h, cls);
    if (!ss) ss = ss_map_new();
    if (!ss) return NULL;
    heap_link_ss(h, ss);
    int u = ss_find_units(ss, n);
    if (u < 0) return NULL;
    return slab_init(ss, (unsigned)u, cls);
}

/* Gives an empty slab's units back to its SuperSlab. */
void hak_slab_retire(hak_heap *h, hak_slab *s)
{
    hak_ss *ss = (hak_ss *)((uintptr_t)s & hak_cfg.ss_mask);
    /* Retired only when nothing is held: no thread can still be about to
     * touch it (hak_internal.h, Ownership). */
    hak_assert(s->used == 0 && hak_slab_owned_by(s, h));
    hak_assert_internal(hak_slab_counts_ok(s));
    if (s->list != LIST_NONE) hak_list_remove(list_of(h, s), s);
    s->list = LIST_NONE;
    unsigned u = s->unit, n = s->units;
    int touched = !s->fresh || s->bump != s->lo;
    uint64_t now = hak_now_ns();
    set_cls(ss, u, n, 0);
    for (unsigned k = u; k < u + n; k++) {
        ss->unit_state[k] = touched ? U_DIRTY : U_FRESH;
        hak_ss_slabs(ss)[k].freed_ns = now;
    }
    if (touched) ss->dirty_units += n;
    ss->free_units += n;
    if (touched && hak_cfg.purge != PURGE_OFF && hak_cfg.purge_delay_ns == 0)
        ss_purge(ss, now, 1, hak_cfg.purge);
    hak_assert_expensive(ss_counts_ok(ss));
    if (ss->free_units == hak_cfg.usable_units && !ss->busy &&
        atomic_load_explicit(&ss->owner, memory_order_relaxed) == h)
        ss_release(h, ss);
}

/* Thread exit: SuperSlabs that are empty go to the cache, the rest wait for
 * another thread to adopt them. */
void hak_heap_abandon_all(hak_heap *h)
{
    for (unsigned c = 1; c < hak_cfg.ncls; c++) {
        hak_slab *s = h->full[c].first;
        while (s) {     /* remote frees may have emptied full slabs */
            hak_slab *next = s->next;
            hak_slab_drain_remote(s);
            if (s->used == 0) hak_slab_retire(h, s);
            s = next;
        }
        s = h->partial[c].first;
        while (s) {
            hak_slab *next = s->next;
            hak_slab_drain_remote(s);
            if (s->used == 0) hak_slab_retire(h, s);
            s = next;
        }
    }
    hak_ss *ss = h->ss_first;
    while (ss) {
        hak_ss *next = ss->next;
        if (ss->free_units == hak_cfg.usable_units) { ss_release(h, ss); ss = next; continue; }
        if (hak_cfg.purge != PURGE_OFF && ss->dirty_units) ss_purge(ss, 0, 1, hak_cfg.purge);
        heap_unlink_ss(h, ss);
        hak_ss_set_owner(ss, NULL, memory_order_release);
        hak_lock();
        ss->next = hak_abandoned_ss;
        hak_abandoned_ss = ss;
        hak_unlock();
        HAK_ADD(ss_abandoned, 1);
        ss = next;
    }
    for (unsigned c = 1; c < hak_cfg.ncls; c++) {
        h->partial[c].first = h->partial[c].last = NULL;
        h->full[c].first = h->full[c].last = NULL;
    }
}

/* Fork child: a thread that does not exist here owned these; nobody may
 * trust their lists, so they are fenced off (blocks freed into them are
 * queued remotely and never reused). */
void hak_ss_atfork_child_drop(hak_heap *h)
{
    for (hak_ss *ss = h->ss_first; ss; ss = ss->next)
        hak_ss_set_owner(ss, HAK_DEAD_OWNER, memory_order_relaxed);
    h->ss_first = NULL;
}
