#!/usr/bin/env bash
# The layering (docs/ARCHITECTURE.md) holds: tests/static/check-layers
# passes on the real tree with the Makefile's table, the build really
# compiles a low module without the higher ones' include dirs, and the
# checker fails on made-up trees that break each rule (a check that could
# never fail would prove nothing).
. "$(dirname "$0")/../tap.sh"
CL=$HAK_ROOT/tests/static/check-layers
make -s -C "$HAK_ROOT" print-layers >"$TMP/layers" 2>"$TMP/err" ||
  { not_ok "make print-layers runs" "$(cat "$TMP/err")"; exit 0; }
check "the layer table has modules ($(wc -l <"$TMP/layers"))" test "$(wc -l <"$TMP/layers")" -ge 10
check "the real tree keeps the layering" "$CL" "$HAK_ROOT" "$TMP/layers"

# The compile line of a trace-library file names no higher module.
line=$(make -s -n -B -C "$HAK_ROOT" build/obj/traces/lib/trace_ops.o 2>/dev/null |
       sed -e ':a' -e '/\\$/N; s/\\\n//; ta' | grep -- '-c -o build/obj/traces/lib/trace_ops.o' | head -1)
if [[ -n $line && $line == *-Itraces/lib* && $line != *-Ianalysis* && $line != *-Ireplayer* && $line != *-Irecorder* ]]; then
  ok "traces/lib compiles with only its own and traces/common's include dirs"
else
  not_ok "traces/lib compiles with only its own and traces/common's include dirs" "compile line: $line"
fi

# Made-up trees: low <- mid <- top.
mk_tree() {
  rm -rf "$TMP/t"; mkdir -p "$TMP/t/low" "$TMP/t/mid" "$TMP/t/top"
  echo '/* */' >"$TMP/t/low/low.h"; echo '/* */' >"$TMP/t/low/low_int.h"
  echo '#include "low.h"' >"$TMP/t/low/low.c"
  echo '#include "low.h"' >"$TMP/t/mid/mid.h"; echo '#include "mid.h"' >"$TMP/t/mid/mid.c"
  echo '#include "mid.h"' >"$TMP/t/top/top.c"
  cat >"$TMP/t.layers" <<'T'
low: uses ; private low_int.h
mid: uses low; private 
top: uses mid low; private 
T
}
mk_tree
check "a tree that keeps its layering passes" "$CL" "$TMP/t" "$TMP/t.layers"
expect_finding() {   # NAME PATTERN: check-layers fails naming PATTERN
  "$CL" "$TMP/t" "$TMP/t.layers" >"$TMP/out" 2>&1; local rc=$?
  if (( rc == 1 )) && grep -q -- "$2" "$TMP/out"; then ok "$1"
  else not_ok "$1" "exit $rc: $(head -3 "$TMP/out")"; fi
}
mk_tree; echo '#include "mid.h"' >>"$TMP/t/low/low.c"
expect_finding "a low module including a higher one's header fails" "low/low.c: includes mid.h of mid"
mk_tree; echo '#include "low_int.h"' >>"$TMP/t/mid/mid.c"
expect_finding "including another module's private header fails" "includes low_int.h, private to low"
mk_tree; echo '#include "low/low.h"' >>"$TMP/t/top/top.c"
expect_finding "an include by path fails" "by path"
mk_tree; mkdir -p "$TMP/t/side"; echo 'int x;' >"$TMP/t/side/x.c"
expect_finding "a folder with sources outside the table fails" "side: has C sources but is not a module"
mk_tree; echo '/* */' >"$TMP/t/top/low.h"
expect_finding "two headers of one name fail" "the header name is also"
mk_tree; sed -i 's/^low: uses ;/low: uses mid;/' "$TMP/t.layers"
expect_finding "a cycle in the table fails" "use each other"
mk_tree; sed -i 's/^top: uses mid low;/top: uses mid;/' "$TMP/t.layers"
expect_finding "a table that is not transitively closed fails" "top uses mid, which uses low"
mk_tree; sed -i 's/^mid: uses low;/mid: uses mid low;/' "$TMP/t.layers"
expect_finding "a module using itself fails" "mid uses itself"
mk_tree; mkdir -p "$TMP/t/mid/tests"; echo '#include "low_int.h"' >"$TMP/t/mid/tests/t.c"
check "white-box tests may include private headers" "$CL" "$TMP/t" "$TMP/t.layers"
: >"$TMP/empty"
"$CL" "$TMP/t" "$TMP/empty" >/dev/null 2>&1
check "an empty layer table is an error (exit 2), not a pass" test $? = 2
