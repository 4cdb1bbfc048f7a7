/* fidelity.c - how closely a replay's RSS timeline follows the recorded
 * one (definition in replay.h), and recovering per-op timestamps, which the
 * replay form does not carry, from the trace's events. */
#include "replay.h"

/* Messages are cut to their buffers on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t *rp_op_timestamps(hak_trace_reader *r, const hak_replay *rp,
                           char *err, size_t errlen)
{
    uint64_t *ts = malloc((rp->nops ? rp->nops : 1) * sizeof *ts);
    if (!ts) {
        snprintf(err, errlen, "out of memory for %llu timestamps", (unsigned long long)rp->nops);
        return NULL;
    }
    hak_tr_rewind(r);
    hak_event ev;
    uint64_t i = 0, last = 0;
    int rc;
    /* Ops are the events in global order minus the dropped ones; an event
     * that does not match the next op (thread and operation) was dropped. */
    while (i < rp->nops && (rc = hak_tr_next(r, &ev)) == 1) {
        last = ev.ts_ns;
        const hak_rop *o = &rp->ops[i];
        /* realloc(NULL, n) became malloc and realloc(p, 0) free in the form */
        int same = ev.op == o->op ||
            ((ev.op == HAK_OP_REALLOC || ev.op == HAK_OP_REALLOCARRAY) &&
             (o->op == HAK_OP_MALLOC || o->op == HAK_OP_FREE));
        if (ev.tid == o->tid && same)
            ts[i++] = ev.ts_ns;
    }
    for (; i < rp->nops; i++)          /* unmatched tail: hold the last time */
        ts[i] = last;
    for (i = 1; i < rp->nops; i++)     /* per-thread clocks: keep it monotonic */
        if (ts[i] < ts[i - 1])
            ts[i] = ts[i - 1];
    hak_tr_rewind(r);
    return ts;
}

/* Replay growth at op-progress fraction f, interpolated between samples. */
static double replay_at(const rp_tsample *rep, size_t nrep, uint64_t nops, double f, double base)
{
    double x = f * (double)nops;
    if (x <= (double)rep[0].op)
        return (double)rep[0].rss_bytes - base;
    for (size_t j = 1; j < nrep; j++) {
        if (x <= (double)rep[j].op) {
            double x0 = (double)rep[j - 1].op, x1 = (double)rep[j].op;
            double y0 = (double)rep[j - 1].rss_bytes, y1 = (double)rep[j].rss_bytes;
            double y = x1 > x0 ? y0 + (y1 - y0) * (x - x0) / (x1 - x0) : y1;
            return y - base;
        }
    }
    return (double)rep[nrep - 1].rss_bytes - base;
}

/* The fraction of ops that had run by time ts. */
static double progress_at(const uint64_t *op_ts, uint64_t nops, uint64_t ts)
{
    uint64_t lo = 0, hi = nops;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (op_ts[mid] <= ts) lo = mid + 1; else hi = mid;
    }
    return (double)lo / (double)nops;
}

static int by_value_desc(const void *a, const void *b)
{
    const hak_rss_sample *x = a, *y = b;
    return x->rss_bytes < y->rss_bytes ? 1 : x->rss_bytes > y->rss_bytes ? -1 : 0;
}

static int by_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

size_t rp_sample_positions(const hak_rss_sample *rec, size_t nrec, const uint64_t *op_ts,
                           uint64_t nops, uint64_t *out, size_t max)
{
    if (!rec || !op_ts || !nops || !max)
        return 0;
    hak_rss_sample *top = malloc(nrec * sizeof *top);
    if (!top)
        return 0;
    memcpy(top, rec, nrec * sizeof *top);
    qsort(top, nrec, sizeof *top, by_value_desc);
    size_t n = nrec < max ? nrec : max, k = 0;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint64_t)(progress_at(op_ts, nops, top[i].ts_ns) * (double)nops + 0.5);
    free(top);
    qsort(out, n, sizeof *out, by_u64);
    for (size_t i = 0; i < n; i++)
        if (!k || out[i] != out[k - 1])
            out[k++] = out[i];
    return k;
}

int rp_sampled_values(const hak_rss_sample *rec, size_t nrec, const uint64_t *op_ts,
                      uint64_t nops, const rp_tsample *rep, size_t nrep, double offset,
                      double *out)
{
    if (nrec < 2 || nrep < 2 || !op_ts || nops == 0)
        return -1;
    for (size_t k = 0; k < nrec; k++)
        out[k] = replay_at(rep, nrep, nops, progress_at(op_ts, nops, rec[k].ts_ns), offset);
    return 0;
}

double rp_sampled_peak(const hak_rss_sample *rec, size_t nrec,
                       const uint64_t *op_ts, uint64_t nops,
                       const rp_tsample *rep, size_t nrep, double offset)
{
    if (nrec < 2 || nrep < 2 || !op_ts || nops == 0)
        return NAN;
    double peak = 0;
    for (size_t k = 0; k < nrec; k++) {
        double v = replay_at(rep, nrep, nops, progress_at(op_ts, nops, rec[k].ts_ns), offset);
        if (v > peak)
            peak = v;
    }
    return peak;
}

double rp_fidelity(const hak_rss_sample *rec, size_t nrec,
                   const uint64_t *op_ts, uint64_t nops,
                   const rp_tsample *rep, size_t nrep)
{
    if (nrec < 2 || nrep < 2 || !op_ts || nops == 0)
        return NAN;
    double rbase = (double)rec[0].rss_bytes, pbase = (double)rep[0].rss_bytes;
    double peak = 4096, sum = 0;
    for (size_t k = 0; k < nrec; k++) {
        double g = (double)rec[k].rss_bytes - rbase;
        if (g > peak) peak = g;
    }
    for (size_t j = 0; j < nrep; j++) {
        double g = (double)rep[j].rss_bytes - pbase;
        if (g > peak) peak = g;
    }
    for (size_t k = 0; k < nrec; k++) {
        /* fraction of ops that had run by this recorded sample */
        double f = progress_at(op_ts, nops, rec[k].ts_ns);
        double want = (double)rec[k].rss_bytes - rbase;
        sum += fabs(replay_at(rep, nrep, nops, f, pbase) - want);
    }
    double fid = 1.0 - sum / (double)nrec / peak;
    return fid < 0 ? 0 : fid > 1 ? 1 : fid;
}

typedef struct brk { double f, w; } brk;

static int by_f(const void *a, const void *b)
{
    double x = ((const brk *)a)->f, y = ((const brk *)b)->f;
    return x < y ? -1 : x > y;
}

double rp_timeline_part(const double *first, const double *pages, const hak_rss_sample *rec,
                        size_t n)
{
    brk *b = malloc((n ? n : 1) * sizeof *b);
    if (!b)
        return NAN;
    size_t m = 0;
    double total = 0, top = 0;
    for (size_t i = 0; i < n; i++)
        if ((double)rec[i].rss_bytes > top)
            top = (double)rec[i].rss_bytes;
    for (size_t i = 0; i < n; i++) {
        double d = pages[i] - first[i];
        if (isnan(d) || d < 4096)         /* a page or less: the part does not move it */
            continue;
        /* the part is fitted to predict the peak: where the heap is under
         * half of it, other blocks are live, written otherwise (git writes
         * more of what it allocates late: fitted over its whole ramp,
         * pages:0.26 and peaks 0.59-0.80 of live; over its upper half,
         * pages:0.48 and 0.78-0.94) */
        if ((double)rec[i].rss_bytes < top / 2)
            continue;
        /* the time the sample stands for (half-way to each neighbour): the
         * recorder adds samples while the heap grows (rec_heap.c), which
         * must not outvote the time it spends at each size */
        uint64_t t0 = i ? rec[i - 1].ts_ns : rec[i].ts_ns;
        uint64_t t1 = i + 1 < n ? rec[i + 1].ts_ns : rec[i].ts_ns;
        double dt = t1 > t0 ? (double)(t1 - t0) / 2 : 1;
        double f = ((double)rec[i].rss_bytes - first[i]) / d;
        b[m++] = (brk){f < 0 ? 0 : f > 1 ? 1 : f, d * dt};
        total += d * dt;
    }
    double part = NAN;
    if (m) {
        qsort(b, m, sizeof *b, by_f);
        double acc = 0;
        for (size_t i = 0; i < m && isnan(part); i++)
            if ((acc += b[i].w) >= total / 2)
                part = b[i].f;
    }
    free(b);
    return part;
}
