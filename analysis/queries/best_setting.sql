-- best_setting.sql: the best allocator and knob setting per trace for one
-- metric, by the median over repeats of ok runs.  A setting is the
-- allocator, its knobs and its mode (threads serial|recorded, touch, pace,
-- simulated: run_summary.setting); runs of different settings never merge.
--
-- Parameters: :metric  e.g. ops_per_s, minor_faults, peak_rss_bytes,
--                      dTLB-load-misses, sim.dtlb_misses (any name in
--                      run_metric_values)
-- Direction: metric_info.better ('higher' for ops_per_s; 'lower' for faults,
-- RSS, misses, times); names not listed count as lower-is-better unless
-- they end in _per_s.
-- Usage: hak db query analysis/queries/best_setting.sql -p metric=ops_per_s
-- (`hak db best` answers the same question with runner-up and noise check.)
WITH dir AS (
  SELECT coalesce((SELECT better FROM metric_info WHERE name = :metric),
                  CASE WHEN :metric LIKE '%\_per\_s' ESCAPE '\' THEN 'higher' ELSE 'lower' END) AS better
),
v AS (                                -- one value per ok run
  SELECT r.trace_id,
         rtrim(b.name || CASE WHEN r.env <> '' THEN ' ' || r.env ELSE '' END || ' ' || ltrim(coalesce(' threads=' || r.threads_mode, '')
           || CASE WHEN r.touch IS NOT NULL AND r.touch <> 'pages' THEN ' touch=' || r.touch ELSE '' END
           || CASE WHEN coalesce(r.pace, 'asap') <> 'asap' THEN ' pace=' || r.pace ELSE '' END
           || CASE WHEN r.kind = 'simulated' THEN ' sim' ELSE '' END)) AS setting,
         mv.value
  FROM run_metric_values mv
  JOIN runs r   ON r.id = mv.run_id
  JOIN builds b ON b.id = r.build_id
  WHERE mv.name = :metric AND mv.value IS NOT NULL AND r.status = 'ok'
),
ranked AS (                           -- position of each value within its setting
  SELECT *, row_number() OVER (PARTITION BY trace_id, setting ORDER BY value) AS rn,
            count(*)     OVER (PARTITION BY trace_id, setting) AS n
  FROM v
),
med AS (                              -- median = mean of the middle one or two
  SELECT trace_id, setting, avg(value) AS median, max(n) AS runs
  FROM ranked WHERE rn IN ((n + 1) / 2, (n + 2) / 2)
  GROUP BY trace_id, setting
),
best AS (
  SELECT med.*, row_number() OVER (
           PARTITION BY trace_id
           ORDER BY CASE (SELECT better FROM dir) WHEN 'higher' THEN -median ELSE median END, setting) AS pos,
         count(*) OVER (PARTITION BY trace_id) AS settings
  FROM med
)
SELECT tn.name AS trace, substr(t.hash, 1, 12) AS trace_hash, setting AS best_setting, round(median, 3) AS median, runs, settings,
       (SELECT better FROM dir) AS better
FROM best JOIN trace_names tn ON tn.trace_id = best.trace_id   -- display name, once per trace
          JOIN traces t ON t.id = best.trace_id
WHERE pos = 1
ORDER BY trace, t.hash;
