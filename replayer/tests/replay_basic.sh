#!/usr/bin/env bash
# hak replay end to end: rows per allocator, determinism (--verify and across
# invocations), recorded-threads mode on larson and producer-consumer traces,
# bad input.  Traces come from `hak trace synth` and from the live
# producer-consumer program's own recording (real addresses and clocks).
. "$(dirname "$0")/../../tests/tap.sh"
DB=$TMP/hak.db
export HAK_DB=$DB
B=$HAK_ROOT/build

hak trace synth random-mixed --iters 20000 -o "$TMP/rm.hkt" >/dev/null
hak trace synth larson --iters 20000 --threads 4 -o "$TMP/larson.hkt" >/dev/null
hak trace synth producer-consumer --items 20000 -o "$TMP/pc.hkt" >/dev/null
hak-live-workload producer-consumer --iters 20000 --queue 256 -o "$TMP/livepc.hkt" >/dev/null
check "test traces were written" test -s "$TMP/rm.hkt" -a -s "$TMP/larson.hkt" -a -s "$TMP/pc.hkt" -a -s "$TMP/livepc.hkt"

check "hak replay --help exits 0" bash -c 'hak replay --help | grep -q -- "--threads"'
check_fails "no trace is a usage error" hak replay
check_fails "missing trace fails cleanly" hak replay "$TMP/nope.hkt" --alloc glibc
check "missing trace names the file" bash -c "hak replay '$TMP/nope.hkt' --alloc glibc 2>&1 | grep -q nope.hkt"
check_fails "bad --threads is a usage error" hak replay "$TMP/rm.hkt" --threads sideways
check_fails "unknown allocator name is a usage error" hak replay "$TMP/rm.hkt" --alloc frobmalloc
echo "not a trace" > "$TMP/junk.hkt"
check_fails "a non-trace fails cleanly" hak replay "$TMP/junk.hkt" --alloc glibc

# glibc, bump and (when built) hakmem each give a row with figures.
allocs=(--alloc glibc --alloc bump)
if [[ -e $B/lib/libhakmem.so ]]; then allocs+=(--alloc hakmem); fi
check "replay against glibc and bump${allocs[4]:+ and hakmem} succeeds" hak replay "$TMP/rm.hkt" "${allocs[@]}" -q
n=$(sqlite3 "$DB" "select count(*) from runs r join builds b on b.id=r.build_id
      where r.status='ok' and r.ops > 0 and r.wall_ns > 0 and r.ops_per_s > 0
        and r.minor_faults is not null and r.peak_rss_bytes is not null
        and r.lat_p50_ns is not null and r.addr_digest is not null
        and b.name in ('glibc','bump','hakmem')")
[[ $n == $(( ${#allocs[@]} / 2 )) ]] && ok "one complete row per allocator" || not_ok "one complete row per allocator" "got $n"
if [[ -e $B/lib/libhakmem.so ]]; then
  r=$(sqlite3 "$DB" "select b.version is not null, r.config is not null,
        (select count(*) from run_metrics m where m.run_id=r.id and m.name='alloc.bytes_mapped' and m.value > 0)
      from runs r join builds b on b.id=r.build_id where b.name='hakmem'")
  [[ $r == "1|1|1" ]] && ok "hakmem row carries its version, config and alloc.* stats" || not_ok "hakmem introspection stored" "$r"
else
  skip "hakmem row" "build/lib/libhakmem.so not built"
fi
check "timelines stored" test "$(sqlite3 "$DB" "select count(*) from timelines")" -gt 10
check "page-faults counter measured" test "$(sqlite3 "$DB" "select count(*) from run_metrics where name like 'page-faults%' and value is not null")" -ge 2

# Determinism: --verify within one invocation, and the same digest across
# invocations (address randomisation is off for serial runs).
check "--verify passes against glibc" hak replay "$TMP/rm.hkt" --alloc glibc --verify -q
check "--verify passes against bump" hak replay "$TMP/rm.hkt" --alloc bump --verify -q
d=$(sqlite3 "$DB" "select count(distinct addr_digest) from runs r join builds b on b.id=r.build_id where b.name='glibc' and status='ok'")
[[ $d == 1 ]] && ok "same glibc digest across 3 invocations" || not_ok "same glibc digest across 3 invocations" "$d distinct digests"
n=$(sqlite3 "$DB" "select count(*) from runs r join builds b on b.id=r.build_id where b.name='glibc'")
[[ $n == 3 ]] && ok "--verify stores both runs" || not_ok "--verify stores both runs" "$n glibc rows"
check_fails "--verify refuses recorded threads" hak replay "$TMP/rm.hkt" --alloc glibc --verify --threads recorded

# Recorded threads: completes on larson and producer-consumer traces and
# replays exactly the ops serial mode does.
for t in larson pc livepc; do
  check "recorded threads: $t completes" hak replay "$TMP/$t.hkt" --alloc glibc --threads recorded --timeout 60 -q --label rec-$t
  check "serial: $t completes" hak replay "$TMP/$t.hkt" --alloc glibc -q --label ser-$t
  a=$(sqlite3 "$DB" "select ops from runs where label='rec-$t' and status='ok'")
  s=$(sqlite3 "$DB" "select ops from runs where label='ser-$t' and status='ok'")
  [[ -n $a && $a == "$s" && $a -gt 20000 ]] && ok "recorded $t replays all $s ops" || not_ok "recorded $t replays all ops" "recorded=$a serial=$s"
done
check "recorded mode with bump" hak replay "$TMP/larson.hkt" --alloc bump --threads recorded -q
check "recorded mode, object dependencies only (--sync-every 0)" hak replay "$TMP/pc.hkt" --alloc glibc --threads recorded --sync-every 0 -q
check "recorded mode, a sync point at every op (--sync-every 1)" hak replay "$TMP/larson.hkt" --alloc glibc --threads recorded --sync-every 1 -q
# --sync-every is part of the setting (its runs were merged with the
# default's by db compare/best and report).
hak replay "$TMP/pc.hkt" --alloc glibc --threads recorded --sync-every 0 -q --label se0 >/dev/null 2>&1
hak replay "$TMP/pc.hkt" --alloc glibc --threads recorded --sync-every 256 -q --label se256 >/dev/null 2>&1
check "--sync-every 0 is stored as a setting of its own" \
  bash -c "[[ \$(sqlite3 '$DB' \"select group_concat(distinct threads_mode) from runs where label = 'se0'\") == recorded:sync-every=0 ]]"
check "--sync-every 256 (the default) is plain recorded" \
  bash -c "[[ \$(sqlite3 '$DB' \"select group_concat(distinct threads_mode) from runs where label = 'se256'\") == recorded ]]"
check "touch all + pace recorded run" hak replay "$TMP/pc.hkt" --alloc glibc --touch all --pace recorded -q

# The table: one line per run plus a header.
out=$(hak replay "$TMP/rm.hkt" --alloc glibc --alloc bump --label table)
[[ $(printf '%s\n' "$out" | wc -l) == 3 && $out == *glibc* && $out == *bump* ]] && ok "table has a header and a line per run" || not_ok "table has a header and a line per run" "$out"

# Deadlock freedom: recorded threads on every synth workload shape.
i=0
for spec in "random-mixed --iters 5000" "tiny-hot --iters 5000 --batch 50" \
            "larson --threads 2 --iters 5000 --round 7" "larson --threads 8 --iters 8000 --slots 16 --round 3" \
            "producer-consumer --items 5000 --queue 1" "producer-consumer --items 5000 --queue 512"; do
  i=$((i + 1))
  hak trace synth $spec -o "$TMP/s$i.hkt" >/dev/null
  check "recorded threads complete: $spec" hak replay "$TMP/s$i.hkt" --alloc glibc --alloc bump --threads recorded --timeout 30 -q
done

# Fidelity: the live program's trace carries RSS samples; glibc (what it was
# recorded with) must follow the recorded RSS curve better than the flat
# bump ring does.  --pace recorded keeps the recorded gaps: the window lasts
# at least the recorded duration.
hak-live-workload random-mixed --iters 100000 --slots 20000 -o "$TMP/live.hkt" >/dev/null
check "replay of a trace with RSS samples" hak replay "$TMP/live.hkt" --alloc glibc --alloc bump --label fid -q
fg=$(sqlite3 "$DB" "select r.fidelity from runs r join builds b on b.id=r.build_id where r.label='fid' and b.name='glibc'")
fb=$(sqlite3 "$DB" "select r.fidelity from runs r join builds b on b.id=r.build_id where r.label='fid' and b.name='bump'")
awk -v g="$fg" -v b="$fb" 'BEGIN{exit !(g != "" && b != "" && g >= 0 && g <= 1 && b >= 0 && g > b)}' \
  && ok "fidelity in [0,1]; glibc ($fg) above flat bump ($fb)" || not_ok "fidelity" "glibc=$fg bump=$fb"
sy=$(sqlite3 "$DB" "select count(*) from runs r join traces t on t.id=r.trace_id where t.path like '%rm.hkt' and r.fidelity is not null")
[[ $sy == 0 ]] && ok "no RSS samples in the trace: fidelity NULL" || not_ok "fidelity NULL without samples" "$sy"
check "--pace recorded run" hak replay "$TMP/live.hkt" --alloc glibc --pace recorded --label paced -q
r=$(sqlite3 "$DB" "select (r.wall_ns >= t.duration_ns) || ' ' || r.wall_ns || ' ' || t.duration_ns from runs r join traces t on t.id=r.trace_id where r.label='paced'")
[[ $r == 1* ]] && ok "paced window lasts the recorded duration" || not_ok "paced window lasts the recorded duration" "$r"
# recorded:F scales the gaps.  A recording with a 0.4 s gap and ~1,500
# events (so the ops themselves take well under a millisecond): at 0.1 the
# window lasts at least a tenth of the recorded duration and under half of
# it; the setting stores the factor.
hak record -q -o "$TMP/gap.hkt" -- bash -c 'a=$(echo x); sleep 0.4; b=$(echo y); echo "$a$b"' >/dev/null
check "--pace recorded:0.1 run" hak replay "$TMP/gap.hkt" --alloc glibc --pace recorded:0.1 --label paced10 -q
r=$(sqlite3 "$DB" "select (r.wall_ns >= t.duration_ns / 10 and r.wall_ns < t.duration_ns / 2) || ' ' || r.pace || ' ' || r.wall_ns || ' ' || t.duration_ns from runs r join traces t on t.id=r.trace_id where r.label='paced10'")
[[ $r == "1 recorded:0.1 "* ]] && ok "recorded:0.1 window lasts 0.1-0.5 of the recorded duration, stored as its pace" \
  || not_ok "recorded:0.1 pace" "$r"
# The pace is part of the setting: runs at 0.1 of the recorded gaps are not
# merged with those replayed as fast as possible (run_summary showed both
# as the same setting, and db compare, best and report merged them).
check "--pace asap run of the same trace" hak replay "$TMP/gap.hkt" --alloc glibc --label paced10 -q
check "... the two paces are two settings (mode pace=recorded:0.1, and none for asap)" \
  test "$(sqlite3 "$DB" "select group_concat(mode, '|') from (select distinct mode from run_summary
         where label = 'paced10' order by mode)")" = "threads=serial|threads=serial pace=recorded:0.1"
# program:D paces each op at its recorded time less the recorder's cost of
# the ops before it (replayer/replay/pace.c), so that the trace lasts D: the
# window lasts at least D (the last op is due then) and less than the
# recorded 0.4 s gap would take at the recorded pace.
check "--pace program:50ms run" hak replay "$TMP/gap.hkt" --alloc glibc --pace program:50ms --label prog50 -q
r=$(sqlite3 "$DB" "select (r.wall_ns >= 50000000 and r.wall_ns < t.duration_ns * 0.8) || ' ' || r.pace || ' ' || r.wall_ns || ' ' || t.duration_ns from runs r join traces t on t.id=r.trace_id where r.label='prog50'")
[[ $r == "1 program:50ms "* ]] && ok "program:50ms window lasts 50 ms .. 0.8 of the recorded duration, stored as its pace" \
  || not_ok "program:50ms pace" "$r"
for bad in recorded:0 recorded:x recorded: recorded:2000 slow program: program:0 program:x program:-1s; do
  out=$(hak replay "$TMP/live.hkt" --alloc glibc --pace "$bad" -q 2>&1); rc=$?
  [[ $rc == 2 && $out == *"--pace '$bad'"* ]] && ok "--pace $bad refused (exit 2, names it)" || not_ok "--pace $bad" "rc=$rc $out"
done
