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
 * A heap that grows to a peak and gives it back within those 20 ms would
 * be missed (cxx_containers recorded 26.2 MiB against 28.3 live; an
 * mt_churn recording had a 900 ms gap), and `hak replay --touch auto`
 * then fits its touch policy to a peak that is not the program's.  So the
 * writer also polls, at each of its wakes (every ms while recording), the
 * process's RSS high-water mark (getrusage ru_maxrss: no descriptor, no
 * walk, ~1 us), and takes a sample whenever it has risen 1/64 above the
 * value at the last such sample (REC_HEAP_HIGH_DIV): the heap's growth to
 * a new high is followed in steps of ~1.6%, and the number of these extra
 * samples grows with the log of the peak, not with the run's length.
 * The mark is the whole process's (code and stacks too): it only says
 * when to look; the launcher's pre-exec image, which ru_maxrss also holds,
 * is kept out of it (high_water_kb).  These samples do not read
 * smaps (milliseconds for a large heap, under the lock the program's brk
 * and mmap wait for): they take the process's anonymous resident memory
 * (statm), less the recorder's own (mincore) and less the anonymous
 * memory that is not heap as the last full sample measured it (take_cheap).
 * They are rate-limited apart (at most 1/REC_HEAP_HIGH_COST_X of the
 * writer's CPU time while the heap grows; one postponed by that is taken
 * as soon as allowed); the program's threads pay nothing.
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

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
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
#define REC_HEAP_HIGH_DIV    64u       /* a new high: 1/64 above the last one */
#define REC_HEAP_HIGH_MIN_KB 256u      /* ... and at least this much */
#define REC_HEAP_HIGH_COST_X 4u

#define REC_OWN_MAX 1024               /* more are counted as heap (not expected) */

static struct { _Atomic uintptr_t p; size_t len; } own_tab[REC_OWN_MAX];
/* 90 ms between flushes: ~5 timed samples and, while the heap grows
 * fast, up to one new-high sample per 10 smaps reads' time.  A writer
 * that does not flush for longer (a long pass: rec_jobs.c polls between
 * its jobs) fills it; then it is thinned (thin_buf), not left to drop
 * every later sample without a word. */
#define REC_HEAP_BUF 256u
static hak_rss_sample heap_buf[REC_HEAP_BUF];
static unsigned heap_n;
static unsigned heap_thin;             /* halvings since the last flush */
static uint64_t heap_next_ns;          /* monotonic: no sample before this */
static uint64_t high_next_ns;          /* no new-high sample before this */
static uint64_t high_kb;               /* high_water_kb() at the last new-high sample */
static int high_pending;               /* a new high waits for high_next_ns */
/* Anonymous resident bytes that are neither heap nor the recorder's, at
 * the last full sample (INT64_MIN: none yet) */
static int64_t other_anon = INT64_MIN;
#define REC_OTHER_N 4u
static int64_t other_hist[REC_OTHER_N];
static unsigned other_i;
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

/* A new high: REC_HEAP_HIGH_DIV, halved at each thinning of the buffer
 * (thin_buf: half the rate). */
static int is_high(uint64_t last_kb, uint64_t now_kb, unsigned thin)
{
    unsigned sh = thin < 6 ? thin : 6;
    uint64_t step = last_kb / (REC_HEAP_HIGH_DIV >> sh);
    if (step < (uint64_t)REC_HEAP_HIGH_MIN_KB << sh)
        step = (uint64_t)REC_HEAP_HIGH_MIN_KB << sh;
    return now_kb >= last_kb + step;
}

int rec_heap_is_high(uint64_t last_kb, uint64_t now_kb)
{
    return is_high(last_kb, now_kb, 0);
}

/* A sample is placed among the events by its time (hak replay maps it
 * to the ops timed before it), but event times are interpolated between
 * the writer's clock samples (rec_clock.c): without clock samples around
 * the read, the last malloc before a quiet stretch could be timed after a
 * sample that saw its block, or a free after the read before it.  Under
 * load, a short peak the sample saw (cxx_containers' last vector growth:
 * 28.5 MiB recorded) was so mapped to where the replay's heap was already
 * down (26.8).  So a clock sample is taken before the read and one after
 * it: events before the read are timed before the first, events after it
 * at or after the second, and the sample's time is one ns before the
 * second's time unit (event times are floored to it).  Called after the
 * read. */
static uint64_t anchored_ts(void)
{
    uint64_t unit = rec_g.cfg.ts_unit_ns ? rec_g.cfg.ts_unit_ns : 1;
    uint64_t ts = rec_clock_now_ns() / unit * unit;
    rec_clock_sample();
    return ts ? ts - 1 : 0;
}

/* statm's resident and shared pages, counters the kernel keeps: no walk
 * of the mappings, no lock the program waits for.  -1 when unreadable.
 * Opened and closed each time, like the RSS samples' (rec_fds.c: one
 * descriptor to protect). */
static int statm_pages(unsigned long long *res, unsigned long long *shared)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t k = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (k <= 0)
        return -1;
    buf[k] = 0;
    unsigned long long size;
    if (sscanf(buf, "%llu %llu %llu", &size, res, shared) != 3 || *shared > *res)
        return -1;
    return 0;
}

/* The process's anonymous resident bytes (statm: resident - shared). */
static int64_t anon_now(void)
{
    unsigned long long res, shared;
    if (statm_pages(&res, &shared) != 0)
        return -1;
    return (int64_t)((res - shared) * (unsigned long long)sysconf(_SC_PAGESIZE));
}

/* A full buffer (the writer has not flushed it): every other sample is
 * kept, the highest always (it stands in for its neighbour: the peak is
 * what --touch auto and a replay's heap are compared with), and samples
 * are taken at half the rate until the next flush (heap_thin: timed ones
 * twice as far apart, new highs twice the step).  The time line stays
 * whole, coarser, where dropping the newest samples cut it off. */
static void thin_buf(void)
{
    unsigned top = 0;
    for (unsigned i = 1; i < heap_n; i++)
        if (heap_buf[i].rss_bytes > heap_buf[top].rss_bytes)
            top = i;
    unsigned k = 0;
    for (unsigned i = 0; i < heap_n; i += 2)
        heap_buf[k++] = top == i + 1 ? heap_buf[i + 1] : heap_buf[i];
    heap_n = k;
    heap_thin++;
}

static void push(uint64_t heap_bytes)
{
    if (heap_n == REC_HEAP_BUF)
        thin_buf();
    heap_buf[heap_n].ts_ns = anchored_ts();
    heap_buf[heap_n].rss_bytes = heap_bytes;
    heap_n++;
}

/* The anonymous memory that is not heap, as the last full samples
 * measured it: the least of the last REC_OTHER_N, since the kernel's
 * anonymous-page count that it comes from is per-CPU and can read a few
 * hundred KiB high for a moment (cxx_containers: 0.76 MiB once, 0.26-0.28
 * otherwise), and a value too high makes every new-high sample until the
 * next full one that much too low. */
static void other_set(int64_t v)
{
    if (v == INT64_MIN)
        return;
    other_hist[other_i++ % REC_OTHER_N] = v;
    int64_t m = INT64_MAX;
    for (unsigned i = 0; i < REC_OTHER_N && i < other_i; i++)
        if (other_hist[i] < m)
            m = other_hist[i];
    other_anon = m;
}

/* A full sample: smaps, with the recorder's own memory taken off.  It also
 * measures the anonymous memory that is neither heap nor the recorder's
 * (stacks, written data and .bss pages), for new-high samples. */
static void take_full(uint64_t t0)
{
    rec_clock_sample();              /* the events before the read end here */
    hak_heap_rss h;
    pthread_mutex_lock(&own_mu);
    if (hak_heap_rss_read(0, &h) != 0) {
        pthread_mutex_unlock(&own_mu);
        return;
    }
    uint64_t own = own_resident(h.own != 0);
    uint64_t own_all = h.own ? own_resident(0) : own;
    int64_t anon = anon_now();
    pthread_mutex_unlock(&own_mu);
    uint64_t t1 = hak_mono_ns();
    uint64_t gap = (t1 - t0) * REC_HEAP_COST_X;
    heap_next_ns = t1 + ((gap > REC_HEAP_MIN_NS ? gap : REC_HEAP_MIN_NS) << (heap_thin < 6 ? heap_thin : 6));
    uint64_t bytes = hak_heap_rss_bytes(&h);
    uint64_t heap = bytes > own ? bytes - own : 0;
    other_set(anon >= 0 ? anon - (int64_t)heap - (int64_t)own_all : INT64_MIN);
    if ((h.own ? h.own : own) > own_peak)
        own_peak = h.own ? h.own : own;
    push(heap);
}

/* A new-high sample: the anonymous resident memory now, less the
 * recorder's (mincore of its mappings) and the rest as the last full
 * samples measured it.  ~0.2 ms where smaps costs milliseconds for a large
 * heap, under the lock the program's brk and mmap calls wait for
 * (recorder.bench.sh's python3 script, 650 MiB: 7-9 ms of CPU per read,
 * and ~90 new-high reads; as done here, ~180 samples cost the writer and
 * helper 278-284 ms of CPU against 232-252 ms without them).  Off by what
 * the rest changed since (a thread's stack); within 0.1 MiB of a full
 * read taken right after it on cxx_containers. */
static void take_cheap(void)
{
    if (other_anon == INT64_MIN) {
        take_full(hak_mono_ns());
        return;
    }
    uint64_t c0 = rec_thread_cpu_ns();
    rec_clock_sample();
    pthread_mutex_lock(&own_mu);
    int64_t anon = anon_now();
    uint64_t own_all = own_resident(0);
    pthread_mutex_unlock(&own_mu);
    uint64_t c1 = rec_thread_cpu_ns();
    /* by the writer's CPU time, not the wall clock's: on a loaded machine
     * a read preempted halfway would otherwise postpone the next one past
     * the peak it is there to see (heap_spike at load 8: 56 of 64 MiB) */
    high_next_ns = hak_mono_ns() + (c1 > c0 ? c1 - c0 : 0) * REC_HEAP_HIGH_COST_X;
    if (anon < 0)
        return;
    int64_t heap = anon - (int64_t)own_all - other_anon;
    push(heap > 0 ? (uint64_t)heap : 0);
}

void rec_heap_sample(int force)
{
    uint64_t t0 = hak_mono_ns();
    if (!force && t0 < heap_next_ns)
        return;
    take_full(t0);
}

/* The high-water mark that new highs are measured on, in KiB.  ru_maxrss
 * survives exec: it holds the launcher's image too (the process that
 * forked and exec'd the program: a shell, `hak record`, or a 1 GB test
 * harness), and a program smaller than that got no new-high sample until
 * it outgrew it.  So while ru_maxrss is still the value it had at the
 * first poll, the resident memory (statm, ~5 us where getrusage costs
 * ~1 us) is followed instead, and its own high-water mark used. */
static uint64_t maxrss0;               /* ru_maxrss at the first poll */
static uint64_t res_hwm_kb;            /* statm resident high-water since */

static uint64_t high_water_kb(uint64_t ru_kb)
{
    if (!maxrss0)
        maxrss0 = ru_kb;
    if (ru_kb > maxrss0)
        return ru_kb;
    unsigned long long res, shared;
    if (statm_pages(&res, &shared) == 0) {
        uint64_t kb = res * (unsigned long long)sysconf(_SC_PAGESIZE) / 1024;
        if (kb > res_hwm_kb)
            res_hwm_kb = kb;
    }
    return res_hwm_kb;
}

void rec_heap_poll(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0 || ru.ru_maxrss <= 0)
        return;
    uint64_t kb = high_water_kb((uint64_t)ru.ru_maxrss);
    if (is_high(high_kb, kb, heap_thin)) {
        high_pending = 1;
        high_kb = kb;
    }
    uint64_t t0 = hak_mono_ns();
    if (!high_pending || t0 < high_next_ns)
        return;
    high_pending = 0;
    high_kb = kb;
    take_cheap();
}

int rec_heap_flush(hak_trace_writer *tw)
{
    if (!heap_n)
        return 0;
    int rc = hak_tw_heap(tw, heap_buf, heap_n);
    heap_n = 0;
    heap_thin = 0;
    return rc;
}

void rec_heap_reset(void)
{
    heap_n = heap_thin = 0;
    maxrss0 = res_hwm_kb = 0;
    heap_next_ns = high_next_ns = 0;
    high_kb = 0;
    high_pending = 0;
    other_anon = INT64_MIN;
    other_i = 0;
    own_peak = 0;
    pthread_mutex_init(&own_mu, NULL);   /* the parent's writer may have held it */
}
