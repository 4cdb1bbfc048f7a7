-- 002_stats_views.sql: schema version 2.  Indexes for the `hak db` queries,
-- metric directions, trace statistics (`hak db import-trace`) and the views
-- over the common joins.  Documented in analysis/schema.sql.

CREATE INDEX runs_trace_build ON runs (trace_id, build_id);
CREATE INDEX runs_label       ON runs (label, trace_id);
CREATE INDEX runs_created     ON runs (created_at);
CREATE INDEX runs_sweep       ON runs (sweep_id) WHERE sweep_id IS NOT NULL;
CREATE INDEX runs_status      ON runs (status);
CREATE INDEX run_metrics_name ON run_metrics (name, run_id);

CREATE TABLE metric_info (
  name        TEXT PRIMARY KEY,
  unit        TEXT,
  better      TEXT NOT NULL CHECK (better IN ('higher', 'lower')),
  description TEXT
) WITHOUT ROWID;

INSERT INTO metric_info VALUES
  ('ops_per_s',         'ops/s', 'higher', 'operations replayed per second of wall time'),
  ('wall_ns',           'ns',    'lower',  'wall time of the measured window'),
  ('user_ns',           'ns',    'lower',  'user CPU time of the measured window'),
  ('sys_ns',            'ns',    'lower',  'system CPU time of the measured window'),
  ('ops',               'count', 'higher', 'operations replayed'),
  ('minor_faults',      'count', 'lower',  'minor page faults (getrusage)'),
  ('major_faults',      'count', 'lower',  'major page faults (getrusage)'),
  ('vol_ctxsw',         'count', 'lower',  'voluntary context switches'),
  ('invol_ctxsw',       'count', 'lower',  'involuntary context switches'),
  ('peak_rss_bytes',    'bytes', 'lower',  'peak resident set size'),
  ('final_rss_bytes',   'bytes', 'lower',  'resident set size at the end of the window'),
  ('lat_p50_ns',        'ns',    'lower',  'median per-operation latency'),
  ('lat_p99_ns',        'ns',    'lower',  '99th percentile per-operation latency'),
  ('lat_p999_ns',       'ns',    'lower',  '99.9th percentile per-operation latency'),
  ('fidelity',          'ratio', 'higher', 'RSS timeline similarity to the recording (1 = same)'),
  ('page-faults',       'count', 'lower',  'software page-fault counter (perf)'),
  ('cycles',            'count', 'lower',  'CPU cycles (perf, hardware)'),
  ('instructions',      'count', 'lower',  'instructions retired (perf, hardware)'),
  ('dTLB-load-misses',  'count', 'lower',  'data TLB load misses (perf, hardware)'),
  ('dTLB-store-misses', 'count', 'lower',  'data TLB store misses (perf, hardware)'),
  ('iTLB-load-misses',  'count', 'lower',  'instruction TLB misses (perf, hardware)'),
  ('sim.dtlb_misses',   'count', 'lower',  'simulated data TLB misses'),
  ('sim.stlb_misses',   'count', 'lower',  'simulated second-level TLB misses'),
  ('sim.page_faults',   'count', 'lower',  'simulated first-touch page faults');

CREATE TABLE trace_stats (
  trace_id        INTEGER PRIMARY KEY REFERENCES traces(id),
  imported_at     TEXT NOT NULL,
  allocs          INTEGER NOT NULL,
  frees           INTEGER NOT NULL,
  bytes_allocated INTEGER NOT NULL,
  peak_live_bytes INTEGER,
  sites           INTEGER NOT NULL,
  short_lived_ns  INTEGER NOT NULL,
  truncated       TEXT
);

CREATE TABLE trace_size_hist (
  trace_id INTEGER NOT NULL REFERENCES traces(id),
  lo_bytes INTEGER NOT NULL,
  hi_bytes INTEGER NOT NULL,
  allocs   INTEGER NOT NULL,
  bytes    INTEGER NOT NULL,
  PRIMARY KEY (trace_id, lo_bytes)
) WITHOUT ROWID;

CREATE TABLE trace_lifetime_hist (
  trace_id INTEGER NOT NULL REFERENCES traces(id),
  bucket   INTEGER NOT NULL,
  lo_ns    INTEGER,
  hi_ns    INTEGER,
  objects  INTEGER NOT NULL,
  bytes    INTEGER NOT NULL,
  PRIMARY KEY (trace_id, bucket)
) WITHOUT ROWID;

CREATE TABLE trace_sites (
  trace_id         INTEGER NOT NULL REFERENCES traces(id),
  site             INTEGER NOT NULL,
  symbol           TEXT,
  frames           TEXT,
  allocs           INTEGER NOT NULL,
  bytes            INTEGER NOT NULL,
  freed            INTEGER NOT NULL,
  short_lived      INTEGER NOT NULL,
  mean_lifetime_ns REAL,
  PRIMARY KEY (trace_id, site)
) WITHOUT ROWID;

CREATE TABLE trace_rss (
  trace_id  INTEGER NOT NULL REFERENCES traces(id),
  idx       INTEGER NOT NULL,
  t_ns      INTEGER NOT NULL,
  rss_bytes INTEGER NOT NULL,
  PRIMARY KEY (trace_id, idx)
) WITHOUT ROWID;

CREATE VIEW run_metric_values AS
  SELECT id AS run_id, 'ops_per_s' AS name, ops_per_s AS value, 'ops/s' AS unit, 'harness' AS source, NULL AS reason FROM runs
  UNION ALL SELECT id, 'wall_ns',         wall_ns,         'ns',    'harness', NULL FROM runs
  UNION ALL SELECT id, 'user_ns',         user_ns,         'ns',    'harness', NULL FROM runs
  UNION ALL SELECT id, 'sys_ns',          sys_ns,          'ns',    'harness', NULL FROM runs
  UNION ALL SELECT id, 'ops',             ops,             'count', 'harness', NULL FROM runs
  UNION ALL SELECT id, 'minor_faults',    minor_faults,    'count', 'harness', NULL FROM runs
  UNION ALL SELECT id, 'major_faults',    major_faults,    'count', 'harness', NULL FROM runs
  UNION ALL SELECT id, 'vol_ctxsw',       vol_ctxsw,       'count', 'harness', NULL FROM runs
  UNION ALL SELECT id, 'invol_ctxsw',     invol_ctxsw,     'count', 'harness', NULL FROM runs
  UNION ALL SELECT id, 'peak_rss_bytes',  peak_rss_bytes,  'bytes', 'harness', NULL FROM runs
  UNION ALL SELECT id, 'final_rss_bytes', final_rss_bytes, 'bytes', 'harness', NULL FROM runs
  UNION ALL SELECT id, 'lat_p50_ns',      lat_p50_ns,      'ns',    'harness', NULL FROM runs
  UNION ALL SELECT id, 'lat_p99_ns',      lat_p99_ns,      'ns',    'harness', NULL FROM runs
  UNION ALL SELECT id, 'lat_p999_ns',     lat_p999_ns,     'ns',    'harness', NULL FROM runs
  UNION ALL SELECT id, 'fidelity',        fidelity,        'ratio', 'harness', NULL FROM runs
  UNION ALL SELECT run_id, name, value, unit, source, reason FROM run_metrics;

CREATE VIEW run_summary AS
  SELECT r.id AS run_id, r.uuid, r.created_at, r.started_at, r.label, r.kind,
         r.status, r.error,
         r.trace_id, t.program AS trace, t.hash AS trace_hash,
         r.build_id, b.name AS alloc, b.hash AS build_hash, b.version AS build_version,
         r.machine_id, m.hostname,
         r.env, b.name || CASE WHEN r.env <> '' THEN ' ' || r.env ELSE '' END AS setting,
         r.config, r.threads_mode, r.touch, r.pace, r.repeat_idx, r.sweep_id,
         r.wall_ns, r.user_ns, r.sys_ns, r.ops, r.ops_per_s,
         r.minor_faults, r.major_faults, r.vol_ctxsw, r.invol_ctxsw,
         r.peak_rss_bytes, r.final_rss_bytes,
         r.lat_p50_ns, r.lat_p99_ns, r.lat_p999_ns, r.addr_digest, r.fidelity,
         (SELECT value FROM run_metrics x WHERE x.run_id = r.id AND x.name = 'page-faults')       AS page_faults,
         (SELECT value FROM run_metrics x WHERE x.run_id = r.id AND x.name = 'cycles')            AS cycles,
         (SELECT value FROM run_metrics x WHERE x.run_id = r.id AND x.name = 'instructions')      AS instructions,
         (SELECT value FROM run_metrics x WHERE x.run_id = r.id AND x.name = 'dTLB-load-misses')  AS dtlb_load_misses,
         (SELECT value FROM run_metrics x WHERE x.run_id = r.id AND x.name = 'dTLB-store-misses') AS dtlb_store_misses,
         (SELECT value FROM run_metrics x WHERE x.run_id = r.id AND x.name = 'iTLB-load-misses')  AS itlb_load_misses,
         (SELECT value FROM run_metrics x WHERE x.run_id = r.id AND x.name = 'sim.dtlb_misses')   AS sim_dtlb_misses
  FROM runs r
  JOIN traces t   ON t.id = r.trace_id
  JOIN builds b   ON b.id = r.build_id
  JOIN machines m ON m.id = r.machine_id;
