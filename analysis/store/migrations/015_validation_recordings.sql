-- 015_validation_recordings.sql: schema version 15.
--  * validations.recordings: how many recordings a validation made (`hak
--    validate --recordings N`), each replayed `repeats` times per
--    allocator; the replayed medians and ranges are over all of them.  A
--    multi-threaded program's recording is one interleaving of its
--    threads, which its replays repeat (mt_churn under jemalloc: replays
--    of one recording within 1 MiB, four recordings 79-86 MiB, live runs
--    65-87 MiB).  NULL for validations stored before it (one recording).
-- Documented in analysis/store/schema.sql.
ALTER TABLE validations ADD COLUMN recordings INTEGER;
