-- schema.sql - the hakmem run-history database (./hak.db), documented.
--
-- This file is the reference for readers writing SQL against hak.db; the
-- database itself is created and upgraded by the numbered migrations in
-- analysis/migrations/ (embedded into `hak` at build time and applied by
-- hakdb_open).  The current schema version is the highest migration number;
-- it is stored in PRAGMA user_version, and PRAGMA application_id is
-- 0x48414B4D ('HAKM') so a hakmem database is recognisable.  A test
-- (analysis/tests/test_hakdb.c) checks that this file and the migrations
-- produce the same tables, columns and views.
--
-- Conventions for every table:
--  * Times of day are TEXT, ISO-8601 UTC with milliseconds
--    ('2026-11-25T18:01:02.345Z'); durations are INTEGER nanoseconds (_ns);
--    sizes are INTEGER bytes (_bytes); counts are INTEGER.
--  * NULL means "not measured / not known", never zero.  A measured zero is
--    stored as 0.  Where a figure could not be measured, run_metrics keeps
--    the reason.
--  * traces, builds and machines are keyed by content hashes; runs and
--    sweeps by random UUIDs.  `hak db merge` uses those keys to combine
--    databases from several machines without duplicates.
-- Schema version: 15.

------------------------------------------------------------------------
-- traces: one row per distinct trace file (by content).
CREATE TABLE traces (
  id          INTEGER PRIMARY KEY,  -- local row id (differs between databases)
  hash        TEXT NOT NULL UNIQUE, -- content hash of the file (hak_hash_file, 16 hex digits)
  path        TEXT,                 -- path it was first read from; NULL if unknown
  program     TEXT,                 -- argv[0] of the recorded program, or the synth name
  events      INTEGER,              -- events in the trace; NULL if unknown
  threads     INTEGER,              -- threads seen in the trace; NULL if unknown
  duration_ns INTEGER,              -- recorded duration (last - first timestamp), ns; NULL if unknown
  file_bytes  INTEGER,              -- file size in bytes
  meta_json   TEXT,                 -- full header metadata as JSON; NULL if not given
  created_at  TEXT NOT NULL,        -- when this row was first inserted
  -- what the trace reader found (schema version 6): 'complete'; 'truncated'
  -- (cut off or damaged: only a prefix was replayed); 'incomplete' (the
  -- trace holds loss records: the recorder lost events, whether or not it
  -- is also cut off).  Runs of a trace that is not 'complete' are left out
  -- of `hak db compare` and `hak db best` unless --include-incomplete.
  -- NULL: not known (stored before version 6).
  completeness TEXT CHECK (completeness IN ('complete', 'truncated', 'incomplete'))
);

------------------------------------------------------------------------
-- builds: an allocator build that runs were made against.
CREATE TABLE builds (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,   -- 'hakmem', 'glibc', 'mimalloc', 'hakmem@abc123', or a .so basename
  path       TEXT,            -- the .so preloaded; NULL for glibc (nothing preloaded)
  hash       TEXT NOT NULL,   -- content hash of the .so; 'glibc-<version>' for glibc
  version    TEXT,            -- the allocator's own version/build-id string; NULL if it offers none
  created_at TEXT NOT NULL,
  UNIQUE (hash, name)         -- same bytes under the same name = same build
);

------------------------------------------------------------------------
-- machines: where runs were made.  Detected by hakdb_upsert_machine().
CREATE TABLE machines (
  id         INTEGER PRIMARY KEY,
  hash       TEXT NOT NULL UNIQUE, -- hash over every column below (+ /etc/machine-id)
  hostname   TEXT,
  cpu_model  TEXT,                 -- /proc/cpuinfo 'model name'; NULL if absent
  cores      INTEGER,              -- online CPUs
  mem_bytes  INTEGER,              -- physical memory, bytes
  page_size  INTEGER,              -- base page size, bytes
  kernel     TEXT,                 -- uname -r
  thp_mode   TEXT,                 -- transparent hugepages 'always'|'madvise'|'never'; NULL if no THP
  thp_defrag TEXT,                 -- THP defrag mode; NULL if no THP
  counters   TEXT,                 -- comma-separated perf counters that opened, '' if none
  created_at TEXT NOT NULL
);

-- machine_counters: for every perf counter the replayer reads, whether
-- perf_event_open could open it on this machine and, if not, why.
CREATE TABLE machine_counters (
  machine_id INTEGER NOT NULL REFERENCES machines(id),
  name       TEXT NOT NULL,        -- 'page-faults', 'cycles', 'dTLB-load-misses', ...
  available  INTEGER NOT NULL CHECK (available IN (0, 1)),
  reason     TEXT,                 -- NULL when available; e.g. 'perf_event_open: ENOENT (no hardware PMU)'
  PRIMARY KEY (machine_id, name)
) WITHOUT ROWID;

------------------------------------------------------------------------
-- sweeps: one invocation that ran a grid of settings (e.g. `hak sweep`).
CREATE TABLE sweeps (
  id         INTEGER PRIMARY KEY,
  uuid       TEXT NOT NULL UNIQUE, -- random, for merging
  command    TEXT,                 -- the command line
  grid       TEXT,                 -- the grid swept, free text or JSON
  created_at TEXT NOT NULL
);

------------------------------------------------------------------------
-- runs: one replay (kind 'measured') or simulation (kind 'simulated') of a
-- trace against a build on a machine.  Every figure covers the measured
-- window only (the replay loop).  NULL = not measured (e.g. a failed run).
CREATE TABLE runs (
  id              INTEGER PRIMARY KEY,
  uuid            TEXT NOT NULL UNIQUE,  -- random 128-bit hex; identity across merged databases
  trace_id        INTEGER NOT NULL REFERENCES traces(id),
  build_id        INTEGER NOT NULL REFERENCES builds(id),
  machine_id      INTEGER NOT NULL REFERENCES machines(id),
  sweep_id        INTEGER REFERENCES sweeps(id),   -- NULL when not part of a sweep
  kind            TEXT NOT NULL CHECK (kind IN ('measured', 'simulated')),
  label           TEXT,             -- --label; NULL when none given
  env             TEXT NOT NULL DEFAULT '',  -- knobs set, 'K=V K=V' sorted by key; '' = defaults
  config          TEXT,             -- the allocator's effective configuration; NULL if not reported
  threads_mode    TEXT,             -- 'serial' | 'recorded'
  touch           TEXT,             -- 'none' | 'first' | 'pages' | 'all'
  pace            TEXT,             -- 'asap' | 'recorded' | 'recorded:F' (gaps times F)
                                    -- | 'program:Dms' (recorder's cost per op taken off to last D)
  repeat_idx      INTEGER,          -- 0-based index within --repeat
  status          TEXT NOT NULL
                  CHECK (status IN ('ok', 'crashed', 'timeout', 'load_failed', 'error')),
  error           TEXT,             -- reason when status <> 'ok', else NULL
  wall_ns         INTEGER,          -- wall time, ns
  user_ns         INTEGER,          -- user CPU, ns
  sys_ns          INTEGER,          -- system CPU, ns
  ops             INTEGER,          -- operations replayed
  ops_per_s       REAL,             -- ops / wall seconds
  minor_faults    INTEGER,          -- getrusage minor faults
  major_faults    INTEGER,          -- getrusage major faults
  vol_ctxsw       INTEGER,          -- voluntary context switches
  invol_ctxsw     INTEGER,          -- involuntary context switches
  peak_rss_bytes  INTEGER,          -- peak RSS, bytes
  final_rss_bytes INTEGER,          -- RSS at the end of the window, bytes
  lat_p50_ns      INTEGER,          -- per-operation latency percentiles (sampled), ns
  lat_p99_ns      INTEGER,
  lat_p999_ns     INTEGER,
  addr_digest     TEXT,             -- digest of returned addresses (serial mode); NULL otherwise
  fidelity        REAL,             -- RSS timeline similarity to the recording, 0..1; NULL if no recording
  started_at      TEXT NOT NULL,    -- when the run started (insertion time if the writer did not say)
  created_at      TEXT NOT NULL,    -- when the row was inserted
  alloc_spec      TEXT              -- the --alloc value as given ('hakmem@HEAD~50'); NULL if
                                    -- not recorded (before schema 5, or not given by name)
);
CREATE INDEX runs_trace_build ON runs (trace_id, build_id);
CREATE INDEX runs_label       ON runs (label, trace_id);
CREATE INDEX runs_created     ON runs (created_at);
CREATE INDEX runs_sweep       ON runs (sweep_id) WHERE sweep_id IS NOT NULL;
CREATE INDEX runs_status      ON runs (status);
-- covering index for the per-setting questions (best, compare, report)
CREATE INDEX runs_headline ON runs (trace_id, build_id, env, status, label, kind, sweep_id,
                                    ops_per_s, minor_faults, peak_rss_bytes);

-- run_metrics: every further figure of a run, one row per (run, name):
-- perf counters, the allocator's own statistics, simulator output.
CREATE TABLE run_metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name   TEXT NOT NULL,   -- 'cycles', 'dTLB-load-misses', 'alloc.bytes_mapped', 'sim.dtlb_misses'
  value  REAL,            -- NULL = could not be measured (see reason); never 0 for "unknown"
  unit   TEXT,            -- 'count', 'bytes', 'ns', ...
  source TEXT,            -- 'hw' | 'sw' (perf) | 'alloc' | 'sim' | 'derived'
  reason TEXT,            -- why value is NULL, e.g. 'perf_event_open: ENOENT (no hardware PMU)'
  PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE INDEX run_metrics_name ON run_metrics (name, run_id);

-- timelines: a run's RSS and live-bytes samples over the window.
CREATE TABLE timelines (
  run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  idx        INTEGER NOT NULL,  -- sample number, 0-based
  t_ns       INTEGER NOT NULL,  -- ns since the window started
  rss_bytes  INTEGER,           -- NULL if not sampled
  live_bytes INTEGER,           -- bytes the trace holds live at t_ns; NULL if not known
  PRIMARY KEY (run_id, idx)
) WITHOUT ROWID;

------------------------------------------------------------------------
-- metric_info: which way is better for each metric name, so `hak db best`
-- and `compare` are direction-aware.  Names not listed are treated as
-- lower-is-better (counts of misses, faults, bytes).  Its rows (ops_per_s
-- higher, faults/RSS/misses lower, ...) are inserted by migration 002.
CREATE TABLE metric_info (
  name        TEXT PRIMARY KEY,
  unit        TEXT,
  better      TEXT NOT NULL CHECK (better IN ('higher', 'lower')),
  description TEXT
) WITHOUT ROWID;

------------------------------------------------------------------------
-- Trace statistics, loaded by `hak db import-trace TRACE`.
-- trace_stats: totals of an imported trace.
CREATE TABLE trace_stats (
  trace_id        INTEGER PRIMARY KEY REFERENCES traces(id),
  imported_at     TEXT NOT NULL,
  allocs          INTEGER NOT NULL,   -- successful allocations (incl. realloc results)
  frees           INTEGER NOT NULL,   -- frees of known objects (incl. realloc inputs)
  bytes_allocated INTEGER NOT NULL,   -- sum of requested bytes
  peak_live_bytes INTEGER,            -- max of requested bytes live at once
  sites           INTEGER NOT NULL,   -- distinct call sites seen (0 = none captured)
  short_lived_ns  INTEGER NOT NULL,   -- threshold used for trace_sites.short_lived, ns
  truncated       TEXT,               -- NULL, or why the reader stopped early
  ts_resolution_ns INTEGER            -- the recording clock's resolution: the trace's
                                      -- declared time unit when it has one (ts_unit_ns > 1),
                                      -- else the smallest non-zero gap between event
                                      -- timestamps; NULL if fewer than two events
);

-- trace_size_hist: allocations by requested size, power-of-two buckets
-- [lo_bytes, hi_bytes); the 0-byte bucket is [0, 1).
CREATE TABLE trace_size_hist (
  trace_id INTEGER NOT NULL REFERENCES traces(id),
  lo_bytes INTEGER NOT NULL,
  hi_bytes INTEGER NOT NULL,
  allocs   INTEGER NOT NULL,
  bytes    INTEGER NOT NULL,          -- requested bytes in the bucket
  PRIMARY KEY (trace_id, lo_bytes)
) WITHOUT ROWID;

-- trace_lifetime_hist: objects by lifetime (free ts - alloc ts), power-of-two
-- ns buckets [lo_ns, hi_ns).  lo_ns and hi_ns are NULL for the bucket of
-- objects never freed (still live at the end of the trace).
CREATE TABLE trace_lifetime_hist (
  trace_id INTEGER NOT NULL REFERENCES traces(id),
  bucket   INTEGER NOT NULL,          -- 0.. in order of lifetime; -1 = never freed
  lo_ns    INTEGER,
  hi_ns    INTEGER,
  objects  INTEGER NOT NULL,
  bytes    INTEGER NOT NULL,
  PRIMARY KEY (trace_id, bucket)
) WITHOUT ROWID;

-- trace_lifetime_events_hist: objects by lifetime in events (how many of
-- the program's malloc/free events happened between the allocation and the
-- free, 1 = freed by the next event), power-of-two buckets [lo, hi).  Not
-- quantised like lifetimes in time, which at a coarse recording clock
-- (trace_stats.ts_resolution_ns, 1 ms by default) are mostly 0 ns.
CREATE TABLE trace_lifetime_events_hist (
  trace_id  INTEGER NOT NULL REFERENCES traces(id),
  bucket    INTEGER NOT NULL,          -- 0.. in order of lifetime; -1 = never freed
  lo_events INTEGER,                   -- [lo, hi) events between alloc and free; NULL for -1
  hi_events INTEGER,
  objects   INTEGER NOT NULL,
  bytes     INTEGER NOT NULL,
  PRIMARY KEY (trace_id, bucket)
) WITHOUT ROWID;

-- trace_sites: per call site (the recorder's deduplicated stacks).
CREATE TABLE trace_sites (
  trace_id         INTEGER NOT NULL REFERENCES traces(id),
  site             INTEGER NOT NULL,  -- site id in the trace; 0 = unknown / not captured
  symbol           TEXT,              -- innermost frame outside the allocator, symbolised
                                      -- ('func+0x1c (libfoo.so)') or 'module+0xoff'; NULL if no stack
  frames           TEXT,              -- the whole stack, ' <- ' separated, innermost first
  allocs           INTEGER NOT NULL,
  bytes            INTEGER NOT NULL,  -- requested bytes
  freed            INTEGER NOT NULL,  -- objects from this site freed in the trace
  short_lived      INTEGER NOT NULL,  -- objects freed within trace_stats.short_lived_ns
  mean_lifetime_ns REAL,              -- over freed objects; NULL if none freed
  PRIMARY KEY (trace_id, site)
) WITHOUT ROWID;

-- trace_rss: the RSS timeline recorded from the original program.
CREATE TABLE trace_rss (
  trace_id  INTEGER NOT NULL REFERENCES traces(id),
  idx       INTEGER NOT NULL,
  t_ns      INTEGER NOT NULL,         -- ns since the trace started
  rss_bytes INTEGER NOT NULL,
  PRIMARY KEY (trace_id, idx)
) WITHOUT ROWID;

-- The memory-profiler views (migration 009), stored by `hak db
-- import-trace` from one streaming pass (traces/siteview.h, whose header
-- pins the definitions; `hak trace leaks|peak|temporaries|flame` print
-- the same figures).  Questions: analysis/queries/leaks.sql,
-- peak_consumers.sql, temporaries.sql, flame.sql.

-- trace_view_stats: the views' totals, one row per imported trace.
CREATE TABLE trace_view_stats (
  trace_id        INTEGER PRIMARY KEY REFERENCES traces(id),
  leaked_blocks   INTEGER NOT NULL,   -- blocks not freed by the end of the trace
  leaked_bytes    INTEGER NOT NULL,   -- their requested bytes (reachability not examined)
  peak_bytes      INTEGER NOT NULL,   -- live requested bytes at the heap peak
  peak_blocks     INTEGER NOT NULL,   -- live blocks then
  peak_seq        INTEGER,            -- the first event after which the peak is reached;
                                      -- NULL if nothing was allocated
  peak_ns         INTEGER,            -- its time since the trace started
  rss_peak_bytes  INTEGER,            -- the largest RSS sample; NULL without samples
  rss_peak_ns     INTEGER,            -- its time
  rss_heap_bytes  INTEGER,            -- live heap bytes at that sample
  temporary       INTEGER NOT NULL,   -- blocks freed with no other allocation or free
                                      -- in between (heaptrack's definition, global order)
  short_lived     INTEGER NOT NULL,   -- freed blocks living <= short_events events
  short_events    INTEGER NOT NULL,   -- the threshold of short_lived
  unknown_frees   INTEGER NOT NULL    -- frees of addresses not live (double or foreign frees)
);

-- trace_site_views: the views per call site (join trace_sites on
-- (trace_id, site) for the symbol and the stack).
CREATE TABLE trace_site_views (
  trace_id      INTEGER NOT NULL REFERENCES traces(id),
  site          INTEGER NOT NULL,     -- site id in the trace; 0 = no stack recorded
  allocs        INTEGER NOT NULL,     -- blocks born here (realloc results too)
  alloc_bytes   INTEGER NOT NULL,     -- their requested bytes
  leaked_blocks INTEGER NOT NULL,     -- of those, not freed by the end of the trace
  leaked_bytes  INTEGER NOT NULL,
  leak_largest  INTEGER NOT NULL,     -- the largest leaked block's bytes
  peak_blocks   INTEGER NOT NULL,     -- live here at the heap peak (trace_view_stats.peak_seq)
  peak_bytes    INTEGER NOT NULL,
  rss_bytes     INTEGER,              -- live here at the peak RSS sample; NULL without samples
  temporary     INTEGER NOT NULL,     -- temporary blocks born here (as trace_view_stats)
  short_lived   INTEGER NOT NULL,
  PRIMARY KEY (trace_id, site)
) WITHOUT ROWID;

-- trace_flame: folded stacks, the input of flame graphs (hak trace flame):
-- one row per distinct stack of function names, root first, ';' separated
-- (';' inside a name becomes ':'); the innermost 128 frames at most.  The
-- weights: allocations, their bytes, bytes leaked, bytes live at the peak.
CREATE TABLE trace_flame (
  trace_id     INTEGER NOT NULL REFERENCES traces(id),
  stack        TEXT NOT NULL,         -- 'main;parse;read_block;xmalloc'
  allocs       INTEGER NOT NULL,
  alloc_bytes  INTEGER NOT NULL,
  leaked_bytes INTEGER NOT NULL,
  peak_bytes   INTEGER NOT NULL,
  PRIMARY KEY (trace_id, stack)
) WITHOUT ROWID;

-- trace_site_timeline: memory over time per call site (migration 011;
-- hak trace timeline, traces/lib/site_timeline.h): the live requested
-- bytes of the trace's top call sites (those with the largest live bytes
-- at any moment of their own) at evenly spaced points of its time, for a
-- stacked area chart.  Point p of N is the state after every event up to
-- (p+1)/N of the trace's time; the last is the end of the trace.  At each
-- point the rows add up to the live heap.  A second streaming pass at
-- import (the first ranks the sites).
CREATE TABLE trace_site_timeline (
  trace_id   INTEGER NOT NULL REFERENCES traces(id),
  point      INTEGER NOT NULL,        -- 0 .. N-1
  ts_ns      INTEGER NOT NULL,        -- the point's time since the trace started
  rank       INTEGER NOT NULL,        -- 1 .. top: the site's rank by its own maximum;
                                      -- 0: every other site together ('other')
  site       INTEGER,                 -- trace_sites.site of the ranked site; NULL for 'other'
  live_bytes INTEGER NOT NULL,        -- live requested bytes of the site (or the others) then
  PRIMARY KEY (trace_id, point, rank)
) WITHOUT ROWID;

------------------------------------------------------------------------
-- Replay validity (`hak validate`, schema 8): does replaying one recording
-- predict what the program itself does under each allocator?
-- validations: one `hak validate` invocation: the program run live under
-- each allocator (--repeat times, interleaved), recorded once, the
-- recording replayed under the same allocators (runs with label
-- runs_label, so every replay figure is also in runs/run_metrics).
CREATE TABLE validations (
  id                 INTEGER PRIMARY KEY,
  uuid               TEXT NOT NULL UNIQUE,  -- random 128-bit hex
  trace_id           INTEGER REFERENCES traces(id),   -- the recording; NULL if no replay stored
  machine_id         INTEGER REFERENCES machines(id),
  label              TEXT,                  -- --label; NULL when none given
  runs_label         TEXT NOT NULL,         -- runs.label of its replays: 'validate-' || uuid prefix
  command            TEXT NOT NULL,         -- program and arguments, space-separated
  repeats            INTEGER NOT NULL,      -- live runs and replays per allocator
  touch              TEXT,                  -- replay --touch; 'auto:X' = auto, which chose X
  threads_mode       TEXT,                  -- replay --threads ('recorded' | 'serial')
  sample_interval_ns INTEGER,               -- live heap RSS sampling period
  created_at         TEXT NOT NULL,
  pace               TEXT,                  -- (14) pace of the replays whose heap and faults are
                                            -- compared: 'asap' | 'program:Dms' (D: the live
                                            -- glibc median) | 'recorded[:F]'; replayed time is
                                            -- the asap replays'.  NULL: before 14 (asap)
  recordings         INTEGER                -- (15) recordings made (hak validate --recordings),
                                            -- each replayed `repeats` times per allocator;
                                            -- trace_id is the first's.  NULL: before 15 (1)
);
-- validation_values: per allocator and metric, the live and replayed
-- medians.  Metrics: 'peak_heap_rss_bytes', 'final_heap_rss_bytes'
-- (heap-only RSS: [heap] + private anonymous memory, without .bss, stacks,
-- files, shared memory; live: sampled from /proc/PID/smaps every
-- sample_interval_ns, final = last sample; replay: heap.* run_metrics),
-- 'minor_faults' (live: the whole program; replay: the replay window),
-- 'heap_minor_faults' (live: those of the program's faults whose address
-- lies in its heap mappings, as heap-only RSS counts them, sampled with
-- perf; NULL where perf was refused or dropped samples; replay: the replay
-- window's, all of them allocation work),
-- 'wall_ns' (live: the whole program; replay: the allocation work alone).
CREATE TABLE validation_values (
  validation_id INTEGER NOT NULL REFERENCES validations(id) ON DELETE CASCADE,
  alloc         TEXT NOT NULL,      -- the --alloc name: glibc, hakmem, mimalloc, ...
  metric        TEXT NOT NULL,
  live          REAL,               -- median of the live runs; NULL = not measured
  replay        REAL,               -- median of the replays; NULL = not measured
  ratio         REAL,               -- replay / live; NULL when either is NULL or live = 0
  live_n        INTEGER NOT NULL,   -- runs behind each median
  replay_n      INTEGER NOT NULL,
  live_min      REAL,               -- (14) range of the runs behind each median: the
  live_max      REAL,               --   run-to-run spread (allocators whose runs
  replay_min    REAL,               --   overlap tie in the ranking); NULL before 14
  replay_max    REAL,
  PRIMARY KEY (validation_id, alloc, metric)
) WITHOUT ROWID;
-- validation_rankings: per metric, whether the replays rank the allocators
-- as the live runs do: Kendall's tau-b between the two orders (1 = same
-- order, -1 = reversed, NULL = undefined: fewer than 2 allocators or all tied).
CREATE TABLE validation_rankings (
  validation_id INTEGER NOT NULL REFERENCES validations(id) ON DELETE CASCADE,
  metric        TEXT NOT NULL,
  tau           REAL,
  nallocs       INTEGER NOT NULL,   -- allocators with both medians
  PRIMARY KEY (validation_id, metric)
) WITHOUT ROWID;

------------------------------------------------------------------------
-- Views.
-- run_metric_values: every figure of every run as (run_id, name, value,
-- unit, source, reason): the runs columns under their column names plus all
-- of run_metrics.  `hak db best/compare --metric M` read this.
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

-- trace_names: each trace's display name: the recorded program's base name,
-- or the file name for synthetic traces (whose program is the generator,
-- 'hak trace synth'), else the hash.  What `hak db` and `hak report` show.
CREATE VIEW trace_names AS
  SELECT t.id AS trace_id,
         coalesce(CASE WHEN t.program IS NULL OR t.program LIKE 'hak %' OR t.program = 'unknown'
                       THEN replace(t.path, rtrim(t.path, replace(t.path, '/', '')), '')
                       ELSE replace(t.program, rtrim(t.program, replace(t.program, '/', '')), '')
                  END, t.hash) AS name
  FROM traces t;

-- trace_keys: every name a trace answers to (its hash, display name,
-- program and path, the last two also by base name), for exact --trace
-- and -p trace= filters: t.id IN (SELECT trace_id FROM trace_keys WHERE key = :trace).
CREATE VIEW trace_keys AS
  SELECT id AS trace_id, hash AS key FROM traces
  UNION SELECT trace_id, name FROM trace_names
  UNION SELECT id, program FROM traces WHERE program IS NOT NULL
  UNION SELECT id, replace(program, rtrim(program, replace(program, '/', '')), '') FROM traces WHERE program IS NOT NULL
  UNION SELECT id, path FROM traces WHERE path IS NOT NULL
  UNION SELECT id, replace(path, rtrim(path, replace(path, '/', '')), '') FROM traces WHERE path IS NOT NULL;

-- run_summary: one row per run with its trace, build and machine joined in
-- and the common counters pivoted into columns (NULL = not measured).
-- trace is the display name (trace_names); trace_program the full program.
-- `setting` is the allocator name, its knobs and its mode
-- ('hakmem HAKMEM_HUGEPAGE=madvise threads=serial'); `mode` is the mode
-- alone: threads=serial|recorded (when stored), then touch=X unless 'pages', pace=recorded
-- if so, and 'sim' for simulated runs.  Runs of different settings are
-- never merged by `hak db best`, `compare` or `hak report`.
CREATE VIEW run_summary AS
  SELECT r.id AS run_id, r.uuid, r.created_at, r.started_at, r.label, r.kind,
         r.status, r.error,
         r.trace_id, tn.name AS trace, t.program AS trace_program, t.path AS trace_path,
         t.hash AS trace_hash,
         r.build_id, b.name AS alloc, b.hash AS build_hash, b.version AS build_version,
         r.machine_id, m.hostname,
         r.env, r.alloc_spec,
         rtrim(b.name || CASE WHEN r.env <> '' THEN ' ' || r.env ELSE '' END || ' '
           || ltrim(coalesce(' threads=' || r.threads_mode, '')
           || CASE WHEN r.touch IS NOT NULL AND r.touch <> 'pages' THEN ' touch=' || r.touch ELSE '' END
           || CASE WHEN coalesce(r.pace, 'asap') <> 'asap' THEN ' pace=' || r.pace ELSE '' END
           || CASE WHEN r.kind = 'simulated' THEN ' sim' ELSE '' END)) AS setting,
         ltrim(coalesce(' threads=' || r.threads_mode, '')
           || CASE WHEN r.touch IS NOT NULL AND r.touch <> 'pages' THEN ' touch=' || r.touch ELSE '' END
           || CASE WHEN coalesce(r.pace, 'asap') <> 'asap' THEN ' pace=' || r.pace ELSE '' END
           || CASE WHEN r.kind = 'simulated' THEN ' sim' ELSE '' END) AS mode,
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
  JOIN traces t      ON t.id = r.trace_id
  JOIN trace_names tn ON tn.trace_id = r.trace_id
  JOIN builds b      ON b.id = r.build_id
  JOIN machines m    ON m.id = r.machine_id;
