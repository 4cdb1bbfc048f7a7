#!/usr/bin/env bash
# The trace reader streams (traces/lib/trace_pages.h): the peak RSS of
# every `hak trace` view is bounded by the live blocks and call sites, not
# by the file's size.  The same workload at two lengths (the large file
# about 40 MB) must peak within a few MiB of each other; before, the
# reader mapped and faulted in the whole file and the large one peaked
# above its size.  A 4-thread larson trace checks the merge of threads'
# chunks; info and validate read the same way.
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP" || exit 1
CRAFT=$HAK_ROOT/build/tests/traces/hkt_craft
if [[ ! -x $CRAFT ]]; then skip "streaming reader" "hkt_craft is not built"; exit 0; fi

hak trace synth random-mixed --iters 300000 --slots 256 --seed 7 -q -o small.hkt
hak trace synth random-mixed --iters 8000000 --slots 256 --seed 7 -q -o large.hkt
hak trace synth larson --threads 4 --iters 3000000 --slots 64 --seed 7 -q -o threads.hkt
large_kb=$(( $(stat -c %s large.hkt) / 1024 ))
thr_kb=$(( $(stat -c %s threads.hkt) / 1024 ))
# Slack over the small trace's peak: the scan's windows (3 x 2 MiB) and
# allocator noise; far below the large file's size.
slack_kb=$((12 * 1024))

for cmd in "trace leaks" "trace peak" "trace temporaries" "trace flame" "trace timeline" \
           "trace info" "trace validate"; do
  s=$("$CRAFT" maxrss hak $cmd small.hkt 2>/dev/null)
  l=$("$CRAFT" maxrss hak $cmd large.hkt 2>/dev/null); rcl=$?
  t=$("$CRAFT" maxrss hak $cmd threads.hkt 2>/dev/null); rct=$?
  if [[ -z $s || -z $l || $rcl != 0 ]]; then
    not_ok "hak $cmd on a ${large_kb} KiB trace runs" "exit $rcl, peak ${l:-?} KiB"
  elif (( l > s + slack_kb )); then
    not_ok "hak $cmd: peak RSS independent of the file's size" \
      "small trace ${s} KiB, large trace (${large_kb} KiB file) ${l} KiB"
  else
    ok "hak $cmd: peak ${l} KiB on a ${large_kb} KiB trace (${s} KiB on a small one)"
  fi
  if [[ -z $t || $rct != 0 ]] || (( t > s + slack_kb )); then
    not_ok "hak $cmd on a 4-thread ${thr_kb} KiB trace: bounded peak" "exit $rct, peak ${t:-?} KiB"
  else
    ok "hak $cmd: peak ${t} KiB on a 4-thread ${thr_kb} KiB trace"
  fi
done
s=$("$CRAFT" maxrss hak trace diff small.hkt small.hkt 2>/dev/null)
l=$("$CRAFT" maxrss hak trace diff large.hkt large.hkt 2>/dev/null)
if [[ -n $s && -n $l ]] && (( l <= s + slack_kb )); then
  ok "hak trace diff: peak ${l} KiB over two ${large_kb} KiB traces (${s} KiB on small ones)"
else
  not_ok "hak trace diff: peak RSS independent of the files' size" "small ${s:-?} KiB, large ${l:-?} KiB"
fi

# That streaming reads the same events as before: test_trace_stream.c.
