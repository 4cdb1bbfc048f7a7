/* sim_run.h - one simulated replay: the trace's replay form run serially (the
 * global order) against a loaded allocator, in the calling process, with
 * every address the workload touches fed to the model.
 *
 * What the workload touches (and the replay really writes, so the kernel's
 * page and THP decisions are real):
 *   --touch none   nothing
 *   --touch first  the first byte of each new block
 *   --touch pages  the first byte, then the first byte of every further page
 *                  the block covers (default; page faults like the program's)
 *   --touch all    every byte (fed to the model as every cache line)
 *   --access full  every cache line of each block at allocation (written)
 *                  and again just before its free (read); overrides --touch
 * realloc results are new blocks.  calloc's zeroing is the allocator's own.
 *
 * Invariants: everything the loop needs (object table, timeline) is mapped
 * and faulted in before the window; the model's tables come from mmap and
 * their growth is counted separately (own_minflt) so the window's measured
 * minor faults can be compared with the modelled ones.  The program's own
 * anonymous mappings (mmap/munmap/mremap in a trace recorded with --mmap)
 * are mapped, touched and unmapped like blocks (maps counts them); thread
 * start/exit events are skipped (counted).
 */
#ifndef SIM_RUN_H
#define SIM_RUN_H

#include <stdint.h>

#include "sim_alloc.h"
#include "sim_layout.h"
#include "sim_model.h"
#include "touch.h"
#include "trace.h"

typedef enum sim_access_mode { SIM_ACCESS_TOUCH, SIM_ACCESS_FULL } sim_access_mode;

int sim_access_parse(const char *s, sim_access_mode *out);
const char *sim_access_name(sim_access_mode a);

#define SIM_MAX_SAMPLES 512

typedef struct sim_sample {     /* layout at one point of the replay */
    uint64_t op;                /* operations done */
    uint64_t t_ns;              /* since the window opened */
    uint64_t live_bytes, pages_spanned, regions_spanned;
} sim_sample;

typedef struct sim_result {
    int ok;                     /* 1 when the replay ran to the end */
    char error[256];
    sim_stats st;
    /* layout */
    uint64_t peak_live_bytes, peak_pages, peak_regions, pages_ever;
    double occ_at_peak, occ_mean;
    uint64_t final_live_bytes, final_pages, final_regions;
    /* the run */
    uint64_t ops, allocs, frees, skipped_ops, failed_allocs;
    uint64_t maps;              /* of allocs: the program's own mappings */
    volatile uint64_t progress_ops;  /* ops done so far, for a watching parent */
    uint64_t wall_ns, user_ns, sys_ns;
    int64_t window_minflt, window_majflt;   /* measured in the window */
    int64_t own_minflt;         /* of those, the model's own table growth */
    uint64_t addr_digest;       /* hash of every returned address, in order */
    char thp_method[32];
    char load[16];              /* "dlopen", "preload" or "process" (glibc); set by the caller */
    uint32_t nsamples;
    sim_sample samples[SIM_MAX_SAMPLES];
} sim_result;

typedef struct sim_run_opts {
    hak_touch touch;
    sim_access_mode access;
    sim_tlb_geom geom;
    sim_page_mode pages;
} sim_run_opts;

/* The model options hak sim and hak sweep share (--tlb, --pages, --access,
 * --touch, --timeout), parsed one way: name is the long option without
 * dashes.  Returns 0 with the value applied to *o (--timeout: *timeout_ns),
 * -1 with a one-line reason naming the option in err, or 1 when name is
 * not one of these options. */
int sim_opt_parse(const char *name, const char *value, sim_run_opts *o, uint64_t *timeout_ns,
                  char *err, size_t errlen);

/* Runs the replay.  Fills *res (res->ok = 0 with res->error on failure,
 * e.g. out of memory).  Returns 0 when the replay completed. */
int sim_run(const hak_replay *rp, const sim_alloc *a, const sim_run_opts *o,
            sim_result *res);

/* Pages the model should expect to see, estimated from the replay form. */
uint64_t sim_expect_pages(const hak_replay *rp);

#endif
