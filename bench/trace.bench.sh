#!/usr/bin/env bash
# Trace format speed and size (issue 2): a synthetic random-mixed stream of
# TRACE_BENCH_EVENTS events (default 100M; W=256 slots, sizes 16..1039,
# seed 42) encoded to a file, decoded, and turned into the replay form, on
# one core (taskset), by build/bench/bench_codec.  Targets: encode >= 100M
# events/s, decode >= 200M/s, replay form >= 50M/s.  Rates are reported by
# wall clock and by CPU time (the machine is shared; CPU time excludes the
# time other processes held the core).
. "$(dirname "$0")/lib.sh"
cd "$HAK_ROOT"
bench_db_init >/dev/null   # idempotent; lets the script run on its own too
events=${TRACE_BENCH_EVENTS:-100000000}
repeats=${TRACE_BENCH_REPEATS:-3}
bin=build/bench/bench_codec
file=build/bench/trace-bench.hkt
pin=(); command -v taskset >/dev/null && pin=(taskset -c 0)
declare -A vals
levels=(-1 3)
for level in "${levels[@]}"; do
  for ((i = 0; i < repeats; i++)); do
    out=$("${pin[@]}" "$bin" --events "$events" --level "$level" -o "$file") || { echo "bench_codec failed" >&2; exit 1; }
    while read -r k v; do vals[$level.$k]+="$v "; done <<<"$out"
  done
done
# What the writer and a working encoder keep resident (issue 17):
# bench_recode --mem re-encodes the first 100 chunks of the last file at
# level 3 (resident anonymous KiB; blocks >= 32 KiB mapped on their own,
# as the recorder's arena gives them).
mem=$(build/bench/bench_recode "$file" --mem --level 3 --chunks 100) || { echo "bench_recode --mem failed" >&2; exit 1; }
enc_kib=$(awk '/^enc_peak_kib/ {print $2}' <<<"$mem")
writer_kib=$(awk '/^writer_side_kib/ {print $2}' <<<"$mem")
bench_put trace.random_mixed zstd3 encoder_resident "$enc_kib" KiB 1 "bench_recode --mem --chunks 100"
bench_put trace.random_mixed zstd3 writer_resident "$writer_kib" KiB 1 "bench_recode --mem: writer after its side records"
rm -f "$file"
md=build/bench/trace.md
{
  echo "## Trace format (traces/, issue 2)"
  echo
  echo "Synthetic random-mixed trace, $events events, one core, median of $repeats runs;"
  echo "\`bench/trace.bench.sh\` (driver \`traces/bench/bench_codec.c\`)."
  echo
  echo "| zstd level | bytes/event | encode Mev/s (cpu) | decode Mev/s (cpu) | replay form Mev/s (cpu) |"
  echo "|---|---|---|---|---|"
} >"$md"
for level in "${levels[@]}"; do
  row="| $level"
  for m in bytes_per_event encode_eps decode_eps replay_eps; do
    w=$(median ${vals[$level.$m]})
    if [[ $m == bytes_per_event ]]; then
      bench_put trace.random_mixed "zstd$level" bytes_per_event "$w" B "$repeats" "$events events"
      row+=" | $(printf %.3f "$w")"
      continue
    fi
    c=$(median ${vals[$level.${m}_cpu]})
    bench_put trace.random_mixed "zstd$level" "$m" "$w" events/s "$repeats" "wall clock, $events events"
    bench_put trace.random_mixed "zstd$level" "${m}_cpu" "$c" events/s "$repeats" "CPU time, $events events"
    row+=" | $(awk -v a="$w" -v b="$c" 'BEGIN{printf "%.1f (%.1f)", a/1e6, b/1e6}')"
  done
  echo "$row |" >>"$md"
done
{
  echo
  echo "Targets: encode >= 100, decode >= 200, replay form >= 50 Mev/s. The replay"
  echo "form rate includes its own decoding pass and first-touch of its arrays."
  echo
  echo "Resident memory (\`bench_recode FILE --mem --level 3 --chunks 100\`): a working"
  echo "encoder $enc_kib KiB, the writer after its side records $writer_kib KiB."
} >>"$md"
cat "$md"
