-- knobs_tlb_faults.sql: which allocator and knob values minimise data-TLB
-- misses and page faults on one trace.
--
-- Parameters: :trace  the trace: exactly its program (full or base name),
--                     path or file name, or a content-hash prefix (>= 4
--                     digits); a glob pattern only if it has * ? or [.
--                     `hak db query` refuses a :trace matching no trace.
-- Columns are medians over ok runs (NULL = never measured for that setting):
--   dtlb_measured  'dTLB-load-misses' from perf (NULL on machines without a PMU)
--   dtlb_simulated 'sim.dtlb_misses' from the memory-system simulator
--   minor_faults   getrusage minor faults of the replay window
--   page_faults    perf software 'page-faults' counter
-- Ordered by dTLB misses (measured when present, else simulated), then faults.
-- Usage: hak db query analysis/queries/knobs_tlb_faults.sql -p trace=redis
WITH sel AS (
  SELECT r.id, rtrim(b.name || CASE WHEN r.env <> '' THEN ' ' || r.env ELSE '' END || ' ' || ltrim(coalesce(' threads=' || r.threads_mode, '')
           || CASE WHEN r.touch IS NOT NULL AND r.touch <> 'pages' THEN ' touch=' || r.touch ELSE '' END
           || CASE WHEN coalesce(r.pace, 'asap') <> 'asap' THEN ' pace=' || r.pace ELSE '' END
           || CASE WHEN r.kind = 'simulated' THEN ' sim' ELSE '' END)) AS setting
  FROM runs r
  JOIN traces t ON t.id = r.trace_id
  JOIN builds b ON b.id = r.build_id
  WHERE r.status = 'ok' AND (t.id IN (SELECT trace_id FROM trace_keys WHERE key = :trace OR (:trace GLOB '*[*?[]*' AND key GLOB :trace))
     OR (length(:trace) >= 4 AND substr(t.hash, 1, length(:trace)) = :trace))
),
v AS (
  SELECT sel.setting, mv.name, mv.value
  FROM sel JOIN run_metric_values mv ON mv.run_id = sel.id
  WHERE mv.name IN ('dTLB-load-misses', 'sim.dtlb_misses', 'minor_faults', 'page-faults')
    AND mv.value IS NOT NULL
),
ranked AS (
  SELECT *, row_number() OVER (PARTITION BY setting, name ORDER BY value) AS rn,
            count(*)     OVER (PARTITION BY setting, name) AS n
  FROM v
),
med AS (
  SELECT setting, name, avg(value) AS median, max(n) AS runs
  FROM ranked WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY setting, name
)
SELECT setting,
       max(CASE name WHEN 'dTLB-load-misses' THEN median END) AS dtlb_measured,
       max(CASE name WHEN 'sim.dtlb_misses'  THEN median END) AS dtlb_simulated,
       max(CASE name WHEN 'minor_faults'     THEN median END) AS minor_faults,
       max(CASE name WHEN 'page-faults'      THEN median END) AS page_faults,
       max(runs) AS runs
FROM med
GROUP BY setting
ORDER BY coalesce(max(CASE name WHEN 'dTLB-load-misses' THEN median END),
                  max(CASE name WHEN 'sim.dtlb_misses' THEN median END)) IS NULL,
         coalesce(max(CASE name WHEN 'dTLB-load-misses' THEN median END),
                  max(CASE name WHEN 'sim.dtlb_misses' THEN median END)),
         max(CASE name WHEN 'minor_faults' THEN median END),
         setting;
