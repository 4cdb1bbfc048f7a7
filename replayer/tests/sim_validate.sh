#!/usr/bin/env bash
# The simulator against the kernel: on the same trace and allocator build,
# modelled first-touch faults (hak sim, sim.page_faults) agree with the
# minor faults `hak replay` measures over its replay window within 10%.
# Both replay serially with one byte per page (--touch pages); the window
# excludes loading, trace decoding and the harness's own tables, so what
# remains is the allocator's and the workload's faults.
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP"
export HAK_DB=$TMP/v.db
hak trace synth random-mixed --iters 100000 --slots 30000 --seed 3 --max 4000 -o rm.hkt >/dev/null
hak trace synth tiny-hot --iters 200000 --size 48 --batch 40000 -o th.hkt >/dev/null

allocs=(glibc)
if [ -e "$HAK_ROOT/build/lib/libhakmem.so" ]; then allocs+=(hakmem); else skip "hakmem faults vs measured" "build/lib/libhakmem.so not built"; fi
# Peers, when their Debian packages are installed (jemalloc cannot be
# dlopen()ed: static TLS; hak sim falls back to LD_PRELOAD).
for p in mimalloc jemalloc; do
  if hak replay --help >/dev/null 2>&1 && ls /usr/lib/*/lib$p.so.2 >/dev/null 2>&1; then allocs+=($p)
  else skip "$p faults vs measured" "lib$p.so.2 not installed"; fi
done

q() { sqlite3 "$HAK_DB" "$1"; }
for a in "${allocs[@]}"; do
  for t in rm th; do
    [ "$t" = th ] && [ "$a" != glibc ] && [ "$a" != hakmem ] && continue
    if ! hak replay $t.hkt --alloc $a --label "m-$a-$t" -q; then not_ok "replay $t on $a"; continue; fi
    if ! hak sim $t.hkt --alloc $a --label "s-$a-$t" -q; then not_ok "sim $t on $a"; continue; fi
    meas=$(q "select minor_faults from runs where label='m-$a-$t'")
    sim=$(q "select m.value from run_metrics m join runs r on r.id=m.run_id where r.label='s-$a-$t' and m.name='sim.page_faults'")
    check "$a/$t: simulated faults $sim within 10% of measured $meas" \
      awk -v s="$sim" -v m="$meas" 'BEGIN{ if (m <= 0) exit 1; r = s / m; print r; exit !(r > 0.9 && r < 1.1) }'
  done
done

# The question the simulator exists for: on hakmem, do huge pages cut page
# walks?  A --pages thp sweep over HAKMEM_HUGEPAGE, answered from SQL.
thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
if [ ! -e "$HAK_ROOT/build/lib/libhakmem.so" ]; then
  skip "hakmem hugepage sweep" "build/lib/libhakmem.so not built"
elif [ -z "$thp" ] || [[ $thp == *"[never]"* ]]; then
  skip "hakmem hugepage sweep" "transparent hugepages are off on this machine"
else
  hak sweep rm.hkt --alloc hakmem --sim --pages thp --grid 'HAKMEM_HUGEPAGE=off,madvise' --label thp -q >/dev/null
  walks() { q "select avg(m.value) from runs r join run_metrics m on m.run_id=r.id and m.name='sim.page_walks'
               where r.label='thp' and r.kind='simulated' and r.env='HAKMEM_HUGEPAGE=$1'"; }
  off=$(walks off); mad=$(walks madvise)
  huge=$(q "select sum(m.value) from runs r join run_metrics m on m.run_id=r.id and m.name='sim.huge_regions' where r.label='thp' and r.env='HAKMEM_HUGEPAGE=madvise'")
  check "HAKMEM_HUGEPAGE=madvise is backed by huge pages ($huge regions)" test "${huge%.*}" -gt 0
  check "huge pages cut simulated page walks ($off -> $mad)" awk -v a="$mad" -v b="$off" 'BEGIN{exit !(a * 10 < b)}'
  best=$(q "select r.env from runs r join run_metrics m on m.run_id=r.id and m.name='sim.page_walks'
            where r.label='thp' order by m.value limit 1")
  check "SQL names the layout with the fewest simulated walks ($best)" test "$best" = "HAKMEM_HUGEPAGE=madvise"
fi
