-- label_changes.sql: what changed between two labels (e.g. two builds of
-- the allocator replayed with --label before / --label after), per trace,
-- allocator and setting (knobs and mode: threads, touch, pace); regressions first.
--
-- Parameters: :base, :new  the two labels
--             :metric      e.g. ops_per_s or minor_faults
-- A change is called only when the two sides' min..max ranges do not
-- overlap and the medians differ by more than 2% (the same rule as
-- `hak db compare`, without its MAD noise term); otherwise 'same'.
-- Direction-aware: for ops_per_s a drop is a regression, for faults a rise.
-- Usage: hak db query analysis/queries/label_changes.sql \
--          -p base=v1 -p new=v2 -p metric=ops_per_s
WITH dir AS (
  SELECT coalesce((SELECT better FROM metric_info WHERE name = :metric),
                  CASE WHEN :metric LIKE '%\_per\_s' ESCAPE '\' THEN 'higher' ELSE 'lower' END) AS better
),
v AS (
  SELECT r.trace_id,
         b.name AS alloc, r.env,
         ltrim(coalesce(' threads=' || r.threads_mode, '')
           || CASE WHEN r.touch IS NOT NULL AND r.touch <> 'pages' THEN ' touch=' || r.touch ELSE '' END
           || CASE WHEN coalesce(r.pace, 'asap') <> 'asap' THEN ' pace=' || r.pace ELSE '' END
           || CASE WHEN r.kind = 'simulated' THEN ' sim' ELSE '' END) AS mode,
         CASE r.label WHEN :base THEN 'base' ELSE 'new' END AS side, mv.value
  FROM run_metric_values mv
  JOIN runs r   ON r.id = mv.run_id
  JOIN builds b ON b.id = r.build_id
  WHERE mv.name = :metric AND mv.value IS NOT NULL AND r.status = 'ok'
    AND r.label IN (:base, :new)
),
ranked AS (
  SELECT *, row_number() OVER (PARTITION BY trace_id, alloc, env, mode, side ORDER BY value) AS rn,
            count(*)     OVER (PARTITION BY trace_id, alloc, env, mode, side) AS n
  FROM v
),
s AS (                                 -- per side: median, min, max, repeats
  SELECT trace_id, alloc, env, mode, side,
         avg(CASE WHEN rn IN ((n + 1) / 2, (n + 2) / 2) THEN value END) AS median,
         min(value) AS lo, max(value) AS hi, count(*) AS n
  FROM ranked GROUP BY trace_id, alloc, env, mode, side
),
pair AS (
  SELECT b.trace_id, b.alloc, b.env, b.mode, b.median AS base, b.lo AS base_lo, b.hi AS base_hi, b.n AS base_n,
         n.median AS new, n.lo AS new_lo, n.hi AS new_hi, n.n AS new_n,
         (n.median - b.median) / abs(b.median) AS rel
  FROM s b JOIN s n ON n.trace_id = b.trace_id AND n.alloc = b.alloc AND n.env = b.env AND n.mode = b.mode
  WHERE b.side = 'base' AND n.side = 'new' AND b.median <> 0
),
judged AS (
  SELECT pair.*,
         CASE
           WHEN base_n < 2 OR new_n < 2 THEN 'unsure'
           WHEN new_lo <= base_hi AND new_hi >= base_lo THEN 'same'
           WHEN abs(rel) <= 0.02 THEN 'same'
           WHEN (rel > 0) = ((SELECT better FROM dir) = 'higher') THEN 'better'
           ELSE 'regression'
         END AS verdict
  FROM pair
)
SELECT tn.name AS trace, alloc, env, round(base, 3) AS base, round(new, 3) AS new,
       round(100 * rel, 1) AS change_pct, base_n, new_n, verdict, mode
FROM judged JOIN trace_names tn ON tn.trace_id = judged.trace_id   -- display name

ORDER BY CASE verdict WHEN 'regression' THEN 0 WHEN 'better' THEN 1 WHEN 'same' THEN 2 ELSE 3 END,
         abs(rel) DESC, trace, alloc, env;
