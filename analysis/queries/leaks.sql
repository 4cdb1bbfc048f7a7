-- leaks.sql: which call sites leave blocks unfreed at the end of a trace,
-- largest first (hak trace leaks, from the run history).  "Leaked" means
-- not freed by the end of the trace; reachability is not examined.
-- Needs the trace's views: run `hak db import-trace TRACE` first.
--
-- Parameters: :trace  the trace: exactly its program (full or base name),
--                     path or file name, or a content-hash prefix (>= 4
--                     digits); a glob pattern only if it has * ? or [.
-- symbol is the first frame outside the allocator; frames the whole stack,
-- innermost first.
-- Usage: hak db query analysis/queries/leaks.sql -p trace=python3

SELECT tn.name AS trace, substr(t.hash, 1, 12) AS trace_hash,
       v.site, coalesce(s.symbol, '(no stack)') AS symbol,
       v.leaked_blocks, v.leaked_bytes, v.leak_largest,
       round(100.0 * v.leaked_bytes / nullif(vs.leaked_bytes, 0), 1) AS pct_of_leaked,
       s.frames
FROM trace_site_views v
JOIN traces t            ON t.id = v.trace_id
JOIN trace_names tn      ON tn.trace_id = v.trace_id
JOIN trace_view_stats vs ON vs.trace_id = v.trace_id
LEFT JOIN trace_sites s  ON s.trace_id = v.trace_id AND s.site = v.site
WHERE (t.id IN (SELECT trace_id FROM trace_keys WHERE key = :trace OR (:trace GLOB '*[*?[]*' AND key GLOB :trace))
     OR (length(:trace) >= 4 AND substr(t.hash, 1, length(:trace)) = :trace))
  AND v.leaked_blocks > 0
ORDER BY t.hash, v.leaked_bytes DESC, v.site
LIMIT 20;
