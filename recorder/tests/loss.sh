#!/usr/bin/env bash
# Recorder integrity (issue 13): the program's descriptors are never
# written, and every way of losing events ends in a trace that says so
# ("incomplete: REASON" from hak trace info, validate failing) and in hak
# record exiting 3 with a one-line error naming the file and the reason.
. "$(dirname "$0")/../../tests/tap.sh"
B=$HAK_ROOT/build
P=$B/tests/recorder/progs
CHK=$B/tests/recorder/hkt_check
cd "$TMP" || exit 1

# ---- descriptor safety: fd_hostile closes or replaces 3..1023 ---------------
for mode in closeall dup2null dup3null closefrom closerange rawclose; do
  rm -f own.txt
  hak record -q -o "fd-$mode.hkt" -- "$P/fd_hostile" "$mode" own.txt >out.txt 2>err.txt; rc=$?
  if (( rc == 0 )) && grep -qx "$mode intact" out.txt; then
    ok "$mode: the program's own file holds only its 790 bytes"
  else
    not_ok "$mode: program's file or status" "rc=$rc: $(cat out.txt err.txt | head -3)"
  fi
  ev=$(hak trace info "fd-$mode.hkt" 2>/dev/null | awk '/^events:/ {gsub(",", "", $2); print $2}')
  if "$CHK" --clean "fd-$mode.hkt" >chk.txt 2>&1 && hak trace validate "fd-$mode.hkt" >val.txt 2>&1 \
     && (( ${ev:-0} > 5600000 )); then
    ok "$mode: the trace is complete and valid ($ev events)"
  else
    not_ok "$mode: trace" "events=${ev:-?}: $(grep -E 'result|trunc' chk.txt | tr '\n' ' ') $(tail -1 val.txt)"
  fi
done

# ---- exec without the recorder's environment ---------------------------------
for mode in clearenv envp; do
  rm -f en*.hkt
  hak record -o en.hkt -- "$P/exec_noenv" "$mode" >out.txt 2>err.txt; rc=$?
  if (( rc == 3 )) && [[ -s en.hkt ]] && grep -q "en.hkt: incomplete: not followed after 20001 events (exec of /bin/true" err.txt; then
    ok "exec after $mode: -o file kept, hak record names the unfollowed exec and exits 3"
  else
    not_ok "exec after $mode" "rc=$rc, files: $(ls en*), err: $(head -2 err.txt)"
  fi
  check "exec after $mode: trace info says incomplete: not followed" \
    bash -c "hak trace info en.hkt 2>/dev/null | grep -Eq '^status: *incomplete: not followed after 20,?001 events'"
  check_fails "exec after $mode: validate fails" hak trace validate en.hkt
  check "exec after $mode: validate --allow-prefix accepts the events" hak trace validate --allow-prefix en.hkt
done

# ---- a full disk: writes fail with EFBIG past RLIMIT_FSIZE (SIGXFSZ ignored) ---
rm -f full.hkt
( trap '' XFSZ; ulimit -f 256; exec hak record -q -o full.hkt -- "$P/churn" 2 300 ) >out.txt 2>err.txt; rc=$?
if (( rc == 3 )) && grep -q "full.hkt: incomplete: write failed" err.txt; then
  ok "disk full mid-way: hak record exits 3 naming 'write failed'"
else not_ok "disk full mid-way" "rc=$rc: $(head -3 err.txt)"; fi
check "disk full mid-way: trace info says incomplete: write failed" \
  bash -c "hak trace info full.hkt 2>/dev/null | grep -q '^status: *incomplete: write failed'"
check_fails "disk full mid-way: validate fails" hak trace validate full.hkt
check "disk full mid-way: the part written is a valid prefix" hak trace validate --allow-prefix full.hkt
rm -f full0.hkt
# (stderr through a pipe: a file would be under the same size limit)
( trap '' XFSZ; ulimit -f 0; exec hak record -q -o full0.hkt -- "$P/churn" 1 100 ) 2>&1 >/dev/null | cat >err.txt
rc=${PIPESTATUS[0]}
if (( rc == 3 )) && grep -q "full0.hkt: no trace was written" err.txt; then
  ok "disk full from the start: hak record exits 3, 'no trace was written'"
else not_ok "disk full from the start" "rc=$rc: $(head -3 err.txt)"; fi

# ---- out of memory ------------------------------------------------------------
rm -f oom.hkt
# 50 MB of address space: with 60 MB, 2 of 12 recordings fit once the
# writer's zstd ladder stopped at 12 and fewer partial chunks were cut
# (rec_writer.c), and the test saw no loss to state
( ulimit -v 50000; exec hak record -q -o oom.hkt -- "$P/churn" 2 300 ) >out.txt 2>err.txt; rc=$?
if (( rc == 3 )) && grep -Eq "oom.hkt: (incomplete: out of memory|no trace was written)" err.txt; then
  ok "out of memory: hak record exits 3 naming it"
else not_ok "out of memory" "rc=$rc: $(head -3 err.txt)"; fi
if [[ -s oom.hkt ]]; then
  check "out of memory: trace info does not say complete" \
    bash -c "hak trace info oom.hkt 2>/dev/null | grep '^status:' | grep -qv 'status: *complete'"
else
  skip "out of memory: trace info" "no trace was written at all (also stated)"
fi

# ---- threads still running at exit ----------------------------------------------
hak record -q -o busy.hkt -- "$P/exit_busy" >out.txt 2>err.txt; rc=$?
if (( rc == 3 )) && grep -Eq "busy.hkt: incomplete: unflushed threads after [0-9]+ events \(at least [0-9]+ calls" err.txt; then
  ok "a thread still allocating at exit: its unrecorded calls are stated, exit 3"
else not_ok "thread running at exit" "rc=$rc: $(head -2 err.txt)"; fi
# ... but a thread blocked, or computing without allocating, at exit loses
# nothing: the exit's wait for running threads (rec_exit.c) must not call
# that a loss (the time is printed, not judged: the wait is bounded)
for mode in idle compute; do
  t0=${EPOCHREALTIME//[!0-9]/}
  hak record -q -o "busy-$mode.hkt" -- "$P/exit_busy" $mode >out.txt 2>err.txt; rc=$?
  ms=$(( (${EPOCHREALTIME//[!0-9]/} - t0) / 1000 ))
  if (( rc == 0 )) && [[ ! -s err.txt ]] && hak trace info "busy-$mode.hkt" | grep -q '^status: *complete'; then
    ok "a thread ${mode/compute/computing} at exit: exit 0, status complete (${ms} ms)"
  else not_ok "thread ${mode/compute/computing} at exit" "rc=$rc: $(head -2 err.txt)"; fi
done

# ---- a thread inside an allocation call when recording stops ----------------------
# exit_race: three threads call exit at once (glibc does not serialise exit;
# the second used to end the process during the final flush: every
# recording cut off with 0 events).  20 runs: each complete, all 6,000
# allocation events in it.
bad=0
for i in $(seq 20); do
  hak record -q -o race.hkt -- "$P/exit_race" 3 >out.txt 2>err.txt; rc=$?
  ev=$(hak trace info race.hkt 2>/dev/null | awk '/^  (malloc|free) / {n += $2 + 0; gsub(",", "", $2); m += $2} END {print m + 0}')
  if (( rc != 3 )) || ! "$CHK" --clean race.hkt >/dev/null 2>&1 || (( ev != 6000 )); then
    bad=$((bad + 1)); why="run $i: rc=$rc events=$ev $(head -c 200 err.txt)"
  fi
done
(( bad == 0 )) && ok "three threads calling exit at once: 20 of 20 recordings complete, 6,000 malloc/free each" \
  || not_ok "exit race" "$bad of 20 bad; $why"

# ... and when main returns at that moment instead of calling exit: glibc's
# start code calls its own exit, which the interposed exit() never sees (20
# of 20 cut off with 0 events before the thread_local destructor counted it)
bad=0
for i in $(seq 20); do
  hak record -q -o race.hkt -- "$P/exit_race" 3 return >out.txt 2>err.txt; rc=$?
  ev=$(hak trace info race.hkt 2>/dev/null | awk '/^  (malloc|free) / {gsub(",", "", $2); m += $2} END {print m + 0}')
  if (( rc != 3 )) || ! "$CHK" --clean race.hkt >/dev/null 2>&1 || (( ev != 6000 )); then
    bad=$((bad + 1)); why="run $i: rc=$rc events=$ev $(head -c 200 err.txt)"
  fi
done
(( bad == 0 )) && ok "two threads calling exit while main returns: 20 of 20 recordings complete, 6,000 malloc/free each" \
  || not_ok "exit race with a return from main" "$bad of 20 bad; $why"

# exit_paths (rec_exitpath.c): a vfork child that calls exit runs the exit
# handlers in our memory, leaving none to flush the recording at the
# process's own exit (all three were cut off with 0 events); main's
# pthread_exit is not the process's exit (counted as one, the real exit
# would wait 5 s); and a thread calling exit while the first exit is stuck
# in an atexit handler for good goes on after the 5 s bound (without it:
# no end).  Each mode: 2,000 malloc(4242), all in a complete trace.
for mode in vfork-exit vfork-return vfork-thread pexit stuck; do
  want=0; [[ $mode == stuck ]] && want=4
  t0=${EPOCHREALTIME//[!0-9]/}
  timeout 30 hak record -q -o "ep-$mode.hkt" -- "$P/exit_paths" $mode >out.txt 2>err.txt; rc=$?
  ms=$(( (${EPOCHREALTIME//[!0-9]/} - t0) / 1000 ))
  n=$(hak trace dump "ep-$mode.hkt" 2>/dev/null | grep -c 'malloc size=4242 ')
  if (( rc == want )) && [[ ! -s err.txt ]] && (( n == 2000 )) \
     && hak trace info "ep-$mode.hkt" | grep -q '^status: *complete' \
     && { [[ $mode != pexit ]] || (( ms < 4000 )); }; then
    ok "exit path $mode: exit $want, complete, 2,000 malloc(4242) (${ms} ms)"
  else not_ok "exit path $mode" "rc=$rc (want $want), $n malloc(4242), ${ms} ms: $(head -c 300 err.txt)"; fi
done

# exit_midcall holds thread B inside the recorder's malloc (tests/plug/
# slow_malloc.c, preloaded after the recorder) while main's failed exec
# finishes the trace; B's call returns later and the process goes on.  The
# final collection must wait for B's record, or the trace say it is missing
# (once, both ended "complete" without B's malloc).
SLOW=$B/tests/recorder/libslow_malloc.so
LD_PRELOAD=$SLOW hak record -q -o mid-rel.hkt -- "$P/exit_midcall" released >out.txt 2>err.txt; rc=$?
n=$(hak trace dump mid-rel.hkt 2>/dev/null | grep -c 'malloc size=777777 ')
if (( rc == 0 )) && [[ ! -s err.txt ]] && grep -qx "B returned" out.txt && (( n == 1 )) \
   && hak trace info mid-rel.hkt | grep -q '^status: *complete'; then
  ok "a thread inside malloc when recording stops, back 100 ms later: its event is written, status complete"
else not_ok "thread inside malloc at stop, released" "rc=$rc, B's malloc in trace: $n: $(cat out.txt err.txt | head -3)"; fi
LD_PRELOAD=$SLOW hak record -q -o mid-stuck.hkt -- "$P/exit_midcall" stuck >out.txt 2>err.txt; rc=$?
if (( rc == 3 )) && grep -qx "B returned" out.txt \
   && grep -q "mid-stuck.hkt: incomplete: unflushed threads after [0-9]* events (1 thread still inside an allocation call" err.txt; then
  ok "a thread inside malloc past the exit's wait: the loss is stated, exit 3"
else not_ok "thread inside malloc at stop, stuck" "rc=$rc: $(cat out.txt err.txt | head -3)"; fi

# ---- a signal handler allocating inside interposed calls ----------------------
hak record -q -o sig.hkt -- "$P/sig_alloc" 300 >out.txt 2>err.txt; rc=$?
if grep -q "sig.hkt: incomplete: signal handler inside the recorder" err.txt; then
  (( rc == 3 )) && ok "allocating signal handler: its unrecorded calls are stated, exit 3" \
    || not_ok "allocating signal handler: exit status" "rc=$rc"
elif (( rc == 0 )); then
  ok "allocating signal handler: every call recorded"
else not_ok "allocating signal handler" "rc=$rc: $(head -2 err.txt)"; fi
check "allocating signal handler: the events kept are valid" \
  bash -c "'$CHK' --clean sig.hkt >/dev/null && hak trace validate --allow-prefix sig.hkt >/dev/null"

# ---- a complete recording stays complete -----------------------------------------
hak record -q -o fine.hkt -- "$P/churn" 2 100 >out.txt 2>err.txt; rc=$?
if (( rc == 0 )) && [[ ! -s err.txt ]] && hak trace info fine.hkt | grep -q '^status: *complete'; then
  ok "an ordinary recording: exit 0, no error, status complete"
else not_ok "ordinary recording" "rc=$rc: $(head -2 err.txt)"; fi
