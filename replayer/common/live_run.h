/* live_run.h - runs a program as it is, with an allocator preloaded, and
 * measures what `hak validate` compares replays with: wall time and minor
 * faults of the whole program (wait4), and heap-only RSS
 * (traces/common/heap_rss.h) sampled from /proc/PID/smaps by this process
 * every interval, so the program carries nothing but the allocator.
 * The program is ptrace'd (PTRACE_TRACEME, PTRACE_O_TRACEEXIT) only to read
 * its final heap when it exits, before its memory is unmapped; its signals
 * are passed on unchanged (each costs two context switches). */
#ifndef RP_LIVE_RUN_H
#define RP_LIVE_RUN_H

#include <stdint.h>

typedef struct rp_live_spec {
    char *const *argv;          /* program and arguments (argv[0] searched in PATH) */
    const char *preload;        /* library for LD_PRELOAD; NULL = none (glibc) */
    const char *stdin_path;     /* NULL = /dev/null */
    uint64_t interval_ns;       /* heap sampling period */
    double timeout_s;           /* <= 0: none */
    int heap_faults;            /* sample every fault's address (fault_map.h) for
                                 * heap_minflt: costs the program ~10% of its time
                                 * where it faults most (mt_churn), so not in runs
                                 * whose time is measured */
} rp_live_spec;

typedef struct rp_live_result {
    int ok;                     /* ran and exited 0 */
    char error[512];            /* one line when !ok */
    uint64_t wall_ns, minflt;
    uint64_t peak_heap, final_heap;  /* bytes; largest and last sample */
    uint32_t samples;           /* smaps reads that succeeded */
    uint64_t heap_minflt;       /* of minflt, those in heap mappings (fault_map.h) */
    int heap_faults_ok;         /* heap_minflt measured: perf allowed, nothing lost,
                                 * the exit stop reached */
    char heap_faults_why[160];  /* else why not */
    int exact_final;            /* final_heap was read at the exit stop */
} rp_live_result;

/* Runs spec->argv once.  Returns 0 (out->ok says whether the program
 * succeeded) or -1 when it could not be started at all. */
int rp_live_run(const rp_live_spec *spec, rp_live_result *out);

#endif /* RP_LIVE_RUN_H */
