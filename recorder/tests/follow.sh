#!/usr/bin/env bash
# hak record --follow=NAMES (only matching children), --python-malloc, and
# -v's list of the traces written (largest first, with their commands).
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP" || exit 1

check_fails "--follow with an empty name is a usage error" hak record --follow=cc1,, -- true
check_fails "--follow with a path is a usage error" hak record --follow=/usr/bin/cc1 -- true
check_fails "--follow and --no-follow together are refused" hak record --follow=cc1 --no-follow -- true

if command -v gcc >/dev/null; then
  printf '#include <stdio.h>\nint main(void){puts("hi");return 0;}\n' > hello.c
  hak record -v -o all.hkt -- gcc -O2 -c hello.c -o hello.o >/dev/null 2>all.err
  hak record -v --follow=cc1 -o cc.hkt -- gcc -O2 -c hello.c -o hello.o >/dev/null 2>cc.err; rc=$?
  nall=$(ls all*.hkt | wc -l); ncc=$(ls cc*.hkt | wc -l)
  if (( rc == 0 && ncc == 2 && nall > 2 )); then
    ok "--follow=cc1 under gcc: the top and cc1 only ($ncc traces; $nall without it)"
  else not_ok "--follow=cc1" "rc=$rc, $ncc traces with, $nall without"; fi
  child=$(ls cc.*.hkt 2>/dev/null | head -1)
  check "... the child trace is cc1's" bash -c "hak trace info '$child' | grep -E '^(command|argv)' | grep -q '/cc1 '"
  check "-v lists the traces largest first, with each command" \
    bash -c "grep -q '^hak record: 2 traces written, largest first:' cc.err && grep -A1 'largest first' cc.err | tail -1 | grep -q '/cc1 '"
else
  skip "--follow=cc1 under gcc" "no gcc"
fi

PY=$(command -v python3 || true)
if [[ -n $PY ]]; then
  hak record -q -o plain.hkt -- "$PY" -c 'x = [str(i) for i in range(20000)]' >/dev/null 2>&1
  hak record -q --python-malloc -o pym.hkt -- "$PY" -c 'x = [str(i) for i in range(20000)]' >/dev/null 2>&1
  evs() { hak trace info "$1" | awk '/^events:/ {gsub(",", "", $2); print $2}'; }
  a=$(evs plain.hkt); b=$(evs pym.hkt)
  if (( ${b:-0} > 5 * ${a:-1} )); then ok "--python-malloc: python3's small allocations are seen ($a -> $b events)"
  else not_ok "--python-malloc" "$a -> $b events"; fi
else
  skip "--python-malloc" "no python3"
fi
