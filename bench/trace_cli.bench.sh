#!/usr/bin/env bash
# bench/trace_cli.bench.sh - throughput of the `hak trace` subcommands on a
# synthetic random-mixed trace (HAK_BENCH_TRACE_ITERS mallocs, default 10M,
# i.e. ~20M events): synth (generate + encode + write), info, validate,
# stats (decode + heap model), dump (decode + format), and import of the
# same stream as Android record_allocs text.  No targets in the issue for
# these; the format's own encode/decode targets are measured by the trace
# library's bench.  Then the memory-profiler views (issue 18: >= 20M
# events/s per view, peak RSS <= 256 MiB, faster than heaptrack_print on
# the same program): see the section below.  Medians of HAK_BENCH_REPEATS
# runs (default 3).
set -u
. "$(dirname "$0")/lib.sh"
bench_db_init >/dev/null
R=${HAK_BENCH_REPEATS:-3}
ITERS=${HAK_BENCH_TRACE_ITERS:-10000000}
W=$(mktemp -d "${TMPDIR:-/tmp}/hakbench.XXXXXX")
trap 'rm -rf "$W"' EXIT
out=$HAK_ROOT/build/bench/trace_cli.md
mkdir -p "$(dirname "$out")"
M() { awk -v v="$1" 'BEGIN{printf "%.1f M", v/1e6}'; }
# HAK_BENCH_TRACE_CLI_PARTS=stream: only the streaming section (10^9 events);
# =views: only the memory-profiler views and heaptrack_print.
PARTS=${HAK_BENCH_TRACE_CLI_PARTS:-all}
if [[ $PARTS == stream ]]; then
  echo "## hak trace subcommands (bench/trace_cli.bench.sh, streaming part only)" > "$out"
  . "$(dirname "$0")/trace_cli_stream.sh"; cat "$out"; exit
fi

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

if [[ $PARTS == views ]]; then
  echo "## hak trace subcommands (bench/trace_cli.bench.sh, views part only)" > "$out"
else
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
fi

# ---- memory-profiler views (hak trace leaks|peak|temporaries|flame|diff|views) ----
# Events/s of each view on a random-mixed trace of HAK_BENCH_VIEWS_ITERS
# mallocs (default 20M: ~40M events), wall and CPU, with the peak RSS and
# the peak anonymous memory (RSS less the trace file the reader maps);
# then heaptrack_print against our views on the same program
# (build/bench/random_mixed, HAK_BENCH_HEAPTRACK_ITERS iterations, default
# 2M) recorded by heaptrack and by hak record in this run, when heaptrack is
# installed.  Runs interleaved, medians of R.
VI=${HAK_BENCH_VIEWS_ITERS:-20000000}
VT=$W/views.hkt
hak trace synth random-mixed --iters "$VI" --slots 256 --seed 42 -q -o "$VT"
VEV=$(hak trace info "$VT" | awk '/^events:/ {gsub(",","",$2); print $2}')
VBYTES=$(stat -c %s "$VT")
# run_measure CMD...: prints "wall_s cpu_s maxrss_kb anon_kb" of one run;
# anon_kb is the largest RssAnon seen polling /proc every 10 ms.
run_measure() {
  local tf=$W/time.txt
  /usr/bin/time -f "%e %U %S %M" -o "$tf" "$@" >/dev/null 2>&1 &
  local tp=$! anon=0 a pid
  sleep 0.005
  pid=$(pgrep -P "$tp" | head -1)
  while kill -0 "$tp" 2>/dev/null; do
    a=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    [[ -n $a ]] && (( a > anon )) && anon=$a
    sleep 0.01
  done
  wait "$tp"
  awk -v an="$anon" '{printf "%s %.2f %s %s\n", $1, $2 + $3, $4, an}' "$tf"
}
VIEWS=(leaks peak temporaries flame diff views)
declare -A vwall vcpu vrss vanon
for ((i = 0; i < R; i++)); do
  for v in info "${VIEWS[@]}"; do
    if [[ $v == diff ]]; then read -r w c m a < <(run_measure hak trace diff "$VT" "$VT")
    elif [[ $v == views ]]; then read -r w c m a < <(run_measure hak trace views --flame "$W/vf.txt" "$VT")
    else read -r w c m a < <(run_measure hak trace "$v" "$VT"); fi
    vwall[$v]+="$w "; vcpu[$v]+="$c "; vrss[$v]+="$m "; vanon[$v]+="$a "
  done
done
vrow() {   # vrow VIEW EVENTS: markdown row
  local v=$1 n=$2 mw mc mr ma
  mw=$(median ${vwall[$v]}); mc=$(median ${vcpu[$v]}); mr=$(median ${vrss[$v]}); ma=$(median ${vanon[$v]})
  local ew ec; ew=$(awk -v n="$n" -v s="$mw" 'BEGIN{printf "%.0f", n/s}'); ec=$(awk -v n="$n" -v s="$mc" 'BEGIN{printf "%.0f", n/s}')
  bench_put "trace_cli.views.$v" random-mixed events_per_s "$ew" events/s "$R" "wall; $VEV events"
  bench_put "trace_cli.views.$v" random-mixed events_per_cpu_s "$ec" events/s "$R" "user+sys"
  bench_put "trace_cli.views.$v" random-mixed max_rss "$mr" KiB "$R" "trace file $VBYTES bytes"
  bench_put "trace_cli.views.$v" random-mixed anon_rss "$ma" KiB "$R" "RssAnon polled every 10 ms"
  echo "| $v | $(M "$ew") | $(M "$ec") | $(awk -v k="$mr" 'BEGIN{printf "%.0f", k/1024}') MiB | $(awk -v k="$ma" 'BEGIN{printf "%.1f", k/1024}') MiB |"
}
{
  echo
  echo "### memory-profiler views"
  echo
  echo "random-mixed --iters $VI --slots 256 --seed 42: $VEV events, $VBYTES bytes; medians of $R"
  echo "interleaved runs.  diff reads the trace twice (A = B), so its events are $((2 * VEV))."
  echo "views is hak trace views --flame FILE: leaks, peak, temporaries and flame in one pass."
  echo "Peak RSS includes the resident part of the trace file (the reader's scan"
  echo "window, traces/lib/trace_pages.h); anonymous memory is the views' own."
  echo
  echo "| command | events/s (wall) | events/s (CPU) | peak RSS | peak anonymous |"
  echo "|---|---|---|---|---|"
  vrow info "$VEV"
  for v in leaks peak temporaries flame; do vrow "$v" "$VEV"; done
  vrow diff $((2 * VEV))
  vrow views "$VEV"
} >> "$out"

if command -v heaptrack >/dev/null && command -v heaptrack_print >/dev/null; then
  HI=${HAK_BENCH_HEAPTRACK_ITERS:-2000000}
  RMP=$HAK_ROOT/build/bench/random_mixed
  heaptrack -o "$W/ht" "$RMP" "$HI" >/dev/null 2>&1
  HT=$(ls "$W"/ht.* | head -1)
  hak record -q -o "$W/hk.hkt" -- "$RMP" "$HI" >/dev/null
  HEV=$(hak trace info "$W/hk.hkt" | awk '/^events:/ {gsub(",","",$2); print $2}')
  declare -A hw hc hr
  HVIEWS=(leaks peak temporaries flame)
  for ((i = 0; i < R; i++)); do
    read -r w c m a < <(run_measure heaptrack_print -f "$HT")
    hw[htp]+="$w "; hc[htp]+="$c "; hr[htp]+="$m "
    tw=0; tc=0
    for v in "${HVIEWS[@]}"; do
      read -r w c m a < <(run_measure hak trace "$v" "$W/hk.hkt")
      hw[$v]+="$w "; hc[$v]+="$c "; hr[$v]+="$m "
      tw=$(awk -v a="$tw" -v b="$w" 'BEGIN{print a+b}'); tc=$(awk -v a="$tc" -v b="$c" 'BEGIN{print a+b}')
    done
    hw[all]+="$tw "; hc[all]+="$tc "
    read -r w c m a < <(run_measure hak trace views --flame "$W/hvf.txt" "$W/hk.hkt")
    hw[views]+="$w "; hc[views]+="$c "; hr[views]+="$m "
  done
  mhw=$(median ${hw[htp]}); mhc=$(median ${hc[htp]}); mall=$(median ${hw[all]}); mallc=$(median ${hc[all]})
  bench_put trace_cli.views.heaptrack_print random_mixed wall_s "$mhw" s "$R" "$HI iterations, all analyses"
  bench_put trace_cli.views.hak_four_views random_mixed wall_s "$mall" s "$R" "leaks+peak+temporaries+flame, one run each"
  mvw=$(median ${hw[views]}); mvc=$(median ${hc[views]})
  bench_put trace_cli.views.hak_views_one_pass random_mixed wall_s "$mvw" s "$R" "hak trace views --flame: the four in one pass"
  bench_put trace_cli.views.hak_views_one_pass random_mixed cpu_s "$mvc" s "$R" "user+sys"
  {
    echo
    echo "### against heaptrack_print"
    echo
    echo "build/bench/random_mixed $HI, recorded in this run by heaptrack ($(stat -c %s "$HT") bytes)"
    echo "and by hak record ($HEV events, $(stat -c %s "$W/hk.hkt") bytes); medians of $R interleaved runs."
    echo "heaptrack_print computes its every analysis in one run (reading its file twice);"
    echo "each hak view is one run over the trace; hak trace views --flame FILE answers"
    echo "leaks, peak, temporaries and the flame graph in one run."
    echo
    echo "| command | wall | CPU | peak RSS | heaptrack_print / this (wall) | (CPU) |"
    echo "|---|---|---|---|---|---|"
    echo "| heaptrack_print -f FILE | ${mhw} s | ${mhc} s | $(( $(median ${hr[htp]}) / 1024 )) MiB | 1 | 1 |"
    for v in "${HVIEWS[@]}"; do
      mw=$(median ${hw[$v]}); mc=$(median ${hc[$v]})
      echo "| hak trace $v | ${mw} s | ${mc} s | $(( $(median ${hr[$v]}) / 1024 )) MiB | $(awk -v a="$mhw" -v b="$mw" 'BEGIN{printf "%.1fx", a/b}') | $(awk -v a="$mhc" -v b="$mc" 'BEGIN{if (b > 0) printf "%.1fx", a/b; else printf "n/a"}') |"
    done
    echo "| the four hak views, one after the other | ${mall} s | ${mallc} s | | $(awk -v a="$mhw" -v b="$mall" 'BEGIN{printf "%.1fx", a/b}') | $(awk -v a="$mhc" -v b="$mallc" 'BEGIN{if (b > 0) printf "%.1fx", a/b; else printf "n/a"}') |"
    echo "| hak trace views --flame FILE (the four in one pass) | ${mvw} s | ${mvc} s | $(( $(median ${hr[views]}) / 1024 )) MiB | $(awk -v a="$mhw" -v b="$mvw" 'BEGIN{printf "%.1fx", a/b}') | $(awk -v a="$mhc" -v b="$mvc" 'BEGIN{if (b > 0) printf "%.1fx", a/b; else printf "n/a"}') |"
  } >> "$out"
  # Instruction counts do not depend on the machine's load (2 cores shared
  # with other builds): the same comparison under callgrind, on a smaller
  # recording of the same program.
  if command -v valgrind >/dev/null; then
    CI=${HAK_BENCH_CALLGRIND_ITERS:-1000000}
    heaptrack -o "$W/htc" "$RMP" "$CI" >/dev/null 2>&1
    HTC=$(ls "$W"/htc.* | head -1)
    hak record -q -o "$W/hkc.hkt" -- "$RMP" "$CI" >/dev/null
    CEV=$(hak trace info "$W/hkc.hkt" | awk '/^events:/ {gsub(",","",$2); print $2}')
    ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
           awk '/Collected :/ {print $NF}'; }
    irh=$(ir heaptrack_print -f "$HTC")
    bench_put trace_cli.views.heaptrack_print random_mixed instructions "$irh" Ir 1 "$CI iterations, callgrind"
    {
      echo
      echo "Instructions (callgrind), random_mixed $CI recorded by both ($CEV events in the hak trace):"
      echo
      echo "| command | instructions | per event | heaptrack_print / this |"
      echo "|---|---|---|---|"
      echo "| heaptrack_print -f FILE | $irh | $(awk -v a="$irh" -v n="$CEV" 'BEGIN{printf "%.0f", a/n}') | 1 |"
      tot=0
      for v in "${HVIEWS[@]}"; do
        irv=$(ir hak trace "$v" "$W/hkc.hkt")
        tot=$((tot + irv))
        bench_put "trace_cli.views.$v" random_mixed instructions "$irv" Ir 1 "$CI iterations, callgrind"
        echo "| hak trace $v | $irv | $(awk -v a="$irv" -v n="$CEV" 'BEGIN{printf "%.0f", a/n}') | $(awk -v a="$irh" -v b="$irv" 'BEGIN{printf "%.2fx", a/b}') |"
      done
      echo "| the four hak views | $tot | $(awk -v a="$tot" -v n="$CEV" 'BEGIN{printf "%.0f", a/n}') | $(awk -v a="$irh" -v b="$tot" 'BEGIN{printf "%.2fx", a/b}') |"
      irv=$(ir hak trace views --flame "$W/cvf.txt" "$W/hkc.hkt")
      bench_put trace_cli.views.views random_mixed instructions "$irv" Ir 1 "$CI iterations, callgrind, --flame"
      echo "| hak trace views --flame FILE | $irv | $(awk -v a="$irv" -v n="$CEV" 'BEGIN{printf "%.0f", a/n}') | $(awk -v a="$irh" -v b="$irv" 'BEGIN{printf "%.2fx", a/b}') |"
    } >> "$out"
  fi
else
  echo "(heaptrack not installed: no comparison with heaptrack_print)" >> "$out"
fi
[[ $PARTS == views ]] || . "$(dirname "$0")/trace_cli_stream.sh"
cat "$out"
