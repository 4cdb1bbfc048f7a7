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
 * guard set, so a signal handler's malloc there is not recorded. */
#include "rec_internal.h"

#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

static int membarrier_registered;

static int membarrier_register(void)
{
    return rec_g.cfg.membarrier &&
           syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

/* rec_init, before the writer thread starts. */
void rec_seq_init(void)
{
    membarrier_registered = membarrier_register();
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
