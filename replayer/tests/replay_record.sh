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
