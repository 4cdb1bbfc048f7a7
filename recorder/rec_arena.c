/* rec_arena.c - the recorder's own allocator.
 *
 * What the recorder mallocs while it works for itself (rec_tls.busy == 1:
 * its writer and encoder threads, thread registration, dlsym...) or
 * inside libunwind for a call (rec_tls.unwinding) - zstd's contexts, the
 * trace encoder's pointer maps and column buffers, jobs, libunwind's
 * caches, the writer thread's TLS - is served here instead of by the
 * program's allocator.  Otherwise it sits in the program's heap, where
 * the trace's heap samples (rec_heap.c) count it as the program's: a few
 * MiB that a replay of the program never allocates, and hak validate's
 * fidelity takes them for a replay error.  Here it lives in one reserved
 * range whose used part is registered with rec_own (named [anon:hakrec],
 * or its resident pages taken off each sample by mincore), so the
 * samples leave it out exactly.
 *
 * One reservation (ARENA_SPAN of address space, MAP_NORESERVE: pages are
 * only backed when touched) so that "is this block ours?" is one compare
 * in free(): blocks can be freed by any thread, recorder or not (libc
 * frees a thread's TLS blocks at its exit), and realloc'd and measured
 * (malloc_usable_size) likewise.  Small blocks come from size-class free
 * lists carved out of 64 KiB runs; big ones are page runs, first fit, and
 * their pages go back to the kernel when freed (MADV_DONTNEED), so an
 * idle recorder holds no dead encoder buffers.
 *
 * Full (ARENA_SPAN used: not seen; python3 uses ~25 MiB of it), or not
 * reserved (RLIMIT_AS), requests fall back to the program's allocator,
 * as before the arena.
 *
 * Only for a preloaded recorder: after an attach's detach the process's
 * GOT slots point at the C library's free again, which must never see a
 * block of ours, so a dlopen'd copy leaves the arena off and behaves as
 * before (rec_arena_enable is not called).
 *
 * One spin lock: the recorder allocates rarely (a job per 65536 events,
 * contexts once), never on the program's hot path.  fork: prepare takes
 * it, so a child never inherits it held by a thread it does not have. */
#include "rec_internal.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>

#define ARENA_GROW  (2u << 20)         /* registered with rec_own in steps of this */
#define PAGE        4096u
#define SMALL_RUN   (64u << 10)        /* small classes are carved from runs this big */
#define HDR         16u                /* header before every block */
#define NCLS        24                 /* room for 32 B .. 32 KiB in steps of 1.5x */
#define SMALL_MAX   32768u
#define MAX_RUNS    512                /* free page runs (more are dropped: only address space) */
#define MAGIC       0x68616b72u        /* "hakr" */

uintptr_t rec_arena_base = ARENA_SENTINEL;
int rec_arena_on;

typedef struct hdr {
    uint64_t size;                     /* usable bytes from the user pointer */
    uint32_t off;                      /* user pointer - start of the underlying block */
    uint32_t magic;
} hdr;

typedef struct run { uintptr_t at; size_t len; int dirty; } run;

static atomic_flag lock = ATOMIC_FLAG_INIT;
static __thread int in_arena __attribute__((tls_model("initial-exec")));
static size_t top;                     /* bytes used from the base (bump) */
static size_t registered;              /* bytes handed to rec_own */
static size_t top_max;                 /* the most of the range ever used */
static uint32_t cls_size[NCLS];        /* block sizes, header included */
static void *cls_free[NCLS];
static int ncls;
static run runs[MAX_RUNS];             /* free page runs, sorted by address */
static int nruns;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static int arena_full;                 /* a request found no room: callers fall back */

static void lock_take(void)
{
    while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire))
        sched_yield();
    in_arena = 1;
}

static void lock_drop(void)
{
    in_arena = 0;
    atomic_flag_clear_explicit(&lock, memory_order_release);
}

/* A child forked by a signal handler that interrupted the arena would wait
 * for itself: that one child goes without (rec_atfork_prepare leaves such a
 * child unrecorded anyway). */
static int fork_held;
static void arena_prepare(void)
{
    fork_held = !in_arena;
    if (fork_held)
        lock_take();
}
static void arena_parent(void) { if (fork_held) lock_drop(); }
static void arena_child(void)  { if (fork_held) lock_drop(); }
static void register_atfork(void) { pthread_atfork(arena_prepare, arena_parent, arena_child); }

void rec_arena_enable(void)
{
    if (rec_arena_on)
        return;
    void *p = rec_os_mmap(ARENA_SPAN, MAP_NORESERVE);
    if (p == MAP_FAILED)
        return;                        /* the program's allocator serves us, as before */
    double s = 32;
    for (ncls = 0; ncls < NCLS && (ncls == 0 || cls_size[ncls - 1] < SMALL_MAX); s *= 1.5, ncls++)
        cls_size[ncls] = s >= SMALL_MAX ? SMALL_MAX : ((uint32_t)s + 15u) & ~15u;
    rec_arena_base = (uintptr_t)p;
    /* Before rec_init registers its own handlers: prepare handlers run in
     * reverse order of registration, so ours takes the lock after the
     * recorder's, and child handlers in order, so it is free again before
     * the child's writer starts. */
    pthread_once(&atfork_once, register_atfork);
    rec_arena_on = 1;
}

/* Pages [top, top + len) from the bump end, registered as they are reached. */
static uintptr_t bump(size_t len)
{
    if (top + len > ARENA_SPAN) {
        arena_full = 1;
        return 0;
    }
    uintptr_t at = rec_arena_base + top;
    top += len;
    if (top > top_max)
        top_max = top;
    while (registered < top) {
        rec_own((void *)(rec_arena_base + registered), ARENA_GROW);
        registered += ARENA_GROW;
    }
    return at;
}

static void runs_remove(int i)
{
    memmove(&runs[i], &runs[i + 1], (size_t)(nruns - i - 1) * sizeof *runs);
    nruns--;
}

/* A page run of len bytes (a multiple of PAGE); *dirty: it may hold old data. */
static uintptr_t run_get(size_t len, int *dirty)
{
    for (int i = 0; i < nruns; i++) {
        if (runs[i].len < len)
            continue;
        uintptr_t at = runs[i].at;
        *dirty = runs[i].dirty;
        runs[i].at += len;
        runs[i].len -= len;
        if (!runs[i].len)
            runs_remove(i);
        return at;
    }
    *dirty = 0;
    return bump(len);
}

/* Returns a run; merged with free neighbours; the end of the used range
 * shrinks when the run reaches it. */
static void run_put(uintptr_t at, size_t len)
{
    int dirty = 1;
    if (len >= 4 * PAGE) {             /* an idle recorder holds no dead buffers */
        rec_own_shrink_begin();
        madvise((void *)at, len, MADV_DONTNEED);
        rec_own_shrink_end();
        dirty = 0;
    }
    int i = 0;
    while (i < nruns && runs[i].at < at)
        i++;
    if (i > 0 && runs[i - 1].at + runs[i - 1].len == at) {
        i--;
        runs[i].len += len;
        runs[i].dirty |= dirty;
    } else {
        if (nruns == MAX_RUNS)
            return;                    /* address space only: the pages are gone */
        memmove(&runs[i + 1], &runs[i], (size_t)(nruns - i) * sizeof *runs);
        runs[i] = (run){at, len, dirty};
        nruns++;
    }
    if (i + 1 < nruns && runs[i].at + runs[i].len == runs[i + 1].at) {
        runs[i].len += runs[i + 1].len;
        runs[i].dirty |= runs[i + 1].dirty;
        runs_remove(i + 1);
    }
    if (runs[i].at + runs[i].len == rec_arena_base + top) {
        top -= runs[i].len;
        runs_remove(i);
    }
}

static int cls_of(size_t need)
{
    for (int c = 0; c < ncls; c++)
        if (need <= cls_size[c])
            return c;
    return -1;
}

/* An underlying block of at least need bytes: *len its size, *dirty
 * whether it may hold old data. */
static uintptr_t block_get(size_t need, size_t *len, int *dirty)
{
    int c = cls_of(need);
    if (c < 0) {
        *len = (need + PAGE - 1) & ~(size_t)(PAGE - 1);
        return run_get(*len, dirty);
    }
    *len = cls_size[c];
    *dirty = 1;
    if (!cls_free[c]) {
        int d;
        uintptr_t r = run_get(SMALL_RUN, &d);
        if (!r)
            return 0;
        for (size_t o = SMALL_RUN / cls_size[c] * cls_size[c]; o >= cls_size[c]; ) {
            o -= cls_size[c];
            *(void **)(r + o) = cls_free[c];
            cls_free[c] = (void *)(r + o);
        }
    }
    uintptr_t b = (uintptr_t)cls_free[c];
    cls_free[c] = *(void **)b;
    return b;
}

static void block_put(uintptr_t b, size_t len)
{
    int c = cls_of(len);
    if (c >= 0 && cls_size[c] == len) {
        *(void **)b = cls_free[c];
        cls_free[c] = (void *)b;
    } else {
        run_put(b, len);
    }
}

static inline hdr *hdr_of(const void *p) { return (hdr *)((uintptr_t)p - HDR); }

void *rec_arena_alloc(size_t n, size_t align, int zero)
{
    if (align < HDR)
        align = HDR;
    if ((align & (align - 1)) || n > ARENA_SPAN / 2)
        return NULL;
    size_t need = n + HDR + (align > HDR ? align : 0), len;
    int dirty;
    lock_take();
    uintptr_t b = block_get(need, &len, &dirty);
    lock_drop();
    if (!b)
        return NULL;
    uintptr_t u = (b + HDR + align - 1) & ~(uintptr_t)(align - 1);
    hdr *h = hdr_of((void *)u);
    h->size = b + len - u;
    h->off = (uint32_t)(u - b);
    h->magic = MAGIC;
    if (zero && dirty)
        memset((void *)u, 0, n);
    return (void *)u;
}

size_t rec_arena_usable(const void *p)
{
    return hdr_of(p)->size;
}

void rec_arena_free(void *p)
{
    hdr *h = hdr_of(p);
    REC_ASSERT(h->magic == MAGIC);
    uintptr_t b = (uintptr_t)p - h->off;
    size_t len = h->size + h->off;
    h->magic = 0;
    lock_take();
    block_put(b, len);
    lock_drop();
}

void *rec_arena_realloc(void *p, size_t n)
{
    if (!p)
        return rec_arena_alloc(n, 0, 0);
    size_t have = rec_arena_usable(p);
    if (n <= have)
        return p;
    void *q = rec_arena_alloc(n, 0, 0);
    if (q) {
        memcpy(q, p, have);
        rec_arena_free(p);
    }
    return q;
}

int rec_arena_room(void)
{
    return !arena_full;
}

uint64_t rec_arena_used(void)
{
    return top_max;
}
