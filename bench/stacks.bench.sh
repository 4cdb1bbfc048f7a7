#!/usr/bin/env bash
# bench/stacks.bench.sh - what call-site capture costs the recorded program
# (recorder/README.md, "Call sites"), per configuration:
#   off      --stacks=off: no call sites (the rest of the hot path)
#   default  exact stacks by the unwind-rule walk (rec_stacks.c)
#   exact    --stacks-exact: libunwind's unw_backtrace on every call
#   old      only with HAK_BENCH_OLD_RECLIB=PATH: another libhakrec.so (e.g.
#            a build of an older commit) in its default mode
# on two allocation-heavy programs:
#   random_mixed  build/bench/random_mixed 10M iterations (one call site,
#                 shallow stack: main's loop)
#   factor        build/bench/factor 2M numbers (wrappers reached from many
#                 stacks 6-12 frames deep, recursion)
# Figures, from R interleaved rounds (unrecorded, then each configuration,
# then unrecorded again), medians:
#   hot path ns/event: (wall with HAKREC_DISCARD=1 - wall unrecorded) /
#     events: the program thread's own cost (events are collected, then
#     dropped by the writer);
#   slowdown: full recording (trace written) / unrecorded;
#   Ir/event: callgrind instructions of the program thread per event over
#     unrecorded, on a smaller run (deterministic: immune to the machine's
#     load).
set -u
. "$(dirname "$0")/lib.sh"
bench_db_init >/dev/null
R=${HAK_BENCH_REPEATS:-5}
OLD=${HAK_BENCH_OLD_RECLIB:-}
W=$(mktemp -d "${TMPDIR:-/tmp}/hakstkbench.XXXXXX")
trap 'rm -rf "$W"' EXIT
out=$HAK_ROOT/build/bench/stacks.md
mkdir -p "$(dirname "$out")"
LIB=$HAK_ROOT/build/lib/libhakrec.so
RM=$HAK_ROOT/build/bench/random_mixed
FA=$HAK_ROOT/build/bench/factor
have_cg=0; command -v valgrind >/dev/null && have_cg=1
CFGS=(off default exact)
[[ -n $OLD ]] && CFGS+=(old)

wall() {   # CMD...: wall seconds of one run
  local t0=${EPOCHREALTIME//[!0-9]/}
  "$@" >/dev/null 2>>"$W/err" || return 1
  local t1=${EPOCHREALTIME//[!0-9]/}
  awk -v us=$((t1 - t0)) 'BEGIN{printf "%.6f", us / 1e6}'
}

# rec CFG CMD...: hak record in configuration CFG
rec() {
  local cfg=$1; shift
  case $cfg in
    off) hak record -q --stacks=off -o "$W/t.hkt" -- "$@" ;;
    default) hak record -q -o "$W/t.hkt" -- "$@" ;;
    exact) hak record -q --stacks-exact -o "$W/t.hkt" -- "$@" ;;
    old) HAK_RECORDER_LIB=$OLD hak record -q -o "$W/t.hkt" -- "$@" ;;
  esac
}

# cg_ir CFG CMD...: callgrind instructions of the program's first thread
cg_ir() {
  local cfg=$1; shift
  local env=() lib=$LIB
  case $cfg in
    plain) lib="" ;;
    off) env=(HAKREC_STACKS=off) ;;
    exact) env=(HAKREC_STACKS_EXACT=1) ;;
    old) lib=$OLD ;;
  esac
  rm -f "$W"/cg.*
  env ${lib:+LD_PRELOAD=$lib} HAKREC_DISCARD=1 HAKREC_OUTPUT="$W/cg.hkt" "${env[@]}" \
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$W/cg.%p" "$@" \
    >/dev/null 2>>"$W/err" || return 1
  local f; f=$(ls "$W"/cg.*-01 2>/dev/null | head -1)
  [[ -n $f ]] || f=$(ls "$W"/cg.[0-9]* | grep -v -- - | head -1)
  sed -n 's/^summary: //p' "$f" | head -1
}

: > "$W/rows"
bench_prog() {   # NAME "CMD" "SMALL CMD"
  local name=$1 cmd=($2) small=($3) i c
  declare -A disc full
  local plain=()
  rec default "${cmd[@]}" >/dev/null 2>&1 || { echo "bench stacks: $name failed" >&2; return 1; }
  local ev; ev=$(hak trace info "$W/t.hkt" | awk '/^events:/ {gsub(",","",$2); print $2}')
  for ((i = 0; i < R; i++)); do
    plain+=("$(wall "${cmd[@]}")")
    for c in "${CFGS[@]}"; do
      disc[$c]+=" $(HAKREC_DISCARD=1 wall rec "$c" "${cmd[@]}")"
      full[$c]+=" $(wall rec "$c" "${cmd[@]}")"
    done
    plain+=("$(wall "${cmd[@]}")")
  done
  local tp; tp=$(median "${plain[@]}")
  local sev=0 ir0=0
  if (( have_cg )); then
    rec default "${small[@]}" >/dev/null 2>&1
    sev=$(hak trace info "$W/t.hkt" | awk '/^events:/ {gsub(",","",$2); print $2}')
    ir0=$(cg_ir plain "${small[@]}")
  fi
  for c in "${CFGS[@]}"; do
    local td tf ns slow ir="n/a"
    td=$(median ${disc[$c]}); tf=$(median ${full[$c]})
    ns=$(awk -v d="$td" -v p="$tp" -v e="$ev" 'BEGIN{printf "%.1f", (d - p) / e * 1e9}')
    slow=$(awk -v a="$tf" -v b="$tp" 'BEGIN{printf "%.2f", a/b}')
    if (( have_cg )) && (( sev > 0 )); then
      local irc; irc=$(cg_ir "$c" "${small[@]}")
      [[ -n $irc ]] && ir=$(awk -v a="$irc" -v b="$ir0" -v e="$sev" 'BEGIN{printf "%.0f", (a - b) / e}')
      bench_put "stacks.$name" "$c" ir_per_event "$ir" Ir 1 "callgrind, program thread, ${small[*]##*/}, $sev events"
    fi
    bench_put "stacks.$name" "$c" hotpath_ns_per_event "$ns" ns "$R" "HAKREC_DISCARD=1 wall $td s vs $tp s unrecorded, $ev events"
    bench_put "stacks.$name" "$c" slowdown "$slow" x "$R" "wall $tf s vs $tp s unrecorded"
    printf '| %s | %s | %s s | %s | %s | %s | %sx |\n' "$name" "$ev" "$tp" "$c" "$ns" "$ir" "$slow" >> "$W/rows"
  done
}

bench_prog random_mixed "$RM 10000000" "$RM 200000"
bench_prog factor "$FA 2000000" "$FA 40000"

{
  echo "## recorder call sites (bench/stacks.bench.sh)"
  echo
  echo "Medians of $R interleaved rounds; hot path = HAKREC_DISCARD=1 wall time over"
  echo "unrecorded, per event; Ir/event = callgrind instructions of the program"
  echo "thread per event over unrecorded (smaller runs).  Configurations: off ="
  echo "--stacks=off, default = exact walk, exact = --stacks-exact (libunwind per"
  echo "call)${OLD:+, old = $OLD}."
  echo
  echo "| program | events | unrecorded | config | hot path ns/event | Ir/event | slowdown |"
  echo "|---|---|---|---|---|---|---|"
  cat "$W/rows"
} > "$out"
cat "$out"
