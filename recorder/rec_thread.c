/* rec_thread.c - per-thread event buffers and the bounded block pool.
 *
 * Each recorded thread has a rec_thread (mmap'd) with one current block.
 * When the block is full the owner appends it to its own FIFO under th->mu
 * and takes a fresh block from the pool; the writer drains FIFOs in order,
 * so a thread's events reach the file in seq order.  The pool holds at most
 * pool_limit blocks: POOL_BASE_BLOCKS plus one per live thread beyond the
 * first 8 (reserved before the thread takes its first block, given back
 * when the writer reaps it); when it is exhausted the owner waits on
 * pool_cond until the writer returns one.
 * Before the writer runs (events recorded ahead of our constructor) the
 * pool grows as needed instead. */
#include "rec_internal.h"
#include "hak_util.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

__thread rec_tls rec_tls_v __attribute__((tls_model("initial-exec")));

#define POOL_BASE_BLOCKS 12u      /* 24 MiB of event buffers */

static void *rec_mmap(size_t len)
{
    void *p = rec_os_mmap(len, 0);
    if (p == MAP_FAILED)
        return NULL;
    rec_own(p, len);
    return p;
}

void rec_threads_init(void)
{
    pthread_mutex_init(&rec_g.threads_mu, NULL);
    pthread_mutex_init(&rec_g.pool_mu, NULL);
    pthread_cond_init(&rec_g.pool_cond, NULL);
    pthread_condattr_t ca;            /* the writer's timed waits use CLOCK_MONOTONIC */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rec_g.work_cond, &ca);
    pthread_condattr_destroy(&ca);
    rec_g.pool = NULL;
    rec_g.pool_blocks = 0;
    rec_g.pool_limit = POOL_BASE_BLOCKS;
    rec_g.pool_threads = 0;
    rec_g.closed = 0;
}

/* A block, from the free list, freshly mapped while under the limit, or
 * after waiting for the writer.  Returns NULL only when recording stopped
 * and no memory could be found (callers then drop events). */
rec_block *rec_pool_get(void)
{
    rec_block *b = NULL;
    pthread_mutex_lock(&rec_g.pool_mu);
    for (;;) {
        if (rec_g.pool) {
            b = rec_g.pool;
            rec_g.pool = b->next;
            break;
        }
        if (rec_g.pool_blocks < rec_g.pool_limit || rec_g.closed || !rec_g.writer_up) {
            rec_g.pool_blocks++;
            pthread_mutex_unlock(&rec_g.pool_mu);
            b = rec_mmap(sizeof(rec_block));
            if (b) {
                b->given_ns = hak_mono_ns();
                atomic_store_explicit(&b->refs, 1, memory_order_relaxed);   /* the owner's */
                return b;                 /* zeroed: n = taken = 0 */
            }
            pthread_mutex_lock(&rec_g.pool_mu);
            rec_g.pool_blocks--;
            if (rec_g.closed)
                break;
        }
        rec_g.backpressure_waits++;
        pthread_cond_signal(&rec_g.work_cond);
        pthread_cond_wait(&rec_g.pool_cond, &rec_g.pool_mu);
    }
    pthread_mutex_unlock(&rec_g.pool_mu);
    if (b) {
        b->given_ns = hak_mono_ns();
        b->fill_ms1 = 0;
        b->next = NULL;
        atomic_store_explicit(&b->n, 0, memory_order_relaxed);
        b->taken = 0;
        atomic_store_explicit(&b->refs, 1, memory_order_relaxed);
    }
    return b;
}

/* A block that took its thread longer than this to fill goes back to the
 * pool without its pages (MADV_DONTNEED): at that rate its next owner pays
 * the page faults (512 per 2 MiB block, a fraction of a millisecond) once
 * per REC_SLOW_BLOCK_NS at most, and meanwhile the program does not carry
 * two resident blocks per thread.  On a python3 script, 2 MiB of the
 * recorder's extra RSS.  Fast programs (a block every few ms) keep their
 * pages, even when their blocks wait long for the writer: the time in the
 * queue once counted, and on random_mixed, whose backlog keeps blocks
 * queued for 50-150 ms, every block lost its pages and was faulted in
 * again by the program thread (512 faults per 65536 events). */
#define REC_SLOW_BLOCK_NS 50000000ull

void rec_pool_put(rec_block *b)
{
    /* not full (a thread's last block): until now */
    uint64_t fill_ns = b->fill_ms1 ? (uint64_t)(b->fill_ms1 - 1) * 1000000u
                                   : hak_mono_ns() - b->given_ns;
    if (fill_ns > REC_SLOW_BLOCK_NS) {
        long pg = sysconf(_SC_PAGESIZE);
        uintptr_t lo = ((uintptr_t)b->slots + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
        uintptr_t hi = (uintptr_t)b + sizeof *b;
        if (hi > lo) {
            rec_own_shrink_begin();
            madvise((void *)lo, (hi - lo) & ~((uintptr_t)pg - 1), MADV_DONTNEED);
            rec_own_shrink_end();
        }
    }
    pthread_mutex_lock(&rec_g.pool_mu);
    b->next = rec_g.pool;
    rec_g.pool = b;
    pthread_cond_signal(&rec_g.pool_cond);
    pthread_mutex_unlock(&rec_g.pool_mu);
}

/* Owner: the current block is full. */
static void block_handoff(rec_thread *th);

void rec_block_handoff(rec_thread *th)
{
    int e = errno;          /* the program's errno survives our waits */
    block_handoff(th);
    errno = e;
}

static void block_handoff(rec_thread *th)
{
    if (rec_g.closed) {
        /* The writer is gone: reuse the block, these events can no longer
         * be written anywhere.  Only after a loss the trace states: a write
         * failure, or a thread still inside a call when the exit stopped
         * waiting for it (rec_exit.c); every other call at exit either
         * published its record before the final collection or saw
         * recording off. */
        atomic_store_explicit(&th->cur->n, 0, memory_order_relaxed);
        th->cur->taken = 0;
        return;
    }
    /* (inside a call: rec_exit.c waits for us while the writer runs) */
    rec_block *fresh = rec_pool_get();
    if (!fresh) {
        atomic_store_explicit(&th->cur->n, 0, memory_order_relaxed);
        th->cur->taken = 0;
        return;
    }
    pthread_mutex_lock(&th->mu);
    rec_block *full = th->cur;
    uint64_t ms = (fresh->given_ns - full->given_ns) / 1000000u;   /* for rec_pool_put */
    full->fill_ms1 = ms < UINT32_MAX - 1 ? (uint32_t)ms + 1 : UINT32_MAX;
    full->next = NULL;
    if (th->fifo_tail)
        th->fifo_tail->next = full;
    else
        th->fifo_head = full;
    th->fifo_tail = full;
    th->cur = fresh;
    pthread_mutex_unlock(&th->mu);
    rec_writer_wake();
}

extern void *__libc_stack_end;

/* This thread's stack [lo, top): any address in [current frame, top) is
 * mapped, which is what lets the call-site key read one word of the
 * caller's frame (rec_site). */
static void stack_of_self(uintptr_t *lo, uintptr_t *top)
{
    *lo = *top = 0;
    if (getpid() == (pid_t)syscall(SYS_gettid)) {
        struct rlimit rl;
        uintptr_t t = (uintptr_t)__libc_stack_end;
        uintptr_t max = 8u << 20;
        if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
            max = rl.rlim_cur;
        *top = (t + 4095) & ~(uintptr_t)4095;
        *lo = *top > max ? *top - max : 0;
        return;
    }
    pthread_attr_t a;
    void *addr = NULL;
    size_t sz = 0;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        pthread_attr_getstack(&a, &addr, &sz);
        pthread_attr_destroy(&a);
    }
    *lo = (uintptr_t)addr;
    *top = (uintptr_t)addr + sz;
}

/* rec_emit_plain's way out: block full, or exact timestamps. */
void rec_emit_slow(rec_thread *th, int op, uint64_t ptr, uint64_t size, uint32_t site)
{
    if (rec_op_returns_ptr(op))
        rec_emit(th, op, 0, ptr, size, 0, site, 0);
    else
        rec_emit(th, op, ptr, 0, size, 0, site, 0);
}

/* First event of a thread (busy is set by the caller). */
rec_thread *rec_thread_register(void)
{
    rec_thread *th = rec_mmap(sizeof *th);
    if (!th)
        return NULL;
    memset(th, 0, sizeof *th);
    pthread_mutex_init(&th->mu, NULL);
    /* The thread's own block is reserved before it is taken, and waiters
     * are told.  Reserved after (as it was), a thread starting while every
     * other one sat on a partly filled block waited for a block to come
     * back, which none did: 500 threads meeting at a barrier hung under
     * hak record (10 of them in rec_pool_get, 490 in the barrier). */
    pthread_mutex_lock(&rec_g.pool_mu);
    if (rec_g.pool_threads++ >= 8) {
        rec_g.pool_limit++;
        pthread_cond_broadcast(&rec_g.pool_cond);
    }
    pthread_mutex_unlock(&rec_g.pool_mu);
    th->cur = rec_pool_get();
    if (!th->cur) {
        rec_thread_reaped();
        rec_unmap_own(th, sizeof *th);
        return NULL;
    }
    th->ostid = (pid_t)syscall(SYS_gettid);
    stack_of_self(&th->stack_lo, &th->stack_top);
    pthread_mutex_lock(&rec_g.threads_mu);
    th->tid = atomic_fetch_add(&rec_g.next_tid, 1);
    rec_seq_thread_added(th);
    th->next = rec_g.threads;
    rec_g.threads = th;
    /* Inside the call (rec_enter) unless recording stopped for good: the
     * exit (rec_exit.c) switches it off before it lists the threads under
     * this lock, so either it sees us inside, or we see it off and record
     * nothing that the final collection could miss.  (A window switching
     * meanwhile is not an end: the records go to the next one.) */
    int on = atomic_load(&rec_g.state) != REC_OFF;
    atomic_store_explicit(&th->in_call, (uint32_t)on, memory_order_relaxed);
    pthread_mutex_unlock(&rec_g.threads_mu);
    rec_tls_v.th = th;
    pthread_setspecific(rec_g.key, th);
    uint32_t creator = rec_tls_v.creator_plus1 ? rec_tls_v.creator_plus1 - 1 : 0;
    if (on)
        rec_emit(th, HAK_OP_THREAD_START, creator, 0, (uint64_t)th->ostid, 0, 0, 0);
    return th;
}

/* Without this the limit only grew: after thread churn (a server's
 * short-lived workers) it no longer bounded anything. */
void rec_thread_reaped(void)
{
    pthread_mutex_lock(&rec_g.pool_mu);
    if (rec_g.pool_threads && --rec_g.pool_threads >= 8)
        rec_g.pool_limit--;
    pthread_mutex_unlock(&rec_g.pool_mu);
}

/* fork: hold every lock the child needs consistent. Order: threads_mu,
 * each th->mu, pool_mu (the writer never holds two of them at once). */
void rec_threads_atfork_prepare(void)
{
    pthread_mutex_lock(&rec_g.threads_mu);
    for (rec_thread *t = rec_g.threads; t; t = t->next)
        pthread_mutex_lock(&t->mu);
    pthread_mutex_lock(&rec_g.pool_mu);
}

void rec_threads_atfork_parent(void)
{
    pthread_mutex_unlock(&rec_g.pool_mu);
    for (rec_thread *t = rec_g.threads; t; t = t->next)
        pthread_mutex_unlock(&t->mu);
    pthread_mutex_unlock(&rec_g.threads_mu);
}

/* Child: only the forking thread survives.  Its pending events belong to
 * the parent's trace (the parent writes them), so its buffer starts empty;
 * other threads' records and blocks are abandoned (their memory is the
 * child's copy of the parent's, left mapped). */
void rec_threads_atfork_child(void)
{
    rec_thread *self = rec_tls_v.th;
    rec_threads_init();               /* fresh mutexes and pool */
    rec_g.threads = NULL;
    atomic_store(&rec_g.next_tid, 0);
    if (self) {
        pthread_mutex_init(&self->mu, NULL);
        self->next = NULL;
        self->fifo_head = self->fifo_tail = NULL;
        atomic_store_explicit(&self->cur->n, 0, memory_order_relaxed);
        self->cur->taken = 0;
        /* the parent's jobs on it do not exist here */
        atomic_store_explicit(&self->cur->refs, 1, memory_order_relaxed);
        self->seen = NULL;
        self->last_ts = 0;
        self->ostid = (pid_t)syscall(SYS_gettid);
        self->tid = atomic_fetch_add(&rec_g.next_tid, 1);
        rec_g.threads = self;
        rec_g.pool_blocks = 1;
        rec_g.pool_threads = 1;
    }
    rec_seq_atfork_child(self);
}
