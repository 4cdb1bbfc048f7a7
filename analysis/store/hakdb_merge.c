/* hakdb_merge.c - merging another run history into this one (hakdb.h:
 * hakdb_merge).  Traces, builds and machines are matched by content hash,
 * sweeps and runs by uuid, so nothing is duplicated and merging the same
 * file twice adds nothing.  Runs are copied with their ids remapped, and
 * validations (by uuid) with their values and rankings. */
#include "hakdb_int.h"

#include <stdio.h>
#include <string.h>

static const char *const merge_sql =
    "DROP TABLE IF EXISTS temp.new_runs; DROP TABLE IF EXISTS temp.new_stats;"
    "DROP TABLE IF EXISTS temp.new_vals;"
    "INSERT INTO main.traces(hash, path, program, events, threads, duration_ns, file_bytes, meta_json,"
    "  created_at, completeness)"
    "  SELECT hash, path, program, events, threads, duration_ns, file_bytes, meta_json, created_at,"
    "  completeness FROM o.traces WHERE true"
    "  ON CONFLICT(hash) DO UPDATE SET completeness = coalesce(completeness, excluded.completeness);"
    "INSERT INTO main.builds(name, path, hash, version, created_at)"
    "  SELECT name, path, hash, version, created_at FROM o.builds WHERE true"
    "  ON CONFLICT(hash, name) DO NOTHING;"
    "INSERT INTO main.machines(hash, hostname, cpu_model, cores, mem_bytes, page_size, kernel,"
    "  thp_mode, thp_defrag, counters, created_at)"
    "  SELECT hash, hostname, cpu_model, cores, mem_bytes, page_size, kernel, thp_mode, thp_defrag,"
    "  counters, created_at FROM o.machines WHERE true ON CONFLICT(hash) DO NOTHING;"
    "INSERT OR IGNORE INTO main.machine_counters(machine_id, name, available, reason)"
    "  SELECT mm.id, c.name, c.available, c.reason FROM o.machine_counters c"
    "  JOIN o.machines om ON om.id = c.machine_id JOIN main.machines mm ON mm.hash = om.hash;"
    "INSERT INTO main.sweeps(uuid, command, grid, created_at)"
    "  SELECT uuid, command, grid, created_at FROM o.sweeps WHERE true ON CONFLICT(uuid) DO NOTHING;"
    "CREATE TEMP TABLE new_runs AS SELECT id AS oid, uuid FROM o.runs"
    "  WHERE uuid NOT IN (SELECT uuid FROM main.runs);"
    "INSERT INTO main.runs(uuid, trace_id, build_id, machine_id, sweep_id, kind, label, env, config,"
    "  threads_mode, touch, pace, repeat_idx, status, error, wall_ns, user_ns, sys_ns, ops, ops_per_s,"
    "  minor_faults, major_faults, vol_ctxsw, invol_ctxsw, peak_rss_bytes, final_rss_bytes,"
    "  lat_p50_ns, lat_p99_ns, lat_p999_ns, addr_digest, fidelity, started_at, created_at, alloc_spec)"
    "  SELECT r.uuid, mt.id, mb.id, mm.id, ms.id, r.kind, r.label, r.env, r.config,"
    "  r.threads_mode, r.touch, r.pace, r.repeat_idx, r.status, r.error, r.wall_ns, r.user_ns, r.sys_ns,"
    "  r.ops, r.ops_per_s, r.minor_faults, r.major_faults, r.vol_ctxsw, r.invol_ctxsw,"
    "  r.peak_rss_bytes, r.final_rss_bytes, r.lat_p50_ns, r.lat_p99_ns, r.lat_p999_ns,"
    "  r.addr_digest, r.fidelity, r.started_at, r.created_at, r.alloc_spec"
    "  FROM o.runs r JOIN temp.new_runs n ON n.oid = r.id"
    "  JOIN o.traces ot ON ot.id = r.trace_id JOIN main.traces mt ON mt.hash = ot.hash"
    "  JOIN o.builds ob ON ob.id = r.build_id JOIN main.builds mb ON mb.hash = ob.hash AND mb.name = ob.name"
    "  JOIN o.machines om ON om.id = r.machine_id JOIN main.machines mm ON mm.hash = om.hash"
    "  LEFT JOIN o.sweeps os ON os.id = r.sweep_id LEFT JOIN main.sweeps ms ON ms.uuid = os.uuid"
    "  ORDER BY r.id;"
    "INSERT INTO main.run_metrics(run_id, name, value, unit, source, reason)"
    "  SELECT mr.id, x.name, x.value, x.unit, x.source, x.reason FROM o.run_metrics x"
    "  JOIN temp.new_runs n ON n.oid = x.run_id JOIN main.runs mr ON mr.uuid = n.uuid;"
    "INSERT INTO main.timelines(run_id, idx, t_ns, rss_bytes, live_bytes)"
    "  SELECT mr.id, x.idx, x.t_ns, x.rss_bytes, x.live_bytes FROM o.timelines x"
    "  JOIN temp.new_runs n ON n.oid = x.run_id JOIN main.runs mr ON mr.uuid = n.uuid;"
    "CREATE TEMP TABLE new_stats AS SELECT mt.id AS mid, ot.id AS oid FROM o.trace_stats s"
    "  JOIN o.traces ot ON ot.id = s.trace_id JOIN main.traces mt ON mt.hash = ot.hash"
    "  WHERE mt.id NOT IN (SELECT trace_id FROM main.trace_stats);"
    "INSERT INTO main.trace_stats(trace_id, imported_at, allocs, frees, bytes_allocated,"
    "  peak_live_bytes, sites, short_lived_ns, truncated, ts_resolution_ns)"
    "  SELECT n.mid, s.imported_at, s.allocs, s.frees, s.bytes_allocated, s.peak_live_bytes,"
    "  s.sites, s.short_lived_ns, s.truncated, s.ts_resolution_ns FROM o.trace_stats s JOIN temp.new_stats n ON n.oid = s.trace_id;"
    "INSERT INTO main.trace_size_hist(trace_id, lo_bytes, hi_bytes, allocs, bytes)"
    "  SELECT n.mid, h.lo_bytes, h.hi_bytes, h.allocs, h.bytes FROM o.trace_size_hist h"
    "  JOIN temp.new_stats n ON n.oid = h.trace_id;"
    "INSERT INTO main.trace_lifetime_events_hist(trace_id, bucket, lo_events, hi_events, objects, bytes)"
    "  SELECT n.mid, h.bucket, h.lo_events, h.hi_events, h.objects, h.bytes FROM o.trace_lifetime_events_hist h"
    "  JOIN temp.new_stats n ON n.oid = h.trace_id;"
    "INSERT INTO main.trace_lifetime_hist(trace_id, bucket, lo_ns, hi_ns, objects, bytes)"
    "  SELECT n.mid, h.bucket, h.lo_ns, h.hi_ns, h.objects, h.bytes FROM o.trace_lifetime_hist h"
    "  JOIN temp.new_stats n ON n.oid = h.trace_id;"
    "INSERT INTO main.trace_sites(trace_id, site, symbol, frames, allocs, bytes, freed, short_lived,"
    "  mean_lifetime_ns)"
    "  SELECT n.mid, s.site, s.symbol, s.frames, s.allocs, s.bytes, s.freed, s.short_lived,"
    "  s.mean_lifetime_ns FROM o.trace_sites s JOIN temp.new_stats n ON n.oid = s.trace_id;"
    "INSERT OR IGNORE INTO main.trace_rss(trace_id, idx, t_ns, rss_bytes)"
    "  SELECT n.mid, x.idx, x.t_ns, x.rss_bytes FROM o.trace_rss x JOIN temp.new_stats n ON n.oid = x.trace_id;"
    /* the memory-profiler views (hakdb_import_views.h) */
    "INSERT OR IGNORE INTO main.trace_view_stats SELECT n.mid, x.leaked_blocks, x.leaked_bytes,"
    "  x.peak_bytes, x.peak_blocks, x.peak_seq, x.peak_ns, x.rss_peak_bytes, x.rss_peak_ns,"
    "  x.rss_heap_bytes, x.temporary, x.short_lived, x.short_events, x.unknown_frees"
    "  FROM o.trace_view_stats x JOIN temp.new_stats n ON n.oid = x.trace_id;"
    "INSERT OR IGNORE INTO main.trace_site_views SELECT n.mid, x.site, x.allocs, x.alloc_bytes,"
    "  x.leaked_blocks, x.leaked_bytes, x.leak_largest, x.peak_blocks, x.peak_bytes, x.rss_bytes,"
    "  x.temporary, x.short_lived FROM o.trace_site_views x JOIN temp.new_stats n ON n.oid = x.trace_id;"
    "INSERT OR IGNORE INTO main.trace_flame SELECT n.mid, x.stack, x.allocs, x.alloc_bytes,"
    "  x.leaked_bytes, x.peak_bytes FROM o.trace_flame x JOIN temp.new_stats n ON n.oid = x.trace_id;"
    "INSERT OR IGNORE INTO main.trace_site_timeline SELECT n.mid, x.point, x.ts_ns, x.rank, x.site,"
    "  x.live_bytes FROM o.trace_site_timeline x JOIN temp.new_stats n ON n.oid = x.trace_id;"
    /* `hak validate`'s results, by uuid; their replays are runs (copied
     * above) found again by runs_label, which the uuid prefix makes unique.
     * A validation without a stored recording keeps trace_id NULL. */
    "CREATE TEMP TABLE new_vals AS SELECT id AS oid, uuid FROM o.validations"
    "  WHERE uuid NOT IN (SELECT uuid FROM main.validations);"
    "INSERT INTO main.validations(uuid, trace_id, machine_id, label, runs_label, command, repeats,"
    "  touch, threads_mode, sample_interval_ns, created_at, pace, recordings)"
    "  SELECT v.uuid, mt.id, mm.id, v.label, v.runs_label, v.command, v.repeats, v.touch,"
    "  v.threads_mode, v.sample_interval_ns, v.created_at, v.pace, v.recordings"
    "  FROM o.validations v JOIN temp.new_vals n ON n.oid = v.id"
    "  LEFT JOIN o.traces ot ON ot.id = v.trace_id LEFT JOIN main.traces mt ON mt.hash = ot.hash"
    "  LEFT JOIN o.machines om ON om.id = v.machine_id LEFT JOIN main.machines mm ON mm.hash = om.hash"
    "  ORDER BY v.id;"
    "INSERT INTO main.validation_values(validation_id, alloc, metric, live, replay, ratio, live_n,"
    "  replay_n, live_min, live_max, replay_min, replay_max)"
    "  SELECT mv.id, x.alloc, x.metric, x.live, x.replay, x.ratio, x.live_n, x.replay_n,"
    "  x.live_min, x.live_max, x.replay_min, x.replay_max FROM o.validation_values x"
    "  JOIN temp.new_vals n ON n.oid = x.validation_id JOIN main.validations mv ON mv.uuid = n.uuid;"
    "INSERT INTO main.validation_rankings(validation_id, metric, tau, nallocs)"
    "  SELECT mv.id, x.metric, x.tau, x.nallocs FROM o.validation_rankings x"
    "  JOIN temp.new_vals n ON n.oid = x.validation_id JOIN main.validations mv ON mv.uuid = n.uuid;";

typedef struct merge_counts {
    int64_t before[5], after[5];   /* traces, builds, machines, runs, validations */
    int64_t other_runs;
} merge_counts;

static const char *const counted[5] = {"traces", "builds", "machines", "runs", "validations"};

static int count_all(hakdb *db, int64_t out[5])
{
    for (int i = 0; i < 5; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM main.%s", counted[i]);
        int rc = hakdb_query_int(db->db, sql, &out[i]);
        if (rc)
            return rc;
    }
    return SQLITE_OK;
}

static int merge_body(hakdb *db, void *p)
{
    merge_counts *c = p;
    int rc = count_all(db, c->before);
    if (rc)
        return rc;
    if ((rc = hakdb_query_int(db->db, "SELECT count(*) FROM o.runs", &c->other_runs)))
        return rc;
    rc = sqlite3_exec(db->db, merge_sql, NULL, NULL, NULL);
    if (rc) {
        hakdb_fail(db, "merge");
        return rc;
    }
    sqlite3_exec(db->db, "DROP TABLE temp.new_runs; DROP TABLE temp.new_stats; DROP TABLE temp.new_vals", NULL, NULL, NULL);
    return count_all(db, c->after);
}

int hakdb_merge(hakdb *db, const char *other, hakdb_merge_counts *out)
{
    sqlite3_stmt *st;
    if (hakdb_prepare(db, &st, "ATTACH DATABASE ?1 AS o") != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, other, -1, SQLITE_TRANSIENT);
    int arc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (arc != SQLITE_DONE)
        return hakdb_failf(db, "cannot attach: %s", sqlite3_errmsg(db->db));
    merge_counts mc;
    memset(&mc, 0, sizeof mc);
    int rc = hakdb_tx(db, "merge", merge_body, &mc);
    sqlite3_exec(db->db, "DETACH DATABASE o", NULL, NULL, NULL);
    if (rc != 0)
        return -1;
    for (int i = 0; i < 5; i++)
        out->added[i] = mc.after[i] - mc.before[i];
    out->other_runs = mc.other_runs;
    return 0;
}
