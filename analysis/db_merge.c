/* db_merge.c - `hak db merge OTHER.db...`: combines run histories from
 * several machines.  Traces, builds and machines are matched by content
 * hash, sweeps and runs by uuid, so nothing is duplicated and merging the
 * same file twice adds nothing.  Runs are copied with their ids remapped. */
#include "db_cli.h"
#include "hakdb_int.h"
#include "hak_util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { OPT_DB = 1000 };

static void merge_usage(FILE *out)
{
    fprintf(out,
        "usage: hak db merge [--db FILE] [-q] OTHER.db...\n"
        "\n"
        "Copies the traces, builds, machines, sweeps, runs (with metrics and\n"
        "timelines) and trace statistics of each OTHER database into FILE\n"
        "(default ./hak.db, created if missing).  Rows already present (same\n"
        "content hash or run uuid) are not copied again, so merging is idempotent.\n"
        "An OTHER from an older schema version is migrated first.  Each merge is\n"
        "one transaction: it lands whole or not at all.\n");
    fputs("\nexample:\n"
          "  hak db merge --db lab.db jobs/*.db\n", out);
}

static const char *const merge_sql =
    "DROP TABLE IF EXISTS temp.new_runs; DROP TABLE IF EXISTS temp.new_stats;"
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
    /* the memory-profiler views (db_import_views.h) */
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
    "  x.live_bytes FROM o.trace_site_timeline x JOIN temp.new_stats n ON n.oid = x.trace_id;";

typedef struct merge_counts {
    int64_t before[4], after[4];   /* traces, builds, machines, runs */
    int64_t other_runs;
} merge_counts;

static const char *const counted[4] = {"traces", "builds", "machines", "runs"};

static int count_all(hakdb *db, int64_t out[4])
{
    for (int i = 0; i < 4; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM main.%s", counted[i]);
        int rc = hakdb_query_int(hakdb_sqlite(db), sql, &out[i]);
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
    if ((rc = hakdb_query_int(hakdb_sqlite(db), "SELECT count(*) FROM o.runs", &c->other_runs)))
        return rc;
    rc = sqlite3_exec(hakdb_sqlite(db), merge_sql, NULL, NULL, NULL);
    if (rc) {
        hakdb_fail(db, "merge");
        return rc;
    }
    sqlite3_exec(hakdb_sqlite(db), "DROP TABLE temp.new_runs; DROP TABLE temp.new_stats", NULL, NULL, NULL);
    return count_all(db, c->after);
}

int db_cmd_merge(int argc, char **argv)
{
    static const struct option lo[] = {
        {"db", required_argument, 0, OPT_DB}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *dbp = NULL;
    int quiet = 0, c;
    optind = 0;
    opterr = 0; /* one-line errors: hak_cmd_bad_option */
    while ((c = getopt_long(argc, argv, "hq", lo, NULL)) != -1) {
        switch (c) {
        case OPT_DB: dbp = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': merge_usage(stdout); return 0;
        default: return hak_cmd_bad_option("db merge", argc, argv);
        }
    }
    if (optind >= argc) {
        hak_cmd_err("db merge", "expected at least one OTHER.db; see --help");
        return 2;
    }
    char err[600];
    hakdb *db = hakdb_open(dbp, err, sizeof err);
    if (!db) {
        hak_cmd_err("db merge", "%s", err);
        return 1;
    }
    struct stat self;
    int have_self = stat(hakdb_path(db), &self) == 0;
    int rc = 0;
    for (int i = optind; i < argc && rc == 0; i++) {
        const char *other = argv[i];
        struct stat sb;
        if (stat(other, &sb) == 0 && have_self && sb.st_dev == self.st_dev && sb.st_ino == self.st_ino) {
            hak_cmd_err("db merge", "%s: is the destination database itself", other);
            rc = 1;
            break;
        }
        /* Validate (and migrate) the other database with the same checks. */
        hakdb *odb = hakdb_open_ex(other, HAKDB_OPEN_EXISTING, err, sizeof err);
        if (!odb) {
            hak_cmd_err("db merge", "%s", err);
            rc = 1;
            break;
        }
        hakdb_close(odb);
        sqlite3_stmt *st;
        sqlite3_prepare_v2(hakdb_sqlite(db), "ATTACH DATABASE ?1 AS o", -1, &st, NULL);
        sqlite3_bind_text(st, 1, other, -1, SQLITE_TRANSIENT);
        int arc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (arc != SQLITE_DONE) {
            hak_cmd_err("db merge", "%s: cannot attach: %s", other, sqlite3_errmsg(hakdb_sqlite(db)));
            rc = 1;
            break;
        }
        merge_counts mc;
        memset(&mc, 0, sizeof mc);
        if (hakdb_tx(db, "merge", merge_body, &mc) != 0) {
            hak_cmd_err("db merge", "%s: %s", other, hakdb_error(db));
            rc = 1;
        } else if (!quiet) {
            int64_t added = mc.after[3] - mc.before[3];
            printf("merged %s: +%lld runs (%lld already present), +%lld traces, +%lld builds,"
                   " +%lld machines\n", other, (long long)added, (long long)(mc.other_runs - added),
                   (long long)(mc.after[0] - mc.before[0]), (long long)(mc.after[1] - mc.before[1]),
                   (long long)(mc.after[2] - mc.before[2]));
        }
        sqlite3_exec(hakdb_sqlite(db), "DETACH DATABASE o", NULL, NULL, NULL);
    }
    hakdb_close(db);
    return rc;
}
