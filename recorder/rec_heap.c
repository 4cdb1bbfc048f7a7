/* rec_heap.c - heap-only RSS samples for the trace (chunk kind 6,
 * traces/FORMAT.md), taken by the writer thread, and the naming of the
 * recorder's own mappings so that they are not counted as the program's
 * heap.
 *
 * A sample reads /proc/self/smaps (traces/common/heap_rss.h), whose cost
 * grows with the process's mappings and resident pages: ~0.1 ms for a
 * small program, milliseconds for gigabytes.  So samples are at least
 * REC_HEAP_MIN_NS apart and at least REC_HEAP_COST_X times the last read's
 * cost apart: the writer thread spends at most 1/REC_HEAP_COST_X of its
 * time on them and the program's threads nothing.
 *
 * The recorder's own mappings (event blocks, thread records, encoder
 * pieces, call-site tables) are anonymous memory like the program's heap.
 * They are named [anon:hakrec] where the kernel allows it
 * (CONFIG_ANON_VMA_NAME), and in any case registered here, and their
 * resident pages (mincore) are taken off each sample.  What the recorder
 * mallocs (zstd contexts, the encoder's tables, jobs) comes from its own
 * arena (rec_arena.c), whose used part is registered here too. */
#include "rec_internal.h"
#include "hak_util.h"
#include "heap_rss.h"

#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#endif
#ifndef PR_SET_VMA_ANON_NAME
#define PR_SET_VMA_ANON_NAME 0
#endif

#define REC_HEAP_MIN_NS  20000000ull   /* as often as RSS samples at most */
#define REC_HEAP_COST_X  50u

#define REC_OWN_MAX 1024               /* more are counted as heap (not expected) */

static struct { _Atomic uintptr_t p; size_t len; } own_tab[REC_OWN_MAX];
static hak_rss_sample heap_buf[64];
static unsigned heap_n;
static uint64_t heap_next_ns;          /* monotonic: no sample before this */
static uint64_t own_peak;              /* most resident in own mappings at a sample */
/* Held by a sample from its smaps read to its mincore, and by whoever
 * gives the pages of a registered mapping back meanwhile (an idle encoder
 * freed on the helper thread, a block returned): otherwise smaps counts
 * pages as the program's that mincore no longer finds ours, and the sample
 * is that much too high (2 MiB in heap_samples.sh under make check). */
static pthread_mutex_t own_mu = PTHREAD_MUTEX_INITIALIZER;

void rec_own_shrink_begin(void) { pthread_mutex_lock(&own_mu); }
void rec_own_shrink_end(void)   { pthread_mutex_unlock(&own_mu); }

void rec_own(void *p, size_t len)
{
    /* Shown as [anon:hakrec] in smaps; kernels without CONFIG_ANON_VMA_NAME
     * refuse (EINVAL) and the memory then counts as heap, as it did before. */
    if (!p)
        return;
    prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, (unsigned long)len,
          (unsigned long)"hakrec");
    for (size_t i = 0; i < REC_OWN_MAX; i++) {
        uintptr_t none = 0;
        if (!atomic_load_explicit(&own_tab[i].p, memory_order_relaxed) &&
            atomic_compare_exchange_strong(&own_tab[i].p, &none, (uintptr_t)1)) {
            own_tab[i].len = len;            /* claimed with 1, published below */
            atomic_store_explicit(&own_tab[i].p, (uintptr_t)p, memory_order_release);
            return;
        }
    }
}

void rec_unmap_own(void *p, size_t len)
{
    for (size_t i = 0; i < REC_OWN_MAX; i++)
        if (atomic_load_explicit(&own_tab[i].p, memory_order_acquire) == (uintptr_t)p) {
            atomic_store_explicit(&own_tab[i].p, 0, memory_order_release);
            break;
        }
    rec_own_shrink_begin();
    rec_os_munmap(p, len);
    rec_own_shrink_end();
}

/* Resident bytes of the registered mappings that smaps counted as heap
 * (those the kernel did not name). */
static uint64_t own_resident(int named)
{
    if (named)
        return 0;
    long pg = sysconf(_SC_PAGESIZE);
    unsigned char vec[4096];
    uint64_t res = 0;
    for (size_t i = 0; i < REC_OWN_MAX; i++) {
        uintptr_t p = atomic_load_explicit(&own_tab[i].p, memory_order_acquire);
        if (p <= 1)
            continue;
        size_t pages = (own_tab[i].len + (size_t)pg - 1) / (size_t)pg;
        for (size_t off = 0; off < pages; off += sizeof vec) {
            size_t n = pages - off < sizeof vec ? pages - off : sizeof vec;
            if (mincore((void *)(p + off * (size_t)pg), n * (size_t)pg, vec) != 0)
                break;
            for (size_t k = 0; k < n; k++)
                res += vec[k] & 1;
        }
    }
    return res * (uint64_t)pg;
}

uint64_t rec_own_resident(void)
{
    return own_resident(0);
}

uint64_t rec_own_peak(void)
{
    return own_peak;
}

void rec_heap_sample(int force)
{
    uint64_t t0 = hak_mono_ns();
    if ((!force && t0 < heap_next_ns) || heap_n == sizeof heap_buf / sizeof *heap_buf)
        return;
    hak_heap_rss h;
    pthread_mutex_lock(&own_mu);
    if (hak_heap_rss_read(0, &h) != 0) {
        pthread_mutex_unlock(&own_mu);
        return;
    }
    uint64_t own = own_resident(h.own != 0);
    pthread_mutex_unlock(&own_mu);
    uint64_t t1 = hak_mono_ns();
    uint64_t gap = (t1 - t0) * REC_HEAP_COST_X;
    heap_next_ns = t1 + (gap > REC_HEAP_MIN_NS ? gap : REC_HEAP_MIN_NS);
    heap_buf[heap_n].ts_ns = rec_clock_now_ns();
    uint64_t bytes = hak_heap_rss_bytes(&h);
    heap_buf[heap_n].rss_bytes = bytes > own ? bytes - own : 0;
    if ((h.own ? h.own : own) > own_peak)
        own_peak = h.own ? h.own : own;
    heap_n++;
}

int rec_heap_flush(hak_trace_writer *tw)
{
    if (!heap_n)
        return 0;
    int rc = hak_tw_heap(tw, heap_buf, heap_n);
    heap_n = 0;
    return rc;
}

void rec_heap_reset(void)
{
    heap_n = 0;
    heap_next_ns = 0;
    own_peak = 0;
    pthread_mutex_init(&own_mu, NULL);   /* the parent's writer may have held it */
}
