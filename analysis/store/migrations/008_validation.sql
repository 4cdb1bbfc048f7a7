-- 008_validation.sql: schema version 8.  `hak validate` (issue 19): how
-- well replays of one recording predict the program itself under each
-- allocator.  Documented in analysis/schema.sql.
CREATE TABLE validations (
  id                 INTEGER PRIMARY KEY,
  uuid               TEXT NOT NULL UNIQUE,
  trace_id           INTEGER REFERENCES traces(id),
  machine_id         INTEGER REFERENCES machines(id),
  label              TEXT,
  runs_label         TEXT NOT NULL,
  command            TEXT NOT NULL,
  repeats            INTEGER NOT NULL,
  touch              TEXT,
  threads_mode       TEXT,
  sample_interval_ns INTEGER,
  created_at         TEXT NOT NULL
);
CREATE TABLE validation_values (
  validation_id INTEGER NOT NULL REFERENCES validations(id) ON DELETE CASCADE,
  alloc         TEXT NOT NULL,
  metric        TEXT NOT NULL,
  live          REAL,
  replay        REAL,
  ratio         REAL,
  live_n        INTEGER NOT NULL,
  replay_n      INTEGER NOT NULL,
  PRIMARY KEY (validation_id, alloc, metric)
) WITHOUT ROWID;
CREATE TABLE validation_rankings (
  validation_id INTEGER NOT NULL REFERENCES validations(id) ON DELETE CASCADE,
  metric        TEXT NOT NULL,
  tau           REAL,
  nallocs       INTEGER NOT NULL,
  PRIMARY KEY (validation_id, metric)
) WITHOUT ROWID;
