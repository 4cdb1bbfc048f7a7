-- memory_over_time.sql: memory over time per call site (hak trace
-- timeline, from the run history): the live requested bytes of a trace's
-- top call sites at 100 evenly spaced points of its time, one row per
-- point, the top sites as columns #1..#8 (by their own largest live bytes)
-- and 'other' for the rest; at each point they add up to the live heap.
-- The data of a stacked area chart (hak report draws one).
-- Needs the trace's views: run `hak db import-trace TRACE` first.
--
-- Parameters: :trace  as in leaks.sql (program, path, file name, hash
--                     prefix of >= 4 digits, or a glob with * ? [).
-- The sites' symbols and stacks: trace_sites, joined on (trace_id, site);
-- the legend: SELECT rank, site FROM trace_site_timeline WHERE point = 0.
-- Usage: hak db query analysis/queries/memory_over_time.sql -p trace=python3

SELECT tn.name AS trace, x.point, round(x.ts_ns / 1e9, 6) AS t_s,
       sum(x.live_bytes) AS heap_bytes,
       sum(CASE x.rank WHEN 1 THEN x.live_bytes END) AS "#1",
       sum(CASE x.rank WHEN 2 THEN x.live_bytes END) AS "#2",
       sum(CASE x.rank WHEN 3 THEN x.live_bytes END) AS "#3",
       sum(CASE x.rank WHEN 4 THEN x.live_bytes END) AS "#4",
       sum(CASE x.rank WHEN 5 THEN x.live_bytes END) AS "#5",
       sum(CASE x.rank WHEN 6 THEN x.live_bytes END) AS "#6",
       sum(CASE x.rank WHEN 7 THEN x.live_bytes END) AS "#7",
       sum(CASE x.rank WHEN 8 THEN x.live_bytes END) AS "#8",
       sum(CASE x.rank WHEN 0 THEN x.live_bytes END) AS other
FROM trace_site_timeline x
JOIN traces t       ON t.id = x.trace_id
JOIN trace_names tn ON tn.trace_id = x.trace_id
WHERE (t.id IN (SELECT trace_id FROM trace_keys WHERE key = :trace OR (:trace GLOB '*[*?[]*' AND key GLOB :trace))
     OR (length(:trace) >= 4 AND substr(t.hash, 1, length(:trace)) = :trace))
GROUP BY x.trace_id, x.point
ORDER BY t.hash, x.point;
