-- flame.sql: a trace's folded stacks, the input of flamegraph.pl, inferno
-- and speedscope (hak trace flame, from the run history): one row per
-- distinct stack of function names, root first, ';' separated, with its
-- four weights: allocations, bytes allocated, bytes leaked (not freed at
-- the end) and bytes live at the heap peak.
-- Needs the trace's views: run `hak db import-trace TRACE` first.
--
-- Parameters: :trace  as in leaks.sql (program, path, file name, hash
--                     prefix of >= 4 digits, or a glob with * ? [); a
--                     pattern matching several traces adds up their stacks.
-- Usage: hak db query analysis/queries/flame.sql -p trace=python3
-- A folded file for flamegraph.pl (one weight; 'stack weight' lines):
--   sqlite3 hak.db "select stack || ' ' || alloc_bytes from trace_flame
--                   where trace_id = 1 and alloc_bytes > 0 order by stack"

SELECT f.stack, sum(f.allocs) AS allocs, sum(f.alloc_bytes) AS alloc_bytes,
       sum(f.leaked_bytes) AS leaked_bytes, sum(f.peak_bytes) AS peak_bytes
FROM trace_flame f
JOIN traces t ON t.id = f.trace_id
WHERE (t.id IN (SELECT trace_id FROM trace_keys WHERE key = :trace OR (:trace GLOB '*[*?[]*' AND key GLOB :trace))
     OR (length(:trace) >= 4 AND substr(t.hash, 1, length(:trace)) = :trace))
GROUP BY f.stack
ORDER BY f.stack;
