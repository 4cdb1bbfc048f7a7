#!/usr/bin/env bash
# bench/trace_cli.bench.sh - throughput of the `hak trace` subcommands on a
# synthetic random-mixed trace (HAK_BENCH_TRACE_ITERS mallocs, default 10M,
# i.e. ~20M events): synth (generate + encode + write), info, validate,
# stats (decode + heap model), dump (decode + format), and import of the
# same stream as Android record_allocs text.  No targets in the issue for
# these; the format's own encode/decode targets are measured by the trace
# library's bench.  Medians of HAK_BENCH_REPEATS runs (default 3).
set -u
. "$(dirname "$0")/lib.sh"
bench_db_init >/dev/null
R=${HAK_BENCH_REPEATS:-3}
ITERS=${HAK_BENCH_TRACE_ITERS:-10000000}
W=$(mktemp -d "${TMPDIR:-/tmp}/hakbench.XXXXXX")
trap 'rm -rf "$W"' EXIT
out=$HAK_ROOT/build/bench/trace_cli.md
mkdir -p "$(dirname "$out")"

now() { date +%s.%N; }
# secs CMD...: wall seconds of one run of CMD (output discarded)
secs() {
  local t0 t1; t0=$(now); "$@" >/dev/null || return 1; t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.6f", b-a}'
}
# rate EVENTS CMD...: events per second of one run of CMD
rate() {
  local n=$1; shift
  local s; s=$(secs "$@") || return 1
  awk -v n="$n" -v s="$s" 'BEGIN{printf "%.0f", n/s}'
}

T=$W/rm.hkt
synth=() info=() val=() stats=() dump=() imp=()
for ((i = 0; i < R; i++)); do
  synth+=("$(secs hak trace synth random-mixed --iters "$ITERS" --slots 256 --seed 42 -q -o "$T")")
done
EV=$(hak trace info "$T" | awk '/^events:/ {gsub(",","",$2); print $2}')
BYTES=$(stat -c %s "$T")
synth=($(for s in "${synth[@]}"; do awk -v s="$s" -v n="$EV" 'BEGIN{printf "%.0f\n", n/s}'; done))
# the first 2M events as Android text, for the importer
hak trace dump --limit 2000000 "$T" | awk '
  $4=="malloc" {sub("size=","",$5); print "20000: malloc " $7 " " $5 " " $2 " " $2+40}
  $4=="free"   {print "20000: free " $5 " " $2 " " $2+20}' > "$W/android.txt"
NA=$(wc -l < "$W/android.txt")
for ((i = 0; i < R; i++)); do
  info+=("$(rate "$EV" hak trace info "$T")")
  val+=("$(rate "$EV" hak trace validate "$T")")
  stats+=("$(rate "$EV" hak trace stats "$T")")
  dump+=("$(rate 2000000 hak trace dump --limit 2000000 "$T")")
  imp+=("$(rate "$NA" hak trace import -q "$W/android.txt" -o "$W/imp.hkt")")
done
m_synth=$(median "${synth[@]}"); m_info=$(median "${info[@]}"); m_val=$(median "${val[@]}")
m_stats=$(median "${stats[@]}"); m_dump=$(median "${dump[@]}"); m_imp=$(median "${imp[@]}")
bpe=$(awk -v b="$BYTES" -v n="$EV" 'BEGIN{printf "%.2f", b/n}')
note="random-mixed --iters $ITERS --slots 256 --seed 42: $EV events"
bench_put trace_cli.synth random-mixed events_per_s "$m_synth" events/s "$R" "$note; generate+encode+write"
bench_put trace_cli.synth random-mixed bytes_per_event "$bpe" bytes 1 "$note"
bench_put trace_cli.info random-mixed events_per_s "$m_info" events/s "$R" "$note"
bench_put trace_cli.validate random-mixed events_per_s "$m_val" events/s "$R" "$note"
bench_put trace_cli.stats random-mixed events_per_s "$m_stats" events/s "$R" "$note"
bench_put trace_cli.dump random-mixed lines_per_s "$m_dump" lines/s "$R" "first 2M events"
bench_put trace_cli.import android records_per_s "$m_imp" records/s "$R" "$NA records with timestamps"
M() { awk -v v="$1" 'BEGIN{printf "%.1f M", v/1e6}'; }
{
  echo "## hak trace subcommands (bench/trace_cli.bench.sh)"
  echo
  echo "One core, $note ($bpe file bytes/event); medians of $R runs."
  echo
  echo "| subcommand | throughput |"
  echo "|---|---|"
  echo "| synth (generate, encode, write) | $(M "$m_synth") events/s |"
  echo "| info (decode, heap model) | $(M "$m_info") events/s |"
  echo "| validate | $(M "$m_val") events/s |"
  echo "| stats | $(M "$m_stats") events/s |"
  echo "| dump (to /dev/null) | $(M "$m_dump") lines/s |"
  echo "| import (Android text with timestamps) | $(M "$m_imp") records/s |"
} > "$out"
cat "$out"
