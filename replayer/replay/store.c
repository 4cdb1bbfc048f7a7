/* store.c - a run's outcome as a hakdb_run row (see replay.h).  Figures of
 * a failed run stay NULL; counters the machine lacks become NULL metrics
 * with their reason, never 0. */
#include "replay.h"

/* Messages are cut to their buffers on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int64_t lat_ns(const rp_wresult *r, double q)
{
    if (r->lat_nsamples == 0)
        return HAKDB_NULL;
    return (int64_t)((double)rp_lat_quantile(r->lat, q) * r->ns_per_tick + 0.5);
}

static hakdb_metric *add(rp_rowbuf *b, size_t *n, const char *name, double v, int is_null,
                         const char *unit, const char *source, const char *reason)
{
    hakdb_metric *m = &b->metrics[*n];
    snprintf(b->names[*n], sizeof b->names[*n], "%s", name);
    m->name = b->names[*n];
    m->value = is_null ? 0 : v;
    m->is_null = is_null;
    m->unit = unit;
    m->source = source;
    m->reason = reason && *reason ? reason : NULL;
    (*n)++;
    return m;
}

void rp_outcome_to_run(const rp_outcome *oc, double fidelity, hakdb_run *run, rp_rowbuf *b)
{
    run->status = oc->status;
    run->error = strcmp(oc->status, "ok") ? oc->error : NULL;
    run->metrics = b->metrics;
    run->nmetrics = 0;
    run->timeline = b->timeline;
    run->ntimeline = 0;
    const rp_wresult *r = oc->res;
    if (!r || strcmp(oc->status, "ok"))
        return;
    run->config = r->alloc_config[0] ? r->alloc_config : NULL;
    run->wall_ns = (int64_t)r->wall_ns;
    run->user_ns = (int64_t)r->user_ns;
    run->sys_ns = (int64_t)r->sys_ns;
    run->ops = (int64_t)r->ops;
    run->ops_per_s = r->wall_ns ? (double)r->ops * 1e9 / (double)r->wall_ns : NAN;
    run->minor_faults = (int64_t)r->minflt;
    run->major_faults = (int64_t)r->majflt;
    run->vol_ctxsw = (int64_t)r->nvcsw;
    run->invol_ctxsw = (int64_t)r->nivcsw;
    run->peak_rss_bytes = r->peak_rss >= 0 ? r->peak_rss : HAKDB_NULL;
    run->final_rss_bytes = r->final_rss >= 0 ? r->final_rss : HAKDB_NULL;
    run->lat_p50_ns = lat_ns(r, 0.50);
    run->lat_p99_ns = lat_ns(r, 0.99);
    run->lat_p999_ns = lat_ns(r, 0.999);
    if (r->has_digest) {
        snprintf(b->digest, sizeof b->digest, "%016llx", (unsigned long long)r->digest);
        run->addr_digest = b->digest;
    }
    run->fidelity = fidelity;

    size_t n = 0;
    for (int i = 0; i < RP_NCOUNTERS; i++) {
        const rp_counter *c = &r->counters.c[i];
        add(b, &n, c->name, (double)c->value, !c->ok, "count", c->source,
            c->ok ? NULL : c->reason);
    }
    for (uint32_t i = 0; i < r->nastats && i < RP_MAX_ASTATS; i++)
        add(b, &n, r->astats[i].name, r->astats[i].value, 0,
            r->astats[i].unit[0] ? r->astats[i].unit : "count", "alloc", NULL);
    add(b, &n, "harness.shared_rss", (double)r->harness_rss, 0, "bytes", "derived", NULL);
    if (r->vmhwm_raw >= 0)
        add(b, &n, "harness.vmhwm_raw", (double)r->vmhwm_raw, 0, "bytes", "derived", NULL);
    add(b, &n, "latency.samples", (double)r->lat_nsamples, 0, "count", "derived", NULL);
    add(b, &n, "replay.passes", (double)(r->passes ? r->passes : 1), 0, "count", "derived", NULL);
    if (r->recorded) {      /* a serial replay has no thread to wait for */
        add(b, &n, "replay.waits", (double)r->waits, 0, "count", "derived", NULL);
        add(b, &n, "replay.sleeps", (double)r->sleeps, 0, "count", "derived", NULL);
    }
    if (r->heap_offset >= 0) {      /* heap-only figures (result.h), NULL with the reason otherwise */
        add(b, &n, "heap.start_rss_bytes", (double)r->heap_start, 0, "bytes", "derived", NULL);
        add(b, &n, "heap.final_rss_bytes", (double)r->heap_final, 0, "bytes", "derived", NULL);
        add(b, &n, "heap.peak_rss_bytes",
            r->peak_rss >= 0 ? (double)(r->peak_rss > r->heap_offset ? r->peak_rss - r->heap_offset : 0) : 0,
            r->peak_rss < 0, "bytes", "derived", r->peak_rss < 0 ? r->peak_note : NULL);
        add(b, &n, "heap.non_heap_anon_bytes", (double)r->heap_offset, 0, "bytes", "derived", NULL);
    } else {
        add(b, &n, "heap.peak_rss_bytes", 0, 1, "bytes", "derived", "/proc/self/smaps unreadable in the worker");
    }
    if (strstr(r->peak_note, "clear_refs:"))
        add(b, &n, "peak_rss.window", 0, 1, "bytes", "derived", r->peak_note);
    run->nmetrics = n;

    size_t ns = r->nsamples < RP_MAX_SAMPLES ? r->nsamples : RP_MAX_SAMPLES;
    for (size_t i = 0; i < ns; i++) {
        b->timeline[i].t_ns = r->samples[i].t_ns;
        b->timeline[i].rss_bytes = r->samples[i].rss_bytes;
        b->timeline[i].live_bytes = r->samples[i].live_bytes;
    }
    run->ntimeline = ns;
}
