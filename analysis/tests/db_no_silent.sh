#!/usr/bin/env bash
# No silent wrong answers from `hak db compare/best/query` and `hak report`
# (issue 15): nothing compared is a failure, a filter matching nothing is an
# error naming the nearest values, builds are found by the name the user
# gave, a setting includes the threads mode, and traces are keyed by hash
# with exact name filters.  Over copies of the known-content fixture.
. "$(dirname "$0")/../../tests/tap.sh"
Q=$HAK_ROOT/analysis/queries
fx=$TMP/fx.db
"$HAK_ROOT/build/tests/analysis/gen_fixture" "$fx" "$TMP/fx.hkt" >/dev/null || { not_ok "fixture"; exit 0; }
fresh() { cp "$fx" "$TMP/$1.db"; echo "$TMP/$1.db"; }

# --- 1. compare: nothing compared is never a pass ---------------------------
# The issue's case: 'after' was replayed with other knobs, so every setting
# is "only in base/new"; it used to print "0 regressions in 0 comparisons"
# and exit 0 under --fail-on-regression.
db=$(fresh knobs)
sqlite3 "$db" "UPDATE runs SET env = 'HAKMEM_HUGEPAGE=madvise' WHERE label = 'v2'"
check_fails "compare --fail-on-regression fails when nothing was compared" \
  hak db compare --db "$db" --base v1 --new v2 --fail-on-regression
check_fails "compare fails when nothing was compared (no gate either)" \
  hak db compare --db "$db" --base v1 --new v2
err=$(hak db compare --db "$db" --base v1 --new v2 2>&1 >/dev/null)
check "... with one line saying the sides share no setting" \
  bash -c '[[ $(wc -l <<<"$1") == 1 ]] && grep -q "^hak db compare: nothing compared: base and new share no setting" <<<"$1"' _ "$err"
out=$(hak db compare --db "$fx" --base v1 --new v2 --metric ops_per_s)
check "compare says what it matched" \
  grep -q "^matched: base 18 ok runs in 6 settings, new 15 ok runs in 5 settings, 2 traces; 5 settings compared, 1 only in base, 0 only in new" <<<"$out"
check_fails "compare --base misspelt is an error" hak db compare --db "$fx" --base v3 --new v2
err=$(hak db compare --db "$fx" --base v3 --new v2 2>&1)
check "... naming the filter and the nearest labels" \
  grep -q "^hak db compare: --base 'v3' matches no label in .*; nearest: 'v1', 'v2'" <<<"$err"
# A database whose runs have no labels has runs: the error must not say it
# has none (it said "the database has no runs").
db=$(fresh nolabels)
sqlite3 "$db" "UPDATE runs SET label = NULL"
err=$(hak db compare --db "$db" --base v1 --new v2 2>&1)
check "compare on runs without labels says there is no label, not no run" \
  grep -q "^hak db compare: --base 'v1' matches no label in .*; nearest: (none: it has no label at all)$" <<<"$err"
check_fails "compare --trace misspelt is an error" hak db compare --db "$fx" --base v1 --new v2 --trace rediss
check_fails "compare --base = --new is a usage error" hak db compare --db "$fx" --base v1 --new v1

# Builds by the name given to --alloc (stored in runs.alloc_spec) as well
# as the resolved one.
db=$(fresh spec)
sqlite3 "$db" "UPDATE runs SET alloc_spec = 'hakmem@HEAD~50' WHERE build_id = (SELECT id FROM builds WHERE name = 'hakmem')"
out=$(hak db compare --db "$db" --by build --base hakmem@HEAD~50 --new glibc --label v1 --metric ops_per_s)
check "compare --by build finds a build by the name the user gave" grep -q "^2 regressions in 2 comparisons" <<<"$out"
check "compare --by build by the stored name still works" \
  bash -c "hak db compare --db '$db' --by build --base hakmem --new glibc --label v1 --metric ops_per_s | grep -q '^2 regressions in 2 comparisons'"
check_fails "compare --by build with an unknown build is an error" \
  hak db compare --db "$db" --by build --base hakmem@HEAD~51 --new glibc
# A relative name given on two days names two builds: comparing "it" would
# merge them into one side.
cp "$db" "$TMP/two.db"
sqlite3 "$TMP/two.db" "UPDATE runs SET alloc_spec = 'hakmem@HEAD~50' WHERE build_id = (SELECT id FROM builds WHERE name = 'glibc')"
hak db compare --db "$TMP/two.db" --by build --base hakmem@HEAD~50 --new glibc >/dev/null 2>"$TMP/two.err"; rc=$?
check "compare --by build with a name that resolved to two builds is an error listing both" \
  bash -c "(( $rc == 1 )) && grep -q \"'hakmem@HEAD~50' names 2 different builds\" '$TMP/two.err' && grep -q 'glibc (first run' '$TMP/two.err'"
check "history.sql finds runs by the given name" \
  bash -c "[[ \$(hak db query --db '$db' --csv '$Q/history.sql' -p trace=redis -p alloc=hakmem@HEAD~50 | wc -l) == 16 ]]"

check_fails "best --label misspelt is an error" hak db best --db "$fx" --label v3
check_fails "best --trace misspelt is an error" hak db best --db "$fx" --trace pyhton
check "best says what it matched" bash -c "hak db best --db '$fx' | grep -q '^matched: 42 ok runs, 2 traces, 8 settings'"

# --- 2. a setting is allocator + knobs + threads mode -----------------------
# python/hakmem's v2 runs replayed with --threads recorded: a different
# experiment, never merged with the serial ones.
db=$(fresh threads)
sqlite3 "$db" "UPDATE runs SET threads_mode = 'recorded' WHERE label = 'v2' AND trace_id = (SELECT id FROM traces WHERE hash LIKE 'bbbb%') AND build_id = (SELECT id FROM builds WHERE name = 'hakmem')"
out=$(hak db best --db "$db" --trace python --csv)
check "db best: serial and recorded are two settings (4, not 3)" \
  bash -c 'tail -1 <<<"$1" | grep -qE ",4,[^,]*$"' _ "$out"
out=$(hak db query --db "$db" --csv "$Q/best_setting.sql" -p metric=ops_per_s)
check "best_setting.sql: recorded runs are their own setting" \
  grep -q '^python,bbbbbbbbbbbb,hakmem threads=recorded,66000000,3,4,higher$' <<<"$out"
out=$(hak db compare --db "$db" --base v1 --new v2 --trace python --metric ops_per_s)
check "compare does not pair serial with recorded runs" \
  bash -c 'grep -q "hakmem .*threads=serial .*only in base" <<<"$1" && grep -q "hakmem .*threads=recorded .*only in new" <<<"$1"' _ "$out"
out=$(hak report --db "$db" --trace python)
check "report lists the recorded setting separately" \
  bash -c 'grep -q "^hakmem threads=recorded " <<<"$1" && grep -q "^hakmem threads=serial " <<<"$1"' _ "$out"
check "run_summary.setting and mode include the threads mode" \
  bash -c "[[ \$(sqlite3 '$db' \"select count(distinct setting) from run_summary where trace = 'python' and alloc = 'hakmem'\") == 2 ]]"

# --- 4. traces keyed by hash; exact names ------------------------------------
# A second trace of the same program: top_call_sites must not mix them.
db=$(fresh twotraces)
sqlite3 "$db" "
  INSERT INTO traces(hash, path, program, created_at) SELECT 'cccccccccccccccc', '/tmp/other.hkt', program, created_at FROM traces WHERE program = 'fixture-prog';
  INSERT INTO trace_stats(trace_id, imported_at, allocs, frees, bytes_allocated, peak_live_bytes, sites, short_lived_ns) SELECT (SELECT id FROM traces WHERE hash = 'cccccccccccccccc'), imported_at, allocs, frees, bytes_allocated, peak_live_bytes, sites, short_lived_ns FROM trace_stats WHERE trace_id = (SELECT id FROM traces WHERE program = 'fixture-prog' AND hash <> 'cccccccccccccccc');
  INSERT INTO trace_sites(trace_id, site, symbol, frames, allocs, bytes, freed, short_lived, mean_lifetime_ns) SELECT (SELECT id FROM traces WHERE hash = 'cccccccccccccccc'), site, symbol, frames, allocs, bytes, freed, short_lived, mean_lifetime_ns FROM trace_sites WHERE trace_id = (SELECT id FROM traces WHERE program = 'fixture-prog' AND hash <> 'cccccccccccccccc');"
out=$(hak db query --db "$db" --csv "$Q/top_call_sites.sql" -p trace=fixture-prog)
check "top_call_sites shows a trace and trace_hash column" bash -c 'head -1 <<<"$1" | grep -q "^trace,trace_hash,site,"' _ "$out"
check "... so two traces of one program are told apart" grep -q '^fixture-prog,cccccccccccc,3,' <<<"$out"
out=$(hak db query --db "$db" --csv "$Q/top_call_sites.sql" -p trace=cccc)
check "a hash prefix selects one trace" bash -c '! grep -v "^trace," <<<"$1" | grep -v "^fixture-prog,cccccccccccc," | grep -q .' _ "$out"
check_fails "a misspelt -p trace is an error" hak db query --db "$fx" "$Q/top_call_sites.sql" -p trace=fixture-porg
err=$(hak db query --db "$fx" "$Q/top_call_sites.sql" -p trace=fixture-porg 2>&1)
check "... naming the nearest trace" grep -q "^hak db query: -p trace 'fixture-porg' matches no trace .*nearest: 'fixture-prog'" <<<"$err"
check_fails "-p trace=% does not match every trace" hak db query --db "$fx" "$Q/top_call_sites.sql" -p trace=%
check_fails "--trace % does not match every trace (db runs)" hak db runs --db "$fx" --trace %
check "a pattern is asked for with * (redis and python: py*)" \
  bash -c "[[ \$(hak db runs --db '$fx' --trace 'py*' --csv --limit 0 | cut -d, -f3 | sort -u | grep -vx trace) == python ]]"
check "program filter is exact: 'redi' is not 'redis'" \
  bash -c "! hak db runs --db '$fx' --trace redi >/dev/null 2>&1"

# --- 5. read-only and damaged databases; the read-only query mode --------------
# A database in a directory this user cannot write (root: run as nobody).
ro=$TMP/ro; mkdir "$ro"; cp "$fx" "$ro/fx.db"
hak db runs --db "$ro/fx.db" --limit 1 >/dev/null   # leaves it in WAL mode, as in use
chmod 755 "$TMP"; chmod 644 "$ro/fx.db"; chmod 555 "$ro"
as_user=()
if [[ $(id -u) == 0 ]]; then
  if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
    as_user=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)
  else
    as_user=(false)
  fi
fi
if [[ ${as_user[0]:-} != false ]]; then
  for c in "db runs" "db best" "db info" "db export" "report" "db compare --base v1 --new v2" "db query select_count(*)_from_runs"; do
    args=(${c//_/ })
    [[ $c == "db query"* ]] && args=(db query "select count(*) from runs")
    check "read-only database: hak $c works" "${as_user[@]}" hak "${args[@]}" --db "$ro/fx.db"
  done
  err=$("${as_user[@]}" hak replay "$TMP/fx.hkt" --alloc glibc --db "$ro/fx.db" -q 2>&1)
  check "read-only database: a writer fails without saying 'corrupt'" \
    bash -c '[[ -n $1 ]] && ! grep -qi corrupt <<<"$1"' _ "$err"
else
  skip "read-only database" "needs setpriv and user nobody when run as root"
fi
chmod 755 "$ro"

# A database whose data pages fail the integrity check.
dmg=$(fresh damaged)
root=$(sqlite3 "$dmg" "select rootpage from sqlite_master where name = 'run_metrics'")
printf '\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff' |
  dd of="$dmg" bs=1 seek=$(( (root - 1) * 4096 + 100 )) conv=notrunc 2>/dev/null
check "the damage is real (quick_check fails)" bash -c "[[ \$(sqlite3 '$dmg' 'pragma quick_check(1)' 2>&1) != ok ]]"
err=$(hak db best --db "$dmg" 2>&1 >/dev/null)
check "reading a damaged database warns in one line" \
  bash -c '[[ $(wc -l <<<"$1") == 1 ]] && grep -q "^hak: warning: .*damaged database (integrity check: " <<<"$1"' _ "$err"
check_fails "replay refuses to write to a damaged database" hak replay "$TMP/fx.hkt" --alloc glibc --db "$dmg" -q
check_fails "merge refuses a damaged source" hak db merge --db "$TMP/merged.db" -q "$dmg"
check "... and adds nothing" bash -c "[[ ! -e '$TMP/merged.db' ]] || [[ \$(sqlite3 '$TMP/merged.db' 'select count(*) from runs') == 0 ]]"
check_fails "merge refuses a damaged destination" hak db merge --db "$dmg" -q "$fx"

# The query mode writes no file.
check_fails "query refuses VACUUM INTO" hak db query --db "$fx" "vacuum into '$TMP/copy.db'"
check "... and creates no file" test ! -e "$TMP/copy.db"
check_fails "query refuses ATTACH" hak db query --db "$fx" "attach '$TMP/att.db' as x"
check "... and creates no file" test ! -e "$TMP/att.db"
check_fails "query refuses a write among reads" hak db query --db "$fx" "select 1; delete from runs"
check "... and nothing was deleted" bash -c "[[ \$(sqlite3 '$fx' 'select count(*) from runs') == 45 ]]"

# Text output escapes control characters from stored strings.
esc=$(fresh escape)
sqlite3 "$esc" "UPDATE runs SET label = 'x' || char(27) || '[2J' WHERE id = 1"
out=$(hak db runs --db "$esc" --limit 0)
check "db runs escapes an ESC in a stored label" bash -c '! grep -q $'"'"'\x1b'"'"' <<<"$1" && grep -qF "x\\x1b[2J" <<<"$1"' _ "$out"
out=$(hak db show --db "$esc" 1)
check "db show escapes it too" bash -c '! grep -q $'"'"'\x1b'"'"' <<<"$1"' _ "$out"

# --- 7. noise too large to decide is said, with the repeats that would -------
db=$(fresh noisy)
sqlite3 "$db" "UPDATE runs SET ops_per_s = CASE repeat_idx WHEN 0 THEN 60e6 WHEN 1 THEN 120e6 ELSE 150e6 END
  WHERE label = 'v2' AND trace_id = (SELECT id FROM traces WHERE hash LIKE 'aaaa%')
    AND build_id = (SELECT id FROM builds WHERE name = 'glibc')"
out=$(hak db compare --db "$db" --base v1 --new v2 --metric ops_per_s)
check "compare: a change hidden in noise is 'undecided' with the repeats needed" \
  bash -c 'grep "redis .*glibc" <<<"$1" | grep -qE "undecided: noise [0-9.]+%; ~[0-9]+ repeats a side would decide"' _ "$out"
check "... and the summary counts it" grep -q "^1 undecided: " <<<"$out"
out=$(hak db compare --db "$db" --base v1 --new v2 --metric ops_per_s --csv)
check "... raw output: verdict undecided and repeats_needed" \
  bash -c 'head -1 <<<"$1" | grep -q ",verdict,repeats_needed$" && grep "^redis,.*,glibc," <<<"$1" | grep -qE ",undecided,[0-9]+$"' _ "$out"

# --- C++ names are demangled in the database (and so in reports) -------------
if command -v g++ >/dev/null && hak record --help >/dev/null 2>&1 && [[ -e /usr/lib/x86_64-linux-gnu/libstdc++.so.6 || -n $(ldconfig -p 2>/dev/null | grep libstdc++.so.6) ]]; then
  cat > "$TMP/cx.cc" <<'CC'
#include <string>
#include <vector>
namespace app {
struct Widget { std::vector<std::string> names; };
__attribute__((noinline)) Widget *make_widget(int n)
{
    Widget *w = new Widget;
    for (int i = 0; i < n; i++) w->names.push_back(std::string(40, 'x'));
    return w;
}
}
int main() { for (int k = 0; k < 20; k++) delete app::make_widget(10); }
CC
  if g++ -O1 -g -o "$TMP/cx" "$TMP/cx.cc" 2>/dev/null && hak record -q -o "$TMP/cx.hkt" -- "$TMP/cx"; then
    hak db import-trace --db "$TMP/cx.db" -q "$TMP/cx.hkt"
    check "import-trace stores demangled C++ names" \
      bash -c "sqlite3 '$TMP/cx.db' 'select symbol from trace_sites' | grep -q '^app::make_widget(int)+0x'"
    check "... and no mangled ones where a name was found" \
      bash -c "! sqlite3 '$TMP/cx.db' 'select symbol || frames from trace_sites' | grep -q '_Z[A-Z0-9]'"
  else
    skip "C++ demangling" "could not build or record the C++ program"
  fi
else
  skip "C++ demangling" "needs g++, hak record and libstdc++"
fi

# --- lifetimes: in events too, since a coarse clock makes most 0 ns -----------
if hak record --help >/dev/null 2>&1 && hak record -q --ts-resolution 1ms -o "$TMP/ls.hkt" -- ls -la /usr/lib >/dev/null 2>&1; then
  hak db import-trace --db "$TMP/lt.db" -q "$TMP/ls.hkt"
  q1() { sqlite3 "$TMP/lt.db" "$1"; }
  check "import-trace stores lifetimes in events for every freed object" \
    test "$(q1 'select sum(objects) from trace_lifetime_events_hist where bucket >= 0')" = "$(q1 'select sum(objects) from trace_lifetime_hist where bucket >= 0')"
  check "... and the recording clock's resolution (1 ms asked for)" test "$(q1 'select ts_resolution_ns from trace_stats')" = 1000000
  zero=$(q1 "select 100 * sum(case when bucket = 0 then objects else 0 end) / sum(objects) from trace_lifetime_hist where bucket >= 0")
  check "... where most lifetimes in time are 0 ns ($zero%), few in events are 0" \
    bash -c "(( $zero > 50 )) && (( \$(sqlite3 '$TMP/lt.db' 'select coalesce(sum(objects), 0) from trace_lifetime_events_hist where bucket = 0') == 0 ))"
  hak report --db "$TMP/lt.db" -q --html "$TMP/lt.html"
  check "the report's lifetime chart uses events, saying why" \
    grep -q "objects by lifetime in events (time lifetimes: [0-9]*% are 0 ns at the recording's 1 ms clock)" "$TMP/lt.html"
  # By default the recorder stores its interpolated times in 1 us units:
  # lifetimes in time are then mostly not 0, and the trace says how its
  # times were taken.
  # the interpreter itself, not a wrapper script that execs it (pyenv shims)
  PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || true)
  if [[ -n $PY ]] && hak record -q -o "$TMP/py.hkt" -- "$PY" -c 'x = [str(i) for i in range(30000)]' >/dev/null 2>&1; then
    hak db import-trace --db "$TMP/lt2.db" -q "$TMP/py.hkt"
    q2() { sqlite3 "$TMP/lt2.db" "$1"; }
    zero2=$(q2 "select 100 * sum(case when bucket = 0 then objects else 0 end) / sum(objects) from trace_lifetime_hist where bucket >= 0")
    check "a default recording: 1 us units ($(q2 'select ts_resolution_ns from trace_stats') ns), few lifetimes in time are 0 ns ($zero2%)" \
      bash -c "[[ \$(sqlite3 '$TMP/lt2.db' 'select ts_resolution_ns from trace_stats') == 1000 ]] && (( $zero2 < 40 ))"
    check "... and its options say the times are interpolated" \
      bash -c "hak trace info '$TMP/py.hkt' | grep '^options:' | grep -q 'ts=interpolated'"
  else
    skip "default recording's lifetimes" "no python3"
  fi
else
  skip "lifetimes in events" "hak record unavailable"
fi
