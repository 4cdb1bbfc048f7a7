/* counters.c - perf_event_open counters (see counters.h). */
#include "counters.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct counter_def {
    const char *name, *source;
    uint32_t type;
    uint64_t config;
} counter_def;

#define CACHE(id, opr, res) ((id) | ((uint64_t)(opr) << 8) | ((uint64_t)(res) << 16))

static const counter_def defs[RP_NCOUNTERS] = {
    {"page-faults", "sw", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
    {"cycles", "hw", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"instructions", "hw", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    {"dTLB-load-misses", "hw", PERF_TYPE_HW_CACHE,
     CACHE(PERF_COUNT_HW_CACHE_DTLB, PERF_COUNT_HW_CACHE_OP_READ, PERF_COUNT_HW_CACHE_RESULT_MISS)},
    {"dTLB-store-misses", "hw", PERF_TYPE_HW_CACHE,
     CACHE(PERF_COUNT_HW_CACHE_DTLB, PERF_COUNT_HW_CACHE_OP_WRITE, PERF_COUNT_HW_CACHE_RESULT_MISS)},
    {"iTLB-load-misses", "hw", PERF_TYPE_HW_CACHE,
     CACHE(PERF_COUNT_HW_CACHE_ITLB, PERF_COUNT_HW_CACHE_OP_READ, PERF_COUNT_HW_CACHE_RESULT_MISS)},
};

static int real_perf_open(struct perf_event_attr *attr, pid_t pid, int cpu,
                          int group_fd, unsigned long flags)
{
    return (int)syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags);
}

const char *rp_errno_name(int e)
{
    switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case EINVAL: return "EINVAL";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENODEV: return "ENODEV";
    case EBUSY: return "EBUSY";
    case EMFILE: return "EMFILE";
    case E2BIG: return "E2BIG";
    case ENOMEM: return "ENOMEM";
    default: return "errno";
    }
}

void rp_counters_open(rp_counters *cs, rp_perf_open_fn open_fn)
{
    if (!open_fn)
        open_fn = real_perf_open;
    for (int i = 0; i < RP_NCOUNTERS; i++) {
        rp_counter *c = &cs->c[i];
        memset(c, 0, sizeof *c);
        c->fd = -1;
        snprintf(c->name, sizeof c->name, "%s", defs[i].name);
        snprintf(c->source, sizeof c->source, "%s", defs[i].source);
        for (int user_only = 0; user_only < 2; user_only++) {
            struct perf_event_attr a;
            memset(&a, 0, sizeof a);
            a.size = sizeof a;
            a.type = defs[i].type;
            a.config = defs[i].config;
            a.disabled = 1;
            a.inherit = 1;
            a.exclude_hv = 1;
            a.exclude_kernel = (unsigned)user_only;
            a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
            errno = 0;
            int fd = open_fn(&a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
            if (fd >= 0) {
                c->fd = fd;
                if (user_only)
                    snprintf(c->name, sizeof c->name, "%s:u", defs[i].name);
                break;
            }
            int e = errno ? errno : EINVAL;
            snprintf(c->reason, sizeof c->reason, "perf_event_open(%s): %s",
                     defs[i].name, rp_errno_name(e));
            /* Only a permission refusal is worth a user-only retry. */
            if (e != EACCES && e != EPERM)
                break;
        }
    }
}

void rp_counters_enable(rp_counters *cs)
{
    for (int i = 0; i < RP_NCOUNTERS; i++)
        if (cs->c[i].fd >= 0)
            ioctl(cs->c[i].fd, PERF_EVENT_IOC_ENABLE, 0);
}

void rp_counters_disable(rp_counters *cs)
{
    for (int i = 0; i < RP_NCOUNTERS; i++)
        if (cs->c[i].fd >= 0)
            ioctl(cs->c[i].fd, PERF_EVENT_IOC_DISABLE, 0);
}

void rp_counters_read_close(rp_counters *cs)
{
    for (int i = 0; i < RP_NCOUNTERS; i++) {
        rp_counter *c = &cs->c[i];
        if (c->fd < 0)
            continue;
        uint64_t v[3] = {0, 0, 0};   /* value, time enabled, time running */
        ssize_t n = read(c->fd, v, sizeof v);
        close(c->fd);
        c->fd = -1;
        if (n != (ssize_t)sizeof v) {
            snprintf(c->reason, sizeof c->reason, "read(%s): %s", c->name,
                     n < 0 ? rp_errno_name(errno) : "short read");
            continue;
        }
        if (v[2] == 0) {
            snprintf(c->reason, sizeof c->reason,
                     "%s: counter never scheduled (PMU busy or multiplexed out)", c->name);
            continue;
        }
        c->ok = 1;
        c->reason[0] = 0;
        if (v[2] < v[1]) {
            c->value = (uint64_t)((double)v[0] * (double)v[1] / (double)v[2]);
            snprintf(c->reason, sizeof c->reason, "scaled: counted %.0f%% of the window",
                     100.0 * (double)v[2] / (double)v[1]);
        } else {
            c->value = v[0];
        }
    }
}
