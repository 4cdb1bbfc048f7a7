-- temporaries.sql: which call sites make temporary allocations (hak trace
-- temporaries, from the run history): blocks freed with no other
-- allocation or free in between (heaptrack's definition, in the trace's
-- global order), and short-lived blocks (freed within
-- trace_view_stats.short_events events), most temporaries first.
-- Needs the trace's views: run `hak db import-trace TRACE` first.
--
-- Parameters: :trace  as in leaks.sql (program, path, file name, hash
--                     prefix of >= 4 digits, or a glob with * ? [).
-- Usage: hak db query analysis/queries/temporaries.sql -p trace=python3

SELECT tn.name AS trace, substr(t.hash, 1, 12) AS trace_hash,
       v.site, coalesce(s.symbol, '(no stack)') AS symbol,
       v.temporary, v.short_lived, vs.short_events AS short_within_events, v.allocs,
       round(100.0 * v.temporary / nullif(v.allocs, 0), 1) AS pct_temporary
FROM trace_site_views v
JOIN traces t            ON t.id = v.trace_id
JOIN trace_names tn      ON tn.trace_id = v.trace_id
JOIN trace_view_stats vs ON vs.trace_id = v.trace_id
LEFT JOIN trace_sites s  ON s.trace_id = v.trace_id AND s.site = v.site
WHERE (t.id IN (SELECT trace_id FROM trace_keys WHERE key = :trace OR (:trace GLOB '*[*?[]*' AND key GLOB :trace))
     OR (length(:trace) >= 4 AND substr(t.hash, 1, length(:trace)) = :trace))
  AND (v.temporary > 0 OR v.short_lived > 0)
ORDER BY t.hash, v.temporary DESC, v.short_lived DESC, v.site
LIMIT 20;
