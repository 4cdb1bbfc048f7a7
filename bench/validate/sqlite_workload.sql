-- bench/validate/sqlite_workload.sql - the sqlite3 program of the
-- validation study: inserts rows in one transaction, builds an index,
-- runs grouping and join queries (sqlite3 :memory: < this file).
PRAGMA cache_size = -65536;
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL, grp INTEGER);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000)
INSERT INTO t SELECT x, 'name' || x || hex(randomblob(8)), x * 0.5, x % 97 FROM c;
CREATE INDEX t_name ON t(name);
SELECT grp, count(*), sum(v) FROM t GROUP BY grp ORDER BY 3 DESC LIMIT 3;
SELECT count(*) FROM t a JOIN t b ON a.grp = b.grp AND a.id = b.id + 97;
DELETE FROM t WHERE id % 2 = 0;
SELECT count(*), max(length(name)) FROM t;
