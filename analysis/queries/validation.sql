-- validation.sql: how well replays predicted the program itself, from
-- `hak validate`: per validation (newest first), allocator and metric, the
-- live and replayed medians, their ratio (1 = predicted exactly) and
-- Kendall's tau-b of the allocators' order by that metric (1 = the replay
-- ranks the allocators as the live runs do).  Live faults and time are the
-- whole program's, replayed ones the allocation work's (schema.sql).  pace:
-- that of the replays whose heap and faults are compared (time is always
-- from replays as fast as possible); live_range and replay_range: min..max
-- of the runs behind each median; recordings: how many were made, each
-- replayed `repeats` times (replay_n counts them all).
--
-- Parameters: none.
-- Usage: hak db query analysis/queries/validation.sql
SELECT v.id AS validation, v.command, v.touch, coalesce(v.pace, 'asap') AS pace, v.repeats,
       coalesce(v.recordings, 1) AS recordings,
       x.alloc, x.metric, x.live, x.replay, round(x.ratio, 3) AS ratio,
       x.live_min || '..' || x.live_max AS live_range,
       x.replay_min || '..' || x.replay_max AS replay_range,
       round(k.tau, 2) AS tau, k.nallocs
FROM validations v
JOIN validation_values x ON x.validation_id = v.id
LEFT JOIN validation_rankings k ON k.validation_id = v.id AND k.metric = x.metric
ORDER BY v.id DESC, x.metric, x.alloc;
