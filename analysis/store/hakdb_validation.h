/* hakdb_validation.h - the run-history store's side of `hak validate`
 * (schema: validations, validation_values, validation_rankings in
 * analysis/store/schema.sql).  The replays themselves are ordinary runs, stored
 * by `hak replay` under the validation's runs_label. */
#ifndef HAKDB_VALIDATION_H
#define HAKDB_VALIDATION_H

#include <stddef.h>
#include <stdint.h>

#include "hakdb.h"

typedef struct hakdb_vvalue {
    const char *alloc, *metric;
    double live, replay;          /* NaN = not measured */
    int live_n, replay_n;
    double live_min, live_max, replay_min, replay_max;   /* the runs' range; NaN = none */
} hakdb_vvalue;

typedef struct hakdb_vrank {
    const char *metric;
    double tau;                   /* NaN = undefined */
    int nallocs;
} hakdb_vrank;

typedef struct hakdb_validation {
    const char *label;            /* NULL = none */
    const char *runs_label, *command, *touch, *threads_mode;
    const char *pace;             /* of the heap and faults replays: "asap", "program:Dms" */
    int repeats;
    int recordings;               /* recordings made, each replayed `repeats` times */
    int64_t interval_ns;
    const hakdb_vvalue *values;
    size_t nvalues;
    const hakdb_vrank *ranks;
    size_t nranks;
} hakdb_validation;

/* One transaction: the validation row (its trace is that of the runs under
 * runs_label), its values (ratio computed here) and rankings.  The new id,
 * or -1 with hakdb_error(). */
int64_t hakdb_insert_validation(hakdb *db, const hakdb_validation *v);

/* A replay run stored under a runs_label, with its heap-only figures. */
typedef struct hakdb_vrun {
    const char *alloc_spec, *status, *error;
    int64_t wall_ns, minor_faults;        /* HAKDB_NULL = not measured */
    double heap_peak, heap_final;         /* NaN = not measured */
    const char *touch;                    /* the run's touch policy */
    const char *pace;                     /* the run's pace ("asap", "program:Dms", ...) */
} hakdb_vrun;

/* Calls fn for each run labelled runs_label, oldest first; stops when fn
 * returns non-zero.  Returns the number of runs, or -1 with hakdb_error(). */
int hakdb_validation_runs(hakdb *db, const char *runs_label,
                          int (*fn)(const hakdb_vrun *r, void *arg), void *arg);

#endif /* HAKDB_VALIDATION_H */
