-- peak_consumers.sql: who held the memory at the heap's peak (hak trace
-- peak, from the run history): the moment of peak live bytes and each call
-- site's live bytes then, largest first; with the peak RSS sample and the
-- sites' live bytes at it, when the recording sampled RSS.
-- Needs the trace's views: run `hak db import-trace TRACE` first.
--
-- Parameters: :trace  as in leaks.sql (program, path, file name, hash
--                     prefix of >= 4 digits, or a glob with * ? [).
-- Usage: hak db query analysis/queries/peak_consumers.sql -p trace=python3

-- 1. The peak.
SELECT tn.name AS trace, substr(t.hash, 1, 12) AS trace_hash,
       vs.peak_bytes, vs.peak_blocks, vs.peak_seq, vs.peak_ns,
       vs.rss_peak_bytes, vs.rss_peak_ns, vs.rss_heap_bytes
FROM trace_view_stats vs
JOIN traces t       ON t.id = vs.trace_id
JOIN trace_names tn ON tn.trace_id = vs.trace_id
WHERE (t.id IN (SELECT trace_id FROM trace_keys WHERE key = :trace OR (:trace GLOB '*[*?[]*' AND key GLOB :trace))
     OR (length(:trace) >= 4 AND substr(t.hash, 1, length(:trace)) = :trace))
ORDER BY t.hash;

-- 2. The sites holding it.
SELECT tn.name AS trace, substr(t.hash, 1, 12) AS trace_hash,
       v.site, coalesce(s.symbol, '(no stack)') AS symbol,
       v.peak_blocks, v.peak_bytes,
       round(100.0 * v.peak_bytes / nullif(vs.peak_bytes, 0), 1) AS pct_of_peak,
       v.rss_bytes AS live_at_rss_peak
FROM trace_site_views v
JOIN traces t            ON t.id = v.trace_id
JOIN trace_names tn      ON tn.trace_id = v.trace_id
JOIN trace_view_stats vs ON vs.trace_id = v.trace_id
LEFT JOIN trace_sites s  ON s.trace_id = v.trace_id AND s.site = v.site
WHERE (t.id IN (SELECT trace_id FROM trace_keys WHERE key = :trace OR (:trace GLOB '*[*?[]*' AND key GLOB :trace))
     OR (length(:trace) >= 4 AND substr(t.hash, 1, length(:trace)) = :trace))
  AND v.peak_bytes > 0
ORDER BY t.hash, v.peak_bytes DESC, v.site
LIMIT 20;
