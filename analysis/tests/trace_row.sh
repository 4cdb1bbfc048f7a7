#!/usr/bin/env bash
# A trace has one row in the run history, the same whichever command meets
# it first (hak db import-trace, hak replay, hak sim): program (the basename
# of the recorded argv[0]) and meta_json come from one function each in the
# store (hakdb_trace_program, hakdb_trace_meta_json).  They used to differ:
# replay stored the full argv[0] and its own JSON, import the basename and
# argv as one string, sim no metadata at all.
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP"
if ! hak record -q -o rec.hkt -- /bin/sh -c 'for i in 1 2 3; do echo $i; done' >/dev/null 2>rec.err; then
  not_ok "record a small program" "$(head -3 rec.err)"; exit 0
fi
ok "record a small program"
row() {   # DB: program|meta_json of the one trace
  sqlite3 "$1" "select program || '|' || coalesce(meta_json, 'NULL') from traces"
}
check "import-trace first" hak db import-trace -q --db imp.db rec.hkt
check "replay first" hak replay -q --db rep.db --alloc glibc rec.hkt
check "sim first" hak sim -q --db sim.db rec.hkt
imp=$(row imp.db); rep=$(row rep.db); sim=$(row sim.db)
check "the program is the basename of argv[0] ($(cut -d'|' -f1 <<<"$imp"))" test "$(cut -d'|' -f1 <<<"$imp")" = sh
check "replay stores the same program and metadata as import" test "$rep" = "$imp"
check "sim stores the same program and metadata as import" test "$sim" = "$imp"
check "meta_json holds argv as a JSON array" grep -q '"argv":\["/bin/sh","-c",' <<<"$imp"
# The same trace met by all three in one database stays one row.
hak db import-trace -q --db all.db rec.hkt && hak replay -q --db all.db --alloc glibc rec.hkt &&
  hak sim -q --db all.db rec.hkt
check "three commands, one traces row" test "$(sqlite3 all.db 'select count(*) from traces')" = 1
