/* touch_auto.c - `hak replay --touch auto` (touch_auto.h). */
#include "touch_auto.h"

/* Messages are cut to their buffers on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Pages before first: on a tie the policy that writes more, the replay's
 * conservative side (a peak it overstates rather than misses).  Not none:
 * glibc writes a header into every block, so under glibc none looks like
 * first (mt_churn: 62.8 vs 63.2 MiB) and can win the calibration, but
 * allocators that keep their metadata apart then hold nothing (jemalloc
 * replayed mt_churn in 1.4 MiB; the program, writing 64 bytes of each
 * block, held 83.5). */
static const int cand[RP_TOUCH_AUTO_NCAND] = {HAK_TOUCH_PAGES, HAK_TOUCH_FIRST};

int rp_touch_auto_candidate(int i) { return cand[i]; }

int rp_touch_auto_pick(const double *peak, int n, double recorded_peak)
{
    int best = -1;
    double bd = INFINITY;
    for (int i = 0; i < n; i++) {
        if (isnan(peak[i]) || peak[i] <= 0 || recorded_peak <= 0)
            continue;
        /* absolute, not by ratio: the recorded samples carry the
         * recorder's own malloc'd memory (zstd contexts, libunwind
         * caches: 1-3 MiB), an offset that, by ratio, would make a
         * 0.3 MiB program look 10x bigger than a one-byte replay */
        double d = fabs(peak[i] - recorded_peak);
        if (d < bd - 1e-12) {
            bd = d;
            best = i;
        }
    }
    return best;
}

/* The next part to try: the fraction where the line through (f0, p0)
 * and (f1, p1) (f = part of each block touched, p = heap peak) reaches
 * target, kept inside [0.01, 0.99]. */
static double secant(double f0, double p0, double f1, double p1, double target)
{
    double f = p1 != p0 ? f0 + (target - p0) * (f1 - f0) / (p1 - p0) : (f0 + f1) / 2;
    return f < 0.01 ? 0.01 : f > 0.99 ? 0.99 : f;
}

/* What the calibration replays run and compare with. */
typedef struct calib {
    const rp_image *im;
    const rp_opts *o;
    rp_alloc glibc;
    const hak_rss_sample *rec;   /* the recording's heap samples */
    size_t nrec;
    const uint64_t *op_ts;       /* NULL: compare whole peaks */
    uint64_t nops;
} calib;

/* One calibration replay under glibc with touch (t, part): its heap peak
 * where the recording sampled, or NAN (first_err says why, once); vals
 * (NULL: not wanted), its heap at each recorded sample, is filled when
 * the peak is (else left as it is). */
static double glibc_run(const calib *k, int t, unsigned part, double *vals, char *first_err,
                        size_t errlen)
{
    rp_opts c = *k->o;
    c.touch = t;
    c.touch_part = part;
    c.min_time_ns = 0;            /* one pass: only the heap is wanted */
    rp_outcome oc;
    double peak = NAN;
    rp_run(k->im, &k->glibc, &c, &oc);
    const rp_wresult *r = oc.res;
    if (!strcmp(oc.status, "ok") && r && r->heap_offset >= 0 && r->peak_rss >= 0) {
        peak = (double)(r->peak_rss > r->heap_offset ? r->peak_rss - r->heap_offset : 0);
        double sp = k->op_ts ? rp_sampled_peak(k->rec, k->nrec, k->op_ts, k->nops, r->samples,
                                               r->nsamples, (double)r->heap_offset)
                             : NAN;
        if (!isnan(sp))
            peak = sp;
        if (vals && k->op_ts &&
            rp_sampled_values(k->rec, k->nrec, k->op_ts, k->nops, r->samples, r->nsamples,
                              (double)r->heap_offset, vals) != 0)
            vals[0] = NAN;
    } else if (!first_err[0]) {
        snprintf(first_err, errlen, "%s: %s", oc.status, oc.error);
    }
    rp_outcome_free(&oc);
    return peak;
}

static double glibc_peak(const calib *k, int t, unsigned part, char *first_err, size_t errlen)
{
    return glibc_run(k, t, part, NULL, first_err, errlen);
}

/* The recorded peak lies between the first-byte and the page-touching
 * replays': fits the part (interpolation, then one secant step) and keeps
 * it when it comes closer than both.  pf, pp: the two peaks. */
static void fit_part(const calib *k, double pf, double pp, double rec, rp_touch_auto *out)
{
    /* Below 1% apart the choice changes nothing worth two more runs. */
    if (!(pf < rec && rec < pp) || pp - pf < 0.01 * rec)
        return;
    double best_d = fmin(fabs(pf - rec), fabs(pp - rec));
    double lo_f = 0, lo_p = pf, hi_f = 1, hi_p = pp;
    char e[8] = "";
    for (int step = 0; step < 2; step++) {
        unsigned part = hak_touch_part_of(secant(lo_f, lo_p, hi_f, hi_p, rec));
        double f = (double)part / HAK_TOUCH_PART_ONE;
        double p = glibc_peak(k, HAK_TOUCH_PAGES, part, e, sizeof e);
        if (isnan(p))
            return;
        if (fabs(p - rec) < best_d) {
            best_d = fabs(p - rec);
            out->chosen = HAK_TOUCH_PAGES;
            out->part = part;
            out->part_peak = p;
        }
        if (fabs(p - rec) <= 0.01 * rec)
            return;
        if (p < rec) {
            lo_f = f;
            lo_p = p;
        } else {
            hi_f = f;
            hi_p = p;
        }
    }
}

/* The timeline fit (touch_auto.h): 0 with out set, -1 when it cannot be
 * made (no per-sample figures, or no sample that the part moves). */
static int fit_timeline(const calib *k, const double *vf, const double *vp, rp_touch_auto *out)
{
    if (isnan(vf[0]) || isnan(vp[0]))
        return -1;
    double f = rp_timeline_part(vf, vp, k->rec, k->nrec);
    if (isnan(f))
        return -1;
    out->timeline_part = f;
    unsigned part = hak_touch_part_of(f);
    if (f < 0.5 / 100) {
        out->chosen = HAK_TOUCH_FIRST;
    } else {
        out->chosen = HAK_TOUCH_PAGES;
        out->part = part;
        if (part != HAK_TOUCH_WHOLE) {
            char e[8] = "";
            out->part_peak = glibc_peak(k, HAK_TOUCH_PAGES, part, e, sizeof e);
        }
    }
    return 0;
}

int rp_touch_auto_run(const rp_image *im, const rp_opts *o, const hak_rss_sample *samples,
                      size_t nsamples, const uint64_t *op_ts, uint64_t nops,
                      rp_touch_auto *out, char *err, size_t errlen)
{
    out->part = HAK_TOUCH_WHOLE;
    out->part_peak = out->timeline_part = NAN;
    double rec = (double)hak_rss_peak(samples, nsamples);
    out->recorded_peak = rec;
    if (nsamples < 2 || rec <= 0) {
        snprintf(err, errlen, "--touch auto needs the recording's heap samples, and this trace "
                 "has %s (recorded before they existed, or imported): use --touch first or pages",
                 nsamples ? "only one" : "none");
        return -1;
    }
    calib k = {.im = im, .o = o, .rec = samples, .nrec = nsamples, .op_ts = op_ts, .nops = nops};
    if (rp_alloc_resolve("glibc", &k.glibc, 0) != 0 || k.glibc.error[0]) {
        snprintf(err, errlen, "--touch auto: glibc: %s", k.glibc.error);
        return -1;
    }
    char first_err[512] = "";
    double *vals = op_ts ? malloc(2 * nsamples * sizeof *vals) : NULL;
    if (vals)
        vals[0] = vals[nsamples] = NAN;
    for (int i = 0; i < RP_TOUCH_AUTO_NCAND; i++)
        out->peak[i] = glibc_run(&k, cand[i], HAK_TOUCH_WHOLE, vals ? vals + i * nsamples : NULL,
                                 first_err, sizeof first_err);
    /* cand: [0] pages, [1] first */
    int tl = vals ? fit_timeline(&k, vals + nsamples, vals, out) : -1;
    free(vals);
    if (tl == 0)
        return 0;
    int b = rp_touch_auto_pick(out->peak, RP_TOUCH_AUTO_NCAND, rec);
    if (b < 0) {
        snprintf(err, errlen, "--touch auto: no calibration replay under glibc gave a heap peak (%s)",
                 first_err);
        return -1;
    }
    out->chosen = cand[b];
    /* cand: [0] pages, [1] first */
    if (!isnan(out->peak[0]) && !isnan(out->peak[1]))
        fit_part(&k, out->peak[1], out->peak[0], rec, out);
    return 0;
}
