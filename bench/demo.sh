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
