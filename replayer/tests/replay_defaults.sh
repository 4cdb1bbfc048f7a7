#!/usr/bin/env bash
# hak replay's defaults must not silently answer a different question
# (issue 15): a multi-threaded trace is replayed with --threads recorded
# unless told otherwise (then with a one-line note), and unknown or
# invalid allocator knobs are refused before any run.
. "$(dirname "$0")/../../tests/tap.sh"
DB=$TMP/hak.db
hak trace synth larson --iters 20000 --threads 4 -o "$TMP/larson.hkt" >/dev/null
hak trace synth random-mixed --iters 20000 -o "$TMP/rm.hkt" >/dev/null
mode() { sqlite3 "$DB" "select group_concat(distinct threads_mode) from runs where label = '$1'"; }

# --- threads mode -------------------------------------------------------------
hak replay "$TMP/larson.hkt" --alloc glibc --db "$DB" --label mt -q 2>"$TMP/err"
check "a 4-thread trace replays with --threads recorded by default" test "$(mode mt)" = recorded
check "... without a note" bash -c "! grep -q note '$TMP/err'"
hak replay "$TMP/larson.hkt" --alloc glibc --db "$DB" --label mts --threads serial -q 2>"$TMP/err"
check "--threads serial on it is honoured" test "$(mode mts)" = serial
check "... with one note naming the threads" \
  bash -c "[[ \$(wc -l < '$TMP/err') == 1 ]] && grep -q '^hak replay: .*larson.hkt: note: 4 threads allocate; replaying them serially' '$TMP/err'"
hak replay "$TMP/rm.hkt" --alloc glibc --db "$DB" --label st -q 2>"$TMP/err"
check "a single-thread trace replays serially, no note" \
  bash -c "[[ \$(sqlite3 '$DB' \"select threads_mode from runs where label = 'st'\") == serial && ! -s '$TMP/err' ]]"

# --- knobs ----------------------------------------------------------------------
if [[ -e $HAK_ROOT/build/lib/libhakmem.so ]]; then
  runs() { sqlite3 "$DB" "select count(*) from runs"; }
  before=$(runs)
  check_fails "replay refuses a misspelt knob (HAKMEM_HUGEPAGES)" \
    hak replay "$TMP/rm.hkt" --alloc hakmem --env HAKMEM_HUGEPAGES=madvise --db "$DB" -q
  err=$(hak replay "$TMP/rm.hkt" --alloc hakmem --env HAKMEM_HUGEPAGES=madvise --db "$DB" -q 2>&1)
  check "... in one line naming the knob, the nearest name and the knobs" \
    bash -c '[[ $(wc -l <<<"$1") == 1 ]] && grep -q "HAKMEM_HUGEPAGES .*did you mean HAKMEM_HUGEPAGE?.*knobs: HAKMEM_PREFAULT, " <<<"$1"' _ "$err"
  check_fails "replay refuses an invalid value (HAKMEM_HUGEPAGE=yes)" \
    hak replay "$TMP/rm.hkt" --alloc hakmem --env HAKMEM_HUGEPAGE=yes --db "$DB" -q
  err=$(hak replay "$TMP/rm.hkt" --alloc hakmem --env HAKMEM_HUGEPAGE=yes --db "$DB" -q 2>&1)
  check "... naming the knob and its valid values" grep -q "HAKMEM_HUGEPAGE=yes: invalid value for HAKMEM_HUGEPAGE; valid: off, madvise" <<<"$err"
  check_fails "replay refuses a size that is not a power of two" \
    hak replay "$TMP/rm.hkt" --alloc hakmem --env HAKMEM_SLAB_SIZE=100K --db "$DB" -q
  check "no run was stored for the refused knobs" test "$(runs)" = "$before"
  check "valid knobs still run" \
    hak replay "$TMP/rm.hkt" --alloc hakmem --env HAKMEM_HUGEPAGE=madvise --env HAKMEM_SLAB_SIZE=128K --env HAKMEM_TCACHE=64 --db "$DB" -q
  check_fails "sim refuses a misspelt knob" hak sim "$TMP/rm.hkt" --alloc hakmem --env HAKMEM_HUGEPAGES=madvise --db "$DB" -q
  check_fails "sweep refuses an invalid grid value" hak sweep "$TMP/rm.hkt" --alloc hakmem --grid HAKMEM_HUGEPAGE=off,yes --sim --db "$DB" -q
  err=$(env HAKMEM_HUGEPAGES=madvise HAKMEM_HUGEPAGE=yes HAKMEM_TCACHE=64 LD_PRELOAD="$HAK_ROOT/build/lib/libhakmem.so" /bin/echo hi 2>&1 >/dev/null)
  check "the allocator warns once per unknown name and per invalid value" \
    bash -c '[[ $(wc -l <<<"$1") == 2 ]] && grep -qx "hakmem: ignoring unknown knob HAKMEM_HUGEPAGES (see alloc/KNOBS.md)" <<<"$1" && grep -qx "hakmem: invalid value HAKMEM_HUGEPAGE=yes; using the default (valid: off, madvise)" <<<"$1"' _ "$err"
  err=$(env HAKMEM_HUGEPAGE=madvise HAKMEM_TCACHE=64 LD_PRELOAD="$HAK_ROOT/build/lib/libhakmem.so" /bin/echo hi 2>&1 >/dev/null)
  check "... and is silent for valid knobs" test -z "$err"
else
  skip "knob checks" "build/lib/libhakmem.so not built"
fi

# --- a killed hak replay takes its worker with it -------------------------------
T=$HAK_ROOT/build/tests/replayer
if [[ -e $T/libhangalloc.so ]]; then
  hak replay "$TMP/rm.hkt" --alloc "$T/libhangalloc.so" --timeout 60 --db "$DB" -q 2>/dev/null &
  hp=$!
  w=""
  for _ in $(seq 100); do w=$(pgrep -P "$hp" | head -1); [[ -n $w ]] && break; sleep 0.05; done
  if [[ -n $w ]]; then
    sleep 0.2
    kill -9 "$hp"; wait "$hp" 2>/dev/null
    for _ in $(seq 40); do kill -0 "$w" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$w" 2>/dev/null; then
      not_ok "SIGKILL of hak replay kills its worker" "worker $w still alive"
      kill -9 "$w" 2>/dev/null
    else
      ok "SIGKILL of hak replay kills its worker"
    fi
  else
    kill -9 "$hp" 2>/dev/null; wait "$hp" 2>/dev/null
    not_ok "SIGKILL of hak replay kills its worker" "no worker seen"
  fi
else
  skip "SIGKILL of hak replay kills its worker" "libhangalloc.so not built"
fi

# --- hak sim's page model follows the hugepage knob ------------------------------
thp=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
if [[ -e $HAK_ROOT/build/lib/libhakmem.so && ( $thp == madvise || $thp == always ) ]]; then
  hak trace synth random-mixed --iters 200000 --slots 256 --seed 42 -o "$TMP/rm2.hkt" >/dev/null
  walks() { sed -n 's/.*page walks) \([0-9,]*\).*/\1/p' <<<"$1" | tr -d ,; }
  on=$(hak sim "$TMP/rm2.hkt" --alloc hakmem --env HAKMEM_HUGEPAGE=madvise --no-db)
  off=$(hak sim "$TMP/rm2.hkt" --alloc hakmem --env HAKMEM_HUGEPAGE=off --no-db)
  check "sim with HAKMEM_HUGEPAGE=madvise models THP by default, saying why" \
    grep -q "pages=thp (default: .*HAKMEM_HUGEPAGE=madvise\|pages=thp (default: THP 'always'" <<<"$on"
  huge=$(sed -n 's/.*thp  *\([0-9,]*\) regions huge.*/\1/p' <<<"$on" | tr -d ,)
  if [[ ${huge:-0} == 0 ]]; then   # the kernel granted no huge page (memory fragmented)
    skip "... so the hugepage knob is no tie" "the kernel backed no region with a huge page this time"
  else
    check "... so the hugepage knob is no tie (page walks $(walks "$on") < $(walks "$off"))" \
      test "$(walks "$on")" -lt "$(walks "$off")"
  fi
  forced=$(hak sim "$TMP/rm2.hkt" --alloc hakmem --env HAKMEM_HUGEPAGE=madvise --pages 4k --no-db)
  check "--pages 4k still wins over the default" grep -q "pages=4k access" <<<"$forced"
else
  skip "sim page model follows the hugepage knob" "needs libhakmem.so and THP madvise/always (THP: ${thp:-none})"
fi

# --- --min-time: short traces are repeated in one worker for stable numbers ------
hak trace synth random-mixed --iters 5000 --slots 64 --seed 3 -o "$TMP/short.hkt" >/dev/null
metric() { sqlite3 "$DB" "select cast(x.value as int) from run_metrics x join runs r on r.id = x.run_id where r.label = '$1' and x.name = '$2'"; }
col() { sqlite3 "$DB" "select $2 from runs where label = '$1'"; }
env -u HAK_REPLAY_MIN_TIME hak replay "$TMP/short.hkt" --alloc glibc --db "$DB" --label mtdef -q
check "by default a short trace is replayed for ~0.5 s in one worker (passes $(metric mtdef replay.passes))" \
  bash -c "(( \$(sqlite3 '$DB' \"select cast(x.value as int) from run_metrics x join runs r on r.id = x.run_id where r.label = 'mtdef' and x.name = 'replay.passes'\") > 1 )) && (( \$(sqlite3 '$DB' \"select wall_ns from runs where label = 'mtdef'\") >= 500000000 ))"
hak replay "$TMP/short.hkt" --alloc glibc --db "$DB" --label mt1 --min-time 0 -q
hak replay "$TMP/short.hkt" --alloc glibc --db "$DB" --label mt2 --min-time 0.2 -q
p1=$(metric mt1 replay.passes); p2=$(metric mt2 replay.passes)
check "--min-time 0 is one pass, --min-time 0.2 several ($p1, $p2)" bash -c "(( $p1 == 1 && $p2 > 1 ))"
check "ops count every pass (per-op figures)" test "$(col mt2 ops)" = "$(( $(col mt1 ops) * p2 ))"
check "faults are the first pass's, comparable with a one-pass run" \
  bash -c "f1=$(col mt1 minor_faults); f2=$(col mt2 minor_faults); (( f2 <= f1 * 12 / 10 + 20 && f2 * 12 / 10 + 20 >= f1 ))"
# Memory figures are the first pass's too: under an allocator that keeps
# what a pass frees (libleakalloc.so), a whole-window peak grows with the
# number of passes, i.e. with the machine's speed (64 MiB against 11 before
# the fix, at 250 passes).
LEAK=$HAK_ROOT/build/tests/replayer/libleakalloc.so
# many_passes LABEL NS NEED ARGS...: hak replay ARGS --min-time NS under
# LABEL, tried again (LABEL2, LABEL3) with 4x the time while it made NEED
# passes or fewer.  One pass's time varies more than 4x on a loaded
# machine (load 9-21: a pass under 0.1 s, the next run's over 0.3 s), and
# a pass longer than --min-time is rightly the only one; the checks need
# several.  Sets MP_LABEL and MP_NS to the last try's.
many_passes() {
  local base=$1 ns=$2 need=$3 try; shift 3
  for try in 1 2 3; do
    MP_LABEL=$base; (( try > 1 )) && MP_LABEL=$base$try
    MP_NS=$ns
    hak replay "$@" --db "$DB" --label "$MP_LABEL" \
      --min-time "$(awk -v n="$ns" 'BEGIN{printf "%.3f", n / 1e9}')" -q
    (( $(metric "$MP_LABEL" replay.passes) > need )) && return
    ns=$((ns * 4))
  done
}
for mode in serial recorded; do
  tr=$TMP/short.hkt; [[ $mode == recorded ]] && tr=$TMP/larson.hkt
  hak replay "$tr" --alloc "$LEAK" --db "$DB" --label "lk1$mode" --threads $mode --min-time 0 -q
  many_passes "lk2$mode" 300000000 2 "$tr" --alloc "$LEAK" --threads $mode
  lk2=$MP_LABEL
  check "--threads $mode: peak and final RSS are the first pass's under an allocator that keeps freed memory ($(col lk1$mode peak_rss_bytes) vs $(col $lk2 peak_rss_bytes) bytes over $(metric $lk2 replay.passes) passes)" \
    bash -c "(( $(metric $lk2 replay.passes) > 2 )) && for c in peak_rss_bytes final_rss_bytes; do a=\$(sqlite3 '$DB' \"select \$c from runs where label = 'lk1$mode'\"); b=\$(sqlite3 '$DB' \"select \$c from runs where label = '$lk2'\"); (( b <= a + 2097152 && a <= b + 2097152 )) || exit 1; done"
  [[ $mode == serial ]] && lk2s=$lk2
done
# ... and so is the perf page-faults counter (where it can be opened): a
# faster allocator fits more passes, and a whole-window count ranked it
# worse for being fast (perl under hakmem: 69,322 over 16 passes against
# 17,175 rusage faults).  Under libleakalloc.so every pass faults in new
# memory until its arena wraps.
pf() { sqlite3 "$DB" "select cast(x.value as int) from run_metrics x join runs r on r.id = x.run_id where r.label = '$1' and x.name = 'page-faults' and x.value is not null"; }
if [[ -n $(pf lk1serial) && -n $(pf $lk2s) ]]; then
  check "the page-faults counter is the first pass's too ($(pf lk1serial) for one pass, $(pf $lk2s) for $(metric $lk2s replay.passes) passes)" \
    bash -c "f1=$(pf lk1serial); f2=$(pf $lk2s); (( f2 <= f1 * 12 / 10 + 20 && f2 * 12 / 10 + 20 >= f1 ))"
else
  skip "the page-faults counter is the first pass's too" "perf_event_open(page-faults) refused here"
fi
# ... and with --threads recorded (the default for multi-threaded traces):
# each pass starts the threads afresh, untimed
hak replay "$TMP/larson.hkt" --alloc glibc --db "$DB" --label mtr1 --threads recorded --min-time 0 -q
# --min-time: three one-pass times, at least 0.3 s, longer while that
# gives a single pass (many_passes)
w1=$(col mtr1 wall_ns)
many_passes mtr2 $(( w1 * 3 > 300000000 ? w1 * 3 : 300000000 )) 1 "$TMP/larson.hkt" --alloc glibc --threads recorded
mtr2=$MP_LABEL mt_ns=$MP_NS
mt=$(awk -v n="$mt_ns" 'BEGIN{printf "%.3f", n / 1e9}')
r1=$(metric mtr1 replay.passes); r2=$(metric $mtr2 replay.passes)
check "--threads recorded: --min-time 0 is one pass, --min-time $mt several ($r1, $r2)" \
  bash -c "(( $r1 == 1 && $r2 > 1 )) && [[ \$(sqlite3 '$DB' \"select threads_mode from runs where label = '$mtr2'\") == recorded ]]"
check "--threads recorded: ops count every pass" test "$(col $mtr2 ops)" = "$(( $(col mtr1 ops) * r2 ))"
# The threads' waits for each other are run metrics (the first pass's):
# larson's 4 threads hand blocks over, so some ops wait; a serial replay
# stores none.
w1=$(metric mtr1 replay.waits); s1=$(metric mtr1 replay.sleeps); w2=$(metric $mtr2 replay.waits)
check "--threads recorded: replay.waits and replay.sleeps are stored (waits $w1, sleeps $s1)" \
  bash -c "[[ -n '$w1' && -n '$s1' ]] && (( $w1 > 0 && $s1 <= $w1 ))"
check "... the first pass's ($w2 over $r2 passes; one pass: $w1, within 3x)" \
  bash -c "(( $w2 > 0 && $w2 <= 3 * $w1 + 100 ))"
check "... and a serial replay has none" \
  test "$(sqlite3 "$DB" "select count(*) from run_metrics m join runs r on r.id = m.run_id
                         where r.label = 'mts' and m.name in ('replay.waits', 'replay.sleeps')")" = 0
check "--threads recorded: the window lasts --min-time" \
  bash -c "(( \$(sqlite3 '$DB' \"select wall_ns from runs where label = '$mtr2'\") >= $mt_ns ))"
check_fails "--min-time takes seconds" hak replay "$TMP/short.hkt" --alloc glibc --db "$DB" --min-time soon -q
check_fails "--min-time with --verify is refused (digests need one pass)" \
  hak replay "$TMP/short.hkt" --alloc glibc --db "$DB" --min-time 1 --verify -q
