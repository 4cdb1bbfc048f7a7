#!/usr/bin/env bash
# A many-thread allocation race with content checks (alloc/tests/race.c)
# under LD_PRELOAD of hakmem: cross-thread frees and reallocs in random
# order, thread churn with blocks outliving their threads, calloc, aligned
# and large blocks.  A block handed out twice or reused while live is a
# content mismatch and the run fails.  A few seeds here, in the default
# configuration, with HAKMEM_TCACHE=0 and with HAKMEM_CHECK=1; make stress
# runs thousands (tests/stress/alloc_race.sh).  The detector itself is
# checked on an allocator that does reuse live blocks.
. "$(dirname "$0")/../../tests/tap.sh"
LIB=${HAKMEM_LIB:-$HAK_ROOT/build/lib/libhakmem.so}
R=$HAK_ROOT/build/tests/alloc/race

for seed in 1 2 3; do
  check "race seed $seed: 4 threads, 4 generations, blocks checked on every free" \
    env LD_PRELOAD="$LIB" "$R" "$seed" 4 1500 4
done
check "race, 8 threads (more threads than cores: preempted mid-operation)" \
  env LD_PRELOAD="$LIB" "$R" 4 8 800 3
check "race with HAKMEM_TCACHE=0 (every free reaches its slab)" \
  env HAKMEM_TCACHE=0 LD_PRELOAD="$LIB" "$R" 5 4 1000 3
check "race with HAKMEM_CHECK=1 (canaries, poisoned free blocks)" \
  env HAKMEM_CHECK=1 LD_PRELOAD="$LIB" "$R" 6 4 1000 3
check "race under glibc (the program itself is right)" "$R" 7 4 1000 3

# The detector: libleakalloc.so never reuses a freed block until its 64 MiB
# arena wraps, and then hands out blocks that are still live.
LEAK=$HAK_ROOT/build/tests/replayer/libleakalloc.so
if [[ -e $LEAK ]]; then
  LD_PRELOAD="$LEAK" "$R" 8 2 6000 2 >"$TMP/leak.out" 2>&1; rc=$?
  check "race fails, one line per damaged block, on an allocator that hands out live blocks (exit $rc)" \
    bash -c "(( $rc == 1 )) && grep -q '^race: header overwritten\|^race: content overwritten' '$TMP/leak.out' && grep -q '^race: seed 8: stopped at 5 failures' '$TMP/leak.out'"
else
  skip "race detector check" "build/tests/replayer/libleakalloc.so not built"
fi
check_fails "race refuses a bad thread count" "$R" 1 0
