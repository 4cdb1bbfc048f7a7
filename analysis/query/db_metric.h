/* db_metric.h - the vocabulary the run-history questions share (analysis/
 * query): which runs column or run_metrics name a metric is, its unit,
 * whether any run has it, and the SQL pieces that name a trace, a build
 * and a run's mode the same way in every command and in hak sweep. */
#ifndef DB_METRIC_H
#define DB_METRIC_H

#include "hakdb.h"

#include <stddef.h>

int db_metric_is_column(const char *m);
/* The metric's unit from metric_info/run_metrics, or "" (static/db string copied). */
void db_metric_unit(hakdb *db, const char *m, char *buf, size_t len);
/* 1 when some run has a non-NULL value of m; fills err with the known names otherwise. */
int db_metric_exists(hakdb *db, const char *m, char *err, size_t errlen);
/* Human formatting by unit ("ops/s", "ns", "bytes", "count", "ratio"). */
const char *db_fmt_value(double v, const char *unit, char *buf, size_t len);

/* SQL expression naming trace t for people: its program's base name, or its file name
 * when the program is generic (synthetic traces say "hak trace synth").
 * For use inside a printf format (hence %%). */
#define DB_TRACE_NAME \
    "coalesce(CASE WHEN t.program IS NULL OR t.program LIKE 'hak %%' OR t.program = 'unknown'" \
    " THEN replace(t.path, rtrim(t.path, replace(t.path, '/', '')), '')" \
    " ELSE replace(t.program, rtrim(t.program, replace(t.program, '/', '')), '') END, t.hash)"

/* SQL condition matching a --trace argument against traces t exactly
 * (hash, display name, program or path or their base names: the
 * trace_keys view), or a hash prefix of >= 4 digits; a glob pattern only
 * when the text has * ? or [.  The text is bound as ?param. */
const char *db_trace_cond(int param, char *buf, size_t len);
/* SQL condition matching a build name against builds b / runs r: the
 * stored name (hakmem@652251e2ee40) or the name given (hakmem@HEAD~50). */
const char *db_build_cond(int param, char *buf, size_t len);

/* The setting's mode for runs r, as SQL text: 'threads=serial|recorded'
 * (when stored), then ' touch=X' unless pages, ' pace=recorded', ' sim' for
 * simulated runs (the same expression as run_summary.mode).  A setting is allocator
 * + knobs + mode; nothing merges runs whose settings differ. */
#define DB_MODE_EXPR \
    "ltrim(coalesce(' threads=' || r.threads_mode, '')" \
    " || CASE WHEN r.touch IS NOT NULL AND r.touch <> 'pages' THEN ' touch=' || r.touch ELSE '' END" \
    " || CASE WHEN r.pace = 'recorded' THEN ' pace=recorded' ELSE '' END" \
    " || CASE WHEN r.kind = 'simulated' THEN ' sim' ELSE '' END)"

#endif
