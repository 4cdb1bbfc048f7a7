-- 003_trace_names.sql: schema version 3.  People name traces by program or
-- file, not by hash: a trace_names view gives each trace its display name
-- (the recorded program's base name, or the file name for synthetic traces
-- whose "program" is the generator), and run_summary.trace uses it (it was
-- the full program path in version 2; that stays as trace_program).
-- Documented in analysis/schema.sql.

CREATE VIEW trace_names AS
  SELECT t.id AS trace_id,
         coalesce(CASE WHEN t.program IS NULL OR t.program LIKE 'hak %' OR t.program = 'unknown'
                       THEN replace(t.path, rtrim(t.path, replace(t.path, '/', '')), '')
                       ELSE replace(t.program, rtrim(t.program, replace(t.program, '/', '')), '')
                  END, t.hash) AS name
  FROM traces t;

DROP VIEW run_summary;
CREATE VIEW run_summary AS
  SELECT r.id AS run_id, r.uuid, r.created_at, r.started_at, r.label, r.kind,
         r.status, r.error,
         r.trace_id, tn.name AS trace, t.program AS trace_program, t.path AS trace_path,
         t.hash AS trace_hash,
         r.build_id, b.name AS alloc, b.hash AS build_hash, b.version AS build_version,
         r.machine_id, m.hostname,
         r.env, b.name || CASE WHEN r.env <> '' THEN ' ' || r.env ELSE '' END AS setting,
         r.config, r.threads_mode, r.touch, r.pace, r.repeat_idx, r.sweep_id,
         r.wall_ns, r.user_ns, r.sys_ns, r.ops, r.ops_per_s,
         r.minor_faults, r.major_faults, r.vol_ctxsw, r.invol_ctxsw,
         r.peak_rss_bytes, r.final_rss_bytes,
         r.lat_p50_ns, r.lat_p99_ns, r.lat_p999_ns, r.addr_digest, r.fidelity,
         (SELECT value FROM run_metrics x WHERE x.run_id = r.id AND x.name = 'page-faults')       AS page_faults,
         (SELECT value FROM run_metrics x WHERE x.run_id = r.id AND x.name = 'cycles')            AS cycles,
         (SELECT value FROM run_metrics x WHERE x.run_id = r.id AND x.name = 'instructions')      AS instructions,
         (SELECT value FROM run_metrics x WHERE x.run_id = r.id AND x.name = 'dTLB-load-misses')  AS dtlb_load_misses,
         (SELECT value FROM run_metrics x WHERE x.run_id = r.id AND x.name = 'dTLB-store-misses') AS dtlb_store_misses,
         (SELECT value FROM run_metrics x WHERE x.run_id = r.id AND x.name = 'iTLB-load-misses')  AS itlb_load_misses,
         (SELECT value FROM run_metrics x WHERE x.run_id = r.id AND x.name = 'sim.dtlb_misses')   AS sim_dtlb_misses
  FROM runs r
  JOIN traces t      ON t.id = r.trace_id
  JOIN trace_names tn ON tn.trace_id = r.trace_id
  JOIN builds b      ON b.id = r.build_id
  JOIN machines m    ON m.id = r.machine_id;
