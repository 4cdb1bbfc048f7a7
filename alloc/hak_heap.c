/* hak_heap.c - a thread heap's slow paths: refilling a thread-cache bin
 * from the heap's slabs, flushing an overfull bin back, returning one block
 * to its slab (locally or through the slab's remote queue), and draining a
 * slab's remote queue.  Free-list links are encoded and checked on every
 * pop (hak_guard.h); under HAKMEM_CHECK a block popped from a free list is
 * also checked for writes after its free (hak_check.c).
 *
 * Per class the heap keeps two slab lists: partial (has blocks on its free
 * list or bump area) and full (nothing local; other threads may have queued
 * blocks remotely).  Refill takes from the first partial slab; when none is
 * left it looks at a few full slabs for remote frees (rotating, so the cost
 * per refill is bounded) before carving a new slab.
 */
#include "hak_guard.h"

#define FULL_SCAN 8    /* full slabs inspected per refill miss */
#define CARVE_STEP (256u << 10)   /* carved bytes reported to hak_large_carved at a time */
#define TRIM_STEP (16u << 10)     /* carved bytes between cache trims (hak_trim.c) */

void hak_list_remove(hak_list *l, hak_slab *s)
{
    if (s->prev) s->prev->next = s->next; else l->first = s->next;
    if (s->next) s->next->prev = s->prev; else l->last = s->prev;
    s->next = s->prev = NULL;
}

void hak_list_push_front(hak_list *l, hak_slab *s)
{
    s->prev = NULL;
    s->next = l->first;
    if (l->first) l->first->prev = s; else l->last = s;
    l->first = s;
}

void hak_list_push_back(hak_list *l, hak_slab *s)
{
    s->next = NULL;
    s->prev = l->last;
    if (l->last) l->last->next = s; else l->first = s;
    l->last = s;
}

static void move_to(hak_heap *h, hak_slab *s, int list)
{
    hak_assert(s->cls && s->cls < hak_cfg.ncls);
    if (s->list == list) return;
    if (s->list == LIST_PARTIAL) hak_list_remove(&h->partial[s->cls], s);
    else if (s->list == LIST_FULL) hak_list_remove(&h->full[s->cls], s);
    s->list = (uint8_t)list;
    if (list == LIST_PARTIAL) hak_list_push_front(&h->partial[s->cls], s);
    else if (list == LIST_FULL) hak_list_push_back(&h->full[s->cls], s);
}

/* Moves the remote queue onto the local free list; owner only.  An empty
 * free list simply becomes the queue (its count is in the queue word,
 * hak_guard.h): no walk over blocks another core wrote last, which was a
 * fifth of the allocator's instructions on a producer/consumer pair. */
uint32_t hak_slab_drain_remote(hak_slab *s)
{
    if (!atomic_load_explicit(&s->remote, memory_order_relaxed)) return 0;
    uintptr_t q = atomic_exchange_explicit(&s->remote, 0, memory_order_acquire);
    void *r = hak_rq_ptr(q);
    uint32_t n = hak_rq_count(q);
    if (!s->free && n != HAK_RQ_MANY) {
        s->free = r;
        r = NULL;
    } else {
        n = 0;
    }
    while (r) {
        void *next = hak_link_next(s, r);
        hak_link_set(r, s->free);
        s->free = r;
        r = next;
        n++;
    }
    hak_assert(n <= s->used);
    s->nfree += n;
    s->used -= n;
    hak_assert_internal(hak_slab_counts_ok(s));
    return n;
}

/* Pops the slab's local free list (non-empty). */
static inline void *slab_pop(hak_slab *s)
{
    void *b = s->free;
    s->free = hak_link_next(s, b);
    if (HAK_UNLIKELY(hak_cfg.check)) hak_check_reuse(b, s->block);
    return b;
}

/* Finds a slab of cls with blocks available, or NULL (out of memory). */
static hak_slab *find_slab(hak_heap *h, unsigned cls)
{
    hak_slab *s = h->partial[cls].first;
    if (s) return s;
    for (int i = 0; i < FULL_SCAN && (s = h->full[cls].first) != NULL; i++) {
        if (hak_slab_drain_remote(s)) {
            move_to(h, s, LIST_PARTIAL);
            return s;
        }
        if (s == h->full[cls].last) break;
        hak_list_remove(&h->full[cls], s);       /* rotate */
        hak_list_push_back(&h->full[cls], s);
    }
    s = hak_slab_new(h, cls);
    if (!s) return NULL;
    if (s->list == LIST_NONE) move_to(h, s, LIST_PARTIAL);
    return s;
}

/* Takes up to cls_refill blocks; returns one to the caller and puts the rest
 * in the (empty) bin.  *fresh tells whether the returned block is known to be
 * kernel-zero.  Also the place where delayed purges get their turn. */
void *hak_heap_refill(hak_heap *h, unsigned cls, int *fresh)
{
    if (HAK_UNLIKELY((++h->tick & 255) == 0) && hak_cfg.purge != PURGE_OFF)
        hak_ss_purge_due(h, 0);
    if (HAK_UNLIKELY(h->trim_carved >= TRIM_STEP)) hak_tcache_trim(h, cls);
    h->trim_refilled[cls] = 1;
    hak_slab *s = find_slab(h, cls);
    if (!s) return NULL;
    hak_bin *bin = &h->bins[cls];
    hak_assert(s->cls == cls && hak_slab_owned_by(s, h));
    hak_assert(hak_bin_count(bin) == 0);     /* refill fills an empty bin */
    hak_assert_internal(hak_slab_counts_ok(s));
    hak_assert_expensive(hak_slab_free_len_ok(s));
    uint32_t want = hak_cfg.cls_refill[cls];
    if (want > hak_bin_cap(bin) + 1) want = hak_bin_cap(bin) + 1;   /* one to return, the rest must fit */
    void *ret;
    uint32_t got = 1;
    /* Blocks other threads returned come before the bump area: carving
     * touches new pages (RSS) while freed ones sit on the queue. */
    if (!s->free) hak_slab_drain_remote(s);
    /* A refill that finds freed blocks takes only those: topping the bin
     * up from the bump area entered a new page for a few blocks each time
     * a trimmed bin (hak_trim.c) came back (faults bench: 38 -> 45). */
    int from_free = s->free != NULL;
    if (s->free) {
        ret = slab_pop(s);
        s->nfree--;
        *fresh = 0;
    } else if (s->bump < s->end) {
        ret = s->bump;
        hak_slab_enter(s, ret, ret);
        s->bump += s->block;
        h->carved += s->block;
        h->trim_carved += s->block;
        *fresh = s->fresh;
    } else {
        hak_slab_drain_remote(s);       /* partial slabs always have something */
        if (!s->free) return NULL;
        ret = slab_pop(s);
        s->nfree--;
        *fresh = 0;
    }
    /* The rest goes to the (empty) bin: free list first (warm memory),
     * then bump. */
    void **top = bin->top;
    while (got < want && s->free) {
        void *b = slab_pop(s);      /* keeps its freed mark (hak_guard.h) */
        *top++ = b;
        got++;
    }
    s->nfree -= (got - 1);
    if (got < want && s->bump < s->end && !from_free) {
        uint32_t n = (uint32_t)((size_t)(s->end - s->bump) / s->block);
        if (n > want - got) n = want - got;
        /* Push bump blocks in descending address order: popped lowest first.
         * Each gets its freed mark (hak_guard.h: every block in a cache
         * carries it) written now: its page faults in here, on the refill
         * slow path, not at the program's first touch, as when the cache
         * was a list linked through the blocks. */
        char *b = s->bump + (size_t)(n - 1) * s->block;
        hak_slab_enter(s, s->bump, b);
        uintptr_t mark = hak_free_mark(b);
        for (uint32_t i = 0; i < n; i++, b -= s->block) {
            *(uintptr_t *)b = mark;
            *top++ = b;
        }
        s->bump += (size_t)n * s->block;
        got += n;
        h->carved += (size_t)n * s->block;
        h->trim_carved += (size_t)n * s->block;
    }
    if (HAK_UNLIKELY(h->carved >= CARVE_STEP)) {    /* hak_large.c: resident cache vs new pages */
        hak_large_carved(h->carved);
        h->carved = 0;
    }
    bin->top = top;
    s->used += got;
    hak_assert(hak_bin_count(bin) + 1 == got && got <= hak_bin_cap(bin) + 1);
    hak_assert_internal(hak_slab_counts_ok(s));
    if (!s->free && s->bump >= s->end) move_to(h, s, LIST_FULL);
    return ret;
}

/* Returns one block to its slab.  ss must be p's validated SuperSlab; p
 * carries its freed mark already (free() stored it; cached blocks all do). */
void hak_block_return(hak_heap *h, void *p, hak_ss *ss)
{
    hak_slab *s = hak_slab_of(ss, p);
    hak_assert_internal(hak_slab_has(s, p));
    hak_assert_internal(*hak_mark_word(p) == hak_free_mark(p));
    if (atomic_load_explicit(&ss->owner, memory_order_relaxed) == h) {
        hak_assert(s->used > 0);
        hak_link_set(p, s->free);
        s->free = p;
        s->nfree++;
        s->used--;
        hak_assert_internal(hak_slab_counts_ok(s));
        if (s->used == 0) {
            /* Keep one empty slab per class to avoid carve/retire churn. */
            hak_slab *first = h->partial[s->cls].first;
            if ((first && first != s) || (s->list == LIST_PARTIAL && s->next)) {
                hak_slab_retire(h, s);
                return;
            }
        }
        if (s->list == LIST_FULL) move_to(h, s, LIST_PARTIAL);
        return;
    }
    uintptr_t old = atomic_load_explicit(&s->remote, memory_order_relaxed);
    do {
        hak_link_set(p, hak_rq_ptr(old));
    } while (!atomic_compare_exchange_weak_explicit(&s->remote, &old, hak_rq_push(old, p, 1),
                 memory_order_release, memory_order_relaxed));
    h->remote_frees++;
}

/* Pushes the chain head..tail (linked already) on slab s's remote queue
 * with one compare-and-swap. */
static void remote_push_chain(hak_heap *h, hak_slab *s, void *head, void *tail, uint32_t n)
{
    uintptr_t old = atomic_load_explicit(&s->remote, memory_order_relaxed);
    do {
        hak_link_set(tail, hak_rq_ptr(old));
    } while (!atomic_compare_exchange_weak_explicit(&s->remote, &old, hak_rq_push(old, head, n),
                 memory_order_release, memory_order_relaxed));
    h->remote_frees += n;
}

/* Sends all but keep blocks of bin cls back to their slabs.  Blocks of a
 * slab another thread owns go in runs: consecutive ones of the same slab
 * (a consumer freeing a producer's blocks in order) are chained here and
 * pushed with one compare-and-swap per run instead of one per block. */
void hak_heap_flush(hak_heap *h, unsigned cls, uint32_t keep)
{
    hak_bin *bin = &h->bins[cls];
    hak_slab *run = NULL;
    void *head = NULL, *tail = NULL;
    uint32_t n = 0;
    while (hak_bin_count(bin) > keep) {
        void *p = *--bin->top;
        hak_ss *ss = (hak_ss *)((uintptr_t)p & hak_cfg.ss_mask);
        if (atomic_load_explicit(&ss->owner, memory_order_relaxed) == h) {
            hak_block_return(h, p, ss);
            continue;
        }
        hak_slab *s = hak_slab_of(ss, p);
        hak_assert_internal(*hak_mark_word(p) == hak_free_mark(p));   /* (cached: marked) */
        if (s == run) {
            hak_link_set(p, head);
            head = p;
            n++;
            continue;
        }
        if (run) remote_push_chain(h, run, head, tail, n);
        run = s;
        head = tail = p;
        n = 1;
    }
    if (run) remote_push_chain(h, run, head, tail, n);
}
