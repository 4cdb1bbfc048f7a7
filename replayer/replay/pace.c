/* pace.c - due times for a replay at the program's own speed
 * (`hak replay --pace program:D`, replay.h).
 *
 * A recording runs slower than the program: each recorded call costs the
 * recorder time (interposition, the stack walk, the event write), so its
 * time line is the program's own plus a cost per event.  Scaling the gaps
 * by one factor (--pace recorded:F) takes that cost off evenly, from the
 * stretches where the program computes and allocates little as much as
 * from its bursts of allocation, which the recorder slowed most.  Here the
 * cost is taken off per event instead: op i of thread t is due at its
 * recorded time less C times the ops thread t recorded before it, where C
 * is what makes the whole recording last D, the program's own duration
 * (hak validate: the median of its live runs under the allocator it was
 * recorded with).  Threads pay the recorder's cost each for its own calls,
 * side by side, so C spreads the extra time over the busiest thread's ops.
 *
 * Why it matters: allocators that give memory back some time after it
 * was freed (mimalloc's purge delay, hakmem's 100 ms) fault again when it
 * is reused after that time; how long a free block waits decides their
 * faults.  sqlite3 under mimalloc, live 17,212 faults: replayed as fast as
 * possible 15,199, at the recording's gaps scaled to the live duration
 * 19,314. */
#include "replay.h"

#include <stdio.h>
#include <stdlib.h>

uint64_t *rp_pace_program(const hak_replay *rp, const uint64_t *op_ts, uint64_t program_ns,
                          double *cost_ns, char *err, size_t errlen)
{
    *cost_ns = 0;
    uint64_t n = rp->nops;
    uint64_t *due = malloc((n ? n : 1) * sizeof *due);
    uint64_t *seen = calloc(rp->nthreads ? rp->nthreads : 1, sizeof *seen);
    uint64_t *last = calloc(rp->nthreads ? rp->nthreads : 1, sizeof *last);
    if (!due || !seen || !last) {
        free(due); free(seen); free(last);
        snprintf(err, errlen, "out of memory for %llu due times", (unsigned long long)n);
        return NULL;
    }
    uint64_t busiest = 0;
    for (uint32_t t = 0; t < rp->nthreads; t++)
        if (rp->thread_nops[t] > busiest)
            busiest = rp->thread_nops[t];
    uint64_t span = n ? op_ts[n - 1] - op_ts[0] : 0;
    /* the busiest thread's last op then lands at program_ns */
    double c = busiest > 1 && span > program_ns
             ? (double)(span - program_ns) / (double)(busiest - 1) : 0;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t t = rp->ops[i].tid;
        double off = c * (double)seen[t]++;
        double rel = (double)(op_ts[i] - op_ts[0]) - off;
        uint64_t d = op_ts[0] + (rel > 0 ? (uint64_t)rel : 0);
        /* a thread's ops stay in order: a recorded gap shorter than C
         * (a burst) is no gap at all in the program */
        if (d < last[t])
            d = last[t];
        due[i] = last[t] = d;
    }
    free(seen);
    free(last);
    *cost_ns = c;
    return due;
}
