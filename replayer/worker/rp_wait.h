/* rp_wait.h - how a recorded-threads replay thread waits for another
 * thread's progress (worker_loop.c), in a header so that the test
 * (replayer/tests/test_wait.c) runs the same code.
 *
 * Thread t publishes `progress` (ops completed) after every op.  A thread
 * whose next op needs op count-1 of t done spins briefly, yields, then
 * sleeps until t gets there: it asks t to wake it at count (wake_at) and
 * sleeps on t's wake_seq, which t bumps only then (rp_wake_sleepers).
 * The 1 ms timeout makes a wake-up that a request just missed cost 1 ms,
 * never a hang. */
#ifndef RP_WAIT_H
#define RP_WAIT_H

#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "worker.h"

#if defined(__x86_64__) || defined(__i386__)
#define rp_cpu_relax() __builtin_ia32_pause()
#else
#define rp_cpu_relax() __asm__ __volatile__("" ::: "memory")
#endif

static inline long rp_futex(volatile uint32_t *addr, int op, uint32_t val, const struct timespec *to)
{
    return syscall(SYS_futex, addr, op, val, to, NULL, 0);
}

static inline void rp_wait_progress(rp_tstate *me, rp_tstate *other, uint32_t count)
{
    me->waits++;
    for (int i = 0; i < 64; i++) {
        if (__atomic_load_n(&other->progress, __ATOMIC_ACQUIRE) >= count)
            return;
        rp_cpu_relax();
    }
    for (int i = 0; i < 8; i++) {
        if (__atomic_load_n(&other->progress, __ATOMIC_ACQUIRE) >= count)
            return;
        sched_yield();
    }
    /* Sleep until other's progress reaches count: ask to be woken there
     * (wake_at: the least count any sleeper asked for) and sleep on
     * wake_seq, which other bumps only when it gets there.  (Sleeping on
     * progress itself, which moves at every op, made each sleep return at
     * once and other make a wake-up call after every op while anyone
     * waited: mt_churn's recorded-threads replay took 1.3 s against 0.17 s
     * serially, with ~380,000 sleeps for 3.2M ops.) */
    const struct timespec to = {0, 1000000};       /* 1 ms: bounds a missed wake */
    /* replay.sleeps counts the waits that slept (slept_waits), not the
     * sleeps: a thread whose producer is descheduled on a loaded machine
     * sleeps through several 1 ms timeouts in one wait, and the stored
     * count exceeded the waits (replay_defaults.sh saw it at load 7-14) */
    int slept = 0;
    for (;;) {
        uint32_t seq = __atomic_load_n(&other->wake_seq, __ATOMIC_ACQUIRE);
        uint32_t w = __atomic_load_n(&other->wake_at, __ATOMIC_RELAXED);
        while (count < w && !__atomic_compare_exchange_n(&other->wake_at, &w, count, 1,
                                                        __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
            ;
        if (__atomic_load_n(&other->progress, __ATOMIC_SEQ_CST) >= count)
            return;
        me->sleeps++;
        me->slept_waits += !slept;
        slept = 1;
        rp_futex(&other->wake_seq, FUTEX_WAIT_PRIVATE, seq, &to);
        if (__atomic_load_n(&other->progress, __ATOMIC_ACQUIRE) >= count)
            return;
    }
}

/* After thread t completed its op n: wakes the sleepers when one asked
 * for n (all of them: each checks its own count and asks again).  A wake
 * that a sleeper's request just missed costs it the 1 ms timeout. */
static inline __attribute__((always_inline)) void rp_wake_sleepers(rp_tstate *t, uint32_t n)
{
    if (__builtin_expect(n < t->wake_at, 1))
        return;
    __atomic_store_n(&t->wake_at, UINT32_MAX, __ATOMIC_RELAXED);
    __atomic_add_fetch(&t->wake_seq, 1, __ATOMIC_RELEASE);
    rp_futex(&t->wake_seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
}

#endif /* RP_WAIT_H */
