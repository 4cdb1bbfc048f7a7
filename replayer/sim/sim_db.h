/* sim_db.h - storing a simulated run in the run-history database (kind
 * 'simulated'), and sweep bookkeeping shared by `hak sim` and `hak sweep`.
 *
 * What a simulated run row holds: trace, build, machine, env (knobs), label,
 * touch, threads_mode 'serial', config = the model parameters as text
 * ("sim pages=thp access=touch tlb=l1=64:4,... thp=pagemap+kpageflags"), ops,
 * addr_digest.  Timing and getrusage columns stay NULL (they would describe
 * the simulator, not the allocator); the figures are run_metrics with source
 * 'sim' (model) or 'sw' (measured inside the simulation window):
 *   sim.page_faults        first-touch faults (any page size)
 *   sim.faults_4k / sim.faults_2m
 *   sim.l1_dtlb_misses     L1 dTLB misses (both page sizes)
 *   sim.stlb_misses        STLB misses = page walks
 *   sim.dtlb_misses        = page walks, comparable to perf's dTLB-*-misses
 *                          (Intel counts misses that cause a walk)
 *   sim.accesses           addresses fed to the model
 *   sim.pages_spanned      peak 4 KiB pages holding live data
 *   sim.superslabs_spanned peak 2 MiB regions holding live data
 *   sim.occupancy          live bytes / bytes of spanned pages at peak live
 *   sim.occupancy_mean     the same, averaged over the timeline samples
 *   sim.touched_bytes      first touches x page size (memory made resident)
 *   sim.occupancy_touched  peak live bytes / sim.touched_bytes
 *   sim.peak_live_bytes, sim.pages_ever_spanned, sim.huge_regions, ...
 *   sim.measured_minor_faults (sw) window faults minus the model's own
 * Timeline: t_ns since the window started, live_bytes, and rss_bytes = 4 KiB
 * pages spanned by live data x 4096 (so occupancy(t) = live/rss).
 */
#ifndef SIM_DB_H
#define SIM_DB_H

#include <stdint.h>

#include "hakdb.h"
#include "sim_run.h"

typedef struct sim_db_run {
    const char *trace_path;
    const char *program;        /* may be NULL */
    const char *meta_json;      /* hakdb_trace_meta_json; may be NULL */
    int64_t events, threads;
    const char *completeness;   /* traces.completeness: "complete", ...; NULL = not known */
    const char *alloc_name, *alloc_path;   /* path "" for glibc */
    const char *alloc_spec;     /* --alloc as given ("hakmem@HEAD~5"); may be NULL */
    const char *env;            /* "K=V K=V" */
    const char *label;
    int64_t sweep_id;           /* HAKDB_NULL when none */
    const sim_run_opts *opts;
    const char *status;         /* "ok", "crashed", ... */
    const char *error;
    const sim_result *res;      /* NULL when the run failed before results */
    int64_t start_wall_ns;      /* when the simulation started */
} sim_db_run;

/* Stores one simulated run; returns the run id or -1 (reason in err). */
int64_t sim_db_store(hakdb *db, const sim_db_run *r, char *err, size_t errlen);


/* Model parameters as text, for runs.config. */
void sim_db_config_text(const sim_run_opts *o, const sim_result *res, char *buf, size_t len);

#endif
