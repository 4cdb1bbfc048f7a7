# TAP helpers for shell tests; source from a test script:
#   . "$HAK_ROOT/tests/tap.sh"
#   check "trace info prints events" grep -q events out.txt
#   skip  "needs THP" ; ok "..." ; not_ok "..." "why"
# Every test script runs with build/bin on PATH and a private $TMP dir that
# is removed on exit.
set -u
: "${HAK_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export PATH="$HAK_ROOT/build/bin:$PATH"
_tap_n=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/haktest.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

ok()      { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1"; }
not_ok()  { _tap_n=$((_tap_n + 1)); echo "not ok $_tap_n - $1"; [ -n "${2:-}" ] && echo "#   $2"; return 0; }
skip()    { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP ${2:-}"; }
# check NAME CMD...: passes when CMD exits 0; shows CMD's output on failure.
check() {
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "command failed: $*"; printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   /'; fi
}
# check_fails NAME CMD...: passes when CMD exits non-zero (and does not crash).
check_fails() {
  local name=$1; shift
  "$@" >"$TMP/.out" 2>&1; local rc=$?
  if (( rc != 0 && rc < 128 )); then ok "$name"; else not_ok "$name" "expected a clean failure, got exit $rc: $*"; tail -n 5 "$TMP/.out" | sed 's/^/#   /'; fi
}
