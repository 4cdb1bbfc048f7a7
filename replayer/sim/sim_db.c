/* sim_db.c - see sim_db.h. */
#include "sim_db.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hak_util.h"

void sim_db_config_text(const sim_run_opts *o, const sim_result *res, char *buf, size_t len)
{
    char tlb[160];
    const char *thp = res ? res->thp_method : "", *load = res ? res->load : "";
    sim_tlb_format(&o->geom, tlb, sizeof tlb);
    snprintf(buf, len, "sim pages=%s access=%s touch=%s tlb=%s%s%s%s%s",
             sim_page_mode_name(o->pages), sim_access_name(o->access),
             hak_touch_name(o->touch), tlb, *thp ? " thp=" : "", thp,
             *load ? " load=" : "", load);
}

typedef struct metric_list {
    hakdb_metric m[48];
    size_t n;
} metric_list;

static void put(metric_list *l, const char *name, double v, const char *unit, const char *src)
{
    l->m[l->n++] = (hakdb_metric){name, v, 0, unit, src, NULL};
}

static void put_null(metric_list *l, const char *name, const char *unit, const char *reason)
{
    l->m[l->n++] = (hakdb_metric){name, 0, 1, unit, "sim", reason};
}

int64_t sim_db_store(hakdb *db, const sim_db_run *r, char *err, size_t errlen)
{
    char thash[17] = "";
    if (hak_hash_file(r->trace_path, thash) != 0) {
        snprintf(err, errlen, "%s: cannot hash the trace", r->trace_path);
        return -1;
    }
    hakdb_trace t = {thash, r->trace_path, r->program, r->events, r->threads,
                     HAKDB_NULL, HAKDB_NULL, r->meta_json, r->completeness};
    int64_t tid = hakdb_upsert_trace(db, &t);

    char bhash[64];
    hakdb_build_hash(r->alloc_path, bhash);
    hakdb_build b = {r->alloc_name, r->alloc_path && *r->alloc_path ? r->alloc_path : NULL,
                     bhash, NULL};
    int64_t bid = hakdb_upsert_build(db, &b);
    int64_t mid = hakdb_upsert_machine(db);
    if (tid < 0 || bid < 0 || mid < 0) {
        snprintf(err, errlen, "%s", hakdb_error(db));
        return -1;
    }

    const sim_result *s = r->res;
    char config[512], digest[32];
    sim_db_config_text(r->opts, s, config, sizeof config);

    hakdb_run run;
    hakdb_run_init(&run);
    run.trace_id = tid;
    run.build_id = bid;
    run.machine_id = mid;
    run.sweep_id = r->sweep_id;
    run.kind = "simulated";
    run.alloc_spec = r->alloc_spec;
    run.label = r->label;
    run.env = r->env ? r->env : "";
    run.config = config;
    run.threads_mode = "serial";
    run.touch = r->opts->access == SIM_ACCESS_FULL ? "all" : hak_touch_name(r->opts->touch);
    run.pace = "asap";
    run.repeat_idx = 0;
    run.status = r->status;
    run.error = r->error;
    run.start_wall_ns = r->start_wall_ns;

    metric_list ml = {.n = 0};
    hakdb_sample *tl = NULL;
    hakdb_sample tlbuf[SIM_MAX_SAMPLES];
    if (s && s->ok) {
        run.ops = (int64_t)s->ops;
        snprintf(digest, sizeof digest, "%016llx", (unsigned long long)s->addr_digest);
        run.addr_digest = digest;
        const sim_stats *st = &s->st;
        put(&ml, "sim.page_faults", (double)st->faults, "count", "sim");
        put(&ml, "sim.faults_4k", (double)st->faults_4k, "count", "sim");
        put(&ml, "sim.faults_2m", (double)st->faults_2m, "count", "sim");
        put(&ml, "sim.l1_dtlb_misses", (double)st->l1_misses, "count", "sim");
        put(&ml, "sim.stlb_misses", (double)st->stlb_misses, "count", "sim");
        put(&ml, "sim.page_walks", (double)st->stlb_misses, "count", "sim");
        put(&ml, "sim.dtlb_misses", (double)st->stlb_misses, "count", "sim");
        put(&ml, "sim.accesses", (double)st->accesses, "count", "sim");
        put(&ml, "sim.pages_spanned", (double)s->peak_pages, "count", "sim");
        put(&ml, "sim.superslabs_spanned", (double)s->peak_regions, "count", "sim");
        put(&ml, "sim.occupancy", s->occ_at_peak, "ratio", "sim");
        put(&ml, "sim.occupancy_mean", s->occ_mean, "ratio", "sim");
        put(&ml, "sim.peak_live_bytes", (double)s->peak_live_bytes, "bytes", "sim");
        /* Memory the workload made resident (first touches x page size)
         * and how much of it the peak live data fills. */
        double touched = (double)st->faults_4k * 4096.0 + (double)st->faults_2m * 2097152.0;
        put(&ml, "sim.touched_bytes", touched, "bytes", "sim");
        if (touched > 0)
            put(&ml, "sim.occupancy_touched", (double)s->peak_live_bytes / touched, "ratio", "derived");
        else
            put_null(&ml, "sim.occupancy_touched", "ratio", "no page touched (touch none)");
        put(&ml, "sim.pages_ever_spanned", (double)s->pages_ever, "count", "sim");
        put(&ml, "sim.final_pages_spanned", (double)s->final_pages, "count", "sim");
        put(&ml, "sim.allocs", (double)s->allocs, "count", "sim");
        put(&ml, "sim.failed_allocs", (double)s->failed_allocs, "count", "sim");
        put(&ml, "sim.skipped_ops", (double)s->skipped_ops, "count", "sim");
        if (st->accesses) {
            put(&ml, "sim.l1_dtlb_miss_rate", (double)st->l1_misses / (double)st->accesses, "ratio", "derived");
            put(&ml, "sim.page_walk_rate", (double)st->stlb_misses / (double)st->accesses, "ratio", "derived");
        } else {
            put_null(&ml, "sim.l1_dtlb_miss_rate", "ratio", "no accesses (touch none)");
            put_null(&ml, "sim.page_walk_rate", "ratio", "no accesses (touch none)");
        }
        if (r->opts->pages == SIM_PAGES_THP) {
            put(&ml, "sim.huge_regions", (double)st->huge_regions, "count", "sim");
            put(&ml, "sim.small_regions", (double)st->small_regions, "count", "sim");
        } else {
            put_null(&ml, "sim.huge_regions", "count", "page mode is not thp");
        }
        put(&ml, "sim.measured_minor_faults", (double)(s->window_minflt - s->own_minflt), "count", "sw");
        put(&ml, "sim.model_minor_faults", (double)s->own_minflt, "count", "sw");
        put(&ml, "sim.wall_ns", (double)s->wall_ns, "ns", "sim");
        if (s->wall_ns)
            put(&ml, "sim.accesses_per_s", (double)st->accesses * 1e9 / (double)s->wall_ns, "1/s", "sim");
        for (uint32_t i = 0; i < s->nsamples; i++)
            tlbuf[i] = (hakdb_sample){(int64_t)s->samples[i].t_ns,
                                      (int64_t)(s->samples[i].pages_spanned * 4096),
                                      (int64_t)s->samples[i].live_bytes};
        tl = tlbuf;
        run.ntimeline = s->nsamples;
    }
    run.metrics = ml.m;
    run.nmetrics = ml.n;
    run.timeline = tl;
    int64_t id = hakdb_insert_run(db, &run);
    if (id < 0)
        snprintf(err, errlen, "%s", hakdb_error(db));
    return id;
}
