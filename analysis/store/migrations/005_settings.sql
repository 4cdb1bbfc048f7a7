-- 005_settings.sql: schema version 5.
--  * runs.alloc_spec: a build is stored under its resolved name
--    ('hakmem@652251e2ee40') but people ask for it by the name they gave
--    (`--alloc hakmem@HEAD~50`); alloc_spec keeps that name so
--    `hak db compare --by build --base hakmem@HEAD~50` finds the runs.
--  * trace_keys: every name a trace may be asked for by (hash, display
--    name, program and path, each also by base name), so filters match
--    exactly instead of with LIKE ('%' matched every trace).
--  * run_summary: a setting is allocator + knobs + threads mode (+ touch,
--    pace, simulated): runs replayed serially and with --threads recorded
--    are different experiments.  New columns mode and alloc_spec.
-- Documented in analysis/schema.sql.
ALTER TABLE runs ADD COLUMN alloc_spec TEXT;

CREATE VIEW trace_keys AS
  SELECT id AS trace_id, hash AS key FROM traces
  UNION SELECT trace_id, name FROM trace_names
  UNION SELECT id, program FROM traces WHERE program IS NOT NULL
  UNION SELECT id, replace(program, rtrim(program, replace(program, '/', '')), '') FROM traces WHERE program IS NOT NULL
  UNION SELECT id, path FROM traces WHERE path IS NOT NULL
  UNION SELECT id, replace(path, rtrim(path, replace(path, '/', '')), '') FROM traces WHERE path IS NOT NULL;

DROP VIEW run_summary;
CREATE VIEW run_summary AS
  SELECT r.id AS run_id, r.uuid, r.created_at, r.started_at, r.label, r.kind,
         r.status, r.error,
         r.trace_id, tn.name AS trace, t.program AS trace_program, t.path AS trace_path,
         t.hash AS trace_hash,
         r.build_id, b.name AS alloc, b.hash AS build_hash, b.version AS build_version,
         r.machine_id, m.hostname,
         r.env, r.alloc_spec,
         rtrim(b.name || CASE WHEN r.env <> '' THEN ' ' || r.env ELSE '' END || ' '
           || ltrim(coalesce(' threads=' || r.threads_mode, '')
           || CASE WHEN r.touch IS NOT NULL AND r.touch <> 'pages' THEN ' touch=' || r.touch ELSE '' END
           || CASE WHEN r.pace = 'recorded' THEN ' pace=recorded' ELSE '' END
           || CASE WHEN r.kind = 'simulated' THEN ' sim' ELSE '' END)) AS setting,
         ltrim(coalesce(' threads=' || r.threads_mode, '')
           || CASE WHEN r.touch IS NOT NULL AND r.touch <> 'pages' THEN ' touch=' || r.touch ELSE '' END
           || CASE WHEN r.pace = 'recorded' THEN ' pace=recorded' ELSE '' END
           || CASE WHEN r.kind = 'simulated' THEN ' sim' ELSE '' END) AS mode,
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
