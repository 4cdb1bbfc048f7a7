-- history.sql: the history of one trace on one allocator over time: every
-- run, oldest first, with the build it ran (hash/version), its label, knobs
-- and headline figures (simulated runs have no ops/s or faults of their own:
-- see run_metrics); failed runs included with their reason.
--
-- Parameters: :trace  the trace: exactly its program (full or base name),
--                     path or file name, or a content-hash prefix (>= 4
--                     digits); a glob pattern only if it has * ? or [.
--                     `hak db query` refuses a :trace matching no trace.
--             :alloc  allocator build name (hakmem, glibc, hakmem@abc123...)
--                     or the --alloc given (hakmem@HEAD~5)
-- Usage: hak db query analysis/queries/history.sql -p trace=redis -p alloc=hakmem
SELECT r.started_at, r.id AS run, r.label, b.hash AS build, b.version, r.env,
       r.kind, r.repeat_idx AS rep, r.status,
       round(r.ops_per_s) AS ops_per_s, r.minor_faults, r.peak_rss_bytes, r.error,
       substr(t.hash, 1, 12) AS trace_hash, ltrim(coalesce(' threads=' || r.threads_mode, '')
         || CASE WHEN r.touch IS NOT NULL AND r.touch <> 'pages' THEN ' touch=' || r.touch ELSE '' END
         || CASE WHEN coalesce(r.pace, 'asap') <> 'asap' THEN ' pace=' || r.pace ELSE '' END
         || CASE WHEN r.kind = 'simulated' THEN ' sim' ELSE '' END) AS mode
FROM runs r
JOIN traces t ON t.id = r.trace_id
JOIN builds b ON b.id = r.build_id
WHERE (t.id IN (SELECT trace_id FROM trace_keys WHERE key = :trace OR (:trace GLOB '*[*?[]*' AND key GLOB :trace))
     OR (length(:trace) >= 4 AND substr(t.hash, 1, length(:trace)) = :trace))
  AND (b.name = :alloc OR r.alloc_spec = :alloc)
ORDER BY r.started_at, r.id;
