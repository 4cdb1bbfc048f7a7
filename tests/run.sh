#!/usr/bin/env bash
# hakmem test runner: runs every unit-test binary (cmocka, TAP output) and
# every shell test (TAP via tests/tap.sh), then prints one closing line
#   N passed, N failed[, N skipped]
# and exits non-zero if anything failed.
#
# Usage: tests/run.sh [FILTER]   (FILTER: substring of test file paths)
# Env:   HAK_TEST_TIMEOUT (seconds per test file, default 600)
#        HAK_STRESS=1 runs tests/stress/*.sh instead (make stress)
#        HAK_TEST_VERBOSE=1 prints every TAP line.
set -u
cd "$(dirname "$0")/.."
export HAK_ROOT=$PWD
export PATH="$HAK_ROOT/build/bin:$PATH"
export CMOCKA_MESSAGE_OUTPUT=TAP
# hak replay repeats a trace for 0.5 s per run by default (--min-time) for
# stable numbers; the tests check behaviour, not timing, so one pass each
# (tests of --min-time itself set it explicitly).
export HAK_REPLAY_MIN_TIME=0
filter=${1:-}
timeout_s=${HAK_TEST_TIMEOUT:-600}
passed=0 failed=0 skipped=0
failures=()
logdir=build/test-logs
mkdir -p "$logdir"

files=()
if [[ ${HAK_STRESS:-0} == 1 ]]; then
  # make stress: the long campaigns (thousands of runs of anything racy)
  while IFS= read -r f; do files+=("$f"); done < <(ls -1 tests/stress/*.sh 2>/dev/null | sort)
else
  while IFS= read -r f; do files+=("$f"); done < <(
    { find build/tests -type f -name 'test_*' -perm -u+x 2>/dev/null
      ls -1 */tests/*.sh tests/e2e/*.sh tests/static/*.sh 2>/dev/null; } | sort)
fi

for f in "${files[@]}"; do
  [[ -n $filter && $f != *"$filter"* ]] && continue
  log="$logdir/$(echo "$f" | tr '/' '_').log"
  start=$(date +%s)
  if [[ $f == *.sh ]]; then
    timeout -k 10 "$timeout_s" bash "$f" >"$log" 2>&1; rc=$?
  else
    timeout -k 10 "$timeout_s" "$f" >"$log" 2>&1; rc=$?
  fi
  secs=$(( $(date +%s) - start ))
  # A skip is "ok N # SKIP" from tests/tap.sh and "not ok N # SKIP" from
  # cmocka's skip(); both are skips, neither a pass nor a failure.
  p=$(grep -E '^ok [0-9]+' "$log" | grep -cviE '# *skip')
  n=$(grep -E '^not ok [0-9]+' "$log" | grep -cviE '# *skip')
  s=$(grep -ciE '^(not )?ok [0-9]+.*# *skip' "$log")
  note=""
  if (( rc != 0 && n == 0 )); then
    n=1; note=" (exit status $rc$( ((rc==124)) && echo ", timed out after ${timeout_s}s"))"
  elif (( p + n + s == 0 )); then
    n=1; note=" (ran no test)"
  fi
  passed=$((passed + p)); failed=$((failed + n)); skipped=$((skipped + s))
  printf '%-48s %4d ok %3d fail %3d skip %4ds%s\n' "$f" "$p" "$n" "$s" "$secs" "$note"
  if (( n > 0 )); then
    failures+=("$f")
    grep -E '^not ok' "$log" | grep -viE '# *skip' | sed 's/^/    /'
    tail -n 15 "$log" | sed 's/^/    | /'
  fi
  [[ ${HAK_TEST_VERBOSE:-0} == 1 ]] && sed 's/^/    /' "$log"
done

(( ${#failures[@]} )) && printf '\nfailing files (logs in %s): %s\n' "$logdir" "${failures[*]}"
line="$passed passed, $failed failed"
(( skipped )) && line+=", $skipped skipped"
echo "$line"
(( failed == 0 ))
