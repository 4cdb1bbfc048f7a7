#!/usr/bin/env bash
# HAKMEM against glibc, mimalloc, jemalloc and tcmalloc, side by side:
# build/bench/bench_alloc (alloc/bench/bench_alloc.c) runs under LD_PRELOAD of
# each allocator; every figure is the median of HAK_BENCH_REPS (default 5)
# runs, interleaved across allocators so machine load hits all of them alike.
# Figures go to bench_results (bench 'alloc.*') and build/bench/alloc.md.
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
. bench/suite/ranges.sh
bench_db_init
REPS=${HAK_BENCH_REPS:-5}
B=build/bench/bench_alloc
[[ -x $B && -e build/lib/libhakmem.so ]] || { echo "alloc.bench: build first (make)" >&2; exit 1; }
LIBDIR=/usr/lib/x86_64-linux-gnu

# Peers come from Debian; install them when we can.
peers_missing() { [[ ! -e $LIBDIR/libmimalloc.so.2 || ! -e $LIBDIR/libjemalloc.so.2 || ! -e $LIBDIR/libtcmalloc_minimal.so.4 ]]; }
if peers_missing && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libmimalloc2.0 libjemalloc2 libtcmalloc-minimal4 >/dev/null 2>&1 \
    || echo "alloc.bench: could not install peer allocators" >&2
fi

declare -A LIBS=([glibc]="" [hakmem]="$PWD/build/lib/libhakmem.so"
                 [mimalloc]="$LIBDIR/libmimalloc.so.2" [jemalloc]="$LIBDIR/libjemalloc.so.2"
                 [tcmalloc]="$LIBDIR/libtcmalloc_minimal.so.4")
ALLOCS=(glibc hakmem)
for p in mimalloc jemalloc tcmalloc; do
  if [[ -e ${LIBS[$p]} ]]; then ALLOCS+=("$p"); else echo "alloc.bench: $p not installed, skipped" >&2; fi
done
PEERS=("${ALLOCS[@]:0:1}" "${ALLOCS[@]:2}")   # everyone but hakmem

# bench name | driver arguments | metric | unit | higher is better (1/0)
BENCHES=(
  "random_mixed|random_mixed 20000000|cpu_ops_per_s|ops per CPU s|1"
  "tiny_hot_16|tiny_hot 16 20000000|cpu_ops_per_s|ops per CPU s|1"
  "tiny_hot_64|tiny_hot 64 20000000|cpu_ops_per_s|ops per CPU s|1"
  "larson_2t|larson 5000000|cpu_ops_per_s|ops per CPU s|1"
  "faults_random_mixed_1m|faults 1000000|minor_faults|faults|0"
  "frag_peak_rss|frag|peak_rss_kb|KiB|0"
)
declare -A VALS
TARGETS=()
run_one() {   # run_one SUBJECT ENV ARGS... -> value of metric on stdout
  local lib=$1 metric=$2; shift 2
  LD_PRELOAD=$lib "$@" 2>/dev/null | awk -v k="$metric" '$1==k{print $2}'
}
for ((r = 0; r < REPS; r++)); do
  for b in "${BENCHES[@]}"; do
    IFS='|' read -r name args metric unit hib <<<"$b"
    for a in "${ALLOCS[@]}"; do
      v=$(run_one "${LIBS[$a]}" "$metric" $B $args)
      VALS[$name,$a]+="$v "
    done
    if [[ $name == faults_* ]]; then     # prefault policy on
      v=$(HAKMEM_PREFAULT=populate run_one "${LIBS[hakmem]}" "$metric" $B $args)
      VALS[$name,hakmem+prefault]+="$v "
    fi
  done
done

# Instruction counts with callgrind: timings on a shared 2-core machine are
# noisy, instruction counts are not.  name | driver args before N | N | ops per N
CG=("random_mixed|random_mixed|200000|1" "tiny_hot_16|tiny_hot 16|200000|1"
    "tiny_hot_64|tiny_hot 64|200000|1" "larson_2t|larson|100000|2")
declare -A IPO
if command -v valgrind >/dev/null; then
  ir() { LD_PRELOAD=$1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "${@:2}" 2>&1 | awk '/Collected/{print $NF}'; }
  for c in "${CG[@]}"; do
    IFS='|' read -r name args n mult <<<"$c"
    for a in "${ALLOCS[@]}"; do
      # shellcheck disable=SC2086
      i1=$(ir "${LIBS[$a]}" $B $args "$n"); i2=$(ir "${LIBS[$a]}" $B $args $((2 * n)))
      [[ -z $i1 || -z $i2 ]] && continue
      IPO[$name,$a]=$(awk -v a="$i1" -v b="$i2" -v n="$n" -v m="$mult" 'BEGIN{printf "%.1f", (b - a) / (n * m)}')
      bench_put "alloc.$name" "$a" instructions_per_op "${IPO[$name,$a]}" instr 1 "callgrind"
    done
  done
else
  echo "alloc.bench: valgrind not installed, no instruction counts" >&2
fi

load=$(cut -d' ' -f1-3 /proc/loadavg)
out=build/bench/alloc.md
{
  echo "## Allocator (alloc.bench.sh)"
  echo
  echo "Median of $REPS interleaved runs of \`build/bench/bench_alloc\` under"
  echo "LD_PRELOAD of each allocator (load average during the run: $load on $(nproc) cores)."
  echo "Speed is ops per second of the process's CPU time (all threads; the"
  echo "driver prints wall-clock ops/s too): on a shared machine a run's wall"
  echo "time includes the time it waited for a CPU."
  echo "Speed: higher is better; faults and RSS: lower is better. Ratio columns are"
  echo "hakmem / peer (>1 = hakmem ahead for ops/s, <1 = hakmem ahead for faults/RSS)."
  echo
  hdr="| bench | unit |"; sep="|---|---|"
  for a in "${ALLOCS[@]}"; do hdr+=" $a |"; sep+="---:|"; done
  for p in "${PEERS[@]}"; do hdr+=" vs $p |"; sep+="---:|"; done
  echo "$hdr"; echo "$sep"
  for b in "${BENCHES[@]}"; do
    IFS='|' read -r name args metric unit hib <<<"$b"
    subjects=("${ALLOCS[@]}")
    [[ $name == faults_* ]] && subjects+=("hakmem+prefault")
    declare -A MED=() RNG=()
    for a in "${subjects[@]}"; do
      # shellcheck disable=SC2086
      m=$(median ${VALS[$name,$a]:-})
      MED[$a]=$m
      bench_put "alloc.$name" "$a" "$metric" "$m" "$unit" "$REPS" "runs: ${VALS[$name,$a]:-}; load $load"
      # shellcheck disable=SC2086
      RNG[$a]=$(range_of ${VALS[$name,$a]:-})
      bench_put "alloc.$name" "$a" "${metric}_min" "${RNG[$a]% *}" "$unit" "$REPS" "lowest run"
      bench_put "alloc.$name" "$a" "${metric}_max" "${RNG[$a]#* }" "$unit" "$REPS" "highest run"
    done
    row="| $name | $unit |"
    for a in "${ALLOCS[@]}"; do
      if [[ $unit == ops/s ]]; then row+=" $(awk -v v="${MED[$a]}" 'BEGIN{printf "%.1fM", v/1e6}') |"
      else row+=" ${MED[$a]} |"; fi
    done
    for p in "${PEERS[@]}"; do
      row+=" $(awk -v h="${MED[hakmem]}" -v p="${MED[$p]}" 'BEGIN{ if (p > 0) printf "%.2f", h/p; else print "-" }') |"
    done
    echo "$row"
    # Target check: ops/s >= best peer; faults <= glibc; frag RSS <= mimalloc.
    best=""; for p in "${PEERS[@]}"; do
      v=${MED[$p]}; [[ -z $v ]] && continue
      if [[ -z $best ]] || awk -v a="$v" -v b="$best" -v h="$hib" 'BEGIN{exit !(h ? a > b : a < b)}'; then best=$v; bestn=$p; fi
    done
    case $name in
      faults_*) ref=${MED[glibc]}; refn=glibc ;;
      frag_*)   ref=${MED[mimalloc]:-}; refn=mimalloc ;;
      *)        ref=$best; refn="best peer ($bestn)" ;;
    esac
    if [[ -n $ref && -n ${MED[hakmem]} ]]; then
      met=$(awk -v h="${MED[hakmem]}" -v r="$ref" -v hi="$hib" 'BEGIN{print ((hi ? h >= r : h <= r) ? "met" : "NOT met")}')
      # Speed: the run-to-run ranges say whether a difference is more than noise
      # (bench/suite/ranges.sh: level when hakmem's and the peer's ranges overlap).
      rng=""
      if [[ $hib == 1 && -n ${RNG[hakmem]:-} && -n ${RNG[$bestn]:-} ]]; then
        v=$(verdict_of "${RNG[hakmem]% *}" "${RNG[hakmem]#* }" "${RNG[$bestn]% *}" "${RNG[$bestn]#* }")
        rng=" (runs: hakmem ${RNG[hakmem]/ /-}, $bestn ${RNG[$bestn]/ /-}: $v)"
      fi
      TARGETS+=("- $name: hakmem ${MED[hakmem]} vs $refn $ref: target $met$rng")
    fi
    [[ $name == faults_* ]] && TARGETS+=("- $name with HAKMEM_PREFAULT=populate: ${MED[hakmem+prefault]} minor faults")
    unset MED RNG
  done
  echo
  echo "Targets (hakmem must match the best peer on speed, glibc on faults, mimalloc on RSS):"
  printf '%s\n' "${TARGETS[@]}"
  if ((${#IPO[@]})); then
    echo
    echo "Instructions per op (callgrind, deterministic, so unaffected by machine load:"
    echo "(Ir(2N) - Ir(N)) / ops, i.e. the steady-state cost of malloc+free plus the driver loop):"
    echo
    printf '| bench |'; for a in "${ALLOCS[@]}"; do printf ' %s |' "$a"; done; echo
    printf '|---|'; for a in "${ALLOCS[@]}"; do printf -- '---:|'; done; echo
    for c in "${CG[@]}"; do
      IFS='|' read -r name args n mult <<<"$c"
      printf '| %s |' "$name"; for a in "${ALLOCS[@]}"; do printf ' %s |' "${IPO[$name,$a]:-}"; done; echo
    done
  fi
  echo
  echo "Repeat: \`make bench\` or \`bench/run.sh alloc\` (HAK_BENCH_REPS=N for more runs)."
} > "$out"
cat "$out"
