/* site_timeline.h - memory over time per call site: the live requested
 * bytes of the heap and of the top call sites at evenly spaced points of a
 * trace, the data of a stacked area chart (`hak trace timeline`, and `hak
 * db import-trace` for the report's chart).
 *
 * The top sites are those with the largest live bytes at any moment of
 * their own (hak_sv_site.max_bytes), known only after a whole pass: so
 * this is a second streaming pass, after a siteview pass (siteview.h) over
 * the same trace has ranked the sites and found its length.  Memory grows
 * with the live blocks, the call sites and points x top, never with the
 * number of events.
 *
 * A point at time T is the state after every event with ts_ns <= T (by
 * events: after the first K events); point p of N lies at (p+1)/N of the
 * trace's time (or events), so the last point is the end of the trace.
 * Each point holds the heap's live bytes, each top site's, and 'other' =
 * heap minus the top sites (so the columns add up to the heap). */
#ifndef HAK_SITE_TIMELINE_H
#define HAK_SITE_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "siteview.h"
#include "trace.h"

#define HAK_STL_MAX_POINTS 100000

typedef struct hak_stl {
    size_t ntop, npoints;
    size_t nranked;              /* sites with any live bytes (ntop of them kept) */
    uint32_t *ids;               /* [ntop] the top sites, largest maximum first */
    uint64_t *max_bytes;         /* [ntop] their own maxima */
    uint64_t *val;               /* [npoints][ntop + 2]: heap, sites..., other */
    uint64_t *at_ns, *at_seq;    /* [npoints] time and last event seq of each point */
} hak_stl;

/* The second pass over r (rewound first), after v1's complete pass over
 * the same events; top 0 = every site with live bytes; npoints in
 * 1..HAK_STL_MAX_POINTS; by_events: points evenly spaced in events rather
 * than time.  0; -1 with a reason in err (decoding error, out of memory). */
int hak_stl_run(hak_stl *tl, const hak_siteview *v1, hak_trace_reader *r, size_t top,
                size_t npoints, int by_events, char *err, size_t errlen);
/* The value of column col (0 heap, 1..ntop the sites, ntop + 1 other) at
 * point p. */
static inline uint64_t hak_stl_at(const hak_stl *tl, size_t p, size_t col)
{
    return tl->val[p * (tl->ntop + 2) + col];
}
void hak_stl_free(hak_stl *tl);

#endif
