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
 * recorded thread has shown what it does: it is done once it made a
 * counted call, or is not runnable (blocked in a system call: an idle
 * worker, which loses nothing while it sleeps), or is gone, or has used
 * REC_EXIT_CPU_NS of CPU since the wait began without a call (it computes,
 * not allocates).  Only runnable threads are waited for, and at most
 * REC_EXIT_WAIT_NS in all: a program whose threads are idle at exit pays
 * one read of /proc/self/task/TID/stat per thread. */
#include "rec_internal.h"
#include "hak_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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

void rec_exit_settle(void)
{
    struct { rec_thread *th; pid_t tid; uint64_t cpu0; } w[REC_EXIT_MAX];
    int n = 0;
    rec_thread *self = rec_tls_v.th;
    pid_t me = (pid_t)gettid();
    pthread_mutex_lock(&rec_g.threads_mu);
    for (rec_thread *t = rec_g.threads; t && n < REC_EXIT_MAX; t = t->next)
        if (t != self && t->ostid != me && !atomic_load(&t->exiting))
            w[n++] = (typeof(w[0])){t, t->ostid, 0};
    pthread_mutex_unlock(&rec_g.threads_mu);
    for (int i = 0; i < n; i++)
        w[i].cpu0 = cpu_ns(w[i].tid);
    uint64_t end = hak_mono_ns() + REC_EXIT_WAIT_NS;
    while (n > 0) {
        for (int i = 0; i < n; ) {
            rec_thread *t = w[i].th;
            if (atomic_load_explicit(&t->lost_after_stop, memory_order_relaxed) ||
                atomic_load(&t->exiting) || !runnable(w[i].tid) ||
                cpu_ns(w[i].tid) - w[i].cpu0 >= REC_EXIT_CPU_NS)
                w[i] = w[--n];         /* it has shown what it does */
            else
                i++;
        }
        if (n == 0 || hak_mono_ns() >= end)
            break;
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
    }
}
