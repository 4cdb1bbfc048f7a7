#!/usr/bin/env bash
# The recorder's internal checks (REC_ASSERT, rec_internal.h) and its
# settings parser (rec_config.c): the debug library holds the checks and
# records hostile programs with all of them on; the release one holds none;
# an unknown HAKREC_* variable or a value the recorder cannot read gives
# one warning line and the default is kept.
. "$(dirname "$0")/../../tests/tap.sh"
B=$HAK_ROOT/build
P=$B/tests/recorder/progs
CHK=$B/tests/recorder/hkt_check
DBG=$B/tests/recorder/libhakrec_debug.so
cd "$TMP" || exit 1

check "the debug library carries the checks" bash -c "strings '$DBG' | grep -q 'hakrec assertion failed'"
check "... the release library none" bash -c "! strings '$B/lib/libhakrec.so' | grep -q 'hakrec assertion failed'"
bad=""
for run in "mt_handoff 4 20000" "sig_alloc" "forker" "service 2 60 5"; do
  set -- $run
  [[ -x $P/$1 ]] || continue
  HAK_RECORDER_LIB=$DBG hak record -q --max-size 64k --rotate -o "d-$1.hkt" -- "$P/$@" >/dev/null 2>"d-$1.err"; rc=$?
  grep -q 'assertion' "d-$1.err" && bad+=" $1(assert)"
  (( rc == 0 || rc == 3 )) || bad+=" $1(rc=$rc)"
  for f in d-$1*.hkt; do "$CHK" "$f" >/dev/null 2>&1 || bad+=" $f"; done
done
if [[ -z $bad ]]; then ok "debug library: hostile programs recorded (windows rotating) with every check on"
else not_ok "debug library" "$bad"; fi

# ---- HAKREC_* settings: one parser, warnings ---------------------------------
LIB=$B/lib/libhakrec.so
HAKREC_BOGUS=1 HAKREC_STACKS=lots HAKREC_MAX_SIZE=huge LD_PRELOAD=$LIB HAKREC_OUTPUT=$TMP/w.hkt \
  sh -c 'true; /bin/true' 2>w.err
check "preloaded by hand: an unknown HAKREC_* variable is named" grep -q 'warning: unknown variable HAKREC_BOGUS' w.err
check "... a value it cannot read too, saying what it expects" \
  grep -q "warning: HAKREC_STACKS='lots' is not a depth 0..64 or 'off'; ignored" w.err
check "... one line per problem, from the first process only (not sh's child)" test "$(wc -l <w.err)" = 3
check "... and the defaults are kept (8 frames)" bash -c "hak trace info w.hkt | grep -q 'stacks=8'"
HAKREC_BOGUS=1 hak record -q -o r.hkt -- sh -c 'true; /bin/true' 2>r.err
check "under hak record: hak record warns, once" \
  bash -c "grep -q '^hak record: warning: unknown variable HAKREC_BOGUS' r.err && test \$(wc -l <r.err) = 1"
HAKREC_ZSTD_LEVEL=7 HAKREC_MMAP=yes LD_PRELOAD=$LIB HAKREC_OUTPUT=$TMP/v.hkt /bin/true 2>v.err
check "valid values give no warning and take effect" \
  bash -c "! test -s v.err && hak trace info v.hkt | grep -q 'mmap=1'"
