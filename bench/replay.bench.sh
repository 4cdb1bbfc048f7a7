#!/usr/bin/env bash
# bench/replay.bench.sh - speed of `hak replay` (issue 5 targets):
#   1. harness cost: a 20M-op random-mixed trace replayed against the
#      built-in bump allocator: >= 100M ops/s;
#   2. replaying the same trace against glibc: >= 0.7x the ops/s of the live
#      program (hak-live-workload: the same workload, same parameters,
#      calling malloc/free directly, one byte per page touched like the
#      replay's default --touch pages);
#   3. --threads recorded on a 2-thread producer/consumer trace: >= 0.5x the
#      live producer/consumer program against glibc.
# Medians of REPEATS runs each (HAK_BENCH_REPEATS, default 5); the trace is
# built from `hak trace synth` with the live program's parameters.
set -u
. "$(dirname "$0")/lib.sh"
bench_db_init >/dev/null   # idempotent; lets the script run on its own too
R=${HAK_BENCH_REPEATS:-5}
ITERS=${HAK_BENCH_REPLAY_ITERS:-10000000}     # mallocs: ~20M ops
ITEMS=${HAK_BENCH_PC_ITEMS:-2000000}          # producer-consumer items: 4M ops
QUEUE=1024
W=$(mktemp -d "${TMPDIR:-/tmp}/hakbench.XXXXXX")
trap 'rm -rf "$W"' EXIT
DB=$W/replay.db
out=$HAK_ROOT/build/bench/replay.md
mkdir -p "$(dirname "$out")"

hak trace synth random-mixed --iters "$ITERS" --slots 256 --min 16 --max 1039 -o "$W/rm.hkt" >/dev/null || exit 1
hak trace synth producer-consumer --items "$ITEMS" --queue $QUEUE --min 16 --max 1039 -o "$W/pc.hkt" >/dev/null || exit 1

# Replay and live runs interleaved, so machine noise hits both alike.  One
# pass each (--min-time 0): the live program runs the workload once too.
live_rm=() live_pc=() live_rm_cpu=()
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
for ((i = 0; i < R; i++)); do
  hak replay "$W/rm.hkt" --alloc bump --alloc glibc --min-time 0 --db "$DB" --label serial -q || exit 1
  line=$(hak-live-workload random-mixed --iters "$ITERS" --slots 256 --min 16 --max 1039)
  live_rm+=("$(field ops_per_s <<<"$line")")
  live_rm_cpu+=("$(field ops_per_cpu_s <<<"$line")")
  hak replay "$W/pc.hkt" --alloc glibc --threads recorded --db "$DB" --label recorded -q || exit 1
  live_pc+=("$(hak-live-workload producer-consumer --iters "$ITEMS" --queue $QUEUE --min 16 --max 1039 | field ops_per_s)")
done

rates() { sqlite3 "$DB" "select r.ops_per_s from runs r join builds b on b.id=r.build_id where r.label='$1' and b.name='$2' and r.status='ok'"; }
ops() { sqlite3 "$DB" "select max(r.ops) from runs r where r.label='$1'"; }
cpurates() { sqlite3 "$DB" "select r.ops * 1e9 / (r.user_ns + r.sys_ns) from runs r join builds b on b.id=r.build_id where r.label='$1' and b.name='$2' and r.status='ok' and r.user_ns + r.sys_ns > 0"; }
bump=$(median $(rates serial bump))
bump_cpu=$(median $(cpurates serial bump))
glibc_cpu=$(median $(cpurates serial glibc))
lrm_cpu=$(median "${live_rm_cpu[@]}")
ratio_rm_cpu=$(awk -v a="$glibc_cpu" -v b="$lrm_cpu" 'BEGIN{printf "%.3f", a/b}')
load=$(cut -d' ' -f1 /proc/loadavg)
glibc=$(median $(rates serial glibc))
rec=$(median $(rates recorded glibc))
lrm=$(median "${live_rm[@]}")
lpc=$(median "${live_pc[@]}")
ratio_rm=$(awk -v a="$glibc" -v b="$lrm" 'BEGIN{printf "%.3f", a/b}')
ratio_pc=$(awk -v a="$rec" -v b="$lpc" 'BEGIN{printf "%.3f", a/b}')
bump_m=$(awk -v a="$bump" 'BEGIN{printf "%.1f", a/1e6}')

bench_put replay.harness bump ops_per_s "$bump" ops/s "$R" "$(ops serial)-op random-mixed trace, serial, --touch pages"
bench_put replay.harness bump ops_per_cpu_s "$bump_cpu" ops/cpu-s "$R" "ops per second of worker CPU time (user+sys): harness cost without machine load; load average $load"
bench_put replay.random_mixed glibc-replay ops_per_s "$glibc" ops/s "$R" "serial replay"
bench_put replay.random_mixed glibc-live ops_per_s "$lrm" ops/s "$R" "hak-live-workload random-mixed"
bench_put replay.random_mixed replay/live ratio "$ratio_rm" x "$R" "target >= 0.7"
bench_put replay.random_mixed replay/live ratio_cpu "$ratio_rm_cpu" x "$R" "ops per CPU second, replay / live (diagnostic)"
bench_put replay.producer_consumer glibc-replay-recorded ops_per_s "$rec" ops/s "$R" "--threads recorded, 2 threads"
bench_put replay.producer_consumer glibc-live ops_per_s "$lpc" ops/s "$R" "hak-live-workload producer-consumer"
bench_put replay.producer_consumer replay/live ratio "$ratio_pc" x "$R" "target >= 0.5"

verdict() { awk -v v="$1" -v t="$2" 'BEGIN{print (v >= t) ? "met" : "NOT met"}'; }
{
  echo "## hak replay (bench/replay.bench.sh)"
  echo
  echo "Medians of $R runs; ops/s over the replay loop only (the live programs"
  echo "time their own loop the same way). Traces from \`hak trace synth\` with the"
  echo "live programs' parameters (sizes 16..1039, --touch pages)."
  echo
  echo "| figure | value | target | |"
  echo "|---|---|---|---|"
  echo "| harness cost: bump, $(ops serial)-op random-mixed | ${bump_m}M ops/s | >= 100M ops/s | $(verdict "$bump" 100000000) |"
  echo "| harness cost per CPU second (user+sys), same runs | $(awk -v a="$bump_cpu" 'BEGIN{printf "%.1fM", a/1e6}') ops/cpu-s | (diagnostic) | |"
  echo "| random-mixed: glibc replay / live program | $ratio_rm ($(awk -v a="$glibc" 'BEGIN{printf "%.1fM", a/1e6}') / $(awk -v a="$lrm" 'BEGIN{printf "%.1fM", a/1e6}')) | >= 0.7 | $(verdict "$ratio_rm" 0.7) |"
  echo "| random-mixed, per CPU second: glibc replay / live | $ratio_rm_cpu | (diagnostic) | |"
  echo "| producer/consumer, --threads recorded: replay / live | $ratio_pc ($(awk -v a="$rec" 'BEGIN{printf "%.1fM", a/1e6}') / $(awk -v a="$lpc" 'BEGIN{printf "%.1fM", a/1e6}')) | >= 0.5 | $(verdict "$ratio_pc" 0.5) |"
  echo
  echo "Load average at the end: $load on $(nproc) cores (wall-clock rates drop when"
  echo "the machine is oversubscribed; the per-CPU-second rate does not)."
  echo "Recorded-threads runs use the default --sync-every 256 (threads drift at"
  echo "most ~256 ops from the recorded interleaving)."
} > "$out"
cat "$out"
