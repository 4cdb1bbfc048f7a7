#!/usr/bin/env bash
# `make demo`: the main job end to end on the default SQLite file ./hak.db.
# It grows as components land; every step here must always work.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/build/bin:$PATH"
echo "== hak $(hak --version)"
hak --help

# -- traces (issue 2): synthesise the profiling report's random-mixed workload
# (1M iterations, 256 slots, sizes 16..1039, seed 42) and inspect it.
mkdir -p build/demo
DEMO_TRACE=build/demo/random-mixed.hkt
echo
echo "== hak trace synth random-mixed -> $DEMO_TRACE"
hak trace synth random-mixed --iters 1000000 --slots 256 --seed 42 -o "$DEMO_TRACE"
echo
echo "== hak trace info $DEMO_TRACE"
hak trace info "$DEMO_TRACE"
echo
echo "== hak trace stats --top 3 $DEMO_TRACE"
hak trace stats --top 3 "$DEMO_TRACE"
echo
echo "== hak trace validate $DEMO_TRACE"
hak trace validate "$DEMO_TRACE"

# -- the main job: a real program's trace and the synthetic one, replayed
# against hakmem and glibc (and mimalloc, jemalloc, tcmalloc where
# installed), 3 repeats each, into ./hak.db; then the questions.
DB=${HAK_DB:-hak.db}
traces=("$DEMO_TRACE")
if command -v python3 >/dev/null; then
  echo
  echo "== hak record -o build/demo/python3.hkt -- python3 bench/demo_workload.py"
  hak record -q -o build/demo/python3.hkt -- python3 bench/demo_workload.py
  traces=(build/demo/python3.hkt "${traces[@]}")
else
  echo "(python3 not installed: skipping the recorded program, using the synthetic trace only)"
fi
allocs=()
if [[ -e build/lib/libhakmem.so ]]; then allocs+=(--alloc hakmem); else
  echo "(build/lib/libhakmem.so not built yet: replaying the other allocators only)"; fi
allocs+=(--alloc glibc)
peers=()
for p in mimalloc jemalloc tcmalloc; do
  if compgen -G "/usr/lib/*-linux-gnu/lib$p*.so*" >/dev/null || compgen -G "/usr/lib/lib$p*.so*" >/dev/null; then
    allocs+=(--alloc "$p"); peers+=("$p")
  fi
done
echo
echo "== hak replay ${traces[*]} ${allocs[*]} --repeat 3 --label demo --db $DB"
hak replay "${traces[@]}" "${allocs[@]}" --repeat 3 --label demo --db "$DB" -q
for t in "${traces[@]}"; do hak db import-trace --db "$DB" -q "$t"; done
echo
echo "== hak db best --label demo                   (1. which allocator is fastest per trace?)"
hak db best --db "$DB" --label demo
echo
echo "== hak db best --label demo --metric minor_faults   (1b. ... and by page faults)"
hak db best --db "$DB" --label demo --metric minor_faults
echo
echo "== hak db best --label demo --metric peak_rss_bytes (1c. ... and by peak RSS)"
hak db best --db "$DB" --label demo --metric peak_rss_bytes
new=hakmem; [[ -e build/lib/libhakmem.so ]] || new=${peers[0]:-}
if [[ -n $new ]]; then
  echo
  echo "== hak db compare --by build --base glibc --new $new --label demo   (2. what changes if I switch?)"
  hak db compare --db "$DB" --by build --base glibc --new "$new" --label demo
fi
if [[ -e build/lib/libhakmem.so ]]; then
  echo
  echo "== hak sweep $DEMO_TRACE --alloc hakmem --grid HAKMEM_HUGEPAGE=off,madvise --sim --repeat 2 -q"
  hak sweep "$DEMO_TRACE" --alloc hakmem --grid HAKMEM_HUGEPAGE=off,madvise --sim --repeat 2 \
    --label demo-knobs --db "$DB" -q
  echo
  echo "== hak db query analysis/queries/knobs_tlb_faults.sql -p trace=random-mixed.hkt   (3. which knobs cut TLB misses and faults?)"
  hak db query --db "$DB" analysis/queries/knobs_tlb_faults.sql -p trace=random-mixed.hkt
  echo
  echo "== hak db query analysis/queries/history.sql -p trace=random-mixed.hkt -p alloc=hakmem   (4. its history; grows with every 'make demo')"
  hist=$(hak db query --db "$DB" analysis/queries/history.sql -p trace=random-mixed.hkt -p alloc=hakmem)
  head -n 2 <<<"$hist"; tail -n +3 <<<"$hist" | tail -n 6
fi
if [[ ${traces[0]} == build/demo/python3.hkt ]]; then
  echo
  echo "== hak db query analysis/queries/top_call_sites.sql -p trace=python3   (5. which call sites?)"
  hak db query --db "$DB" analysis/queries/top_call_sites.sql -p trace=python3
fi
echo
cmp=(); [[ -n $new ]] && cmp=(--by build --base glibc --new "$new")
echo "== hak report --label demo ${cmp[*]} --html report.html"
hak report --db "$DB" --label demo "${cmp[@]}" --html report.html -q
echo "wrote report.html ($(wc -c < report.html) bytes; open it in a browser) and $DB"
echo "next: hak db runs --label demo; hak db --help; README.md 'Five questions'"
