-- history.sql: the history of one trace on one allocator over time: every
-- run, oldest first, with the build it ran (hash/version), its label, knobs
-- and headline figures (simulated runs have no ops/s or faults of their own:
-- see run_metrics); failed runs included with their reason.
--
-- Parameters: :trace  program (full or base name), trace path or file name,
--                     or content-hash prefix
--             :alloc  allocator build name (hakmem, glibc, hakmem@abc123...)
-- Usage: hak db query analysis/queries/history.sql -p trace=redis -p alloc=hakmem
SELECT r.started_at, r.id AS run, r.label, b.hash AS build, b.version, r.env,
       r.kind, r.repeat_idx AS rep, r.status,
       round(r.ops_per_s) AS ops_per_s, r.minor_faults, r.peak_rss_bytes, r.error
FROM runs r
JOIN traces t ON t.id = r.trace_id
JOIN builds b ON b.id = r.build_id
WHERE (t.program = :trace OR t.program LIKE '%/' || :trace OR t.path = :trace OR t.path LIKE '%/' || :trace OR t.hash LIKE :trace || '%')
  AND b.name = :alloc
ORDER BY r.started_at, r.id;
