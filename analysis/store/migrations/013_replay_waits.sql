-- 013: registry rows (012) for what a recorded-threads replay stores about
-- its threads' waiting (replayer/worker/rp_wait.h), the first pass's.
INSERT OR IGNORE INTO metric_info(name, unit, better, description) VALUES
  ('replay.waits',  'count', 'lower', 'recorded threads: times a replay thread waited for another thread''s op (cross-thread dependencies not yet met)'),
  ('replay.sleeps', 'count', 'lower', 'recorded threads: waits that slept on a futex after spinning and yielding');
