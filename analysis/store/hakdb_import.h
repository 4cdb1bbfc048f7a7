/* hakdb_import.h - trace statistics for `hak db import-trace`: requested-size
 * and lifetime histograms and per-call-site totals, computed by streaming
 * a trace's events through the heap model (traces/lib/heapmodel.h), stored in
 * trace_stats / trace_size_hist / trace_lifetime_hist / trace_sites /
 * trace_rss (analysis/store/schema.sql). */
#ifndef HAKDB_IMPORT_H
#define HAKDB_IMPORT_H

#include "hakdb.h"
#include "trace.h"

#include <stdint.h>

typedef struct hakdb_import_opts {
    uint64_t short_lived_ns;   /* objects freed sooner count as short-lived (default 1 ms) */
} hakdb_import_opts;

typedef struct hakdb_import_result {
    int64_t trace_id;
    uint64_t events, allocs, frees, bytes, sites;
    char truncated[256];       /* "" or why the reader stopped early */
} hakdb_import_result;

/* Reads the trace at path and (re)places its statistics in db.  0, or -1
 * with a one-line reason (naming the file) in err. */
int hakdb_import_trace(hakdb *db, const char *path, const hakdb_import_opts *o,
                    hakdb_import_result *res, char *err, size_t errlen);

/* The program a trace recorded, as traces.program stores it, whichever
 * command meets the trace first (import, replay, sim): the basename of the
 * recorded argv[0]; else the recorder's name (synthetic traces); else the
 * basename of the trace's path.  Points into m or path. */
const char *hakdb_trace_program(const hak_trace_meta *m, const char *path);
/* The trace's header as traces.meta_json stores it, whichever command
 * meets the trace first: {"version", "pid", "ppid", "start_wall_ns",
 * "page_size", "argv": [...], "hostname", "kernel", "thp_mode",
 * "cpu_model", "recorder", "options"} (strings escaped, absent ones null);
 * "{}" when it does not fit in len.  Returns buf. */
const char *hakdb_trace_meta_json(const hak_trace_meta *m, char *buf, size_t len);

#endif
