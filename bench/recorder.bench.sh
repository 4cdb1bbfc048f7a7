#!/usr/bin/env bash
# bench/recorder.bench.sh - cost of recording with `hak record` (default
# call-site capture) side by side with heaptrack, on
#   random_mixed: build/bench/random_mixed, 10M iterations = 20M malloc/free
#   python3:      an allocation-heavy script on the real interpreter
# For each: wall time unrecorded / recorded / under heaptrack (slowdown
# ratios), trace bytes per event (heaptrack's .zst divided by the same
# program's event count from our trace), and extra peak RSS of the recorded
# program (max RSS under recording minus unrecorded).  Targets (issue 3):
# slowdown <= 1.5x, bytes/event <= heaptrack's, extra RSS <= 64 MiB.
# Medians of HAK_BENCH_REPEATS runs (default 3).
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
have_ht=0; command -v heaptrack >/dev/null && have_ht=1

# run1 TAG CMD...: runs CMD once; prints "seconds maxrss_kb"
run1() {
  local tag=$1; shift
  /usr/bin/time -f "%e %M" -o "$W/time.$tag" "$@" >/dev/null 2>"$W/err.$tag" || return 1
  tail -n 1 "$W/time.$tag"
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
  local p=() pr=() r=() rr=() d=() h=() hr=() x
  for ((i = 0; i < R; i++)); do
    x=$(run1 plain "$@") || { echo "bench recorder: $name failed" >&2; return 1; }
    p+=("${x% *}"); pr+=("${x#* }")
    x=$(run1 rec hak record -q -o "$W/$name.hkt" -- "$@") || return 1
    r+=("${x% *}"); rr+=("${x#* }")
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
  printf '| %s | %s | %s s | %sx | %sx | %sx | %s | %s | %s | %s |\n' "$name" "$ev" "$tp" "$slow" "$dslow" "$hslow" \
    "$bpe" "$hbpe" "$extra" "$hextra" >> "$W/rows"
}

: > "$W/rows"
bench_one random_mixed "$RM" "$ITERS"
if [[ -n $PY && -x $PY ]]; then bench_one python3 "$PY" -c "$PYSCRIPT"; fi

{
  echo "## recorder (hak record vs heaptrack)"
  echo
  echo "Medians of $R runs (unrecorded: 2 per round, first and last); slowdown ="
  echo "recorded wall time / unrecorded; bytes per"
  echo "event = trace file / events of our trace (heaptrack's zstd file over the same"
  echo "count); extra RSS = max RSS recorded minus unrecorded, MiB.  Targets: slowdown"
  echo "<= 1.5x, bytes/event <= heaptrack's, extra RSS <= 64 MiB.  Default settings"
  echo "(8-frame call sites cached by return address + stack depth, 1 ms interpolated"
  echo "timestamps, zstd level following the writer's load: 1 when busy, up to 15 when idle).  \"Hot path only\" runs with HAKREC_DISCARD=1 (events collected"
  echo "by the interposed calls, dropped by the writer): the cost the program itself"
  echo "pays; the rest is waiting for the writer (encode + compress) on this 2-core"
  echo "machine.  Repeat: \`bench/run.sh recorder\`."
  echo
  echo "| program | events | unrecorded | hak record | hak record, hot path only | heaptrack | B/event hak | B/event heaptrack | extra RSS hak | extra RSS heaptrack |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  cat "$W/rows"
} > "$out"
cat "$out"
