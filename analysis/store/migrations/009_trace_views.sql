-- 009_trace_views.sql: schema version 9.  The memory-profiler views of
-- `hak trace leaks|peak|temporaries|flame` (traces/siteview.h: one
-- streaming pass, exact definitions there) stored per trace and per call
-- site by `hak db import-trace`, so the run history and `hak report` can
-- answer them: what leaked, who held the memory at the peak, which sites
-- make temporaries, and the flame graph's folded stacks.
-- Documented in analysis/schema.sql; queries in analysis/queries/.
CREATE TABLE trace_view_stats (
  trace_id        INTEGER PRIMARY KEY REFERENCES traces(id),
  leaked_blocks   INTEGER NOT NULL,
  leaked_bytes    INTEGER NOT NULL,
  peak_bytes      INTEGER NOT NULL,
  peak_blocks     INTEGER NOT NULL,
  peak_seq        INTEGER,
  peak_ns         INTEGER,
  rss_peak_bytes  INTEGER,
  rss_peak_ns     INTEGER,
  rss_heap_bytes  INTEGER,
  temporary       INTEGER NOT NULL,
  short_lived     INTEGER NOT NULL,
  short_events    INTEGER NOT NULL,
  unknown_frees   INTEGER NOT NULL
);
CREATE TABLE trace_site_views (
  trace_id      INTEGER NOT NULL REFERENCES traces(id),
  site          INTEGER NOT NULL,
  allocs        INTEGER NOT NULL,
  alloc_bytes   INTEGER NOT NULL,
  leaked_blocks INTEGER NOT NULL,
  leaked_bytes  INTEGER NOT NULL,
  leak_largest  INTEGER NOT NULL,
  peak_blocks   INTEGER NOT NULL,
  peak_bytes    INTEGER NOT NULL,
  rss_bytes     INTEGER,
  temporary     INTEGER NOT NULL,
  short_lived   INTEGER NOT NULL,
  PRIMARY KEY (trace_id, site)
) WITHOUT ROWID;
CREATE TABLE trace_flame (
  trace_id     INTEGER NOT NULL REFERENCES traces(id),
  stack        TEXT NOT NULL,
  allocs       INTEGER NOT NULL,
  alloc_bytes  INTEGER NOT NULL,
  leaked_bytes INTEGER NOT NULL,
  peak_bytes   INTEGER NOT NULL,
  PRIMARY KEY (trace_id, stack)
) WITHOUT ROWID;
