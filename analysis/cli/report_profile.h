/* report_profile.h - the memory-profiler part of `hak report` for a trace
 * whose views were imported (hak db import-trace: trace_view_stats,
 * trace_site_views, trace_flame; analysis/store/schema.sql): leaks, peak
 * consumers and temporaries by call site, and in HTML an interactive flame
 * graph (inline SVG; a click on a frame zooms to it, a click on 'all'
 * zooms out; one small inline script, no network access).  Nothing is
 * written for a trace without them. */
#ifndef REPORT_PROFILE_H
#define REPORT_PROFILE_H

#include <stdint.h>
#include <stdio.h>

#include "hakdb.h"

#define RPP_TOP 8            /* call sites listed per question */
#define RPP_MIN_FRACTION 0.0005   /* flame frames narrower than this share are left out */

void rpt_profile_text(hakdb *db, int64_t trace_id, FILE *out);
void rpt_profile_html(hakdb *db, int64_t trace_id, FILE *out);

#endif
