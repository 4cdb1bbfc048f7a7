/* counters.h - perf_event_open counters for the measured window.
 *
 * The set is fixed: page-faults (software), cycles, instructions,
 * dTLB-load-misses, dTLB-store-misses, iTLB-load-misses.  Which exist is
 * decided at run time, per counter: a counter that cannot be opened (no PMU,
 * seccomp, paranoia) or was never scheduled is reported as not measured
 * with the reason ("perf_event_open(cycles): ENOENT"), never as 0.
 *
 * Counters are opened with inherit=1 before the replay threads are created,
 * so the counts cover every thread of the worker; they are read after the
 * threads have been joined (inherited counts fold into the parent then).
 * When kernel-mode counting is refused (EACCES/EPERM) the counter is retried
 * user-only and named with perf's ":u" suffix.
 *
 * The structures are plain data: they live in the shared result page that
 * the parent reads after the worker exits.
 */
#ifndef RP_COUNTERS_H
#define RP_COUNTERS_H

#include <stdint.h>
#include <sys/types.h>

#define RP_NCOUNTERS 6

typedef struct rp_counter {
    char     name[32];      /* "cycles", or "cycles:u" when user-only */
    char     source[4];     /* "sw" or "hw" */
    int32_t  ok;            /* 1: value is a measurement */
    int32_t  fd;            /* worker-private; -1 when not open */
    uint64_t value;         /* scaled count when multiplexed */
    char     reason[112];   /* why not measured, or a note ("scaled: ran 40%") */
} rp_counter;

typedef struct rp_counters {
    rp_counter c[RP_NCOUNTERS];
} rp_counters;

struct perf_event_attr;
/* The syscall, replaceable for tests: returns an fd or -1 with errno set. */
typedef int (*rp_perf_open_fn)(struct perf_event_attr *attr, pid_t pid,
                               int cpu, int group_fd, unsigned long flags);

/* Opens every counter (disabled); open_fn NULL = the real syscall.  Never
 * fails as a whole: each counter records its own outcome. */
void rp_counters_open(rp_counters *cs, rp_perf_open_fn open_fn);
void rp_counters_enable(rp_counters *cs);
void rp_counters_disable(rp_counters *cs);
/* Reads the counts (scaling multiplexed ones) and closes the fds. */
void rp_counters_read_close(rp_counters *cs);

/* Name of an errno value ("ENOENT"), for reasons. */
const char *rp_errno_name(int e);

#endif /* RP_COUNTERS_H */
