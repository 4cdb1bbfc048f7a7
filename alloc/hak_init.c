/* hak_init.c - process and thread initialisation, the global lock, fork.
 *
 * Process init runs once, at the first allocation, and allocates nothing:
 * knobs (hak_config.c), then the state is published as ready *before* the
 * pthread_key_create call (and pthread_atfork, later), so that if libc ever allocated
 * from inside them the nested call would find a working allocator instead
 * of recursing into init.
 *
 * Thread heaps live in TLS (initial-exec).  A heap registers a pthread key
 * whose destructor (hak_thread_exit) hands the whole heap over: it is
 * parked as it is (thread cache, slab lists, SuperSlabs, cache arrays: a
 * struct copy and one owner store per SuperSlab) in one of PARK_MAX
 * records, and the next thread to start adopts it the same way instead of
 * building a heap from nothing.  A program that keeps replacing threads
 * thus pays no flush of the caches, no SuperSlab hand-over through the
 * abandoned list and no cold refills per thread, and its blocks stay in
 * the slabs they came from (RSS).  A parked heap nobody adopts is
 * dissolved the old way (caches flushed, SuperSlabs abandoned for any
 * thread to adopt) when the records are full, when a thread would
 * otherwise map a new SuperSlab, and by malloc_trim.  After its exit the
 * thread is DEAD for us: any later malloc/free from it (other destructors)
 * goes through hak_orphan_heap under a lock and never re-registers.
 *
 * Fork: prepare takes the global lock and the orphan lock, so the child never
 * inherits a lock held by a thread that does not exist there; the child
 * re-initialises both and marks the SuperSlabs of every other thread as
 * owned by a dead owner (their free lists may have been mid-update).  The
 * handlers are registered when a second heap starts (atfork_register).
 */
#include "hak_fast.h"

#include <sched.h>
#include <string.h>
#include <sys/mman.h>

HAK_HOT _Atomic int hak_init_state;
HAK_HOT static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
HAK_HOT pthread_mutex_t hak_orphan_lock = PTHREAD_MUTEX_INITIALIZER;
hak_heap hak_orphan_heap;
__thread hak_heap hak_tls_heap __attribute__((tls_model("initial-exec")));
HAK_HOT hak_counters hak_ctr;
HAK_HOT hak_ss *hak_all_ss, *hak_abandoned_ss, *hak_cached_ss;
HAK_HOT hak_heap *hak_heaps;
HAK_HOT static pthread_key_t g_key;
HAK_HOT static int g_key_ok;
/* Heaps of exited threads waiting for a new thread (under the global lock;
 * see the top of the file). */
#define PARK_MAX 4
static hak_heap parked[PARK_MAX];   /* state HEAP_PARKED when in use */
HAK_HOT static unsigned parked_n;   /* records in use (a racy peek is fine) */

void hak_lock(void)   { pthread_mutex_lock(&g_lock); }
void hak_unlock(void) { pthread_mutex_unlock(&g_lock); }

static void atfork_prepare(void)
{
    pthread_mutex_lock(&g_lock);
    pthread_mutex_lock(&hak_orphan_lock);
}

static void atfork_parent(void)
{
    pthread_mutex_unlock(&hak_orphan_lock);
    pthread_mutex_unlock(&g_lock);
}

static void atfork_child(void)
{
    pthread_mutex_init(&hak_orphan_lock, NULL);
    pthread_mutex_init(&g_lock, NULL);
    hak_heap *me = &hak_tls_heap;
    hak_heap *h = hak_heaps, *keep = NULL;
    uint64_t n = 0;
    while (h) {
        hak_heap *next = h->reg_next;
        if (h == me) {
            h->reg_next = keep; h->reg_prev = NULL;
            if (keep) keep->reg_prev = h;
            keep = h; n++;
        } else {
            hak_ss_atfork_child_drop(h);
        }
        h = next;
    }
    hak_heaps = keep;
    /* Parked heaps were dropped with the rest (fenced off): forget them. */
    memset(parked, 0, sizeof parked);
    parked_n = 0;
    atomic_store_explicit(&hak_ctr.threads, n, memory_order_relaxed);
}

void hak_global_init(void)
{
    int expect = 0;
    if (atomic_compare_exchange_strong(&hak_init_state, &expect, 1)) {
        hak_clock_init();
        hak_config_init();
        atomic_store_explicit(&hak_init_state, 2, memory_order_release);
        g_key_ok = pthread_key_create(&g_key, hak_thread_exit) == 0;
        return;
    }
    /* Another thread is initialising: wait (init never blocks on us). */
    while (atomic_load_explicit(&hak_init_state, memory_order_acquire) != 2)
        sched_yield();
}

/* Entries of class c's array: its cap, rounded up to a cache line, plus one
 * cache line.  The skew keeps the arrays from starting a power of two apart
 * (256 entries = 2 KiB): the tops of all classes would otherwise crowd a few
 * L1 sets and 4 KiB-alias each other's stores (random_mixed ran ~3% slower
 * without it). */
#define SLOT_SKEW 8u
static size_t slots_of(unsigned c)
{
    return ((size_t)hak_cfg.cls_cap[c] + 7u) / 8u * 8u + SLOT_SKEW;
}

/* Bytes of one heap's thread-cache arrays (all classes), page rounded. */
static size_t slots_size(void)
{
    size_t n = 0;
    for (unsigned c = 1; c < hak_cfg.ncls; c++) n += slots_of(c);
    return (n * sizeof(void *) + HAK_PAGE - 1) & ~(size_t)(HAK_PAGE - 1);
}

/* Carves the thread-cache arrays out of one mapping.  If it cannot be
 * mapped the caps stay 0: the thread works uncached. */
/* Arrays of exited threads kept for the next threads (their pages stay
 * faulted in): a program that keeps starting short-lived threads pays no
 * munmap and mmap plus page faults per thread.  Under the global lock. */
#define SLOTS_POOL 4
HAK_HOT static void **slots_pool[SLOTS_POOL];
HAK_HOT static unsigned slots_pooled;

static void **slots_get(size_t size)
{
    void **s = NULL;
    hak_lock();
    if (slots_pooled) s = slots_pool[--slots_pooled];
    hak_unlock();
    return s ? s : hak_os_map_meta(size);
}

static void slots_put(void **s, size_t size)
{
    hak_lock();
    if (slots_pooled < SLOTS_POOL) { slots_pool[slots_pooled++] = s; s = NULL; }
    hak_unlock();
    if (s) munmap(s, size);
}

/* ---- parked heaps (see the top of the file); records under the global lock ---- */

static void registry_unlink(hak_heap *h)
{
    if (h->reg_prev) h->reg_prev->reg_next = h->reg_next;
    else hak_heaps = h->reg_next;
    if (h->reg_next) h->reg_next->reg_prev = h->reg_prev;
    h->reg_next = h->reg_prev = NULL;
}

static void registry_link(hak_heap *h)
{
    h->reg_prev = NULL;
    h->reg_next = hak_heaps;
    if (hak_heaps) hak_heaps->reg_prev = h;
    hak_heaps = h;
}

/* Moves heap 'from' to 'to' under the lock (the registry entry with it:
 * hak_block_is_free searches every registered heap's caches), then makes
 * 'to' the owner of its SuperSlabs.  Nobody but the caller touches either
 * heap's lists meanwhile; other threads only compare ss->owner with their
 * own heap, which neither is. */
static void heap_move(hak_heap *to, hak_heap *from, uint32_t state)
{
    hak_heap *rn = from->reg_next, *rp = from->reg_prev;
    *to = *from;
    to->reg_next = rn; to->reg_prev = rp;
    if (rp) rp->reg_next = to; else hak_heaps = to;
    if (rn) rn->reg_prev = to;
    to->state = state;
    memset(from, 0, sizeof *from);
    for (hak_ss *ss = to->ss_first; ss; ss = ss->next)
        hak_ss_set_owner(ss, to, memory_order_release);
}

unsigned hak_heaps_parked(void) { return __atomic_load_n(&parked_n, __ATOMIC_RELAXED); }

/* Parks exiting heap h; 0 when every record is taken.  Its bins are cut
 * to a quarter of their capacity first: a cache's depth is a random walk
 * of the program's frees against its mallocs per class, and a heap that
 * lives through many threads would otherwise carry the walk on until every
 * bin is full (thread_churn: 13 MiB cached against 7 MiB live). */
static int heap_park(hak_heap *h)
{
    if (!hak_cfg.tcache) return 0;
    for (unsigned c = 1; c < hak_cfg.ncls; c++) {
        uint32_t keep = hak_bin_cap(&h->bins[c]) / 4;
        if (hak_bin_count(&h->bins[c]) > keep) hak_heap_flush(h, c, keep);
    }
    /* Empty units are purged now, as the old hand-over did: a parked heap
     * may wait long for its next thread. */
    hak_ss_purge_due(h, 1);
    int done = 0;
    hak_lock();
    for (unsigned i = 0; i < PARK_MAX && !done; i++)
        if (parked[i].state == HEAP_UNINIT) {
            heap_move(&parked[i], h, HEAP_PARKED);
            parked_n++;
            done = 1;
        }
    hak_unlock();
    return done;
}

/* Takes a parked heap into h (uninitialised); 0 when none is parked. */
static int heap_unpark(hak_heap *h)
{
    if (!__atomic_load_n(&parked_n, __ATOMIC_RELAXED)) return 0;
    int done = 0;
    hak_lock();
    for (unsigned i = 0; i < PARK_MAX && !done; i++)
        if (parked[i].state == HEAP_PARKED) {
            heap_move(h, &parked[i], HEAP_ACTIVE);
            parked_n--;
            done = 1;
        }
    hak_unlock();
    return done;
}

/* The old hand-over, for a heap nobody runs (an exiting thread's, or a
 * parked one taken out of its record): caches flushed to their slabs,
 * cache arrays pooled, SuperSlabs cached or abandoned for other threads to
 * adopt, counters folded into the global ones. */
static void heap_dissolve(hak_heap *h)
{
    for (unsigned c = 1; c < hak_cfg.ncls; c++) {
        hak_heap_flush(h, c, 0);
        hak_assert(hak_bin_count(&h->bins[c]) == 0);
        hak_bin_set(&h->bins[c], NULL, 0);
    }
    /* Unregistered before the arrays go: hak_block_is_free scans every
     * registered heap's caches under the lock. */
    hak_lock();
    registry_unlink(h);
    hak_unlock();
    if (h->slots) slots_put(h->slots, h->slots_size);
    h->slots = NULL;
    h->slots_used = 0;
    hak_heap_abandon_all(h);
    HAK_ADD(dead_remote_frees, h->remote_frees);
    HAK_ADD(dead_calloc_zeroed, h->calloc_zeroed);
    HAK_ADD(dead_calloc_skipped, h->calloc_skipped);
}

/* Dissolves one parked heap (into tmp, which the caller provides so that
 * the work happens outside the records); 0 when none is parked.  Called
 * before mapping a new SuperSlab and by malloc_trim. */
int hak_heap_dissolve_parked(void)
{
    static hak_heap tmp;        /* under dissolve_lock */
    HAK_HOT static pthread_mutex_t dissolve_lock = PTHREAD_MUTEX_INITIALIZER;
    if (!__atomic_load_n(&parked_n, __ATOMIC_RELAXED)) return 0;
    pthread_mutex_lock(&dissolve_lock);
    int got = heap_unpark(&tmp);
    if (got) {
        tmp.state = HEAP_PARKED;    /* not a thread's: nothing counts it as one */
        heap_dissolve(&tmp);
        memset(&tmp, 0, sizeof tmp);
    }
    pthread_mutex_unlock(&dissolve_lock);
    return got;
}

/* Gives bin cls of h (the caller's own heap, its bin still without an
 * array) its array, carved from h's slots mapping when the class is first
 * used, so that the arrays of the classes a thread uses sit together in
 * the order it first used them.  With the arrays of all classes laid out
 * in class order at heap init, each class in use had the first entries of
 * its array (the ones a stack touches) on a page of its own or nearly:
 * small_loop (13 classes) had 56 KiB of arrays resident.  0 when the bin
 * has its array already, caching is off or the mapping is used up. */
int hak_bin_attach(hak_heap *h, unsigned cls)
{
    uint32_t cap = hak_cfg.cls_cap[cls];
    if (!h->slots || !cap || hak_bin_cap(&h->bins[cls])) return 0;
    size_t n = slots_of(cls);
    if ((h->slots_used + n) * sizeof(void *) > h->slots_size) return 0;
    hak_bin_set(&h->bins[cls], h->slots + h->slots_used, cap);
    h->slots_used += n;
    return 1;
}

/* The fork handlers are registered when a second heap starts (a second
 * thread's first allocation), not at init: until then no other thread
 * can hold one of our locks or own a heap, so a fork needs none, and
 * libc's pthread_atfork sits in a part of libc that a single-threaded
 * program using glibc's malloc never reaches: calling it added ~13 pages
 * (52 KiB) of libc text to every process (fault-around, hak_clock.c;
 * small_loop's peak RSS 1740 -> 1680 KB, glibc 1464-1652).  A thread registers before it takes any of our locks, and
 * glibc holds its fork lock from the prepare handlers to the parent/child
 * ones, so a fork either runs our handlers or happens before the thread
 * could hold a lock.  atfork_owner: 0, the pid of the process whose
 * thread is registering, or -1 once registered; a child forked while its
 * parent was registering finds its parent's pid there and starts over. */
HAK_HOT static _Atomic unsigned heaps_begun;
HAK_HOT static _Atomic int atfork_owner;

static void atfork_register(void)
{
    for (;;) {
        int own = atomic_load_explicit(&atfork_owner, memory_order_acquire);
        if (own == -1) return;
        int me = hak_os_getpid();
        if (own == 0 && atomic_compare_exchange_strong(&atfork_owner, &own, me)) {
            pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
            atomic_store_explicit(&atfork_owner, -1, memory_order_release);
            return;
        }
        if (own > 0 && own != me)      /* our parent's thread was registering when it forked us */
            atomic_compare_exchange_strong(&atfork_owner, &own, 0);
        sched_yield();
    }
}

static void heap_init(hak_heap *h)
{
    if (atomic_fetch_add_explicit(&heaps_begun, 1, memory_order_relaxed) > 0) atfork_register();
    if (heap_unpark(h)) {
        HAK_ADD(threads, 1);
        HAK_ADD(heaps_adopted, 1);
        if (g_key_ok) pthread_setspecific(g_key, h);
        return;
    }
    size_t size = hak_cfg.tcache ? slots_size() : 0;
    void **slot = size ? slots_get(size) : NULL;
    if (slot) {     /* the bins get their arrays on first use (hak_bin_attach) */
        h->slots = slot;
        h->slots_size = size;
        h->slots_used = 0;
    }
    h->state = HEAP_ACTIVE;
    hak_lock();
    registry_link(h);
    hak_unlock();
    HAK_ADD(threads, 1);
    if (g_key_ok) pthread_setspecific(g_key, h);
}

/* The calling thread's heap, initialised on first use; NULL once the thread
 * has gone through its exit destructor (callers then use the orphan heap). */
hak_heap *hak_heap_get(void)
{
    hak_heap *h = &hak_tls_heap;
    if (HAK_LIKELY(h->state == HEAP_ACTIVE)) return h;
    if (h->state == HEAP_DEAD) return NULL;
    if (atomic_load_explicit(&hak_init_state, memory_order_acquire) != 2)
        hak_global_init();
    heap_init(h);
    return h;
}

/* pthread key destructor: park the heap for the next thread, or (records
 * full) hand the cache and the SuperSlabs back the old way. */
void hak_thread_exit(void *arg)
{
    hak_heap *h = arg;
    if (h != &hak_tls_heap || h->state != HEAP_ACTIVE) return;
    if (!heap_park(h)) heap_dissolve(h);
    HAK_SUB(threads, 1);
    HAK_ADD(thread_exits, 1);
    memset(h, 0, sizeof *h);
    h->state = HEAP_DEAD;
}

/* At load time: initialise, set up the main thread's heap and map the first
 * SuperSlab, so that a program's first malloc (often inside a measured
 * window) does not pay for our start-up: the header page, the registry
 * word, our .bss and the knob scan. */
__attribute__((constructor)) static void hak_load_init(void)
{
    if (atomic_load_explicit(&hak_init_state, memory_order_acquire) != 2)
        hak_global_init();
    hak_free_fast(hak_malloc_fast(1));
    (void)hak_now_ns();   /* first vDSO clock read faults the vvar page */
}
