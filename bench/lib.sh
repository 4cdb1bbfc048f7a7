# Helpers for bench scripts (source it).  Every figure goes into the SQLite
# table bench_results of $HAK_BENCH_DB (default bench/bench.db) so results
# can be queried across runs, and into a markdown section that bench/run.sh
# collects into bench/RESULTS.md.
set -u
: "${HAK_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${HAK_BENCH_DB:=$HAK_ROOT/bench/bench.db}"
: "${HAK_BENCH_RUN:=$(date -u +%Y%m%dT%H%M%SZ)}"
export PATH="$HAK_ROOT/build/bin:$PATH"

bench_db_init() {
  sqlite3 "$HAK_BENCH_DB" <<'SQL'
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS bench_results(
  id INTEGER PRIMARY KEY,
  bench_run TEXT NOT NULL,      -- one `make bench` invocation (UTC stamp)
  git_rev TEXT,                 -- commit measured
  bench TEXT NOT NULL,          -- e.g. 'alloc.random_mixed'
  subject TEXT NOT NULL,        -- what was measured: 'hakmem', 'glibc', 'decode'...
  metric TEXT NOT NULL,         -- e.g. 'ops_per_s', 'minor_faults'
  value REAL,                   -- median over repeats; NULL = not measurable
  unit TEXT,
  repeats INTEGER,
  note TEXT,
  created_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
SQL
}

# bench_put BENCH SUBJECT METRIC VALUE UNIT REPEATS [NOTE]
bench_put() {
  local v=$4; [[ -z $v ]] && v=NULL
  local rev; rev=$(git -C "$HAK_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  sqlite3 "$HAK_BENCH_DB" "INSERT INTO bench_results(bench_run,git_rev,bench,subject,metric,value,unit,repeats,note)
    VALUES('$HAK_BENCH_RUN','$rev','$1','$2','$3',$v,'$5',$6,'${7//\'/\'\'}');"
}

# median of the numbers given as arguments
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{ if(NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
