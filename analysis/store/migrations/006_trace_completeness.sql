-- 006_trace_completeness.sql: schema version 6.  A run is only as good as
-- its trace: one that was cut off (no end marker, e.g. a killed recording)
-- or that says the recorder lost events (loss records: out of memory, a
-- failed write...) is not the whole program, so its runs must not be
-- compared with runs of whole traces as if they were.  `hak replay` stores
-- what the reader found; `hak db compare` and `hak db best` leave runs of
-- such traces out unless --include-incomplete is given.  NULL: not known
-- (traces stored before version 6, or by a writer that does not say).
-- Documented in analysis/schema.sql.
ALTER TABLE traces ADD COLUMN completeness TEXT
  CHECK (completeness IN ('complete', 'truncated', 'incomplete'));
