/* site_timeline.c - see site_timeline.h. */
#include "site_timeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_max(const void *a, const void *b)
{
    const hak_sv_site *x = *(const hak_sv_site *const *)a, *y = *(const hak_sv_site *const *)b;
    if (x->max_bytes != y->max_bytes)
        return x->max_bytes < y->max_bytes ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

typedef struct sampler {
    hak_stl *tl;
    hak_siteview v;              /* the second pass */
    size_t next;                 /* index of the point to take */
} sampler;

static void take(sampler *s, uint64_t ns, uint64_t seq)
{
    hak_stl *tl = s->tl;
    uint64_t *row = &tl->val[s->next * (tl->ntop + 2)];
    uint64_t sum = 0;
    row[0] = s->v.live_bytes;
    for (size_t i = 0; i < tl->ntop; i++) {
        uint32_t k = hak_sv_find(&s->v, tl->ids[i]);
        row[1 + i] = k == UINT32_MAX ? 0 : s->v.sites[k].live_bytes;
        sum += row[1 + i];
    }
    row[tl->ntop + 1] = row[0] - sum;
    tl->at_ns[s->next] = ns;
    tl->at_seq[s->next] = seq;
    s->next++;
}

/* Ranks v1's sites and allocates tl's arrays: 0, -1 out of memory. */
static int rank(hak_stl *tl, const hak_siteview *v1, size_t top, size_t npoints)
{
    const hak_sv_site **r = malloc(((size_t)v1->nsites + 1) * sizeof *r);
    if (!r)
        return -1;
    size_t n = 0;
    for (uint32_t i = 0; i < v1->nsites; i++)
        if (v1->sites[i].max_bytes)
            r[n++] = &v1->sites[i];
    if (n)
        qsort(r, n, sizeof *r, by_max);
    tl->nranked = n;
    tl->ntop = top && top < n ? top : n;
    tl->npoints = npoints;
    tl->ids = calloc(tl->ntop + 1, sizeof *tl->ids);
    tl->max_bytes = calloc(tl->ntop + 1, sizeof *tl->max_bytes);
    tl->val = calloc(npoints * (tl->ntop + 2), sizeof *tl->val);
    tl->at_ns = calloc(npoints, sizeof *tl->at_ns);
    tl->at_seq = calloc(npoints, sizeof *tl->at_seq);
    for (size_t i = 0; tl->ids && tl->max_bytes && i < tl->ntop; i++) {
        tl->ids[i] = r[i]->id;
        tl->max_bytes[i] = r[i]->max_bytes;
    }
    free(r);
    return tl->ids && tl->max_bytes && tl->val && tl->at_ns && tl->at_seq ? 0 : -1;
}

int hak_stl_run(hak_stl *tl, const hak_siteview *v1, hak_trace_reader *r, size_t top,
                size_t npoints, int by_events, char *err, size_t errlen)
{
    memset(tl, 0, sizeof *tl);
    if (!npoints || npoints > HAK_STL_MAX_POINTS) {
        snprintf(err, errlen, "points: %zu is not in 1..%d", npoints, HAK_STL_MAX_POINTS);
        return -1;
    }
    sampler s = {.tl = tl};
    enum { BATCH = 4096 };
    hak_event *ev = malloc(BATCH * sizeof *ev);
    if (!ev || rank(tl, v1, top, npoints) || hak_sv_init(&s.v, NULL, NULL, 0)) {
        free(ev);
        hak_stl_free(tl);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* sample at each point; a batch is split where a point falls */
    uint64_t total_ev = v1->events, end_ns = v1->last_ns;
    hak_tr_rewind(r);
    long got = 0;
    uint64_t base = 0;            /* events before this batch */
    int rc = 0;
    while (!rc && (got = hak_tr_read(r, ev, BATCH)) > 0) {
        size_t k = 0;
        for (;;) {
            /* the last point is the end state, taken after the loop */
            size_t upto = (size_t)got;
            uint64_t pt_ns = 0;
            if (s.next < npoints - 1) {
                if (by_events) {
                    /* point p: after the first (p+1) * total / points events */
                    uint64_t pt = (uint64_t)((unsigned __int128)(s.next + 1) * total_ev / npoints);
                    if (pt < base + (uint64_t)got)
                        upto = pt > base + k ? (size_t)(pt - base) : k;
                } else {
                    /* point p: after every event with ts <= (p+1) * end / points */
                    pt_ns = (uint64_t)((unsigned __int128)(s.next + 1) * end_ns / npoints);
                    upto = k;
                    while (upto < (size_t)got && ev[upto].ts_ns <= pt_ns)
                        upto++;
                }
            }
            if (upto > k && hak_sv_apply(&s.v, ev + k, upto - k)) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            k = upto;
            if (k == (size_t)got)
                break;
            take(&s, by_events ? s.v.last_ns : pt_ns, s.v.last_seq);
        }
        base += (uint64_t)got;
    }
    free(ev);
    if (!rc && got < 0) {
        snprintf(err, errlen, "%s", hak_tr_error(r));
        rc = -1;
    }
    while (!rc && s.next < npoints)   /* points after the last event: the end state */
        take(&s, s.next == npoints - 1 ? end_ns :
                 (uint64_t)((unsigned __int128)(s.next + 1) * end_ns / npoints), v1->last_seq);
    hak_sv_destroy(&s.v);
    if (rc)
        hak_stl_free(tl);
    return rc;
}

void hak_stl_free(hak_stl *tl)
{
    free(tl->ids);
    free(tl->max_bytes);
    free(tl->val);
    free(tl->at_ns);
    free(tl->at_seq);
    memset(tl, 0, sizeof *tl);
}
