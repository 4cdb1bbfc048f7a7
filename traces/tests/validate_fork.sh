#!/usr/bin/env bash
# hak trace validate / info on traces of forked children: a child forked
# without exec inherits its parent's heap, so its frees of blocks allocated
# before the fork are "inherited frees" (counted, not errors) when the trace
# carries forked_from=PPID in its options; in any other trace a free of a
# never-returned pointer stays an "unknown free" error.
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP" || exit 1
FORKER=$HAK_ROOT/build/tests/recorder/progs/forker

# A hand-made trace (no forked_from) with an unknown free still fails.
printf '1: malloc 0x1000 32\n1: free 0x2000\n1: free 0x1000\n' > unk.txt
hak trace import -q unk.txt -o unk.hkt
check_fails "imported trace with an unknown free: validate fails" hak trace validate -q unk.hkt
check "  ... reported as an unknown free, no inherited count" \
  bash -c 'hak trace validate unk.hkt | grep -qE "^  unknown free +1$" && ! hak trace validate unk.hkt | grep -q inherited'
check "  ... info lists it as an anomaly" bash -c 'hak trace info unk.hkt | grep -q "^anomalies: *1 unknown frees"'

if [[ ! -x $FORKER || ! -e $HAK_ROOT/build/lib/libhakrec.so ]]; then
  skip "forked child traces" "forker or libhakrec.so not built"
  exit 0
fi
hak record -q -o f.hkt -- "$FORKER" 2 inherit > forker.out
children=$(grep -l . f.*.hkt 2>/dev/null | while read -r t; do
  hak trace info "$t" | grep -q 'forked_from=' && echo "$t"; done)
check "forker wrote 2 child traces marked forked_from" test "$(echo "$children" | wc -w)" = 2
check_fails "the parent's trace is not marked forked_from" bash -c 'hak trace info f.hkt | grep -q forked_from='
for t in $children; do
  hak trace validate "$t" > "$t.val"; rc=$?
  check "child $t: validate exits 0" test "$rc" = 0
  # forker frees 2 pre-fork blocks and reallocs a third; libc may free more.
  inh=$(sed -nE 's/.*, ([0-9]+) inherited frees\)$/\1/p' "$t.val")
  check "  ... valid, no unknown frees, >= 3 inherited frees (got ${inh:-none})" \
    bash -c "! grep -q 'unknown free' '$t.val' && grep -qE '^  inherited frees +[0-9,]+ \(forked from pid [0-9]+' '$t.val' \
             && (( ${inh:-0} >= 3 ))"
  check "  ... info reports the same inherited count, no anomalies" \
    bash -c "hak trace info '$t' | grep -q '^inherited: *${inh:-x} frees' && ! hak trace info '$t' | grep -q '^anomalies'"
done

# The brief's real-world case: bash forks a subshell for $(...).
hak record -q -o sh.hkt -- bash -c 'x=$(echo 1); echo "$x"' > /dev/null
bad=0; n=0
for t in sh.*.hkt; do
  [[ -e $t ]] || continue
  n=$((n + 1))
  hak trace validate -q "$t" > /dev/null || bad=$((bad + 1))
done
if (( n == 0 )); then skip "bash \$(...) child trace validates" "no child trace written"
else check "bash \$(...): all $n child trace(s) validate" test "$bad" = 0; fi
