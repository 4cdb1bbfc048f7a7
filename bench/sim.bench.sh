#!/usr/bin/env bash
# bench/sim.bench.sh - the simulator's speed targets (issue 7):
#   * the model processes >= 20M touched addresses per second
#     (hak-sim-bench: model alone on three address streams, 4k and thp;
#     and end to end: `hak sim --access full` on a 1M-operation trace);
#   * a sweep of 8 knob combinations over a 1M-operation trace (measured
#     replay + simulation of each) finishes in under a minute.
# Medians of HAK_BENCH_REPEATS (default 3) runs.
set -u
. "$(dirname "$0")/lib.sh"
bench_db_init >/dev/null
R=${HAK_BENCH_REPEATS:-3}
W=$(mktemp -d "${TMPDIR:-/tmp}/haksimbench.XXXXXX")
trap 'rm -rf "$W"' EXIT
out=$HAK_ROOT/build/bench/sim.md
mkdir -p "$(dirname "$out")"
B=sim

# ---- the model alone ----------------------------------------------------
declare -A rate wrate
for mode in 4k thp; do
  for r in $(seq "$R"); do
    while read -r stream m aps wps _; do rate[$stream.$m]+="$aps "; wrate[$stream.$m]+="$wps "; done \
      < <(hak-sim-bench 30 "$mode")
  done
done
model_rows=""
for k in lines.4k blocks.4k random.4k lines.thp blocks.thp random.thp; do
  med=$(median ${rate[$k]}); wmed=$(median ${wrate[$k]})
  bench_put "$B.model" "$k" addresses_per_cpu_s "$med" "1/s" "$R" "30M addresses"
  bench_put "$B.model" "$k" addresses_per_wall_s "$wmed" "1/s" "$R" "30M addresses"
  model_rows+="| model alone, stream ${k%.*}, pages ${k#*.} | $(awk -v v="$med" -v w="$wmed" 'BEGIN{printf "%.1f M/s CPU (%.1f M/s wall)", v/1e6, w/1e6}') | $(awk -v v="$med" 'BEGIN{print (v >= 20e6 ? "yes" : "NO")}') |"$'\n'
done

# ---- end to end on a 1M-operation trace -----------------------------------
hak trace synth random-mixed --iters 500000 --slots 20000 --seed 42 --max 4096 -o "$W/rm.hkt" >/dev/null
ops=$(hak trace info "$W/rm.hkt" 2>/dev/null | grep -oE '[0-9,]+ events' | head -1 | tr -d ', events')
ALLOC=glibc
if [ -e "$HAK_ROOT/build/lib/libhakmem.so" ]; then ALLOC=hakmem; fi
e2e=()
for r in $(seq "$R"); do
  hak sim "$W/rm.hkt" --alloc $ALLOC --access full --db "$W/e2e.db" --label "full$r" -q || exit 1
  e2e+=("$(sqlite3 "$W/e2e.db" "select m.value from run_metrics m join runs r on r.id=m.run_id where r.label='full$r' and m.name='sim.accesses_per_s'")")
done
e2e_med=$(median "${e2e[@]}")
bench_put "$B.e2e" "$ALLOC" accesses_per_s "$e2e_med" "1/s" "$R" "hak sim --access full, random-mixed 500k iters"

# ---- a sweep of 8 combinations ------------------------------------------
if [ "$ALLOC" = hakmem ]; then
  GRID=(--grid 'HAKMEM_HUGEPAGE=off,madvise' --grid 'HAKMEM_PREFAULT=off,populate' --grid 'HAKMEM_ZERO=lazy,always')
else
  GRID=(--grid 'MALLOC_TOP_PAD_=0,1048576' --grid 'MALLOC_MMAP_THRESHOLD_=131072,1048576' --grid 'MALLOC_TRIM_THRESHOLD_=131072,1048576')
fi
sw=()
for r in $(seq "$R"); do
  t0=$(date +%s%N)
  hak sweep "$W/rm.hkt" --alloc $ALLOC "${GRID[@]}" --sim --db "$W/sweep$r.db" -q > "$W/rank$r.txt" || exit 1
  sw+=("$(( ($(date +%s%N) - t0) / 1000000 ))")
done
sw_med=$(median "${sw[@]}")
bench_put "$B.sweep" "$ALLOC" wall_ms "$sw_med" ms "$R" "8 combinations x (replay + sim), 1M-op trace"
jobs=$(sqlite3 "$W/sweep1.db" "select count(*) from runs")

{
  echo "## Simulator (hak sim, hak sweep)"
  echo
  echo "Target: >= 20M touched addresses/s; a sweep of 8 knob combinations over a"
  echo "1M-operation trace in under a minute.  Medians of $R runs; \`bench/sim.bench.sh\`;"
  echo "load average $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores while measuring (rates per CPU second"
  echo "of the simulating thread, wall-clock rates in brackets)."
  echo
  echo "| what | figure | meets target |"
  echo "|---|---|---|"
  printf '%s' "$model_rows"
  echo "| hak sim --access full end to end ($ALLOC, $ops events; also times the allocator, the real writes and reads, and the layout tracking) | $(awk -v v="$e2e_med" 'BEGIN{printf "%.1f M/s", v/1e6}') | (informational) |"
  echo "| hak sweep, 8 combinations ($ALLOC ${GRID[*]}), $jobs runs (replay + sim) | $(awk -v v="$sw_med" 'BEGIN{printf "%.1f s", v/1000}') | $(awk -v v="$sw_med" 'BEGIN{print (v < 60000 ? "yes" : "NO")}') |"
  echo
  echo "Streams: lines = every 64-byte line of consecutive blocks (--access full);"
  echo "blocks = one address per page of random 4-64 KiB blocks over 256 MiB;"
  echo "random = uniform over 1 GiB (nearly every access is a page walk)."
  echo "thp mode uses a synthetic half-huge classification (no kernel queries)."
} > "$out"
cat "$out"
