/* rec_fds.c - descriptor safety: the recorder's trace descriptor is
 * invisible to the recorded program.
 *
 * The trace is written through a descriptor inside the program's process,
 * and programs close and reuse descriptors they never opened: daemons close
 * 3..1023 or call closefrom(3), shells dup2 over numbers they like.  A
 * recorder that kept writing to "its" number after that wrote trace chunks
 * into the program's own files (issue 13).  The rules, per call:
 *
 * - The trace descriptor sits high (REC_FD_FLOOR_GAP below the soft
 *   RLIMIT_NOFILE, or below 1024 when the limit is higher), so open() and
 *   friends, which return the lowest free number, never hand the program
 *   a number next to it by surprise.
 * - close(fd) of the trace descriptor: a no-op that returns 0.  The program
 *   did not open it, so no file of the program's is affected, and recording
 *   goes on.  (The number stays in use: a program that then checks it with
 *   fcntl(F_GETFD) sees it open.)
 * - close_range(lo, hi, flags) and closefrom(lo): done around the trace
 *   descriptor (the ranges on either side of it), with the same result for
 *   every other descriptor.
 * - dup2(old, fd) and dup3(old, fd, flags) onto the trace descriptor: the
 *   trace moves to another high number first (between two chunk writes,
 *   under the trace writer's lock), then the program's call runs and fd is
 *   the program's, as it asked.
 * - fcntl(F_DUPFD...) never returns a descriptor that is open, so it cannot
 *   take the trace's; nothing to do.
 * - Raw system calls (syscall(SYS_close, ...)) bypass all of the above.  For
 *   them the trace writer is guarded (hak_tw_guard): before every write it
 *   checks that the descriptor still refers to the trace file; if not, it
 *   reopens the file by path at its offset, or stops with a "descriptor
 *   taken" failure.  It never writes to, truncates or closes a descriptor
 *   that is not the trace's (a raw close racing a chunk write in between
 *   is the one window left; see recorder/README.md).
 *
 * The recorder's other files (/proc/self/statm for RSS, /proc/cpuinfo...)
 * are opened, read and closed at once, so there is only one descriptor to
 * protect.  rec_fd_trace is what the interposers compare against: one
 * relaxed load per close(), nothing on the allocation paths. */
#include "rec_internal.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* The trace descriptor, -1 when none.  Written by the writer's owner
 * (start, moves, shutdown); read by the interposers. */
static _Atomic int rec_fd_trace = -1;

int rec_fd_floor(void)
{
    struct rlimit rl;
    long lim = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        lim = (long)rl.rlim_cur;
    /* Not higher: the kernel sizes a process's descriptor table by its
     * highest open number, and fork copies that table (a limit of 2^20,
     * common in containers, would cost 8 MiB per process and per fork). */
    if (lim > 1024)
        lim = 1024;
    /* the top of that range: far from the numbers programs get from open() */
    return lim > REC_FD_FLOOR_GAP + 3 ? (int)(lim - REC_FD_FLOOR_GAP) : 3;
}

int rec_fd_high(int fd)
{
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, rec_fd_floor());
    if (hi < 0)
        return fd;                    /* no room up there: keep the low one */
    syscall(SYS_close, fd);
    return hi;
}

void rec_fd_own(int fd) { atomic_store_explicit(&rec_fd_trace, fd, memory_order_release); }
void rec_fd_forget(void) { atomic_store_explicit(&rec_fd_trace, -1, memory_order_release); }

static inline int is_trace_fd(int fd)
{
    return fd >= 0 && fd == atomic_load_explicit(&rec_fd_trace, memory_order_acquire);
}

/* ---- the real functions --------------------------------------------------- */

typedef int (*close_fn)(int);
typedef int (*dup2_fn)(int, int);
typedef int (*dup3_fn)(int, int, int);
typedef int (*close_range_fn)(unsigned, unsigned, int);
typedef void (*closefrom_fn)(int);

static close_fn real_close_p;
static dup2_fn real_dup2_p;
static dup3_fn real_dup3_p;
static close_range_fn real_close_range_p;

/* dlsym may allocate: the allocation wrappers serve it (bootstrap arena
 * before the recorder is up, unrecorded while busy). */
static void *next_sym(const char *name)
{
    int busy = rec_tls_v.busy;
    rec_tls_v.busy = 1;
    void *p = dlsym(RTLD_NEXT, name);
    rec_tls_v.busy = busy;
    return p;
}

static int real_close(int fd)
{
    if (!real_close_p)
        real_close_p = (close_fn)next_sym("close");
    return real_close_p ? real_close_p(fd) : (int)syscall(SYS_close, fd);
}

static int real_close_range(unsigned lo, unsigned hi, int flags)
{
    if (!real_close_range_p)
        real_close_range_p = (close_range_fn)next_sym("close_range");
    if (real_close_range_p)
        return real_close_range_p(lo, hi, flags);
    return (int)syscall(SYS_close_range, lo, hi, flags);
}

/* rec_init: resolved up front, so a first close() or dup2() from a signal
 * handler does not run dlsym there. */
void rec_fds_init(void)
{
    if (!real_close_p)
        real_close_p = (close_fn)next_sym("close");
    if (!real_dup2_p)
        real_dup2_p = (dup2_fn)next_sym("dup2");
    if (!real_dup3_p)
        real_dup3_p = (dup3_fn)next_sym("dup3");
    if (!real_close_range_p)
        real_close_range_p = (close_range_fn)next_sym("close_range");
}

/* ---- moving the trace out of the way --------------------------------------- */

/* dup2/dup3 are about to replace fd, the trace's: move the trace first.
 * 0, or -1 when it could not move (the program's call then takes the
 * number, and the guarded writer finds that out at its next write). */
static int move_trace(int fd)
{
    /* A vfork child shares our memory but has its own descriptor table:
     * moving the writer there would point it at a number the parent does
     * not have.  Its dup2 only changes its own table, and exec (the trace
     * is close-on-exec) follows. */
    if (getpid() != rec_g.pid)
        return -1;
    int busy = rec_tls_v.busy;
    rec_tls_v.busy = 1;
    int old = rec_writer_move_fd(rec_fd_floor());
    rec_tls_v.busy = busy;
    return old == fd ? 0 : -1;
}

/* ---- the interposed calls ------------------------------------------------------ */

EXPORT int close(int fd)
{
    if (REC_UNLIKELY(is_trace_fd(fd)))
        return 0;                     /* not the program's: leave it */
    return real_close(fd);
}

EXPORT int dup2(int old, int fd)
{
    if (!real_dup2_p)
        real_dup2_p = (dup2_fn)next_sym("dup2");
    if (REC_UNLIKELY(is_trace_fd(fd)) && old != fd)
        move_trace(fd);
    return real_dup2_p ? real_dup2_p(old, fd) : (int)syscall(SYS_dup2, old, fd);
}

EXPORT int dup3(int old, int fd, int flags)
{
    if (!real_dup3_p)
        real_dup3_p = (dup3_fn)next_sym("dup3");
    if (REC_UNLIKELY(is_trace_fd(fd)) && old != fd)
        move_trace(fd);
    return real_dup3_p ? real_dup3_p(old, fd, flags) : (int)syscall(SYS_dup3, old, fd, flags);
}

/* close_range(lo, hi) around the trace descriptor t: [lo, t-1], [t+1, hi]. */
EXPORT int close_range(unsigned lo, unsigned hi, int flags)
{
    int t = atomic_load_explicit(&rec_fd_trace, memory_order_acquire);
    if (REC_LIKELY(t < 0 || (unsigned)t < lo || (unsigned)t > hi))
        return real_close_range(lo, hi, flags);
    int rc = 0;
    if ((unsigned)t > lo)
        rc = real_close_range(lo, (unsigned)t - 1, flags);
    if (rc == 0 && (unsigned)t < hi)
        rc = real_close_range((unsigned)t + 1, hi, flags);
    return rc;
}

/* glibc's closefrom calls close_range inside libc, not through ours. */
EXPORT void closefrom(int lo)
{
    if (lo < 0)
        lo = 0;
    if (close_range((unsigned)lo, ~0u, 0) == 0)
        return;
    /* no close_range (old kernel): every open descriptor from lo up */
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    int self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end || end == e->d_name || fd < lo || fd == self || is_trace_fd((int)fd))
            continue;
        real_close((int)fd);
    }
    closedir(d);
}
