#!/usr/bin/env bash
# hak replay failure handling and storage: an allocator that crashes, one
# that hangs past --timeout, one that does not exist and one that is not a
# library each give a row with status and reason while the matrix goes on;
# several concurrent writers lose no rows; hardware counters the machine
# lacks are NULL with a reason, never 0.
. "$(dirname "$0")/../../tests/tap.sh"
DB=$TMP/hak.db
T=$HAK_ROOT/build/tests/replayer
hak trace synth random-mixed --iters 20000 -o "$TMP/rm.hkt" >/dev/null
echo "not an ELF" > "$TMP/bogus.so"

hak replay "$TMP/rm.hkt" --db "$DB" --timeout 3 -q \
  --alloc glibc --alloc "$T/libcrashalloc.so" --alloc "$TMP/missing.so" \
  --alloc "$T/libhangalloc.so" --alloc "$TMP/bogus.so" --alloc bump
rc=$?
[[ $rc == 1 ]] && ok "exit status 1 when a run failed" || not_ok "exit status 1 when a run failed" "rc=$rc"
q() { sqlite3 "$DB" "select r.status || '|' || coalesce(r.error,'') from runs r join builds b on b.id=r.build_id where b.name='$1'"; }
r=$(q glibc);             [[ $r == "ok|" ]] && ok "glibc before the failures: ok" || not_ok "glibc ok" "$r"
r=$(q libcrashalloc.so);  [[ $r == crashed*SIGSEGV* ]] && ok "crashing allocator: crashed with the signal" || not_ok "crashing allocator" "$r"
r=$(q missing.so);        [[ $r == load_failed*"No such file"* ]] && ok "missing library: load_failed with reason" || not_ok "missing library" "$r"
r=$(q libhangalloc.so);   [[ $r == timeout*3s* ]] && ok "hanging allocator: timeout" || not_ok "hanging allocator" "$r"
r=$(q bogus.so);          [[ $r == load_failed*"preload did not take"* ]] && ok "non-library: load_failed with reason" || not_ok "non-library" "$r"
r=$(q bump);              [[ $r == "ok|" ]] && ok "matrix went on after the failures" || not_ok "bump after failures" "$r"
n=$(sqlite3 "$DB" "select count(*) from runs where status <> 'ok' and (wall_ns is not null or ops_per_s is not null)")
[[ $n == 0 ]] && ok "failed runs carry no figures" || not_ok "failed runs carry no figures" "$n"
check_fails "bad revision for hakmem@REV fails cleanly" hak replay "$TMP/rm.hkt" --db "$DB" --alloc hakmem@no-such-rev-xyz -q
r=$(q hakmem@no-such-rev-xyz); [[ $r == load_failed*"not a revision"* ]] && ok "hakmem@BADREV: load_failed" || not_ok "hakmem@BADREV" "$r"

# Concurrent writers: 4 processes x 5 runs into one database.
C=$TMP/conc.db
pids=()
for i in 1 2 3 4; do
  hak replay "$TMP/rm.hkt" --db "$C" --alloc bump --repeat 5 --label "w$i" -q & pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
[[ $fails == 0 ]] && ok "4 concurrent hak replay processes succeed" || not_ok "concurrent writers" "$fails failed"
n=$(sqlite3 "$C" "select count(*) from runs")
[[ $n == 20 ]] && ok "concurrent writers lose no rows (20)" || not_ok "concurrent writers lose no rows" "$n rows"
n=$(sqlite3 "$C" "select count(*) from traces")
[[ $n == 1 ]] && ok "trace upserted once" || not_ok "trace upserted once" "$n"

# NULL, not zero: every counter is either measured or NULL with a reason.
bad=$(sqlite3 "$DB" "select count(*) from run_metrics m join runs r on r.id=m.run_id
        where r.status='ok' and m.source in ('hw','sw')
          and ((m.value is null and (m.reason is null or m.reason = ''))
            or (m.value is not null and m.reason is not null and m.reason not like 'scaled%'))")
[[ $bad == 0 ]] && ok "counters: value xor reason" || not_ok "counters: value xor reason" "$bad rows"
n=$(sqlite3 "$DB" "select count(*) from run_metrics m join runs r on r.id=m.run_id where r.status='ok' and m.name like 'cycles%'")
[[ $n == 2 ]] && ok "cycles row stored for each ok run" || not_ok "cycles row stored" "$n"
if ls /sys/bus/event_source/devices 2>/dev/null | grep -qx cpu; then
  skip "missing hardware counters are NULL" "this machine has a CPU PMU"
else
  n=$(sqlite3 "$DB" "select count(*) from run_metrics where name in ('cycles','instructions','dTLB-load-misses','dTLB-store-misses','iTLB-load-misses') and value is null and reason like 'perf_event_open(%'")
  z=$(sqlite3 "$DB" "select count(*) from run_metrics where source='hw' and value = 0")
  [[ $n == 10 && $z == 0 ]] && ok "no PMU: 5 hardware counters x 2 runs NULL with perf_event_open reason, none 0" || not_ok "no PMU: counters NULL" "null=$n zero=$z"
fi

# The allocator's own introspection (dlsym of HAKMEM's entry points) and
# --env knobs reach the database.
check "replay with a library offering HAKMEM introspection" \
  hak replay "$TMP/rm.hkt" --db "$DB" --alloc "$T/libfakehak.so" --env HAKMEM_FAKE_KNOB=1 -q --label fake
r=$(sqlite3 "$DB" "select b.version || '|' || r.config || '|' || r.env from runs r join builds b on b.id=r.build_id where r.label='fake'")
[[ $r == "fakehak 9.9 build test|HAKMEM_FAKE_KNOB=1|HAKMEM_FAKE_KNOB=1" ]] && ok "version, effective config and env stored" || not_ok "version, config, env stored" "$r"

# hakmem@REV: builds the allocator at a revision into a cache (here a
# private one).  HEAD builds when it contains the allocator; a revision
# without it is a load_failed row that points at the build log.
export HAK_CACHE_DIR=$TMP/cache
if git -C "$HAK_ROOT" rev-parse --verify -q HEAD >/dev/null; then
  hak replay "$TMP/rm.hkt" --db "$DB" --alloc hakmem@HEAD --label atrev -q 2>/dev/null
  r=$(sqlite3 "$DB" "select r.status || '|' || coalesce(r.error,'') from runs r where r.label='atrev'")
  if git -C "$HAK_ROOT" cat-file -e HEAD:alloc/module.mk 2>/dev/null; then
    [[ $r == "ok|" ]] && ok "hakmem@HEAD built and replayed" || not_ok "hakmem@HEAD built and replayed" "$r"
    check "hakmem@HEAD cached" bash -c "ls '$HAK_CACHE_DIR'/builds/*/libhakmem.so"
    # The archive has no .git: the version must still name the rev, not "unknown+dirty".
    short=$(git -C "$HAK_ROOT" rev-parse --short HEAD)
    v=$(sqlite3 "$DB" "select b.version from runs r join builds b on b.id=r.build_id where r.label='atrev'")
    [[ $v == *"$short"* && $v != *unknown* ]] && ok "hakmem@HEAD version names the rev ($v)" || not_ok "hakmem@HEAD version names rev $short" "$v"
    # The build is stored as hakmem@<hash>; it is found by the name given too.
    hak replay "$TMP/rm.hkt" --db "$DB" --alloc hakmem --label atrev -q 2>/dev/null
    check "compare --by build finds hakmem@HEAD by the name given to --alloc" \
      bash -c "hak db compare --db '$DB' --by build --base hakmem@HEAD --new hakmem --label atrev | grep -q '^matched: base 1 ok run in 1 setting, new 1 ok run in 1 setting'"
  else
    [[ $r == load_failed*"building hakmem@"*"failed"*".log" ]] && ok "hakmem@REV without the allocator: load_failed with the build log" || not_ok "hakmem@REV without allocator" "$r"
  fi
else
  skip "hakmem@HEAD" "not a git checkout"
fi
