-- 004_headline_index.sql: schema version 4.  A covering index over the
-- figures `hak db best`, `compare` and `hak report` read for every run
-- (ops/s, minor faults, peak RSS) grouped by trace, build and knobs, so
-- those questions are answered from the index without reading whole runs
-- rows: about 2x less work on a 100k-run history (bench/db.bench.sh).
CREATE INDEX runs_headline ON runs (trace_id, build_id, env, status, label, kind, sweep_id,
                                    ops_per_s, minor_faults, peak_rss_bytes);
