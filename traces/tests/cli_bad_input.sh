#!/usr/bin/env bash
# Regressions from the CLI QA pass over `hak trace`.
. "$(dirname "$0")/../../tests/tap.sh"
T=$HAK_ROOT/traces/corpus/mt-handoff.hkt
# Cut inside the first chunk: a truncated trace with no readable event
# (qsort on the NULL site table was undefined behaviour; UBSan caught it).
head -c 300 "$T" > "$TMP/cut.hkt"
check "trace stats on a truncated trace without events exits 0" hak trace stats "$TMP/cut.hkt"
check "trace stats on it reports 0 allocations" bash -c "hak trace stats '$TMP/cut.hkt' 2>/dev/null | grep -q '0 allocations'"
check "trace stats --top on it prints empty call-site tables" \
  bash -c "hak trace stats --top 5 '$TMP/cut.hkt' 2>/dev/null | grep -q 'call sites by bytes (of 0)'"
# An unwritable -o names the path once ("d: Is a directory", not "d: d: ...").
mkdir "$TMP/outdir"
hak trace synth tiny-hot -o "$TMP/outdir" 2>"$TMP/err" >/dev/null
check "trace synth -o DIR fails naming the path once" \
  bash -c "[[ \$(grep -o '$TMP/outdir' '$TMP/err' | wc -l) == 1 ]]"
