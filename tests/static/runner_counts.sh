#!/usr/bin/env bash
# tests/run.sh counts what the tests report: a copy of it runs in a made-up
# tree whose tests print cmocka's TAP (a skip is "not ok N # SKIP", which
# an earlier runner counted as a failure), tests/tap.sh's ("ok N # SKIP"),
# a real failure, a crash after passing lines and a file that runs nothing.
. "$(dirname "$0")/../tap.sh"
T=$TMP/tree
mkdir -p "$T/tests" "$T/build/tests" "$T/mod/tests"
cp "$HAK_ROOT/tests/run.sh" "$T/tests/run.sh"
fake() {   # fake PATH LINES...: an executable that prints its lines
  local f=$1; shift
  { echo '#!/bin/sh'; for l in "$@"; do printf "echo '%s'\n" "$l"; done; } >"$f"
  chmod +x "$f"
}
fake "$T/build/tests/test_cm_skip" "1..2" "not ok 1 # SKIP a" "ok 2 - b"
fake "$T/build/tests/test_cm_pass" "1..1" "ok 1 - c"
fake "$T/mod/tests/tap_skip.sh"    "ok 1 - d # SKIP needs THP" "ok 2 - e"
run_tree() { (cd "$T" && bash tests/run.sh "$@" 2>&1 | tail -n 1); }
check "cmocka's and tap.sh's skips count as skips, not failures" \
  test "$(run_tree)" = "3 passed, 0 failed, 2 skipped"

fake "$T/build/tests/test_cm_fail" "1..2" "not ok 1 - f" "ok 2 - g"
check "a failing test still counts as failed" \
  test "$(run_tree)" = "4 passed, 1 failed, 2 skipped"
rm "$T/build/tests/test_cm_fail"

printf '#!/bin/sh\necho "ok 1 - h"\nkill -SEGV $$\n' >"$T/build/tests/test_crash"
chmod +x "$T/build/tests/test_crash"
check "a crash after passing lines counts as a failure" \
  test "$(run_tree crash)" = "1 passed, 1 failed"
fake "$T/build/tests/test_nothing" "1..0"
check "a file that runs no test counts as a failure" \
  test "$(run_tree nothing)" = "0 passed, 1 failed"
echo "1..$_tap_n"
