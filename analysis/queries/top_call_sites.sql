-- top_call_sites.sql: which call sites allocate the most bytes, and which
-- allocate the most short-lived objects, in one trace.  Needs the trace's
-- statistics: run `hak db import-trace TRACE` first.
--
-- Parameters: :trace  the trace: exactly its program (full or base name),
--                     path or file name, or a content-hash prefix (>= 4
--                     digits); a glob pattern only if it has * ? or [.
--                     `hak db query` refuses a :trace matching no trace.
-- Two traces of one program (same name) are told apart by trace_hash.
-- short_lived counts objects freed within trace_stats.short_lived_ns
-- (default 1 ms); symbol is the first frame outside the allocator
-- ('func+0x1c (module)'), NULL when the recording had no stacks.
-- Usage: hak db query analysis/queries/top_call_sites.sql -p trace=python3

-- 1. Most bytes.
SELECT tn.name AS trace, substr(t.hash, 1, 12) AS trace_hash,
       s.site, coalesce(s.symbol, '(unknown)') AS symbol, s.allocs, s.bytes,
       round(100.0 * s.bytes / st.bytes_allocated, 1) AS pct_bytes
FROM trace_sites s
JOIN traces t       ON t.id = s.trace_id
JOIN trace_names tn ON tn.trace_id = s.trace_id
JOIN trace_stats st ON st.trace_id = s.trace_id
WHERE (t.id IN (SELECT trace_id FROM trace_keys WHERE key = :trace OR (:trace GLOB '*[*?[]*' AND key GLOB :trace))
     OR (length(:trace) >= 4 AND substr(t.hash, 1, length(:trace)) = :trace))
ORDER BY t.hash, s.bytes DESC, s.site
LIMIT 10;

-- 2. Most short-lived objects.
SELECT tn.name AS trace, substr(t.hash, 1, 12) AS trace_hash,
       s.site, coalesce(s.symbol, '(unknown)') AS symbol, s.short_lived, s.allocs,
       round(100.0 * s.short_lived / s.allocs, 1) AS pct_short,
       round(s.mean_lifetime_ns) AS mean_lifetime_ns
FROM trace_sites s
JOIN traces t ON t.id = s.trace_id
JOIN trace_names tn ON tn.trace_id = s.trace_id
WHERE (t.id IN (SELECT trace_id FROM trace_keys WHERE key = :trace OR (:trace GLOB '*[*?[]*' AND key GLOB :trace))
     OR (length(:trace) >= 4 AND substr(t.hash, 1, length(:trace)) = :trace))
  AND s.short_lived > 0
ORDER BY t.hash, s.short_lived DESC, s.site
LIMIT 10;
