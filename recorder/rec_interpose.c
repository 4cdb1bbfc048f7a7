/* rec_interpose.c - the interposed allocation API.
 *
 * Every wrapper follows the same shape: pass straight through when the
 * calling thread is already inside the recorder (busy) or recording is off;
 * otherwise set busy, call the real function, and record the event.  Frees
 * take their seq before the real free, allocations after the real call
 * returned (see README "Ordering").  errno is preserved across the
 * recorder's own work.
 *
 * Bootstrap: until the real functions are resolved (dlsym itself calls
 * calloc/malloc/free), requests are served from a static arena; its blocks
 * are recognised by address in free/realloc/malloc_usable_size and never
 * reach the real allocator.  Those blocks belong to the dynamic loader's
 * dlsym bookkeeping made on the recorder's behalf, not to the program, so
 * they are counted (meta "bootstrap_allocs") rather than recorded.
 *
 * The recorder's own allocations (busy == 1, or inside libunwind) come
 * from its arena (rec_arena.c), not from the program's allocator; like the
 * bootstrap arena's, its blocks are recognised by address wherever they
 * are freed, realloc'd or measured. */
#include "rec_internal.h"

#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

rec_real rec_r;
static _Atomic int resolved;
static __thread int resolving __attribute__((tls_model("initial-exec")));

/* ---- bootstrap arena ---------------------------------------------------- */

#define BOOT_BYTES (256u * 1024u)
static _Alignas(64) char boot_arena[BOOT_BYTES];
static _Atomic size_t boot_used;
_Atomic uint64_t rec_boot_allocs;

typedef struct boot_hdr { size_t size; size_t pad_; } boot_hdr;

static inline int is_boot(const void *p)
{
    return (uintptr_t)p - (uintptr_t)boot_arena < BOOT_BYTES;
}

static void *boot_alloc(size_t n, size_t align)
{
    if (align < 16)
        align = 16;
    if (n > BOOT_BYTES || (align & (align - 1)) || align > 4096)
        return NULL;
    size_t cur = atomic_load(&boot_used), start, next;
    do {
        start = (cur + sizeof(boot_hdr) + align - 1) & ~(align - 1);
        next = start + n;
        if (next > BOOT_BYTES)
            return NULL;      /* exhausted: dlsym will report failure */
    } while (!atomic_compare_exchange_weak(&boot_used, &cur, next));
    ((boot_hdr *)(boot_arena + start))[-1].size = n;
    atomic_fetch_add(&rec_boot_allocs, 1);
    return boot_arena + start;   /* static storage: already zeroed */
}

static size_t boot_size(const void *p) { return ((const boot_hdr *)p)[-1].size; }

/* ---- resolving the real functions ---------------------------------------- */

#define RESOLVE(r, name) (*(void **)&(r).name = dlsym(RTLD_NEXT, #name))

void rec_resolve(void)
{
    if (atomic_load(&resolved))
        return;
    resolving = 1;
    rec_real r;
    memset(&r, 0, sizeof r);
    RESOLVE(r, malloc);
    RESOLVE(r, free);
    RESOLVE(r, calloc);
    RESOLVE(r, realloc);
    RESOLVE(r, reallocarray);
    RESOLVE(r, memalign);
    RESOLVE(r, posix_memalign);
    RESOLVE(r, aligned_alloc);
    RESOLVE(r, valloc);
    RESOLVE(r, pvalloc);
    RESOLVE(r, malloc_usable_size);
    RESOLVE(r, mmap);
    RESOLVE(r, munmap);
    RESOLVE(r, mremap);
    RESOLVE(r, exit);
    RESOLVE(r, _exit);
    RESOLVE(r, _Exit);
    RESOLVE(r, execve);
    RESOLVE(r, execvpe);
    RESOLVE(r, fexecve);
    RESOLVE(r, pthread_create);
    resolving = 0;
    if (!r.malloc || !r.free || !r.calloc || !r.realloc) {
        static const char msg[] = "hakrec: cannot resolve the real malloc; aborting\n";
        if (write(2, msg, sizeof msg - 1) < 0) { /* nothing left to do */ }
        abort();
    }
    rec_r = r;
    atomic_store(&resolved, 1);
}

/* True when the caller must use the bootstrap arena. */
static inline int need_boot(void)
{
    if (REC_LIKELY(atomic_load_explicit(&resolved, memory_order_acquire)))
        return 0;
    if (resolving)
        return 1;
    rec_resolve();
    return 0;
}

/* ---- entering and leaving the recorder ----------------------------------- */

/* A call that will not be recorded: counted when it is one the trace must
 * own up to (see rec_tls.busy and rec_g.lost_*). */
static __attribute__((noinline, cold)) void unrecorded(const rec_tls *t, int st)
{
    if (t->busy == REC_BUSY_CALL)
        atomic_fetch_add_explicit(&rec_g.lost_reentrant, 1, memory_order_relaxed);
    else if (!t->busy && st == REC_OFF && atomic_load(&rec_g.stopping)) {
        /* also a thread's first call: created just before exit, it may
         * not have run while recording was on (rec_exit.c) */
        atomic_fetch_add_explicit(&rec_g.lost_after_stop, 1, memory_order_relaxed);
        if (t->th)
            atomic_store_explicit(&t->th->lost_after_stop, 1, memory_order_release);
    }
}

/* Marks th inside a call before the state is tested, so that rec_exit.c,
 * having switched recording off, sees every call that may still publish a
 * record (the compiler must not move the store below the test; the CPU's
 * store buffer is drained by rec_exit.c's membarrier). */
static inline void call_begin(rec_thread *th)
{
    atomic_store_explicit(&th->in_call, 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
}

static inline void call_end(rec_thread *th)
{
    atomic_store_explicit(&th->in_call, 0, memory_order_release);
}

static inline rec_thread *rec_enter(void)
{
    rec_tls *t = &rec_tls_v;
    if (REC_UNLIKELY(t->busy)) {
        unrecorded(t, REC_ON);
        return NULL;
    }
    rec_thread *th = t->th;
    int st;
    for (;;) {
        if (th)
            call_begin(th);
        st = atomic_load_explicit(&rec_g.state, memory_order_relaxed);
        if (REC_LIKELY(st != REC_SWITCHING))
            break;
        if (th)
            call_end(th);
        /* a window is closing: this call belongs to the next one or to
         * none (rec_writer.c, "windows"); a few ms at most */
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
    if (REC_UNLIKELY(st != REC_ON)) {
        if (th)
            call_end(th);
        if (st != REC_UNINIT) {
            unrecorded(t, st);
            return NULL;
        }
        rec_init();
        if (atomic_load(&rec_g.state) != REC_ON)
            return NULL;
        th = t->th;                   /* NULL: rec_init registers no thread */
    }
    if (REC_UNLIKELY(!th)) {
        t->busy = 1;                  /* registering may allocate (TLS keys) */
        int e = errno;
        th = rec_thread_register();   /* in_call set while recording is on */
        errno = e;
        t->busy = 0;
        if (!th)
            return NULL;
        if (!atomic_load_explicit(&th->in_call, memory_order_relaxed)) {
            unrecorded(t, REC_OFF);   /* it stopped meanwhile (exit) */
            return NULL;
        }
    }
    t->busy = REC_BUSY_CALL;
    return th;
}

static inline void rec_leave(void)
{
    rec_tls *t = &rec_tls_v;
    call_end(t->th);
    t->busy = 0;
}

#define RA ((uintptr_t)__builtin_return_address(0))
#define SP ((uintptr_t)__builtin_frame_address(0))

/* ---- moving reallocs in flight (README "Ordering") ------------------------ */

#define INFLIGHT_SLOTS 64
static _Atomic int slot_waiting[INFLIGHT_SLOTS];

static int inflight_begin(uintptr_t old)
{
    for (;;) {
        for (int i = 0; i < INFLIGHT_SLOTS; i++) {
            uintptr_t z = 0;
            if (atomic_compare_exchange_strong(&rec_g.inflight_ptr[i], &z, old)) {
                atomic_fetch_add(&rec_g.inflight, 1);
                return i;
            }
        }
        sched_yield();
    }
}

static void inflight_end(int slot)
{
    atomic_store(&rec_g.inflight_ptr[slot], 0);
    atomic_fetch_sub(&rec_g.inflight, 1);
}

/* Wait until no other realloc in flight still owns p (self = own slot or
 * -1).  A realloc waiting for a realloc that waits for it (two blocks
 * swapped addresses) proceeds; the replay form repairs that one case. */
static void inflight_wait_slot(uintptr_t p, int self)
{
    for (int i = 0; i < INFLIGHT_SLOTS; i++) {
        if (i == self)
            continue;
        while (atomic_load(&rec_g.inflight_ptr[i]) == p) {
            if (self >= 0 && atomic_load(&slot_waiting[i]))
                break;
            if (self >= 0)
                atomic_store(&slot_waiting[self], 1);
            sched_yield();
        }
    }
    if (self >= 0)
        atomic_store(&slot_waiting[self], 0);
}

/* Child after fork: reallocs in flight belonged to threads the child does
 * not have; left in the table, an allocation returning one of their old
 * addresses would wait for them forever. */
void rec_inflight_atfork_child(void)
{
    for (int i = 0; i < INFLIGHT_SLOTS; i++) {
        atomic_store(&rec_g.inflight_ptr[i], 0);
        atomic_store(&slot_waiting[i], 0);
    }
    atomic_store(&rec_g.inflight, 0);
}

void rec_inflight_wait(uintptr_t p)
{
    int e = errno;
    inflight_wait_slot(p, -1);
    errno = e;
}

/* ---- the allocation API --------------------------------------------------- */

/* malloc and free are most of the events, so they have a lean fast path:
 * only when the thread is registered, not inside the recorder, and
 * recording is on (which implies the real functions are resolved); the
 * call site is found before the real call so that fewer values live
 * across it.  Everything else goes to the out-of-line slow path, which is
 * the general wrapper shape. */
static __attribute__((noinline, cold)) void *malloc_slow(size_t n, uintptr_t ra, uintptr_t fp)
{
    if (REC_UNLIKELY(need_boot()))
        return boot_alloc(n, 16);
    rec_thread *th = rec_enter();
    if (!th)
        return rec_r.malloc(n);
    void *p = rec_r.malloc(n);
    /* errno is only read on failure: the recorder's slow paths (block
     * hand-off, unwinding, waits) save and restore it themselves. */
    int e = p ? 0 : errno;
    rec_inflight_check((uintptr_t)p);
    rec_emit(th, HAK_OP_MALLOC, 0, (uintptr_t)p, n, 0, rec_site(th, ra, fp), e);
    rec_leave();
    return p;
}

/* A failed malloc: its errno goes into the event, and stays. */
static __attribute__((noinline, cold)) void malloc_failed(rec_thread *th, size_t n, uint32_t site)
{
    int e = errno;
    rec_emit(th, HAK_OP_MALLOC, 0, 0, n, 0, site, e);
    errno = e;
}

/* The thread, when the fast path may record for it: then inside a call
 * (busy, in_call) until fast_leave. */
static inline rec_thread *fast_thread(rec_tls *t)
{
    rec_thread *th = t->th;
    if (REC_LIKELY(th && !t->busy)) {
        /* busy first: a signal handler's call from here on is not ours to
         * end (it would clear in_call under us) */
        t->busy = REC_BUSY_CALL;
        call_begin(th);
        if (REC_LIKELY(atomic_load_explicit(&rec_g.state, memory_order_relaxed) == REC_ON))
            return th;
        call_end(th);
        t->busy = 0;
    }
    return NULL;
}

static inline void fast_leave(rec_tls *t, rec_thread *th)
{
    call_end(th);
    t->busy = 0;
}

/* Recording switched off (between windows, or loaded for an attach that
 * has not happened or has ended): straight to the real function, the
 * cheapest pass-through there is. */
static inline int paused(void)
{
    return atomic_load_explicit(&rec_g.state, memory_order_relaxed) == REC_PAUSED;
}

EXPORT void *malloc(size_t n)
{
    rec_tls *t = &rec_tls_v;
    rec_thread *th = fast_thread(t);
    if (REC_UNLIKELY(!th)) {
        void *p;
        if (rec_arena_mine(t->busy, t->unwinding) && (p = rec_arena_alloc(n, 0, 0)))
            return p;                 /* (full: the program's allocator serves it) */
        return paused() ? rec_r.malloc(n) : malloc_slow(n, RA, SP);
    }
    uint32_t site = rec_site(th, RA, SP);
    void *p = rec_r.malloc(n);
    if (REC_UNLIKELY(!p)) {
        malloc_failed(th, n, site);
    } else {
        rec_inflight_check((uintptr_t)p);
        rec_emit_plain(th, HAK_OP_MALLOC, (uintptr_t)p, n, site);
    }
    fast_leave(t, th);
    return p;
}

/* Window mode: the size of the block p, which the window may not have
 * seen allocated (rec_window.c drops it again when it did); else 0. */
static __attribute__((noinline)) uint64_t block_size_of(void *p)
{
    return p && rec_r.malloc_usable_size ? rec_r.malloc_usable_size(p) : 0;
}

static inline uint64_t block_size(void *p)
{
    return REC_UNLIKELY(rec_g.free_sizes) ? block_size_of(p) : 0;
}

static __attribute__((noinline, cold)) void free_slow(void *p)
{
    if (REC_UNLIKELY(is_boot(p)))
        return;
    if (rec_arena_has(p)) {
        rec_arena_free(p);
        return;
    }
    if (REC_UNLIKELY(need_boot()))
        return;
    rec_thread *th = rec_enter();
    if (!th) {
        rec_r.free(p);
        return;
    }
    rec_emit(th, HAK_OP_FREE, (uintptr_t)p, 0, block_size(p), 0, 0, 0);
    rec_r.free(p);
    rec_leave();
}

EXPORT void free(void *p)
{
    rec_tls *t = &rec_tls_v;
    if (REC_LIKELY(!is_boot(p) && !rec_arena_has(p))) {
        rec_thread *th = fast_thread(t);
        if (REC_LIKELY(th)) {
            rec_emit_plain(th, HAK_OP_FREE, (uintptr_t)p, block_size(p), 0);
            rec_r.free(p);
            fast_leave(t, th);
            return;
        }
        if (paused()) {
            rec_r.free(p);
            return;
        }
    }
    free_slow(p);
}

EXPORT void *calloc(size_t nmemb, size_t size)
{
    if (REC_UNLIKELY(need_boot())) {
        size_t n;
        if (__builtin_mul_overflow(nmemb, size, &n))
            return NULL;
        return boot_alloc(n, 16);
    }
    if (rec_arena_mine(rec_tls_v.busy, rec_tls_v.unwinding)) {
        size_t n;
        void *p;
        if (__builtin_mul_overflow(nmemb, size, &n))
            return NULL;
        if ((p = rec_arena_alloc(n, 0, 1)))
            return p;
    }
    rec_thread *th = rec_enter();
    if (!th)
        return rec_r.calloc(nmemb, size);
    void *p = rec_r.calloc(nmemb, size);
    int e = p ? 0 : errno;
    rec_inflight_check((uintptr_t)p);
    rec_emit(th, HAK_OP_CALLOC, 0, (uintptr_t)p, size, nmemb, rec_site(th, RA, SP), e);
    rec_leave();
    return p;
}

/* realloc of a bootstrap block: a fresh real block with the old contents;
 * recorded as the allocation it is for the real allocator. */
static void *boot_realloc(void *p, size_t n)
{
    size_t old = boot_size(p);
    void *q = malloc(n);
    if (q)
        memcpy(q, p, old < n ? old : n);
    return q;
}

static void *do_realloc(int op, void *p, size_t nmemb, size_t n, uintptr_t ra, uintptr_t sp)
{
    rec_thread *th = rec_enter();
    if (!th)
        return op == HAK_OP_REALLOC ? rec_r.realloc(p, n) : rec_r.reallocarray(p, nmemb, n);
    int slot = p ? inflight_begin((uintptr_t)p) : -1;
    /* window mode: realloc's aux is the old block's size (rec_window.c) */
    uint64_t old = op == HAK_OP_REALLOC ? block_size(p) : 0;
    void *q;
    if (op == HAK_OP_REALLOC) {
        q = rec_r.realloc(p, n);
    } else {
        /* glibc's reallocarray calls realloc through the PLT: that inner
         * call is part of this event, not a signal handler's (REC_BUSY_CALL) */
        rec_tls_v.busy = REC_BUSY_PASS;
        q = rec_r.reallocarray(p, nmemb, n);
        rec_tls_v.busy = REC_BUSY_CALL;
    }
    int e = errno;
    if (q && atomic_load(&rec_g.inflight) > (slot >= 0))
        inflight_wait_slot((uintptr_t)q, slot);
    int fail = !q && (n != 0 && nmemb != 0);
    rec_emit(th, op, (uintptr_t)p, (uintptr_t)q, n, op == HAK_OP_REALLOC ? old : nmemb,
             rec_site(th, ra, sp), fail ? e : 0);
    if (slot >= 0)
        inflight_end(slot);
    rec_leave();
    errno = e;
    return q;
}

/* realloc of one of the arena's blocks stays in the arena, whoever calls
 * it; a fresh block for the recorder comes from it. */
static __attribute__((noinline, cold)) void *arena_realloc(void *p, size_t n)
{
    if (p && n == 0) {
        rec_arena_free(p);              /* as glibc: realloc(p, 0) frees */
        return NULL;
    }
    void *q = rec_arena_realloc(p, n);
    if (!q && p && (q = rec_r.malloc(n))) {   /* the arena is full */
        memcpy(q, p, rec_arena_usable(p));
        rec_arena_free(p);
    }
    return q;
}

/* A realloc the arena serves: one of its blocks, or a fresh block for the
 * recorder (when the arena has room). */
static inline int arena_realloc_case(void *p)
{
    return rec_arena_has(p) || (!p && rec_arena_mine(rec_tls_v.busy, rec_tls_v.unwinding) &&
                                rec_arena_room());
}

EXPORT void *realloc(void *p, size_t n)
{
    if (REC_UNLIKELY(is_boot(p)))
        return boot_realloc(p, n);
    if (REC_UNLIKELY(need_boot()))
        return p ? NULL : boot_alloc(n, 16);
    if (REC_UNLIKELY(arena_realloc_case(p)))
        return arena_realloc(p, n);
    return do_realloc(HAK_OP_REALLOC, p, 1, n, RA, SP);
}

EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
    size_t n;
    if (REC_UNLIKELY(is_boot(p))) {
        if (__builtin_mul_overflow(nmemb, size, &n)) {
            errno = ENOMEM;
            return NULL;
        }
        return boot_realloc(p, n);
    }
    if (REC_UNLIKELY(need_boot()))
        return NULL;
    if (REC_UNLIKELY(arena_realloc_case(p))) {
        if (__builtin_mul_overflow(nmemb, size, &n)) {
            errno = ENOMEM;
            return NULL;
        }
        return arena_realloc(p, n);
    }
    /* Very old libc: computed here.  Window mode too: the event is then
     * a realloc, which has room for the old block's size (rec_window.c;
     * a product that overflows fails unrecorded). */
    if (!rec_r.reallocarray || rec_g.free_sizes) {
        if (__builtin_mul_overflow(nmemb, size, &n)) {
            errno = ENOMEM;
            return NULL;
        }
        return do_realloc(HAK_OP_REALLOC, p, 1, n, RA, SP);
    }
    return do_realloc(HAK_OP_REALLOCARRAY, p, nmemb, size, RA, SP);
}

/* The memalign family: same shape, one macro-free helper per signature. */
static inline void *record_aligned(rec_thread *th, int op, void *p, int e,
                                   size_t align, size_t n, uintptr_t ra, uintptr_t sp)
{
    rec_inflight_check((uintptr_t)p);
    rec_emit(th, op, 0, (uintptr_t)p, n, align, rec_site(th, ra, sp), p ? 0 : e);
    rec_leave();
    errno = e;
    return p;
}

EXPORT void *memalign(size_t align, size_t n)
{
    if (REC_UNLIKELY(need_boot()))
        return boot_alloc(n, align);
    void *a;
    if (rec_arena_mine(rec_tls_v.busy, rec_tls_v.unwinding) && (a = rec_arena_alloc(n, align, 0)))
        return a;
    rec_thread *th = rec_enter();
    if (!th)
        return rec_r.memalign(align, n);
    void *p = rec_r.memalign(align, n);
    return record_aligned(th, HAK_OP_MEMALIGN, p, errno, align, n, RA, SP);
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    if (REC_UNLIKELY(need_boot()))
        return boot_alloc(n, align);
    void *a;
    if (rec_arena_mine(rec_tls_v.busy, rec_tls_v.unwinding) && (a = rec_arena_alloc(n, align, 0)))
        return a;
    rec_thread *th = rec_enter();
    if (!th)
        return rec_r.aligned_alloc(align, n);
    void *p = rec_r.aligned_alloc(align, n);
    return record_aligned(th, HAK_OP_ALIGNED_ALLOC, p, errno, align, n, RA, SP);
}

EXPORT void *valloc(size_t n)
{
    if (REC_UNLIKELY(need_boot()))
        return boot_alloc(n, 4096);
    void *a;
    if (rec_arena_mine(rec_tls_v.busy, rec_tls_v.unwinding) && (a = rec_arena_alloc(n, 4096, 0)))
        return a;
    rec_thread *th = rec_enter();
    if (!th)
        return rec_r.valloc(n);
    void *p = rec_r.valloc(n);
    return record_aligned(th, HAK_OP_VALLOC, p, errno, 0, n, RA, SP);
}

EXPORT void *pvalloc(size_t n)
{
    if (REC_UNLIKELY(need_boot()))
        return boot_alloc((n + 4095) & ~(size_t)4095, 4096);
    void *a;
    if (rec_arena_mine(rec_tls_v.busy, rec_tls_v.unwinding) &&
        (a = rec_arena_alloc((n + 4095) & ~(size_t)4095, 4096, 0)))
        return a;
    rec_thread *th = rec_enter();
    if (!th)
        return rec_r.pvalloc(n);
    void *p = rec_r.pvalloc(n);
    return record_aligned(th, HAK_OP_PVALLOC, p, errno, 0, n, RA, SP);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (REC_UNLIKELY(need_boot())) {
        void *p = boot_alloc(n, align);
        if (!p)
            return ENOMEM;
        *out = p;
        return 0;
    }
    if (rec_arena_mine(rec_tls_v.busy, rec_tls_v.unwinding)) {
        if (!align || (align & (align - 1)) || align % sizeof(void *))
            return EINVAL;
        void *p = rec_arena_alloc(n, align, 0);
        if (p) {
            *out = p;
            return 0;
        }
    }
    rec_thread *th = rec_enter();
    if (!th)
        return rec_r.posix_memalign(out, align, n);
    void *p = NULL;
    int e = errno;
    int rc = rec_r.posix_memalign(&p, align, n);
    if (rc == 0) {
        *out = p;
        rec_inflight_check((uintptr_t)p);
    }
    rec_emit(th, HAK_OP_POSIX_MEMALIGN, 0, rc == 0 ? (uintptr_t)p : 0, n, align,
             rec_site(th, RA, SP), rc);
    rec_leave();
    errno = e;
    return rc;
}

EXPORT size_t malloc_usable_size(void *p)
{
    if (REC_UNLIKELY(is_boot(p)))
        return boot_size(p);
    if (rec_arena_has(p))
        return rec_arena_usable(p);
    if (REC_UNLIKELY(need_boot()) || !rec_r.malloc_usable_size)
        return 0;
    return rec_r.malloc_usable_size(p);
}

/* ---- optional: mmap, munmap, mremap (--mmap) ----------------------------- */

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (REC_UNLIKELY(!atomic_load(&resolved))) {
        if (resolving)    /* cannot happen in practice; use the syscall */
            return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
        rec_resolve();
    }
    if (!rec_g.cfg.mmap || rec_tls_v.unwinding)   /* libunwind's own, not the program's */
        return rec_r.mmap(addr, len, prot, flags, fd, off);
    rec_thread *th = rec_enter();
    if (!th)
        return rec_r.mmap(addr, len, prot, flags, fd, off);
    void *p = rec_r.mmap(addr, len, prot, flags, fd, off);
    int e = errno;
    int ok = p != MAP_FAILED;
    if (ok)
        rec_inflight_check((uintptr_t)p);
    rec_emit(th, HAK_OP_MMAP, 0, ok ? (uintptr_t)p : 0, len,
             (uint64_t)(uint32_t)prot | (uint64_t)(uint32_t)flags << 32,
             rec_site(th, RA, SP), ok ? 0 : e);
    rec_leave();
    errno = e;
    return p;
}

/* Programs built with _FILE_OFFSET_BITS=64 call mmap64 (same function on
 * 64-bit glibc). */
EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
    __attribute__((alias("mmap")));

EXPORT int munmap(void *addr, size_t len)
{
    if (REC_UNLIKELY(!atomic_load(&resolved))) {
        if (resolving)
            return (int)syscall(SYS_munmap, addr, len);
        rec_resolve();
    }
    if (!rec_g.cfg.mmap || rec_tls_v.unwinding)
        return rec_r.munmap(addr, len);
    rec_thread *th = rec_enter();
    if (!th)
        return rec_r.munmap(addr, len);
    int e = errno;
    rec_emit(th, HAK_OP_MUNMAP, (uintptr_t)addr, 0, len, 0, 0, 0);
    int rc = rec_r.munmap(addr, len);
    if (rc != 0)
        e = errno;
    rec_leave();
    errno = e;
    return rc;
}

EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    void *fixed = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        fixed = va_arg(ap, void *);
        va_end(ap);
    }
    if (REC_UNLIKELY(!atomic_load(&resolved)))
        rec_resolve();
    rec_thread *th = rec_g.cfg.mmap && !rec_tls_v.unwinding ? rec_enter() : NULL;
    if (!th)
        return rec_r.mremap(old, old_len, new_len, flags, fixed);
    int slot = inflight_begin((uintptr_t)old);
    void *p = rec_r.mremap(old, old_len, new_len, flags, fixed);
    int e = errno;
    int ok = p != MAP_FAILED;
    if (ok && atomic_load(&rec_g.inflight) > 1)
        inflight_wait_slot((uintptr_t)p, slot);
    rec_emit(th, HAK_OP_MREMAP, (uintptr_t)old, ok ? (uintptr_t)p : 0, new_len, old_len,
             rec_site(th, RA, SP), ok ? 0 : e);
    inflight_end(slot);
    rec_leave();
    errno = e;
    return p;
}

/* ---- process end and exec: flush first ------------------------------------- */

/* The recording is flushed by exit's handlers (the library destructor,
 * rec_shutdown), after the program's own atexit handlers, whose frees are
 * recorded.  rec_exit_serialise (rec_exitpath.c) holds a second thread
 * calling exit meanwhile until the recording is shut down, and flushes
 * itself when a vfork child ran the handlers. */
EXPORT void exit(int status)
{
    if (!atomic_load(&resolved))
        rec_resolve();
    rec_exit_serialise();
    rec_r.exit(status);
}

EXPORT void _exit(int status)
{
    if (!atomic_load(&resolved))
        rec_resolve();
    rec_shutdown("_exit");
    rec_r._exit(status);
}

EXPORT void _Exit(int status)
{
    if (!atomic_load(&resolved))
        rec_resolve();
    rec_shutdown("_Exit");
    rec_r._Exit(status);
}

/* ---- pthread_create: remember the creating thread ------------------------- */

/* The new thread's thread_start event names its creator (in_ptr), which the
 * replay form turns into a dependency; the trampoline passes it on. */
typedef struct start_box {
    void *(*fn)(void *);
    void *arg;
    uint32_t creator_plus1;
} start_box;

static void *start_trampoline(void *p)
{
    start_box b = *(start_box *)p;
    int busy = rec_tls_v.busy;
    rec_tls_v.busy = 1;               /* the box is the recorder's, unrecorded */
    rec_r.free(p);
    rec_tls_v.busy = busy;
    rec_tls_v.creator_plus1 = b.creator_plus1;
    return b.fn(b.arg);
}

EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr,
                          void *(*fn)(void *), void *arg)
{
    if (REC_UNLIKELY(!atomic_load(&resolved)))
        rec_resolve();
    if (!rec_r.pthread_create)
        return EAGAIN;                /* libc without pthread_create: cannot be */
    /* The recorder's own threads (writer, helper encoder: created while
     * busy) need no creator: the box would be malloc'd and freed through
     * the program's allocator, and glibc would give the writer an arena
     * of its own (64 MiB reserved, its first pages resident) just for
     * that free. */
    if (atomic_load(&rec_g.state) != REC_ON || rec_tls_v.busy == 1)
        return rec_r.pthread_create(t, attr, fn, arg);
    int busy = rec_tls_v.busy;
    rec_tls_v.busy = 1;
    start_box *b = rec_r.malloc(sizeof *b);
    rec_tls_v.busy = busy;
    if (!b)
        return rec_r.pthread_create(t, attr, fn, arg);
    b->fn = fn;
    b->arg = arg;
    b->creator_plus1 = rec_tls_v.th ? rec_tls_v.th->tid + 1 : 0;
    int rc = rec_r.pthread_create(t, attr, start_trampoline, b);
    if (rc != 0) {
        rec_tls_v.busy = 1;
        rec_r.free(b);
        rec_tls_v.busy = busy;
    }
    return rc;
}

/* ---- runtime attach (rec_attach.c) ----------------------------------------- */

/* Our own wrappers, by hidden aliases: in a copy loaded with dlopen (hak
 * record -p), the name `malloc` in this file resolves to the process's
 * malloc, not to ours. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-attributes"   /* libc's nothrow, leaf... */
#define SELF(name) extern __typeof(name) rec_self_##name \
    __attribute__((alias(#name), visibility("hidden")));
SELF(malloc) SELF(free) SELF(calloc) SELF(realloc) SELF(reallocarray) SELF(memalign)
SELF(posix_memalign) SELF(aligned_alloc) SELF(valloc) SELF(pvalloc)
#pragma GCC diagnostic pop

static const struct { const char *name; void *fn; } self_fns[] = {
    {"malloc", (void *)rec_self_malloc}, {"free", (void *)rec_self_free},
    {"calloc", (void *)rec_self_calloc}, {"realloc", (void *)rec_self_realloc},
    {"reallocarray", (void *)rec_self_reallocarray}, {"memalign", (void *)rec_self_memalign},
    {"posix_memalign", (void *)rec_self_posix_memalign},
    {"aligned_alloc", (void *)rec_self_aligned_alloc}, {"valloc", (void *)rec_self_valloc},
    {"pvalloc", (void *)rec_self_pvalloc},
};

void *rec_self_function(const char *name)
{
    if (name[0] == 'm' || name[0] == 'f' || name[0] == 'c' || name[0] == 'r' ||
        name[0] == 'p' || name[0] == 'a' || name[0] == 'v')
        for (size_t i = 0; i < sizeof self_fns / sizeof *self_fns; i++)
            if (!strcmp(name, self_fns[i].name))
                return self_fns[i].fn;
    return NULL;
}

int rec_preloaded(void)
{
    if (dlsym(RTLD_DEFAULT, "malloc") == (void *)rec_self_malloc)
        return 1;
    /* A non-PIE program that takes malloc's address (Debian's python3.11:
     * its PyMem tables) defines a canonical PLT entry for it, and
     * RTLD_DEFAULT names that stub, which jumps to whatever binds malloc:
     * us, when preloaded.  Taken for a dlopen'd copy, the recorder would
     * make the stub its "real" malloc and loop forever.  So ask the link
     * map instead: preloads come before the C library, a dlopen'd copy
     * after it. */
    Dl_info di;
    struct link_map *lm = NULL;
    if (!dladdr1((void *)rec_self_malloc, &di, (void **)&lm, RTLD_DL_LINKMAP) || !lm)
        return 0;
    for (const struct link_map *p = lm->l_prev; p; p = p->l_prev)
        if (p->l_name && strstr(p->l_name, "/libc.so"))
            return 0;
    return 1;
}

/* Attach: the malloc family the process itself calls (its global scope;
 * RTLD_NEXT from a dlopen'd copy would name the C library's even when
 * the program brings its own allocator). */
int rec_resolve_global(void)
{
    rec_real r = rec_r;
#define GLOBAL(name) (*(void **)&r.name = dlsym(RTLD_DEFAULT, #name))
    GLOBAL(malloc); GLOBAL(free); GLOBAL(calloc); GLOBAL(realloc); GLOBAL(reallocarray);
    GLOBAL(memalign); GLOBAL(posix_memalign); GLOBAL(aligned_alloc); GLOBAL(valloc);
    GLOBAL(pvalloc); GLOBAL(malloc_usable_size);
#undef GLOBAL
    if (!r.malloc || !r.free || !r.calloc || !r.realloc ||
        r.malloc == (void *)rec_self_malloc)
        return -1;
    rec_r = r;
    atomic_store(&resolved, 1);
    return 0;
}
