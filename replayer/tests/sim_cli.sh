#!/usr/bin/env bash
# `hak sim` and `hak sweep` end to end: options and bad input, runs stored as
# kind 'simulated' with the model's figures, determinism, failed runs kept
# with their reason, sweeps under one id, emitted job lists.
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP"
BUMP=$HAK_ROOT/build/tests/replayer/libsimbump.so
hak trace synth random-mixed --iters 20000 --slots 2000 --seed 7 --max 3000 -o rm.hkt >/dev/null
export HAK_DB=$TMP/h.db

check "hak sim --help" bash -c 'hak sim --help | grep -q -- "--tlb SPEC"'
check "hak sweep --help" bash -c 'hak sweep --help | grep -q -- "--emit-jobs"'
check_fails "bad tlb spec is a usage error" hak sim rm.hkt --alloc glibc --tlb l1=64:5
check "bad tlb spec names the problem" bash -c 'hak sim rm.hkt --alloc glibc --tlb l1=48:4 2>&1 | grep -q "not a power of two"'
check_fails "bad --pages" hak sim rm.hkt --alloc glibc --pages 1g
check_fails "unknown allocator" hak sim rm.hkt --alloc nosuch
check_fails "missing trace" hak sim nonexistent.hkt --alloc glibc
check_fails "not a trace" bash -c 'echo hello > junk.hkt; hak sim junk.hkt --alloc glibc'
check_fails "two traces" hak sim rm.hkt rm.hkt --alloc glibc
check_fails "bad --env" hak sim rm.hkt --alloc glibc --env NOEQUALS
check_fails "bad grid" hak sweep rm.hkt --sim-only --grid 'K='
check_fails "grid key twice" hak sweep rm.hkt --sim-only --grid 'K=1' --grid 'K=2'

check "hak sim on glibc stores a simulated run" hak sim rm.hkt --alloc glibc --label g1 -q
q() { sqlite3 "$HAK_DB" "$1"; }
check "run is kind simulated with the model in config" \
  bash -c "[ \"\$(sqlite3 $HAK_DB \"select kind||' '||status from runs where label='g1'\")\" = 'simulated ok' ] &&
           sqlite3 $HAK_DB \"select config from runs where label='g1'\" | grep -q 'tlb=l1=64:4,l1_2m=32:4,l2=1536:12'"
n=$(q "select count(*) from run_metrics m join runs r on r.id=m.run_id where r.label='g1' and m.name in
      ('sim.page_faults','sim.l1_dtlb_misses','sim.stlb_misses','sim.pages_spanned','sim.superslabs_spanned','sim.occupancy','sim.accesses')")
check "the model's figures are run_metrics (7 of 7: $n)" test "$n" = 7
check "timeline stored" test "$(q "select count(*) from timelines t join runs r on r.id=t.run_id where r.label='g1'")" -gt 100
check "timing columns are NULL for simulated runs" test "$(q "select count(*) from runs where label='g1' and wall_ns is null and minor_faults is null")" = 1
hak sim rm.hkt --alloc glibc --label g2 -q
check "same inputs give the same addresses (ASLR off)" \
  test "$(q "select count(distinct addr_digest) from runs where label in ('g1','g2')")" = 1
check "same inputs give the same figures" \
  test "$(q "select count(distinct m.value) from run_metrics m join runs r on r.id=m.run_id where r.label in ('g1','g2') and m.name='sim.stlb_misses'")" = 1

# Geometry matters: a tiny TLB walks more than the default one.
hak sim rm.hkt --alloc glibc --label tiny --tlb l1=4:4,l2=0 -q
w_def=$(q "select value from run_metrics m join runs r on r.id=m.run_id where r.label='g1' and m.name='sim.page_walks'")
w_tiny=$(q "select value from run_metrics m join runs r on r.id=m.run_id where r.label='tiny' and m.name='sim.page_walks'")
check "a 4-entry TLB walks more ($w_tiny) than the default ($w_def)" awk -v a="$w_tiny" -v b="$w_def" 'BEGIN{exit !(a > b)}'
hak sim rm.hkt --alloc glibc --label huge --pages 2m -q
f4=$(q "select value from run_metrics m join runs r on r.id=m.run_id where r.label='g1' and m.name='sim.page_faults'")
f2=$(q "select value from run_metrics m join runs r on r.id=m.run_id where r.label='huge' and m.name='sim.page_faults'")
check "2 MiB pages fault less ($f2) than 4 KiB pages ($f4)" awk -v a="$f2" -v b="$f4" 'BEGIN{exit !(a < b)}'

check "a .so allocator serves the simulation" hak sim rm.hkt --alloc "$BUMP" --label bump -q
check "its build row is the .so" test "$(q "select b.name from runs r join builds b on b.id=r.build_id where r.label='bump'")" = libsimbump.so
check_fails "a crashing allocator fails the run" hak sim rm.hkt --alloc "$BUMP" --env SIM_BUMP_CRASH=100 --label crash -q
check "the crash is stored with its reason" \
  bash -c "sqlite3 $HAK_DB \"select status||': '||error from runs where label='crash'\" | grep -q '^crashed: .*signal 11'"

# Sweeps.
hak sweep rm.hkt --sim-only --alloc glibc --alloc "$BUMP" --grid 'SIM_KNOB=a,b' --grid 'OTHER=1,2' --label sw -q > rank.txt
check "sweep ran 2 allocators x 4 combinations under one sweep id" \
  test "$(q "select count(*)||' '||count(distinct sweep_id) from runs where label='sw' and status='ok'")" = "8 1"
check "sweep runs carry their knobs" test "$(q "select count(distinct env) from runs where label='sw'")" = 4
check "sweep prints a ranking by page walks" grep -q "ranked by sim.page_walks" rank.txt
check "ranking lists 8 settings" test "$(grep -cE '^ +[0-9]+ (glibc|libsimbump.so) ' rank.txt)" = 8
check "sweep without the replayer needs --sim-only or hak replay" \
  bash -c 'hak replay --help >/dev/null 2>&1 || ! hak sweep rm.hkt --alloc glibc --grid K=1 -q'

mkdir jobs
hak sweep rm.hkt --sim-only --alloc glibc --grid 'K=1,2,3' --emit-jobs jobs/list.txt -q
check "emit-jobs writes one command per combination" test "$(wc -l < jobs/list.txt)" = 3
check "each job writes its own database" test "$(grep -o -- '--db [^ ]*' jobs/list.txt | sort -u | wc -l)" = 3
check "emitted jobs run" bash -c 'while read -r l; do eval "$l" || exit 1; done < jobs/list.txt'
check "jobs share the sweep uuid" \
  test "$(for f in jobs/sweep-*.db; do sqlite3 "$f" 'select uuid from sweeps'; done | sort -u | wc -l)" = 1

# Measured and simulated together: replays join the sweep too.
if hak replay --help >/dev/null 2>&1; then
  hak sweep rm.hkt --sim --alloc glibc --grid 'MALLOC_TOP_PAD_=0,65536' --label both -q > both.txt
  check "sweep stores measured and simulated runs under one sweep" \
    test "$(q "select count(distinct sweep_id)||' '||sum(kind='measured')||' '||sum(kind='simulated') from runs where label='both'")" = "1 2 2"
  check "ranking shows measured faults next to simulated ones" \
    bash -c "grep -E '^ +1 glibc ' both.txt | awk '{exit !(\$(NF-2) ~ /^[0-9]+\$/)}'"
  hak sweep rm.hkt --alloc glibc --grid 'K=1' --emit-jobs jobs2.txt -q
  check "an emitted replay job attaches its runs to the sweep" \
    bash -c 'eval "$(head -1 jobs2.txt)" && db=$(grep -o -- "--db [^ ]*" jobs2.txt | head -1 | cut -d" " -f2) &&
             [ "$(sqlite3 "$db" "select count(*) from runs r join sweeps s on s.id=r.sweep_id")" = 1 ]'
else
  skip "sweep with measured replays" "hak replay not built"
fi
check_fails "--adopt needs a uuid" hak sweep --adopt nothex
check "--load preload serves the simulation" hak sim rm.hkt --alloc "$BUMP" --load preload --label pre -q
check "the load method is in the config" bash -c "sqlite3 $HAK_DB \"select config from runs where label='pre'\" | grep -q 'load=preload'"

# The program's own mappings (a trace recorded with --mmap): validate_known
# "mmap" maps 64 x 256 KiB itself, unmaps every other one and the second
# half of each one it keeps.  hak sim simulates them like blocks (it used to
# skip them: peak live 32 B); hak replay replays them too.
hak record --mmap -q -o vkm.hkt -- "$HAK_ROOT/build/tests/replayer/validate_known" mmap >/dev/null 2>&1
hak sim vkm.hkt --alloc glibc --label vkm >/dev/null 2>vkm.err
simm() { q "select cast(m.value as int) from run_metrics m join runs r on r.id = m.run_id where r.label = 'vkm' and m.name = '$1'"; }
check "--mmap trace: the program's 64 mappings are simulated (peak live $(simm sim.peak_live_bytes) bytes)" \
  test "$(simm sim.peak_live_bytes)" = $((16 << 20))
check "... and their unmaps, of pages inside a mapping too (4 MiB left: $(simm sim.final_pages_spanned) pages)" \
  test "$(simm sim.final_pages_spanned)" = 1024
check "... with a note counting them" grep -q "note: 128 mmap/munmap/mremap calls of the program are simulated" vkm.err
