/* db_import.h - trace statistics for `hak db import-trace`: requested-size
 * and lifetime histograms and per-call-site totals, computed by streaming
 * a trace's events through the heap model (traces/heapmodel.h), stored in
 * trace_stats / trace_size_hist / trace_lifetime_hist / trace_sites /
 * trace_rss (analysis/schema.sql). */
#ifndef DB_IMPORT_H
#define DB_IMPORT_H

#include "hakdb.h"

#include <stdint.h>

typedef struct db_import_opts {
    uint64_t short_lived_ns;   /* objects freed sooner count as short-lived (default 1 ms) */
} db_import_opts;

typedef struct db_import_result {
    int64_t trace_id;
    uint64_t events, allocs, frees, bytes, sites;
    char truncated[256];       /* "" or why the reader stopped early */
} db_import_result;

/* Reads the trace at path and (re)places its statistics in db.  0, or -1
 * with a one-line reason (naming the file) in err. */
int db_import_trace(hakdb *db, const char *path, const db_import_opts *o,
                    db_import_result *res, char *err, size_t errlen);

#endif
