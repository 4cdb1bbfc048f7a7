/* rec_exit.c - threads still running when the process exits.
 *
 * At exit (rec_shutdown) recording goes off before the final flush; a
 * thread that is still allocating then makes calls that cannot be
 * recorded, and each is counted (rec_g.lost_after_stop) so the trace
 * says "unflushed threads" (traces/FORMAT.md).  The count is only as good
 * as the moment the losses are written: a running thread that the
 * scheduler kept off the CPU from "off" to the final write (two busy
 * processes beside us are enough) has made no call yet, and its losses,
 * which come after the trace is closed, went unsaid.
 *
 * So before the final flush the exiting thread waits until each other
 * thread of the process (the recorder's own aside; also one that has not
 * made its first call yet: created just before exit, it may not have run)
 * has shown what it does: it is done once it made a counted call, or is
 * not runnable (blocked in a system call: an idle worker, which loses
 * nothing while it sleeps), or is gone, or has used
 * REC_EXIT_CPU_NS of CPU since the wait began without a call (it computes,
 * not allocates).  Only runnable threads are waited for, and at most
 * REC_EXIT_WAIT_NS in all: a program whose threads are idle at exit pays
 * one read of /proc/self/task/TID/stat per thread.
 *
 * A thread inside an interposed call (rec_thread.in_call: from before the
 * call tested the state until its record is published) is never done,
 * runnable or not: it may be blocked in the real allocator, or in a
 * signal handler, and publish its record after the final collection,
 * where nothing would write it and nothing would say so.  It is waited
 * for; if it is still inside after REC_EXIT_WAIT_NS, the trace states the
 * loss ("unflushed threads").  in_call is stored before the state test
 * with no fence on the program's side; membarrier here makes every such
 * store visible before the threads are looked at. */
#include "rec_internal.h"
#include "hak_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define REC_EXIT_CPU_NS  2000000ull    /* CPU a thread may use without a call */
#define REC_EXIT_WAIT_NS 1000000000ull /* the most exit waits in all */
#define REC_EXIT_MAX     256           /* threads looked at (more: not waited for) */

/* 1 when the thread is runnable ('R' in /proc/self/task/TID/stat). */
static int runnable(pid_t tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;                      /* gone */
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *e = strrchr(buf, ')'); /* the name may hold anything */
    return e && e[1] == ' ' && e[2] == 'R';
}

/* The thread's CPU time (ns); 0 when it cannot be read.  Linux names a
 * thread's CPU clock by its tid (CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED). */
static uint64_t cpu_ns(pid_t tid)
{
    struct timespec ts;
    clockid_t c = (clockid_t)((~(unsigned)tid << 3) | 6);
    if (clock_gettime(c, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The recorder's own threads: never waited for. */
#define REC_EXIT_OWN 8
static _Atomic pid_t own_tids[REC_EXIT_OWN];

void rec_exit_own_thread(void)
{
    pid_t me = (pid_t)gettid();
    for (int i = 0; i < REC_EXIT_OWN; i++) {
        pid_t z = 0;
        if (atomic_compare_exchange_strong(&own_tids[i], &z, me))
            return;
    }
}

void rec_exit_atfork_child(void)
{
    for (int i = 0; i < REC_EXIT_OWN; i++)
        atomic_store(&own_tids[i], 0);
}

static int own_thread(pid_t tid)
{
    for (int i = 0; i < REC_EXIT_OWN; i++)
        if (atomic_load(&own_tids[i]) == tid)
            return 1;
    return 0;
}

typedef struct waitee { rec_thread *th; pid_t tid; uint64_t cpu0; } waitee;

/* Every thread of the process but this one and the recorder's: recorded
 * ones with their rec_thread, and ones that never made a call yet (created
 * just before exit and not yet run, on a loaded machine).  Read with
 * getdents64 into a stack buffer: no allocation here. */
static int waitees(waitee *w, int max)
{
    int n = 0;
    pid_t me = (pid_t)gettid();
    int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[4096];
    long got;
    while (n < max && (got = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
        for (long off = 0; off < got && n < max; ) {
            struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; }
                *d = (void *)(buf + off);
            off += d->reclen;
            pid_t tid = (pid_t)atoi(d->name);
            if (tid <= 0 || tid == me || own_thread(tid))
                continue;
            w[n++] = (waitee){NULL, tid, 0};
        }
    }
    close(fd);
    pthread_mutex_lock(&rec_g.threads_mu);
    for (rec_thread *t = rec_g.threads; t; t = t->next)
        for (int i = 0; i < n; i++)
            if (w[i].tid == t->ostid)
                w[i].th = t;
    pthread_mutex_unlock(&rec_g.threads_mu);
    return n;
}

/* Whether thread w has shown what it does (see the top of this file). */
static int settled(const waitee *w)
{
    rec_thread *t = w->th;
    if (t) {
        /* a call after "off": the one before it is published */
        if (atomic_load_explicit(&t->lost_after_stop, memory_order_acquire))
            return 1;
        if (atomic_load_explicit(&t->in_call, memory_order_acquire))
            return 0;                  /* its record may still come */
        if (atomic_load(&t->exiting))
            return 1;
    } else if (atomic_load_explicit(&rec_g.lost_after_stop, memory_order_relaxed) != 0) {
        return 1;                      /* it allocated (or a loss is stated already) */
    }
    if (!runnable(w->tid))             /* blocked, or gone */
        return 1;
    return cpu_ns(w->tid) - w->cpu0 >= REC_EXIT_CPU_NS;
}

/* Every thread's in_call store that preceded its state test is visible
 * once this returns (a barrier on each CPU running one of our threads);
 * without membarrier, a sleep long enough for any store buffer to drain. */
static void barrier_all_threads(void)
{
#if defined(SYS_membarrier)
    enum { CMD_PRIVATE_EXPEDITED = 1 << 3, CMD_REGISTER_PRIVATE_EXPEDITED = 1 << 4 };
    if (syscall(SYS_membarrier, CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0 &&
        syscall(SYS_membarrier, CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
        return;
#endif
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
}

void rec_exit_settle(void)
{
    barrier_all_threads();
    waitee w[REC_EXIT_MAX];
    int n = waitees(w, REC_EXIT_MAX);
    for (int i = 0; i < n; i++)
        w[i].cpu0 = cpu_ns(w[i].tid);
    uint64_t end = hak_mono_ns() + REC_EXIT_WAIT_NS;
    while (n > 0) {
        for (int i = 0; i < n; )
            if (settled(&w[i]))
                w[i] = w[--n];
            else
                i++;
        if (n == 0 || hak_mono_ns() >= end)
            break;
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
    }
    unsigned inside = 0;
    for (int i = 0; i < n; i++)
        inside += w[i].th && atomic_load(&w[i].th->in_call) &&
                  !atomic_load(&w[i].th->lost_after_stop);
    if (inside) {
        char d[256];
        snprintf(d, sizeof d, "%u thread%s still inside an allocation call %.0f s after "
                 "recording stopped at exit: the events of those calls were not recorded",
                 inside, inside == 1 ? "" : "s", REC_EXIT_WAIT_NS / 1e9);
        rec_loss_later(HAK_LOSS_UNFLUSHED, inside, d);
    }
}
