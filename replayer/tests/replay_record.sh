#!/usr/bin/env bash
# The issue's "done when": `hak record -- PROGRAM`, then `hak replay` of that
# trace against hakmem (when built), glibc and mimalloc (when installed)
# gives one row per allocator that plain sqlite3 can query.
. "$(dirname "$0")/../../tests/tap.sh"
B=$HAK_ROOT/build
if [[ ! -e $B/lib/libhakrec.so ]]; then
  skip "record then replay" "recorder not built ($B/lib/libhakrec.so)"
  exit 0
fi
cd "$TMP"
check "hak record a live program" hak record -q -o prog.hkt -- hak-live-workload random-mixed --iters 50000 --slots 5000
allocs=(--alloc glibc)
want=1
[[ -e $B/lib/libhakmem.so ]] && { allocs+=(--alloc hakmem); want=$((want + 1)); }
mi=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2
[[ -e $mi ]] && { allocs+=(--alloc "$mi"); want=$((want + 1)); }
check "hak replay the recording (${allocs[*]})" hak replay prog.hkt "${allocs[@]}" -q
n=$(sqlite3 hak.db "select count(*) from runs where status='ok' and ops > 50000")
[[ $n == "$want" ]] && ok "one ok row per allocator in ./hak.db ($n)" || not_ok "one row per allocator" "$n of $want"
[[ -e $mi ]] && ok "mimalloc row" || skip "mimalloc row" "libmimalloc.so.2 not installed"
[[ -e $B/lib/libhakmem.so ]] && ok "hakmem row" || skip "hakmem row" "build/lib/libhakmem.so not built"
f=$(sqlite3 hak.db "select count(*) from runs where fidelity between 0 and 1")
[[ $f == "$want" ]] && ok "recorded RSS samples give every run a fidelity" || not_ok "fidelity for every run" "$f of $want"

# Recorded threads: the timeline opens before any thread runs and closes
# after the last one ends.  validate_known thread holds 8 MiB on the main
# thread (128 blocks of 64 KiB) around a second thread's 20,000 temporaries (the sampling
# thread: most ops); before, the first sample came with the 8 MiB already
# live and the last before the main thread freed it (fidelity 0.36-0.39,
# now 0.99).
K=$B/tests/replayer/validate_known
hak record -q --mmap -o thread.hkt -- "$K" thread
hak replay thread.hkt --alloc glibc --pace recorded --touch pages --label thr -q
tl() { sqlite3 hak.db "select t.live_bytes from timelines t join runs r on r.id = t.run_id
                       where r.label = 'thr' order by t.idx $1 limit 1"; }
check "recorded threads: the timeline's first sample has nothing live" test "$(tl asc)" = 0
check "... its last is after the main thread's free (under 64 KiB live)" test "$(tl desc)" -lt 65536
check "... the 8 MiB are live in between" \
  test "$(sqlite3 hak.db "select max(t.live_bytes) >= 8388608 from timelines t join runs r on r.id = t.run_id where r.label = 'thr'")" = 1
check "... and the glibc replay follows the recorded heap (fidelity >= 0.9)" \
  test "$(sqlite3 hak.db "select fidelity >= 0.9 from runs where label = 'thr'")" = 1
