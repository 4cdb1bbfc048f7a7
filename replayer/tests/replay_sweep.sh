#!/usr/bin/env bash
# hak replay --sweep-id / $HAK_SWEEP_ID: runs stored under an existing sweep,
# a bad or unknown sweep id refused before any run, and `hak sweep` storing
# its measured replays under its own sweep id directly (no post-hoc
# adoption: a run without its sweep id would stay unattached).
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP"
export HAK_DB=$TMP/h.db
unset HAK_SWEEP_ID HAK_SWEEP_UUID
q() { sqlite3 "$HAK_DB" "$1"; }
hak trace synth random-mixed --iters 5000 --seed 3 -o rm.hkt >/dev/null

check "replay --help documents --sweep-id" bash -c 'hak replay --help | grep -q -- "--sweep-id N"'
check "replay --help mentions \$HAK_SWEEP_ID" bash -c 'hak replay --help | grep -q "HAK_SWEEP_ID"'

# A sweep of 2 knob settings x 2 repeats: 4 measured runs, all in the sweep.
hak sweep rm.hkt --alloc glibc --grid 'MALLOC_TOP_PAD_=0,65536' --repeat 2 --label sw -q > rank.txt 2> sweep.err
sid=$(q "select max(id) from sweeps")
check "hak sweep created a sweep" test -n "$sid"
check "the sweep's 4 measured runs carry its sweep id" \
  test "$(q "select count(*) from runs where label='sw' and kind='measured' and sweep_id=$sid")" = 4
check "no run of the sweep is left without a sweep" \
  test "$(q "select count(*) from runs where label='sw' and sweep_id is null")" = 0
check "the sweep ranks its measured runs" grep -q "sweep $sid, trace" rank.txt
check "each setting's row counts its 2 measured and 0 simulated runs" \
  test "$(grep -cE 'MALLOC_TOP_PAD_=(0|65536) .* 2\+0$' rank.txt)" = 2

# Direct use: --sweep-id and $HAK_SWEEP_ID attach to an existing sweep.
check "replay --sweep-id N stores under sweep N" hak replay rm.hkt --alloc bump --sweep-id "$sid" --label direct -q
check "  ... the run carries sweep $sid" test "$(q "select sweep_id from runs where label='direct'")" = "$sid"
check "HAK_SWEEP_ID=N stores under sweep N" env HAK_SWEEP_ID="$sid" hak replay rm.hkt --alloc bump --label envsw -q
check "  ... the run carries sweep $sid" test "$(q "select sweep_id from runs where label='envsw'")" = "$sid"
check "without either, a run belongs to no sweep" hak replay rm.hkt --alloc bump --label nosw -q
check "  ... its sweep_id is NULL" test "$(q "select count(*) from runs where label='nosw' and sweep_id is null")" = 1

# Bad sweep ids: a clean one-line error, no run stored.
before=$(q "select count(*) from runs")
check_fails "--sweep-id of a missing sweep fails" hak replay rm.hkt --alloc bump --sweep-id 999 -q
hak replay rm.hkt --alloc bump --sweep-id 999 -q 2> err.txt
check "  ... with one line naming the sweep id" \
  bash -c '[[ $(wc -l < err.txt) == 1 ]] && grep -q "sweep-id 999: no such sweep" err.txt'
check_fails "HAK_SWEEP_ID of a missing sweep fails" env HAK_SWEEP_ID=999 hak replay rm.hkt --alloc bump -q
check "  ... naming \$HAK_SWEEP_ID" bash -c 'HAK_SWEEP_ID=999 hak replay rm.hkt --alloc bump -q 2>&1 | grep -q "HAK_SWEEP_ID 999"'
check_fails "--sweep-id abc is a usage error" hak replay rm.hkt --alloc bump --sweep-id abc
check_fails "--sweep-id 0 is a usage error" hak replay rm.hkt --alloc bump --sweep-id 0
check_fails "HAK_SWEEP_ID=-1 is a usage error" env HAK_SWEEP_ID=-1 hak replay rm.hkt --alloc bump
check "bad sweep ids stored no run" test "$(q "select count(*) from runs")" = "$before"
