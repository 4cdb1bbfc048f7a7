#!/usr/bin/env bash
# Internal invariant checks (alloc/hak_assert.h): a build with HAK_DEBUG=3
# aborts with one line naming the broken invariant and where it was found;
# the release build carries none of them.
. "$(dirname "$0")/../../tests/tap.sh"
D=$HAK_ROOT/build/tests/alloc/assert_probe
R=$HAK_ROOT/build/tests/alloc/assert_probe_release

# scenario | the check that must fire | where
for c in "slab_count|hak_slab_counts_ok(s)|hak_heap.c:[0-9]+ hak_heap_refill" \
         "unit_state|ss_counts_ok(ss)|hak_ss.c:[0-9]+ slab_init" \
         "large_cache|cache_counts_ok()|hak_large.c:[0-9]+ hak_large_alloc"; do
  IFS='|' read -r s what where <<<"$c"
  "$D" "$s" >"$TMP/out" 2>"$TMP/err"; rc=$?
  line=$(head -1 "$TMP/err")
  if (( rc == 134 )) && [[ $(wc -l <"$TMP/err") == 1 ]] &&
     grep -qE "^hakmem: assertion failed: ${what//[()]/.} \(alloc/$where\)$" "$TMP/err" &&
     ! grep -q survived "$TMP/out"; then
    ok "HAK_DEBUG=3 $s: aborts with '$line'"
  else
    not_ok "HAK_DEBUG=3 $s: aborts naming $what" "exit $rc, stderr: $line"
  fi
  "$R" "$s" >"$TMP/out" 2>"$TMP/err"; rc=$?
  check "HAK_DEBUG=0 $s: no check compiled in (runs on, exit $rc, $(cat "$TMP/out"))" \
    test "$rc $(cat "$TMP/out")" = "0 survived (HAK_DEBUG=0)"
done

# The release library holds no assertion text (the checks are compiled out,
# not merely never failing).
so=$HAK_ROOT/build/lib/libhakmem.so
objcopy -O binary --only-section=.rodata "$so" "$TMP/rodata"
n=$(strings "$TMP/rodata" | grep -c "counts_ok")
check "libhakmem.so's .rodata has no invariant text ($n hits)" test "$n" = 0
