-- 014_pace_settings.sql: schema version 14.
--  * run_summary: the pace in a setting is the run's pace as stored
--    ('recorded', 'recorded:0.45', 'program:340ms'), not only 'recorded':
--    runs replayed at 0.45 of the recorded gaps, and those replayed as fast
--    as possible, showed the same setting, and `hak db compare`, `best`
--    and `hak report` merged them.
--  * validations.pace: the pace of the replays whose heap and faults a
--    validation compares ('asap', or 'program:D': the recorder's cost per
--    op taken off so the recording lasts the program's live duration D);
--    NULL for validations stored before it (asap).  Replayed time is
--    always the asap replays'.
--  * validation_values.live_min/live_max/replay_min/replay_max: the range
--    of the runs behind each median (the run-to-run spread: two
--    allocators whose runs overlap tie in the ranking).
-- Documented in analysis/store/schema.sql.
ALTER TABLE validations ADD COLUMN pace TEXT;
ALTER TABLE validation_values ADD COLUMN live_min REAL;
ALTER TABLE validation_values ADD COLUMN live_max REAL;
ALTER TABLE validation_values ADD COLUMN replay_min REAL;
ALTER TABLE validation_values ADD COLUMN replay_max REAL;

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
           || CASE WHEN coalesce(r.pace, 'asap') <> 'asap' THEN ' pace=' || r.pace ELSE '' END
           || CASE WHEN r.kind = 'simulated' THEN ' sim' ELSE '' END)) AS setting,
         ltrim(coalesce(' threads=' || r.threads_mode, '')
           || CASE WHEN r.touch IS NOT NULL AND r.touch <> 'pages' THEN ' touch=' || r.touch ELSE '' END
           || CASE WHEN coalesce(r.pace, 'asap') <> 'asap' THEN ' pace=' || r.pace ELSE '' END
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
