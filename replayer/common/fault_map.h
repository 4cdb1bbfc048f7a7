/* fault_map.h - where a live program's page faults land: every minor
 * fault sampled with its address (perf_event_open, one event per CPU,
 * inherited by the program's threads and children) and counted as a
 * heap fault when the address lies in what heap-only RSS counts
 * (traces/common/heap_rss.h: the brk heap and private anonymous mappings
 * that are not .bss), so that `hak validate` compares the faults of the
 * program's allocation work with the replays' (which fault nowhere
 * else).  cc1's live faults under glibc: 10,735, of which 9,924 in its
 * heap; the rest are its own code and data pages (466), .bss (317) and
 * stack (26), which no replay of its allocations takes. */
#ifndef RP_FAULT_MAP_H
#define RP_FAULT_MAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct rp_fault_map rp_fault_map;

typedef struct rp_fault_counts {
    uint64_t all, heap;        /* faults sampled; of those in heap mappings */
    uint64_t lost;             /* samples the kernel dropped (a full buffer):
                                * then heap is incomplete */
} rp_fault_counts;

/* Starts sampling pid's faults (pid stopped, e.g. at its exec).  NULL with
 * the reason in err when perf refuses (perf_event_paranoid, no PMU). */
rp_fault_map *rp_fault_map_open(pid_t pid, char *err, size_t errlen);
/* Reads what the kernel buffered (each CPU's buffer holds ~64K faults):
 * call at every sample interval, and once at the exit stop (the
 * program's mappings still there). */
void rp_fault_map_drain(rp_fault_map *m);
/* The program exec'd again (PTRACE_EVENT_EXEC stop): the faults so far are
 * classed by the old image's mappings, the new image's are read. */
void rp_fault_map_exec(rp_fault_map *m);
/* The counts so far; frees m (NULL: nothing). */
void rp_fault_map_close(rp_fault_map *m, rp_fault_counts *out);

#endif /* RP_FAULT_MAP_H */
