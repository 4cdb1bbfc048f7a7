#!/usr/bin/env bash
# The recorder's block pool with many threads (rec_thread.c): every thread
# holds one block while it lives, so a thread's share of the pool limit must
# exist before it takes its first block, and go when it is reaped.  With the
# share reserved after the block was taken, 500 threads meeting at a
# barrier hung hak record for good (threads waited in rec_pool_get for a
# block nobody would return).
. "$(dirname "$0")/../../tests/tap.sh"
PROG=$HAK_ROOT/build/tests/recorder/progs/many_idle_threads
cd "$TMP" || exit 1

for n in 64 400; do
  # A hang is the failure: the bound is generous (unrecorded: 0.1 s).
  timeout 300 hak record -o t$n.hkt -- "$PROG" $n 3 >out$n.txt 2>err$n.txt; rc=$?
  if [[ $rc == 0 ]]; then ok "$n threads meeting at a barrier, then churn: recorded (exit 0)"
  else not_ok "$n threads meeting at a barrier, then churn: exit $rc (124 = hung)" "$(tail -2 err$n.txt)"; fi
  want=$(awk '{print $2}' out$n.txt)
  # malloc+free events of the program (the loader's and libc's own come on top)
  got=$(hak trace info t$n.hkt 2>/dev/null | awk '$1=="malloc"||$1=="free"{gsub(",","",$2); s+=$2} END{print s+0}')
  if [[ -n $want ]] && (( got >= want )); then ok "$n threads: $got malloc+free events >= the program's $want"
  else not_ok "$n threads: $got malloc+free events, the program made ${want:-?}"; fi
  check "$n threads: the trace is complete" bash -c "hak trace info t$n.hkt | grep -q '^status: *complete'"
done
