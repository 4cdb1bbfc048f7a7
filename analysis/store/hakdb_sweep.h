/* hakdb_sweep.h - sweeps (a grid of settings run as one unit) and the
 * questions the replayer asks of them, so no command outside the store
 * runs its own SQL on the sweeps and runs tables. */
#ifndef HAKDB_SWEEP_H
#define HAKDB_SWEEP_H

#include "hakdb.h"

#include <stdint.h>

/* 1 when sweep id is a row, 0 when not, -1 on a database error (hakdb_error). */
int hakdb_sweep_exists(hakdb *db, int64_t id);
/* The local id of the sweep with this uuid, created (with command and
 * grid) when missing: the same uuid names one sweep in every database a
 * sweep's jobs write to.  -1 on error (hakdb_error). */
int64_t hakdb_sweep_by_uuid(hakdb *db, const char *uuid, const char *command,
                            const char *grid);
/* Runs not in any sweep join sweep id (a sweep's emitted replay jobs):
 * 0, or -1 (hakdb_error). */
int hakdb_sweep_adopt(hakdb *db, int64_t id);
/* 0 when the sweep has ok runs but none of them has the metric; 1
 * otherwise (a sweep whose runs all failed is reported elsewhere). */
int hakdb_sweep_has_metric(hakdb *db, int64_t sweep, const char *metric);

/* 1 when a higher value of the metric is better, 0 when lower is: from the
 * metric registry (metric_info); a metric missing there counts as higher
 * only when its name says it is a rate (*_per_s, *throughput*). */
int hakdb_metric_higher_better(hakdb *db, const char *metric);

/* One setting of a sweep on one trace: means over its runs. */
typedef struct hakdb_rank_row {
    int64_t trace_id;
    const char *trace_path, *alloc, *env;
    double value;                /* the ranking metric; NAN when no run has it */
    double sim_walks, sim_faults, sim_occupancy;   /* NAN: not simulated */
    double meas_faults, meas_ops_per_s;            /* NAN: not measured */
    int failed;                  /* runs that did not end ok */
    int measured, simulated;     /* runs by kind */
} hakdb_rank_row;
/* Calls row() for each setting of the sweep, per trace in trace order,
 * best first by the metric (hakdb_metric_higher_better), settings without
 * it last.  Returns the number of rows, or -1 (hakdb_error). */
int hakdb_sweep_ranking(hakdb *db, int64_t sweep, const char *metric,
                        void (*row)(const hakdb_rank_row *r, void *ctx), void *ctx);

#endif
