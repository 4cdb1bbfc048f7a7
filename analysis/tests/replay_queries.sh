#!/usr/bin/env bash
# Every analysis/queries/*.sql against a database built by real `hak replay`
# runs (and `hak record` + `hak db import-trace` for the call sites), so the
# queries are checked against what the replayer actually stores.
. "$(dirname "$0")/../../tests/tap.sh"
Q=$HAK_ROOT/analysis/queries
db=$TMP/hak.db
if ! command -v hak >/dev/null || ! hak replay --help >/dev/null 2>&1; then
  skip "replay-built database" "hak replay is not built"; exit 0
fi
hak trace synth random-mixed --iters 20000 --slots 256 --seed 7 -o "$TMP/rm.hkt" >/dev/null
hak trace synth tiny-hot --iters 20000 --size 32 --batch 100 -o "$TMP/th.hkt" >/dev/null
# Two labels, two allocators (always available: glibc and the built-in
# bump allocator), 3 repeats each, and a knob setting for one of them.
check "replay label a" hak replay "$TMP/rm.hkt" "$TMP/th.hkt" --alloc glibc --alloc bump --repeat 3 --label a --db "$db" -q
check "replay label b" hak replay "$TMP/rm.hkt" "$TMP/th.hkt" --alloc glibc --alloc bump --repeat 3 --label b --db "$db" -q
check "replay a knob setting" hak replay "$TMP/rm.hkt" --alloc glibc --env MALLOC_ARENA_MAX=1 --repeat 3 --label a --db "$db" -q
n=$(sqlite3 "$db" "select count(*) from runs where status = 'ok'")
check "27 ok runs stored" test "$n" = 27
q() { hak db query --db "$db" --csv "$@"; }

out=$(q "$Q/best_setting.sql" -p metric=ops_per_s)
check "best_setting: one row per trace" bash -c '[[ $(wc -l <<<"$1") == 3 ]]' _ "$out"
check "best_setting: a real setting with 6+ runs" bash -c 'tail -n +2 <<<"$1" | grep -qE "^(rm|th)[^,]*,[0-9a-f]{12},(glibc|bump)[^,]*,[0-9.e+]+,(3|6),[23],higher$"' _ "$out"
out=$(q "$Q/best_setting.sql" -p metric=minor_faults)
check "best_setting minor_faults: lower is better" bash -c 'tail -n +2 <<<"$1" | grep -q ",lower$"' _ "$out"
out=$(q "$Q/label_changes.sql" -p base=a -p new=b -p metric=ops_per_s)
check "label_changes: 4 pairs (2 traces x 2 allocators; the knob run has no b)" \
  bash -c '[[ $(wc -l <<<"$1") == 5 ]]' _ "$out"
check "label_changes: every pair judged with 3 runs a side" \
  bash -c '(( $(grep -cE ",3,3,(same|better|regression),threads=serial$" <<<"$1") == 4 ))' _ "$out"
out=$(q "$Q/knobs_tlb_faults.sql" -p trace=rm.hkt)
check "knobs_tlb_faults: glibc, glibc+knob and bump rows" bash -c '[[ $(wc -l <<<"$1") == 4 ]] && grep -q "^glibc MALLOC_ARENA_MAX=1 threads=serial," <<<"$1"' _ "$out"
check "knobs_tlb_faults: measured minor faults present" bash -c 'tail -n +2 <<<"$1" | cut -d, -f4 | grep -qE "^[0-9]"' _ "$out"
has_pmu=$(sqlite3 "$db" "select count(*) from machine_counters where name = 'dTLB-load-misses' and available = 1")
if [[ $has_pmu == 0 ]]; then
  check "no PMU: dTLB stays NULL (empty), never 0" bash -c 'tail -n +2 <<<"$1" | cut -d, -f2 | grep -qv "^$" && exit 1 || exit 0' _ "$out"
  check "no PMU: the NULL counter has a reason" \
    bash -c "[[ \$(sqlite3 '$db' \"select count(*) from run_metrics where name = 'dTLB-load-misses' and value is null and reason is not null\") -gt 0 ]]"
else
  skip "no PMU: dTLB stays NULL" "this machine has a PMU"
  skip "no PMU: the NULL counter has a reason" "this machine has a PMU"
fi
out=$(q "$Q/history.sql" -p trace=th.hkt -p alloc=bump)
check "history: 6 bump runs of th, oldest first, labels a then b" \
  bash -c '[[ $(wc -l <<<"$1") == 7 ]] && [[ $(tail -n +2 <<<"$1" | cut -d, -f3 | tr -d "\n") == aaabbb ]]' _ "$out"
check "compare on real runs prints a verdict per pair" \
  bash -c "hak db compare --db '$db' --base a --new b --metric ops_per_s | grep -E '^(rm|th)' | grep -cE 'same|better|REGRESSION|unsure|undecided' | grep -qx 4"
check "compare --by build glibc -> bump" \
  bash -c "hak db compare --db '$db' --by build --base glibc --new bump --label b --metric ops_per_s | grep -q 'glibc -> bump'"
check "report renders from real runs" hak report --db "$db" -q --html "$TMP/r.html"
check "report has the RSS timeline" grep -q 'RSS over the run' "$TMP/r.html"

# Call sites from a real recording (ls is on every machine).
if hak record --help >/dev/null 2>&1 && hak record -q -o "$TMP/ls.hkt" -- ls -la /usr/lib >/dev/null 2>&1; then
  check "import-trace of a recording" hak db import-trace --db "$db" -q "$TMP/ls.hkt"
  out=$(q "$Q/top_call_sites.sql" -p trace=ls)
  check "top_call_sites: sites with bytes, largest first" \
    bash -c 'tail -n +2 <<<"$1" | sed -n "1,10p" | cut -d, -f6 | sort -rn -c 2>/dev/null && [[ $(wc -l <<<"$1") -ge 3 ]]' _ "$out"
  check "top_call_sites: at least one symbolised site" bash -c 'grep -q "+0x" <<<"$1"' _ "$out"
else
  skip "import-trace of a recording" "hak record unavailable"
fi
