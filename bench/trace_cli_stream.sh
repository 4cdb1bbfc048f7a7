# bench/trace_cli_stream.sh - sourced by trace_cli.bench.sh (and runnable
# alone: HAK_BENCH_TRACE_CLI_PARTS=stream bench/trace_cli.bench.sh).
# Issue 18's scale target: every view streams the trace, memory bounded by
# the live blocks and call sites, never by the file's size.  The views on a
# random-mixed trace of HAK_BENCH_STREAM_EVENTS events (default 10^9; the
# file is about 2.6 bytes per event) against the same workload at 1/25 of
# the length, one run each (minutes per run at 10^9): events/s of wall and
# CPU time and the peak RSS (/usr/bin/time's maxrss: the reader's own
# memory plus the resident part of the trace file).
# Needs: $W (scratch dir), $out (markdown), bench_put, median.
SEV=${HAK_BENCH_STREAM_EVENTS:-1000000000}
SVIEWS=${HAK_BENCH_STREAM_VIEWS:-"leaks peak temporaries flame timeline views"}
s_iters=$((SEV / 2))             # random-mixed: one malloc and one free per iteration
S_BIG=$W/stream-big.hkt S_SMALL=$W/stream-small.hkt
s_t0=$(date +%s.%N)
hak trace synth random-mixed --iters "$s_iters" --slots 256 --seed 42 -q -o "$S_BIG" || return 1
s_synth=$(awk -v a="$s_t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
hak trace synth random-mixed --iters $((s_iters / 25)) --slots 256 --seed 42 -q -o "$S_SMALL"
s_ev() { hak trace info "$1" | awk '/^events:/ {gsub(",","",$2); print $2}'; }
s_big_ev=$(s_ev "$S_BIG") s_small_ev=$(s_ev "$S_SMALL")
s_big_bytes=$(stat -c %s "$S_BIG") s_small_bytes=$(stat -c %s "$S_SMALL")
s_measure() {    # prints "wall_s cpu_s maxrss_kb"
  /usr/bin/time -f "%e %U %S %M" -o "$W/stime.txt" "$@" >/dev/null 2>&1 || return 1
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$W/stime.txt"
}
{
  echo
  echo "### streaming: peak RSS against trace size"
  echo
  echo "random-mixed --slots 256 --seed 42 at two lengths: $s_big_ev events ($s_big_bytes bytes,"
  echo "written by hak trace synth in $s_synth s) and $s_small_ev events ($s_small_bytes bytes); one"
  echo "run of each view on each (this machine's 2 cores are shared: wall times are noisy)."
  echo "The reader brings the file in 2 MiB windows and drops them behind its"
  echo "scan, and reads event chunks with pread (traces/lib/trace_pages.h)."
  echo
  echo "| view | events | events/s (wall) | events/s (CPU) | peak RSS | small trace's peak RSS |"
  echo "|---|---|---|---|---|---|"
} >> "$out"
for v in info $SVIEWS; do
  read -r bw bc bm < <(s_measure hak trace "$v" "$S_BIG") || { echo "| $v | failed |" >> "$out"; continue; }
  read -r sw sc sm < <(s_measure hak trace "$v" "$S_SMALL")
  ew=$(awk -v n="$s_big_ev" -v s="$bw" 'BEGIN{printf "%.0f", n/s}')
  ec=$(awk -v n="$s_big_ev" -v s="$bc" 'BEGIN{printf "%.0f", n/s}')
  bench_put "trace_cli.stream.$v" "random-mixed-$s_big_ev" events_per_s "$ew" events/s 1 "wall"
  bench_put "trace_cli.stream.$v" "random-mixed-$s_big_ev" events_per_cpu_s "$ec" events/s 1 "user+sys"
  bench_put "trace_cli.stream.$v" "random-mixed-$s_big_ev" max_rss "$bm" KiB 1 "file $s_big_bytes bytes"
  bench_put "trace_cli.stream.$v" "random-mixed-$s_small_ev" max_rss "$sm" KiB 1 "file $s_small_bytes bytes"
  echo "| $v | $s_big_ev | $(M "$ew") | $(M "$ec") | $(awk -v k="$bm" 'BEGIN{printf "%.1f", k/1024}') MiB | $(awk -v k="$sm" 'BEGIN{printf "%.1f", k/1024}') MiB |" >> "$out"
done
rm -f "$S_BIG" "$S_SMALL"
