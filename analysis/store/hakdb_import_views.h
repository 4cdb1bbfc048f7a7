/* hakdb_import_views.h - the memory-profiler views of a trace (leaks, peak
 * consumers, temporaries, flame graph stacks; traces/lib/siteview.h) and
 * its memory over time per call site (traces/lib/site_timeline.h) for
 * `hak db import-trace`, stored in trace_view_stats, trace_site_views,
 * trace_flame (analysis/store/schema.sql, migration 009) and
 * trace_site_timeline (011).  Two extra streaming passes over the trace
 * (the timeline's needs the first's ranking): memory bounded by its live
 * blocks and call sites. */
#ifndef HAKDB_IMPORT_VIEWS_H
#define HAKDB_IMPORT_VIEWS_H

#include "hakdb.h"
#include "symbolize.h"
#include "trace.h"

#include <stddef.h>
#include <stdint.h>

/* Short-lived in these tables: freed within this many events (as the
 * default of `hak trace temporaries --max-events`). */
#define DBV_SHORT_EVENTS 1000
/* Frames kept per folded stack in trace_flame (innermost). */
#define DBV_FLAME_DEPTH 128
/* trace_site_timeline: points in time and top call sites kept. */
#define DBV_TIMELINE_POINTS 100
#define DBV_TIMELINE_TOP 8

typedef struct dbv_views dbv_views;

/* Runs the views' pass over r from its first event (rewinding it before
 * and after).  NULL with a one-line reason in err. */
dbv_views *dbv_compute(hak_trace_reader *r, char *err, size_t errlen);
/* Replaces trace_id's rows in the four tables (stack frames named from
 * r's modules); call inside the import's transaction.  0, or an SQLite
 * error code (hakdb_error says why). */
int dbv_store(hakdb *db, int64_t trace_id, const dbv_views *v, hak_trace_reader *r);
void dbv_free(dbv_views *v);

#endif
