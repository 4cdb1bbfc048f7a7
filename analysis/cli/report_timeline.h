/* report_timeline.h - memory over time per call site in `hak report`: a
 * stacked area chart (inline SVG, no script) of the live bytes of a
 * trace's top call sites and the rest, from trace_site_timeline (hak db
 * import-trace; traces/lib/site_timeline.h), with a legend naming each
 * site; in text, one line per top site.  Nothing for a trace without it. */
#ifndef REPORT_TIMELINE_H
#define REPORT_TIMELINE_H

#include <stdint.h>
#include <stdio.h>

#include "hakdb.h"

#define RPT_MAX_SERIES 16    /* top sites drawn (the import keeps 8) */

void rp_timeline_text(hakdb *db, int64_t trace_id, FILE *out);
void rp_timeline_html(hakdb *db, int64_t trace_id, FILE *out);

#endif
