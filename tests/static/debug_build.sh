#!/usr/bin/env bash
# `make debug` (docs/ARCHITECTURE.md, "Internal checks") builds, with every
# component's internal checks compiled in: HAK_CHECK in the lab's code,
# REC_ASSERT in the recorder, hak_assert in the allocator.  -O1 finds
# warnings the release build does not (one in the worker did), so the
# debug build is part of make check rather than a target nobody runs.
. "$(dirname "$0")/../tap.sh"
cd "$HAK_ROOT"
if make -s -j2 debug >"$TMP/build.log" 2>&1; then ok "make debug builds (build/debug)"
else not_ok "make debug builds (build/debug)" "$(grep -m3 -E 'error|warning' "$TMP/build.log")"; exit 0; fi
D=$HAK_ROOT/build/debug
check "the debug hak has the lab's checks compiled in" grep -q "internal check failed" "$D/bin/hak"
check "the release hak has none" bash -c '! grep -q "internal check failed" "$1"' _ "$HAK_ROOT/build/bin/hak"
check "the debug recorder has its asserts" grep -q "REC_ASSERT\|assertion" "$D/lib/libhakrec.so"
cd "$TMP"
check "a synthetic trace through the checked trace library" "$D/bin/hak" trace synth larson --iters 20000 -q -o l.hkt
check "... validates with the checks on" "$D/bin/hak" trace validate -q l.hkt
check "... its views run with the checks on" "$D/bin/hak" trace views l.hkt
check "... and replays with a checked worker" env HAK_REPLAY_MIN_TIME=0 "$D/bin/hak" replay -q --db d.db --alloc glibc l.hkt
