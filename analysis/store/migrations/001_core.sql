-- 001_core.sql: schema version 1, the core run history.
-- Documented column by column in analysis/schema.sql (keep the two in step:
-- analysis/tests/test_hakdb.c checks that schema.sql and the migrations
-- produce the same tables, columns and views).

CREATE TABLE traces (
  id          INTEGER PRIMARY KEY,
  hash        TEXT NOT NULL UNIQUE,
  path        TEXT,
  program     TEXT,
  events      INTEGER,
  threads     INTEGER,
  duration_ns INTEGER,
  file_bytes  INTEGER,
  meta_json   TEXT,
  created_at  TEXT NOT NULL
);

CREATE TABLE builds (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  path       TEXT,
  hash       TEXT NOT NULL,
  version    TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (hash, name)
);

CREATE TABLE machines (
  id         INTEGER PRIMARY KEY,
  hash       TEXT NOT NULL UNIQUE,
  hostname   TEXT,
  cpu_model  TEXT,
  cores      INTEGER,
  mem_bytes  INTEGER,
  page_size  INTEGER,
  kernel     TEXT,
  thp_mode   TEXT,
  thp_defrag TEXT,
  counters   TEXT,
  created_at TEXT NOT NULL
);

CREATE TABLE machine_counters (
  machine_id INTEGER NOT NULL REFERENCES machines(id),
  name       TEXT NOT NULL,
  available  INTEGER NOT NULL CHECK (available IN (0, 1)),
  reason     TEXT,
  PRIMARY KEY (machine_id, name)
) WITHOUT ROWID;

CREATE TABLE sweeps (
  id         INTEGER PRIMARY KEY,
  uuid       TEXT NOT NULL UNIQUE,
  command    TEXT,
  grid       TEXT,
  created_at TEXT NOT NULL
);

CREATE TABLE runs (
  id              INTEGER PRIMARY KEY,
  uuid            TEXT NOT NULL UNIQUE,
  trace_id        INTEGER NOT NULL REFERENCES traces(id),
  build_id        INTEGER NOT NULL REFERENCES builds(id),
  machine_id      INTEGER NOT NULL REFERENCES machines(id),
  sweep_id        INTEGER REFERENCES sweeps(id),
  kind            TEXT NOT NULL CHECK (kind IN ('measured', 'simulated')),
  label           TEXT,
  env             TEXT NOT NULL DEFAULT '',
  config          TEXT,
  threads_mode    TEXT,
  touch           TEXT,
  pace            TEXT,
  repeat_idx      INTEGER,
  status          TEXT NOT NULL
                  CHECK (status IN ('ok', 'crashed', 'timeout', 'load_failed', 'error')),
  error           TEXT,
  wall_ns         INTEGER,
  user_ns         INTEGER,
  sys_ns          INTEGER,
  ops             INTEGER,
  ops_per_s       REAL,
  minor_faults    INTEGER,
  major_faults    INTEGER,
  vol_ctxsw       INTEGER,
  invol_ctxsw     INTEGER,
  peak_rss_bytes  INTEGER,
  final_rss_bytes INTEGER,
  lat_p50_ns      INTEGER,
  lat_p99_ns      INTEGER,
  lat_p999_ns     INTEGER,
  addr_digest     TEXT,
  fidelity        REAL,
  started_at      TEXT NOT NULL,
  created_at      TEXT NOT NULL
);

CREATE TABLE run_metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name   TEXT NOT NULL,
  value  REAL,
  unit   TEXT,
  source TEXT,
  reason TEXT,
  PRIMARY KEY (run_id, name)
) WITHOUT ROWID;

CREATE TABLE timelines (
  run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  idx        INTEGER NOT NULL,
  t_ns       INTEGER NOT NULL,
  rss_bytes  INTEGER,
  live_bytes INTEGER,
  PRIMARY KEY (run_id, idx)
) WITHOUT ROWID;
