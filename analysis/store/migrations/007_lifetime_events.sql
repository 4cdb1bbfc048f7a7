-- 007_lifetime_events.sql: schema version 7.  Lifetimes in time are only as
-- fine as the recording's clock: at the recorder's default 1 ms resolution
-- most objects are allocated and freed within one tick and their lifetime
-- in time is "0 ns".  The lifetime in events (how many malloc/free events
-- of the whole program happened in between) is never quantised, so it is
-- stored too, and trace_stats says how fine the clock was.
-- Documented in analysis/schema.sql.
CREATE TABLE trace_lifetime_events_hist (
  trace_id  INTEGER NOT NULL REFERENCES traces(id),
  bucket    INTEGER NOT NULL,          -- 0.. in order of lifetime; -1 = never freed
  lo_events INTEGER,                   -- [lo, hi) events between alloc and free; NULL for -1
  hi_events INTEGER,
  objects   INTEGER NOT NULL,
  bytes     INTEGER NOT NULL,
  PRIMARY KEY (trace_id, bucket)
) WITHOUT ROWID;
ALTER TABLE trace_stats ADD COLUMN ts_resolution_ns INTEGER;  -- smallest non-zero gap between
                                                               -- event timestamps; NULL if none
