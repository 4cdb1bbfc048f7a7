-- 011_site_timeline.sql: schema version 11.  Memory over time per call
-- site (`hak trace timeline`; traces/lib/site_timeline.h): the live bytes
-- of a trace's top call sites at evenly spaced points in time, stored by
-- `hak db import-trace` for the report's stacked chart.  Documented in
-- analysis/schema.sql; query: analysis/queries/memory_over_time.sql.
CREATE TABLE trace_site_timeline (
  trace_id   INTEGER NOT NULL REFERENCES traces(id),
  point      INTEGER NOT NULL,
  ts_ns      INTEGER NOT NULL,
  rank       INTEGER NOT NULL,
  site       INTEGER,
  live_bytes INTEGER NOT NULL,
  PRIMARY KEY (trace_id, point, rank)
) WITHOUT ROWID;
