#!/usr/bin/env bash
# make stress: the allocator race (alloc/tests/race.c) thousands of times
# under LD_PRELOAD of hakmem: HAK_STRESS_ALLOC_N runs (default 2000), seeds
# 1..N, 2 to 8 threads, rotating through the default configuration,
# HAKMEM_TCACHE=0, HAKMEM_CHECK=1 and HAKMEM_PURGE_DELAY_MS=0 (purges racing
# with reuse).  Each failing run is named with the command that repeats it.
# About 0.3-1 s per run on 2 cores (15-30 minutes for the default).
. "$(dirname "$0")/../tap.sh"
LIB=${HAKMEM_LIB:-$HAK_ROOT/build/lib/libhakmem.so}
R=$HAK_ROOT/build/tests/alloc/race
n=${HAK_STRESS_ALLOC_N:-2000}
configs=("" "HAKMEM_TCACHE=0" "HAKMEM_CHECK=1" "HAKMEM_PURGE_DELAY_MS=0")
bad=0 shown=0 t0=$(date +%s)
for (( s = 1; s <= n; s++ )); do
  th=$(( 2 + s % 7 )) cfg=${configs[s % ${#configs[@]}]}
  if ! env $cfg LD_PRELOAD="$LIB" timeout 120 "$R" "$s" "$th" 1500 4 >"$TMP/out" 2>&1; then
    bad=$((bad + 1))
    if (( shown < 10 )); then
      shown=$((shown + 1))
      echo "# failed: env $cfg LD_PRELOAD=$LIB $R $s $th 1500 4"
      sed 's/^/#   /' "$TMP/out" | head -6
    fi
  fi
  (( s % 200 == 0 )) && echo "# $s of $n runs, $bad failed, $(( $(date +%s) - t0 )) s" >&2
done
if (( bad == 0 )); then ok "allocator race: $n runs, 2-8 threads, 4 configurations, none failed"
else not_ok "allocator race: $bad of $n runs failed (first ones above)"; fi
