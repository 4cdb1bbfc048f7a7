#!/usr/bin/env bash
# Regressions from the CLI QA pass over `hak replay` and `hak sim`: bad
# options give one line naming them (not glibc's two-part message), and a
# bad trace is named even when its name occurs in the reader's message.
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP" || exit 1
one_line() {
  local rc=$1 pat=$2; shift 2
  "$@" >/dev/null 2>err.txt; local got=$?
  [[ $got == "$rc" && $(wc -l <err.txt) == 1 ]] && grep -q -- "$pat" err.txt
}
: > empty
echo junk > trace
check "replay --bogus: one line, exit 2" one_line 2 "unknown option or missing value '--bogus'" hak replay x.hkt --bogus
check "replay --db without a value: one line, exit 2" one_line 2 "'--db'" hak replay x.hkt --db
check "replay of a 0-byte file called 'empty' names it" one_line 1 "^hak replay: empty: " hak replay empty --db r.db
check "replay of a bad file called 'trace' names it" one_line 1 "^hak replay: trace: " hak replay trace --db r.db
check "sim of a 0-byte file called 'empty' names it" one_line 1 "^hak sim: empty: " hak sim empty --no-db
check "replay --db= (empty path) is refused" one_line 1 "empty database path" \
  hak replay "$HAK_ROOT/traces/corpus/sqlite3-workload.hkt" --db=
# hak sweep: an unknown allocator is a usage error before any sweep exists;
# a misspelt --metric fails instead of ranking nothing with exit 0.
check "sweep --alloc nosuch: one line, exit 2" one_line 2 "--alloc 'nosuch'" \
  hak sweep "$HAK_ROOT/traces/corpus/sqlite3-workload.hkt" --grid HAKMEM_TCACHE=64 --alloc nosuch --db s.db
check "sweep --alloc nosuch created no database" test ! -e s.db
hak sweep "$HAK_ROOT/traces/corpus/sqlite3-workload.hkt" --alloc glibc --grid X=1 --metric no_such_metric \
  --db s.db -q >/dev/null 2>err.txt; rc=$?
check "sweep --metric no_such_metric exits 1" test "$rc" = 1
check "sweep --metric no_such_metric names it" grep -q "metric 'no_such_metric'" err.txt
check "sweep --metric ops_per_s (a real figure) exits 0" \
  hak sweep "$HAK_ROOT/traces/corpus/sqlite3-workload.hkt" --alloc glibc --grid X=1 --metric ops_per_s --db s.db -q
check "sim --db with --no-db: exit 2" one_line 2 "exclude each other" hak sim x.hkt --no-db --db x.db
check "sweep of an empty trace: one line naming it, exit 1" one_line 1 "^hak sweep: empty: " \
  hak sweep empty --grid X=1 --db s2.db
check "... before any database or sweep is created" test ! -e s2.db
