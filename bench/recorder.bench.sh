#!/usr/bin/env bash
# bench/recorder.bench.sh - cost of recording with `hak record` (default
# call-site capture) side by side with heaptrack, on
#   random_mixed: build/bench/random_mixed, 10M iterations = 20M malloc/free
#   random_mixed_2t: the same loop in 2 threads, 2.5M iterations each
#   factor:       build/bench/factor, 2M numbers factored (31M events,
#                 allocation wrappers reached from stacks 6-12 frames deep)
#   python3:      an allocation-heavy script on the real interpreter
# For each: wall time unrecorded / recorded / under heaptrack (slowdown
# ratios), trace bytes per event (heaptrack's .zst divided by the same
# program's event count from our trace), and extra peak RSS of the recorded
# program (max RSS under recording minus unrecorded).  Targets (issue 3):
# slowdown <= 1.5x, bytes/event <= heaptrack's, extra RSS <= 64 MiB.
# Then an allocation-rate sweep (sweep_point below): random_mixed with WORK
# rounds of the program's own work between allocations, to show at which
# event rate recording stays cheap.
# Medians of HAK_BENCH_REPEATS runs (default 3).  HAK_BENCH_REC_PROGS="factor
# python3" runs only those rows and no sweep (a quick A/B of one change; the
# output then holds only them: splice, do not commit it whole).
set -u
. "$(dirname "$0")/lib.sh"
bench_db_init >/dev/null
R=${HAK_BENCH_REPEATS:-3}
ITERS=${HAK_BENCH_REC_ITERS:-10000000}
W=$(mktemp -d "${TMPDIR:-/tmp}/hakrecbench.XXXXXX")
trap 'rm -rf "$W"' EXIT
out=$HAK_ROOT/build/bench/recorder.md
mkdir -p "$(dirname "$out")"
RM=$HAK_ROOT/build/bench/random_mixed
NULLPRE=$HAK_ROOT/build/bench/libnullpreload.so
have_ht=0; command -v heaptrack >/dev/null && have_ht=1

# run_t TAG CMD...: runs CMD once; prints its wall seconds.  Timed with
# EPOCHREALTIME (microseconds): /usr/bin/time's %e has 10 ms steps, a
# tenth of random_mixed's unrecorded run.
run_t() {
  local tag=$1; shift
  local t0=${EPOCHREALTIME//[!0-9]/}
  "$@" >/dev/null 2>"$W/err.$tag" || return 1
  local t1=${EPOCHREALTIME//[!0-9]/}
  awk -v us=$((t1 - t0)) 'BEGIN{printf "%.6f", us / 1e6}'
}

# run1 TAG CMD...: runs CMD once; prints "seconds maxrss_kb" (wall time as
# run_t, max RSS from time(1)).
run1() {
  local tag=$1; shift
  local t
  t=$(run_t "$tag" /usr/bin/time -f "%M" -o "$W/time.$tag" "$@") || return 1
  printf '%.4f %s\n' "$t" "$(tail -n 1 "$W/time.$tag")"
}

PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
PYSCRIPT='
import json
d = [{"k": str(i), "v": [i] * (i % 7), "s": "x" * (i % 3000)} for i in range(100000)]
s = json.dumps(d); e = json.loads(s)
b = [bytes(600 + i % 4000) for i in range(50000)]
print(len(s), len(e), sum(map(len, b)))'

bench_one() {   # NAME CMD...
  local name=$1; shift
  [[ -n ${HAK_BENCH_REC_PROGS:-} && " $HAK_BENCH_REC_PROGS " != *" $name "* ]] && return 0
  local p=() pr=() r=() rr=() d=() h=() hr=() nl=() cpu=() x
  for ((i = 0; i < R; i++)); do
    x=$(run1 plain "$@") || { echo "bench recorder: $name failed" >&2; return 1; }
    p+=("${x% *}"); pr+=("${x#* }")
    x=$(LD_PRELOAD=$NULLPRE run1 null "$@") || return 1
    nl+=("${x% *}")
    # -v: the summary line's CPU time of the recorder's own threads
    x=$(run1 rec hak record -q -v -o "$W/$name.hkt" -- "$@") || return 1
    r+=("${x% *}"); rr+=("${x#* }")
    cpu+=("$(sed -n 's/.*writer and helper CPU [0-9.]* ms (\([0-9.]*\) ns\/event).*/\1/p' "$W/err.rec" | tail -n 1)")
    x=$(HAKREC_DISCARD=1 run1 disc hak record -q -o "$W/$name.disc.hkt" -- "$@") || return 1
    d+=("${x% *}")
    if (( have_ht )); then
      rm -f "$W/$name.ht"*
      x=$(run1 ht heaptrack -o "$W/$name.ht" "$@") || x="NaN NaN"
      h+=("${x% *}"); hr+=("${x#* }")
    fi
    # unrecorded again at the end of the round: the machine's load drifts,
    # and the first run of a round must not be the only baseline
    x=$(run1 plain "$@") || return 1
    p+=("${x% *}"); pr+=("${x#* }")
  done
  local ev bytes htbytes tp tr th
  ev=$(hak trace info "$W/$name.hkt" | awk '/^events:/ {gsub(",","",$2); print $2}')
  bytes=$(stat -c %s "$W/$name.hkt")
  tp=$(median "${p[@]}"); tr=$(median "${r[@]}")
  local rss_p rss_r; rss_p=$(median "${pr[@]}"); rss_r=$(median "${rr[@]}")
  local slow bpe extra
  slow=$(awk -v a="$tr" -v b="$tp" 'BEGIN{printf "%.2f", a/b}')
  bpe=$(awk -v a="$bytes" -v b="$ev" 'BEGIN{printf "%.3f", a/b}')
  extra=$(awk -v a="$rss_r" -v b="$rss_p" 'BEGIN{printf "%.1f", (a-b)/1024}')
  bench_put "recorder.$name" hakrec slowdown "$slow" x "$R" "wall $tr s vs $tp s unrecorded"
  local dslow; dslow=$(awk -v a="$(median "${d[@]}")" -v b="$tp" 'BEGIN{printf "%.2f", a/b}')
  bench_put "recorder.$name" hakrec-hotpath slowdown "$dslow" x "$R" "HAKREC_DISCARD=1: events collected, not encoded or written"
  local nslow; nslow=$(awk -v a="$(median "${nl[@]}")" -v b="$tp" 'BEGIN{printf "%.2f", a/b}')
  bench_put "recorder.$name" null-interposer slowdown "$nslow" x "$R" "LD_PRELOAD=libnullpreload.so: interposition only, nothing recorded"
  local wcpu; wcpu=$(median "${cpu[@]}")
  bench_put "recorder.$name" hakrec writer_cpu_per_event "$wcpu" ns "$R" "CPU of the writer and helper threads / events (hak record -v)"
  bench_put "recorder.$name" hakrec bytes_per_event "$bpe" B "$R" "$bytes bytes, $ev events"
  bench_put "recorder.$name" hakrec extra_peak_rss "$extra" MiB "$R" "max RSS $rss_r KB vs $rss_p KB"
  local hslow="n/a" hbpe="n/a" hextra="n/a"
  if (( have_ht )) && ls "$W/$name.ht"* >/dev/null 2>&1; then
    th=$(median "${h[@]}")
    htbytes=$(stat -c %s "$W/$name.ht"* | head -1)
    hslow=$(awk -v a="$th" -v b="$tp" 'BEGIN{printf "%.2f", a/b}')
    hbpe=$(awk -v a="$htbytes" -v b="$ev" 'BEGIN{printf "%.3f", a/b}')
    hextra=$(awk -v a="$(median "${hr[@]}")" -v b="$rss_p" 'BEGIN{printf "%.1f", (a-b)/1024}')
    bench_put "recorder.$name" heaptrack slowdown "$hslow" x "$R" "wall $th s"
    bench_put "recorder.$name" heaptrack bytes_per_event "$hbpe" B "$R" "$htbytes bytes (zstd) / our event count"
    bench_put "recorder.$name" heaptrack extra_peak_rss "$hextra" MiB "$R" "max RSS of heaptrack's processes"
  fi
  printf '| %s | %s | %s s | %sx | %sx | %sx | %sx | %s | %s | %s | %s | %s |\n' "$name" "$ev" "$tp" "$nslow" "$slow" "$dslow" "$hslow" \
    "$wcpu" "$bpe" "$hbpe" "$extra" "$hextra" >> "$W/rows"
  # for the sweep: heaptrack's cost per event on this program
  if [[ $name == random_mixed && $hslow =~ ^[0-9.]+$ && $ev -gt 0 ]]; then
    HT_NS_PER_EV=$(awk -v h="$th" -v p="$tp" -v e="$ev" 'BEGIN{printf "%.1f", (h - p) / e * 1e9}')
  fi
}

# ---- allocation-rate sweep ------------------------------------------------
# random_mixed ITERS 256 WORK: WORK xorshift rounds after each malloc (the
# program's own work) lower the event rate; ITERS is scaled so every
# unrecorded run takes ~0.15 s on this machine.  Override with
# HAK_BENCH_REC_SWEEP="WORK:ITERS ...".  heaptrack is skipped at a point
# when its run would take more than HAK_BENCH_SWEEP_HT_MAX seconds
# (default 2.5), estimated from its cost per event on the random_mixed row.
SWEEP=${HAK_BENCH_REC_SWEEP:-"0:15000000 10:6000000 20:4000000 40:2000000 100:1000000 200:500000"}
HT_MAX=${HAK_BENCH_SWEEP_HT_MAX:-2.5}
HT_NS_PER_EV=""

sweep_point() {   # WORK ITERS
  local work=$1 iters=$2 name=recorder.sweep.work$1
  local cmd=("$RM" "$iters" 256 "$work")
  local p=() r=() h=() x i ht=1 htnote=""
  # how many events: one recorded run first (also warms the page cache)
  hak record -q -o "$W/sweep.hkt" -- "${cmd[@]}" >/dev/null 2>&1 || { echo "bench recorder: sweep WORK=$work failed" >&2; return 1; }
  local ev; ev=$(hak trace info "$W/sweep.hkt" | awk '/^events:/ {gsub(",","",$2); print $2}')
  if (( ! have_ht )); then ht=0; htnote="n/a (not installed)"
  elif [[ -n $HT_NS_PER_EV ]]; then
    local est; est=$(awk -v e="$ev" -v c="$HT_NS_PER_EV" 'BEGIN{printf "%.1f", e * c / 1e9}')
    if awk -v a="$est" -v b="$HT_MAX" 'BEGIN{exit !(a > b)}'; then
      ht=0; htnote="skipped (~$est s a run)"
    fi
  fi
  for ((i = 0; i < R; i++)); do
    x=$(run_t plain "${cmd[@]}") || return 1; p+=("$x")
    x=$(run_t rec hak record -q -o "$W/sweep.hkt" -- "${cmd[@]}") || return 1; r+=("$x")
    if (( ht )); then
      rm -f "$W/sweep.ht"*
      x=$(run_t ht heaptrack -o "$W/sweep.ht" "${cmd[@]}") || { ht=0; htnote="failed"; }
      (( ht )) && h+=("$x")
    fi
    x=$(run_t plain "${cmd[@]}") || return 1; p+=("$x")   # as bench_one: first and last
  done
  rm -f "$W/sweep.ht"*
  local tp tr rate slow hrate="" hslow
  tp=$(median "${p[@]}"); tr=$(median "${r[@]}")
  rate=$(awk -v e="$ev" -v t="$tp" 'BEGIN{printf "%.0f", e / t}')
  slow=$(awk -v a="$tr" -v b="$tp" 'BEGIN{printf "%.2f", a/b}')
  bench_put "$name" unrecorded events_per_s "$rate" events/s "$R" "$ev events in $tp s; random_mixed $iters 256 $work"
  bench_put "$name" hakrec events_per_s "$(awk -v e="$ev" -v t="$tr" 'BEGIN{printf "%.0f", e / t}')" events/s "$R" "$ev events in $tr s recorded"
  bench_put "$name" hakrec slowdown "$slow" x "$R" "wall $tr s vs $tp s unrecorded"
  if (( ht )); then
    local th; th=$(median "${h[@]}")
    hslow=$(awk -v a="$th" -v b="$tp" 'BEGIN{printf "%.2f", a/b}')
    hrate=$(awk -v e="$ev" -v t="$th" 'BEGIN{printf "%.0f", e / t}')
    bench_put "$name" heaptrack events_per_s "$hrate" events/s "$R" "$ev events in $th s under heaptrack"
    bench_put "$name" heaptrack slowdown "$hslow" x "$R" "wall $th s vs $tp s unrecorded"
    hslow="${hslow}x"
  else
    hslow=$htnote
  fi
  echo "$work $iters $ev $tp $rate $slow" >> "$W/sweep.data"
  awk -v w="$work" -v n="$iters" -v e="$ev" -v t="$tp" -v r="$rate" -v s="$slow" -v h="$hslow" \
    'BEGIN{printf "| %s | %s | %s | %.3f s | %.1f | %sx | %s |\n", w, n, e, t, r / 1e6, s, h}' >> "$W/sweep.rows"
}

# The line under the sweep table: the highest measured rate at which
# hak record stayed <= 1.5x, and the next higher rate measured.
sweep_verdict() {
  sort -k5,5g "$W/sweep.data" | awk '
    { rate[NR] = $5; slow[NR] = $6; work[NR] = $1 }
    END {
      best = 0
      for (i = 1; i <= NR; i++) if (slow[i] <= 1.5) best = i
      if (!best) { printf "Highest measured event rate at which hak record stayed <= 1.5x: none (lowest rate measured: %.1fM events/s, %sx).\n", rate[1] / 1e6, slow[1]; exit }
      printf "Highest measured event rate at which hak record stayed <= 1.5x: %.1fM events/s (WORK %s, %sx)", rate[best] / 1e6, work[best], slow[best]
      if (best < NR) printf "; the next higher rate measured, %.1fM events/s (WORK %s), was %sx", rate[best + 1] / 1e6, work[best + 1], slow[best + 1]
      else printf "; no higher rate was measured"
      for (i = 1; i < best; i++) if (slow[i] > 1.5) printf "; but the lower rate %.1fM events/s was %sx", rate[i] / 1e6, slow[i]
      print "."
    }'
}

: > "$W/rows"
bench_one random_mixed "$RM" "$ITERS"
# The same loop in two threads at once (2 x ITERS_MT iterations): shared
# mode seqs (recorder/README.md, "Ordering").
ITERS_MT=${HAK_BENCH_REC_ITERS_MT:-2500000}
bench_one random_mixed_2t "$RM" "$ITERS_MT" 256 0 2
# Allocation-heavy with deep-ish, varied stacks: what exact call sites
# cost (issue 17's "number-factoring kind"; bench/stacks.bench.sh splits
# it by configuration).
bench_one factor "$HAK_ROOT/build/bench/factor"
if [[ -n $PY && -x $PY ]]; then bench_one python3 "$PY" -c "$PYSCRIPT"; fi
: > "$W/sweep.rows"; : > "$W/sweep.data"
sweep_start=$SECONDS
[[ -n ${HAK_BENCH_REC_PROGS:-} ]] && SWEEP=""
for pt in $SWEEP; do sweep_point "${pt%%:*}" "${pt#*:}" || break; done
# the fixed cost in every recorded run above: start-up and exit of a program
# that does nothing (/bin/true), beyond its unrecorded wall time
fix_p=() fix_r=() fix_h=()
TRUE=$(type -P true)
for ((i = 0; i < R; i++)); do
  x=$(run_t plain "$TRUE") && fix_p+=("$x")
  x=$(run_t rec hak record -q -o "$W/true.hkt" -- "$TRUE") && fix_r+=("$x")
  if (( have_ht )); then x=$(run_t ht heaptrack -o "$W/true.ht" "$TRUE") && fix_h+=("$x"); rm -f "$W/true.ht"*; fi
done
fixed_ms() { awk -v a="$(median "$@")" -v b="$(median "${fix_p[@]}")" 'BEGIN{printf "%.0f", (a - b) * 1e3}'; }
FIX_REC=n/a FIX_HT=n/a
if (( ${#fix_p[@]} )); then
  (( ${#fix_r[@]} )) && FIX_REC="$(fixed_ms "${fix_r[@]}") ms"
  (( ${#fix_h[@]} )) && FIX_HT="$(fixed_ms "${fix_h[@]}") ms"
fi
echo "bench recorder: allocation-rate sweep took $((SECONDS - sweep_start)) s" >&2

{
  echo "## recorder (hak record vs heaptrack)"
  echo
  echo "Medians of $R runs (unrecorded: 2 per round, first and last); slowdown ="
  echo "recorded wall time / unrecorded; bytes per"
  echo "event = trace file / events of our trace (heaptrack's zstd file over the same"
  echo "count); extra RSS = max RSS recorded minus unrecorded, MiB.  Targets: slowdown"
  echo "<= 1.5x, bytes/event <= heaptrack's, extra RSS <= 64 MiB.  Default settings"
  echo "(exact 8-frame call sites: every stack walked with the program's unwind tables;"
  echo "timestamps interpolated between 1 ms clock samples, stored in 1 us units; zstd level following the writer's load: 3 when busy, up to 12 when idle).  \"Hot path only\" runs with HAKREC_DISCARD=1 (events collected"
  echo "by the interposed calls, dropped by the writer): the cost the program itself"
  echo "pays; the rest is waiting for the writer (encode + compress) on this 2-core"
  echo "machine.  random_mixed_2t runs the same loop in two threads at once: each"
  echo "thread takes seqs from batches of its own and raises an address clock with"
  echo "a compare-and-swap per event (recorder/README.md, Ordering); both cores run"
  echo "the program, so encoding competes with it for CPU."
  echo "\"Null interposer\" preloads build/bench/libnullpreload.so"
  echo "(recorder/bench/null_preload.c), which interposes malloc, free, calloc and"
  echo "realloc with a reentrancy guard and an indirect call of glibc's function"
  echo "but records nothing: the floor of any LD_PRELOAD recorder on that program."
  echo "\"Writer CPU\" is the CPU time of hak record's writer and helper encoder"
  echo "threads per event (\`hak record -v\`): expanding, encoding, compressing"
  echo "and writing.  On this 2-core machine a recorded run cannot take less than"
  echo "(program's own CPU, hot path included, + writer CPU) / 2 of wall time."
  echo "Repeat: \`bench/run.sh recorder\`."
  echo
  echo "| program | events | unrecorded | null interposer | hak record | hak record, hot path only | heaptrack | writer CPU ns/event | B/event hak | B/event heaptrack | extra RSS hak | extra RSS heaptrack |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  cat "$W/rows"
  if [[ -s $W/sweep.data ]]; then
    echo
    echo "### hak record slowdown by allocation rate"
    echo
    echo "Recording costs a fixed amount per event (in the program's thread, and on"
    echo "the writer thread that encodes and compresses, which the program waits for"
    echo "when it falls behind), so the slowdown depends on how fast the program"
    echo "allocates.  This sweep runs random_mixed with WORK rounds of its own work"
    echo "(dependent xorshift rounds) after every malloc, iterations scaled so each"
    echo "unrecorded run takes ~0.15 s; events/s = events of our trace / unrecorded"
    echo "wall time; slowdown = wall time under hak record -q (default settings) or"
    echo "heaptrack / unrecorded.  Medians of $R rounds, unrecorded twice per round;"
    echo "wall clock from bash's EPOCHREALTIME.  Each recorded run includes the"
    echo "tool's fixed start-up and exit cost, measured on true(1): hak record"
    echo "$FIX_REC, heaptrack $FIX_HT (at 0.15 s a run, 15 ms is 0.1x).  heaptrack is skipped"
    echo "where a run would take more than ${HT_MAX} s (estimated from its cost per"
    echo "event on the random_mixed row above, which is this program at WORK 0)."
    echo "A recorded program needs the second core for the writer thread, so load"
    echo "from other processes costs recorded runs more than unrecorded ones: on a"
    echo "busy machine the slowdowns rise and the line below moves to lower rates."
    echo
    echo "| WORK | iterations | events | unrecorded | events/s unrecorded (M) | hak record | heaptrack |"
    echo "|---|---|---|---|---|---|---|"
    cat "$W/sweep.rows"
    echo
    sweep_verdict
  fi
} > "$out"
cat "$out"
