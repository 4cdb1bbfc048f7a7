/* rec_seq.c - the global event sequence without a locked instruction while
 * only one thread records.
 *
 * Every event takes seq from rec_g.seq.  With several recording threads
 * that must be one atomic fetch_add (README, "Ordering").  On this kind of
 * machine the lock xadd is most of the hot path's cost: besides its own
 * latency it drains the store buffer, which holds the misses of the record
 * just written.  A single-threaded program needs no atomicity at all, so
 * the first recording thread (the owner) bumps seq with a plain load and
 * store until a second thread registers.
 *
 * The switch is an asymmetric Dekker handshake (as in userspace RCU):
 *   owner:    in_solo = 1; [compiler barrier] if (!seq_shared) { bump; } in_solo = 0
 *   newcomer: seq_shared = 1; membarrier(PRIVATE_EXPEDITED); wait until !in_solo
 * membarrier makes every running thread of the process pass a full memory
 * barrier before it returns, so either the owner sees seq_shared (and takes
 * the atomic path) or the newcomer sees its in_solo and waits for the plain
 * store of seq to become visible.  From then on everyone uses fetch_add.
 * Where membarrier is unavailable (old kernel, seccomp) or switched off
 * (HAKREC_MEMBARRIER=0) the owner is never set and every event uses
 * fetch_add.
 *
 * Registering for PRIVATE_EXPEDITED costs a synchronize_rcu (~9 ms here)
 * once the process has a second thread, but almost nothing while it has
 * one: so rec_seq_init registers at start-up, before the writer thread
 * exists, and a fork child (one thread) registers again at once.
 *
 * The owner's section cannot nest: rec_emit runs with the thread's busy
 * guard set, so a signal handler's malloc there is not recorded.
 *
 * Shared mode.  One fetch_add on rec_g.seq per event costs every thread a
 * cache line that all of them write (35 ns an event with two threads on
 * this machine, more than the rest of the hot path).  Instead each thread
 * takes seqs from a batch of its own (one fetch_add per SEQ_BATCH events)
 * and orders itself after other threads through address clocks:
 * rec_g.seq_clock[hash(addr)] holds 1 + the highest seq recorded on an
 * address hashing there, raised with a compare-and-swap (it only grows),
 * before a free reaches the allocator and after an allocation returned.
 * An event on addr takes a seq >= that clock, with a new batch when its
 * own is below (every seq handed out is below rec_g.seq, so a new batch
 * always is above).  So when an event on an address happens after
 * another thread's event on it (the allocator or the program passed the
 * block on, which orders memory), it reads that thread's clock value and
 * gets a greater seq: a block is never live twice, a free never precedes
 * its allocation.  Unrelated addresses sharing a clock only cost a new
 * batch now and then.  Each clock sample (rec_clock.c, about every ms)
 * bumps rec_g.seq_epoch and a thread's next event takes a new batch, so
 * a batch never outlives a sampling interval and interpolated times stay
 * as accurate as before. */
#include "rec_internal.h"

#include <linux/membarrier.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int membarrier_registered;

static int membarrier_register(void)
{
    return rec_g.cfg.membarrier &&
           syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

#define SEQ_BATCH 64

/* rec_init, before the writer thread starts. */
void rec_seq_init(void)
{
    membarrier_registered = membarrier_register();
    if (!rec_g.seq_clock) {
        /* 512 KiB of address space; pages are touched in shared mode only */
        void *p = mmap(NULL, sizeof(uint64_t) << REC_SEQ_CLOCK_BITS, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        rec_g.seq_clock = p == MAP_FAILED ? NULL : p;   /* NULL: fetch_add per event */
    }
}

static inline _Atomic uint64_t *clock_of(uintptr_t p)
{
    return &rec_g.seq_clock[((uint64_t)p * 0x9E3779B97F4A7C15ull) >> (64 - REC_SEQ_CLOCK_BITS)];
}

/* Raises a clock to v (a seq + 1); it only ever grows. */
static inline void clock_raise(_Atomic uint64_t *c, uint64_t v)
{
    uint64_t o = atomic_load_explicit(c, memory_order_relaxed);
    while (o < v && !atomic_compare_exchange_weak_explicit(c, &o, v, memory_order_relaxed,
                                                           memory_order_relaxed)) {
    }
}

/* A new batch; every seq handed out is below rec_g.seq, so it lies above
 * any clock.  The epoch is read first: a sample between the two reads
 * only makes the next event take another batch. */
static uint64_t refill(rec_thread *th)
{
    uint64_t e = atomic_load_explicit(&rec_g.seq_epoch, memory_order_relaxed);
    uint64_t g = atomic_fetch_add_explicit(&rec_g.seq, SEQ_BATCH, memory_order_relaxed);
    th->seq_end = g + SEQ_BATCH;
    th->seq_epoch = e;
    return g;
}

uint64_t rec_seq_shared(rec_thread *th, uintptr_t a, uintptr_t b)
{
    if (REC_UNLIKELY(!rec_g.seq_clock))  /* no table: one fetch_add per event */
        return atomic_fetch_add_explicit(&rec_g.seq, 1, memory_order_seq_cst);
    _Atomic uint64_t *ca = a ? clock_of(a) : NULL, *cb = b ? clock_of(b) : NULL;
    uint64_t need = ca ? atomic_load_explicit(ca, memory_order_relaxed) : 0;
    if (cb) {
        uint64_t nb = atomic_load_explicit(cb, memory_order_relaxed);
        need = nb > need ? nb : need;
    }
    uint64_t s = th->seq_next;
    if (s >= th->seq_end || s < need ||
        th->seq_epoch != atomic_load_explicit(&rec_g.seq_epoch, memory_order_relaxed))
        s = refill(th);
    th->seq_next = s + 1;
    /* Before a free reaches the allocator, after an allocation returned:
     * whoever gets the address next reads at least s + 1. */
    if (ca)
        clock_raise(ca, s + 1);
    if (cb)
        clock_raise(cb, s + 1);
    return s;
}

int rec_seq_solo_possible(void) { return membarrier_registered; }

/* Called under threads_mu with th's tid assigned, before th's first event. */
void rec_seq_thread_added(rec_thread *th)
{
    if (th->tid == 0 && !atomic_load(&rec_g.seq_shared)) {
        if (membarrier_registered)
            atomic_store(&rec_g.seq_owner, th);
        else
            atomic_store(&rec_g.seq_shared, 1);
        return;
    }
    if (atomic_load(&rec_g.seq_shared))
        return;
    atomic_store(&rec_g.seq_shared, 1);
    rec_thread *owner = atomic_load(&rec_g.seq_owner);
    if (!owner)
        return;
    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
    while (atomic_load_explicit(&owner->in_solo, memory_order_acquire))
        sched_yield();       /* a few instructions, unless it was preempted */
    atomic_store(&rec_g.seq_owner, NULL);
}

/* Under threads_mu, th unlinked and really gone: if it owned seq, later
 * threads share it (nobody is left to hand over from). */
void rec_seq_thread_gone(rec_thread *th)
{
    if (atomic_load(&rec_g.seq_owner) == th) {
        atomic_store(&rec_g.seq_shared, 1);
        atomic_store(&rec_g.seq_owner, NULL);
    }
}

/* fork child: only the forking thread runs, so it may own seq again (its
 * process needs its own membarrier registration). */
void rec_seq_atfork_child(rec_thread *self)
{
    if (self)
        self->seq_next = self->seq_end = 0;   /* the parent's batch is the parent's */
    atomic_store(&rec_g.seq_owner, NULL);
    atomic_store(&rec_g.seq_shared, 0);
    membarrier_registered = membarrier_register();
    if (self && membarrier_registered) {
        atomic_store_explicit(&self->in_solo, 0, memory_order_relaxed);
        atomic_store(&rec_g.seq_owner, self);
    } else if (self) {
        atomic_store(&rec_g.seq_shared, 1);
    }
}
