#!/usr/bin/env bash
# `hak db` and the analysis/queries/*.sql files against a database with
# known content (built by build/tests/analysis/gen_fixture through the
# hakdb API; its header comment lists the content asserted here).
. "$(dirname "$0")/../../tests/tap.sh"
gen=$HAK_ROOT/build/tests/analysis/gen_fixture
Q=$HAK_ROOT/analysis/queries
db=$TMP/fx.db
"$gen" "$db" "$TMP/fx.hkt" || { not_ok "gen_fixture builds the fixture database"; exit 0; }
ok "gen_fixture builds the fixture database"

# --- every query file runs and returns its expected rows ------------------
for f in "$Q"/*.sql; do
  check "$(basename "$f") has a header comment" grep -q "^-- $(basename "$f"):" "$f"
done
q() { hak db query --db "$db" --csv "$@"; }
out=$(q "$Q/best_setting.sql" -p metric=ops_per_s)
check "best_setting ops_per_s: redis -> mimalloc" grep -qx 'redis,aaaaaaaaaaaa,mimalloc threads=serial,130000000,6,5,higher' <<<"$out"
check "best_setting ops_per_s: python -> hakmem" grep -qx 'python,bbbbbbbbbbbb,hakmem threads=serial,62970000,6,3,higher' <<<"$out"
out=$(q "$Q/best_setting.sql" -p metric=minor_faults)
check "best_setting minor_faults (lower better) picks the madvise knob" \
  grep -qx 'redis,aaaaaaaaaaaa,hakmem HAKMEM_HUGEPAGE=madvise threads=serial,300,3,5,lower' <<<"$out"
out=$(q "$Q/label_changes.sql" -p base=v1 -p new=v2 -p metric=ops_per_s)
check "label_changes: the regression is the first row" \
  bash -c '[[ $(sed -n 2p <<<"$1") == redis,hakmem,,120000000,100000000,-16.7,3,3,regression,threads=serial ]]' _ "$out"
check "label_changes: python hakmem improved" grep -qx 'python,hakmem,,60000000,66000000,10,3,3,better,threads=serial' <<<"$out"
check "label_changes: glibc noise is 'same'" grep -qx 'redis,glibc,,100000000,100000000,0,3,3,same,threads=serial' <<<"$out"
check "label_changes: 5 comparable rows (crashed runs excluded)" bash -c '(( $(wc -l <<<"$1") == 6 ))' _ "$out"
out=$(q "$Q/knobs_tlb_faults.sql" -p trace=redis)
check "knobs_tlb_faults: madvise knob first (fewest simulated dTLB misses)" \
  bash -c '[[ $(sed -n 2p <<<"$1") == "hakmem HAKMEM_HUGEPAGE=madvise threads=serial,,1200,300,,3" ]]' _ "$out"
check "knobs_tlb_faults: unmeasured hardware counter is empty (NULL), not 0" \
  grep -q '^glibc threads=serial,,,1000,,6$' <<<"$out"
out=$(q "$Q/history.sql" -p trace=python -p alloc=mimalloc)
check "history: 6 runs oldest first, crashed ones with their reason" \
  bash -c '(( $(grep -c "crashed" <<<"$1") == 3 )) && (( $(wc -l <<<"$1") == 7 )) && sed -n 2p <<<"$1" | grep -q "^2025-11-24T16:00:00.000Z"' _ "$out"
fxhash=$(sqlite3 "$db" "select substr(hash, 1, 12) from traces where program = 'fixture-prog'")
out=$(q "$Q/top_call_sites.sql" -p trace=fixture-prog)
check "top_call_sites: most bytes = the 1 MiB site, symbolised" \
  bash -c '[[ $(sed -n 2p <<<"$1") == "fixture-prog,$2,3,fixture_load_config+0x0 (gen_fixture),2,2097152,96" ]]' _ "$out" "$fxhash"
check "top_call_sites: most short-lived = parse_request, 100 of 100" \
  grep -q "^fixture-prog,$fxhash,1,fixture_parse_request+0x0 (gen_fixture),100,100,100,500$" <<<"$out"
out=$(q "SELECT lo_ns, hi_ns, objects FROM trace_lifetime_hist WHERE trace_id = (SELECT id FROM traces WHERE program = 'fixture-prog') ORDER BY bucket")
check "lifetime histogram: never-freed bucket has NULL bounds" grep -qx ',,2' <<<"$out"
check "lifetime histogram: 100 objects of 500 ns in [256, 512)" grep -qx '256,512,100' <<<"$out"
out=$(q "SELECT lo_bytes, allocs FROM trace_size_hist ORDER BY lo_bytes")
check "size histogram: 64 B, 8 KiB and 1 MiB buckets" \
  bash -c '[[ $(tr "\n" " " <<<"$1") == "lo_bytes,allocs 64,100 8192,10 1048576,2 " ]]' _ "$out"

# --- hak db subcommands ----------------------------------------------------
check "db runs lists newest first" bash -c "hak db runs --db '$db' --limit 1 | grep -q '^ *45 '"
check "db runs --label/--status filter" bash -c "[[ \$(hak db runs --db '$db' --label v2 --status crashed --csv --limit 0 | wc -l) == 4 ]]"
check "db runs --sweep lists the sweep's 9 runs" bash -c "[[ \$(hak db runs --db '$db' --sweep 1 --limit 0 --csv | wc -l) == 10 ]]"
check "db best --sweep picks the knob within the sweep" \
  bash -c "hak db best --db '$db' --sweep 1 --metric minor_faults --csv | grep -q ',hakmem,HAKMEM_HUGEPAGE=madvise,threads=serial,300,3,'"
check "db runs shows '-' for unmeasured figures" bash -c "hak db runs --db '$db' --status crashed --limit 1 | tail -1 | grep -q ' - '"
check "db show prints a run with its NULL metric reason" bash -c "hak db show --db '$db' 1 | grep -q 'no PMU'"
check "db show --json is valid JSON" bash -c "! command -v python3 >/dev/null || hak db show --db '$db' --json 1 | python3 -m json.tool >/dev/null"
out=$(hak db compare --db "$db" --base v1 --new v2 --metric ops_per_s)
check "compare: regression listed first" bash -c 'grep -A1 -- "^------" <<<"$1" | tail -1 | grep -q "redis .*hakmem.*REGRESSION"' _ "$out"
check "compare: noise-only change is 'same'" bash -c 'grep "redis .*glibc" <<<"$1" | grep -q "same"' _ "$out"
check "compare: counts one regression" grep -q '^1 regression in 5 comparisons' <<<"$out"
check_fails "compare --fail-on-regression exits non-zero" hak db compare --db "$db" --base v1 --new v2 --fail-on-regression
check "compare --json is valid JSON" bash -c "! command -v python3 >/dev/null || hak db compare --db '$db' --base v1 --new v2 --json | python3 -m json.tool >/dev/null"
check "best ops_per_s per trace" bash -c "hak db best --db '$db' | grep -q '^redis .*mimalloc.*clear win'"
check "best --metric sim.dtlb_misses is direction-aware" \
  bash -c "hak db best --db '$db' --metric sim.dtlb_misses --csv | grep -q '^redis,aaaaaaaaaaaaaaaa,sim.dtlb_misses,lower,hakmem,HAKMEM_HUGEPAGE=madvise,threads=serial,1200,'"
check "export --json is valid JSON" bash -c "! command -v python3 >/dev/null || hak db export --db '$db' --json | python3 -m json.tool >/dev/null"
check "export --csv has one line per run plus header" bash -c "[[ \$(hak db export --db '$db' --csv | wc -l) == 46 ]]"

# merge: a copy merged twice adds its runs once; traces/builds/machines dedup.
cp "$db" "$TMP/a.db"
hak db merge --db "$TMP/m.db" -q "$TMP/a.db" "$TMP/a.db"
check "merge twice = once (idempotent)" bash -c "[[ \$(sqlite3 '$TMP/m.db' 'select count(*) from runs') == 45 ]]"
check "merge keeps metrics and timelines" bash -c "[[ \$(sqlite3 '$TMP/m.db' 'select count(*) from run_metrics') == 51 && \$(sqlite3 '$TMP/m.db' 'select count(*) from timelines') == 168 ]]"
check "merge keeps the sweep (once) and its runs' link to it" \
  bash -c "[[ \$(sqlite3 '$TMP/m.db' 'select count(*) from sweeps') == 1 && \$(sqlite3 '$TMP/m.db' 'select count(*) from runs where sweep_id is not null') == 9 ]]"
check "merge copies trace statistics" bash -c "[[ \$(sqlite3 '$TMP/m.db' 'select count(*) from trace_sites') == 3 ]]"
# A second machine's DB with a shared trace: new runs, no duplicate trace/build.
sqlite3 "$TMP/a.db" "UPDATE runs SET uuid = uuid || 'x'; UPDATE machines SET hash = 'other-machine', hostname = 'box2';"
out=$(hak db merge --db "$TMP/m.db" "$TMP/a.db")
check "merge of another machine adds its runs and machine only" \
  bash -c '[[ $1 == *"+45 runs (0 already present), +0 traces, +0 builds, +1 machines"* ]]' _ "$out"
check "merged runs point at the right machine" bash -c "[[ \$(sqlite3 '$TMP/m.db' \"select count(*) from runs r join machines m on m.id = r.machine_id where m.hostname = 'box2'\") == 45 ]]"
check "compare over the merged DB still sees 6 repeats per side" \
  bash -c "hak db compare --db '$TMP/m.db' --base v1 --new v2 --metric ops_per_s | grep 'redis .*hakmem' | grep -q ' 6 '"
check_fails "merge refuses the destination itself" hak db merge --db "$TMP/m.db" "$TMP/m.db"

# --- bad input fails cleanly, one line, naming the problem -----------------
echo "not a database" > "$TMP/bad.db"
check_fails "runs on a text file fails" hak db runs --db "$TMP/bad.db"
check "the error names the file" bash -c "hak db runs --db '$TMP/bad.db' 2>&1 | grep -q 'bad.db: not an SQLite database'"
sqlite3 "$TMP/foreign.db" "create table t(x)"
check "a foreign SQLite DB is refused by name" bash -c "hak db runs --db '$TMP/foreign.db' 2>&1 | grep -q 'not a hakmem database'"
cp "$db" "$TMP/trunc.db"; truncate -s $(( $(stat -c %s "$db") / 2 )) "$TMP/trunc.db"
check_fails "a truncated DB fails cleanly" hak db best --db "$TMP/trunc.db"
check "the truncated DB error is one line naming the file" \
  bash -c "[[ \$(hak db best --db '$TMP/trunc.db' 2>&1 | wc -l) == 1 ]] && hak db best --db '$TMP/trunc.db' 2>&1 | grep -q 'trunc.db: corrupt'"
check_fails "missing DB for a reader fails" hak db runs --db "$TMP/none.db"
check "a reader does not create the missing DB" test ! -e "$TMP/none.db"
check_fails "unknown metric fails" hak db best --db "$db" --metric nosuch
check "unknown metric error lists known ones" bash -c "hak db best --db '$db' --metric nosuch 2>&1 | grep -q 'known:.*cycles'"
check_fails "compare without --new is a usage error" hak db compare --db "$db" --base v1
check_fails "query with an unset parameter fails" hak db query --db "$db" "$Q/history.sql"
check "unset parameter is named" bash -c "hak db query --db '$db' '$Q/history.sql' 2>&1 | grep -q ':trace'"
check_fails "query with bad SQL fails" hak db query --db "$db" "SELEC nonsense"
check_fails "query is read-only by default" hak db query --db "$db" "DELETE FROM runs"
check_fails "export of an unknown table fails" hak db export --db "$db" --table "runs; drop table runs"
check_fails "show of a missing run fails" hak db show --db "$db" 999999
check_fails "unknown db subcommand fails" hak db frobnicate
check_fails "import-trace of a non-trace fails" hak db import-trace --db "$TMP/i.db" "$TMP/bad.db"
for s in runs show info compare best query export merge import-trace; do
  check "hak db $s --help" bash -c "hak db $s --help | grep -q '^usage: hak db $s'"
done
