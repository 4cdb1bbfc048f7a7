#!/usr/bin/env bash
# Each HAKMEM_* layout knob changes behaviour measurably: runs
# build/tests/alloc/knob_probe under different settings and compares.
. "$(dirname "$0")/../../tests/tap.sh"
P=$HAK_ROOT/build/tests/alloc/knob_probe
get() { awk -v k="$1" '$1==k{print $2}'; }   # get KEY < probe output

# Prefault: faults taken while filling the (already mapped) first SuperSlab.
off=$(env HAKMEM_PREFAULT=off "$P" faults | get minflt)
for mode in populate populate_write touch; do
  on=$(env HAKMEM_PREFAULT=$mode "$P" faults | get minflt)
  if [[ -n $off && -n $on ]] && (( on * 4 < off )); then ok "prefault=$mode: $on minor faults vs $off with off"
  else not_ok "prefault=$mode lowers faults" "on=$on off=$off"; fi
done

# Hugepages: MADV_HUGEPAGE on SuperSlabs shows as 'hg' in VmFlags and, with
# THP in madvise mode, as AnonHugePages.
out_on=$(HAKMEM_HUGEPAGE=madvise "$P" hugepage); out_off=$(HAKMEM_HUGEPAGE=off "$P" hugepage)
check "hugepage=madvise advises the SuperSlab (VmFlags hg)" test "$(get hg <<<"$out_on")" = 1
check "hugepage=off does not" test "$(get hg <<<"$out_off")" = 0
thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
if [[ $thp == *"[madvise]"* || $thp == *"[always]"* ]]; then
  ahp=$(get anonhuge_kb <<<"$out_on")
  if (( ahp > 0 )); then ok "hugepage=madvise: AnonHugePages ${ahp} kB"
  else skip "AnonHugePages with hugepage=madvise" "kernel gave no huge page (fragmented memory?): $ahp kB"; fi
  [[ $thp == *"[madvise]"* ]] && check "hugepage=off: no AnonHugePages in madvise mode" test "$(get anonhuge_kb <<<"$out_off")" = 0
  # Every prefault mode must fault after the advice (MAP_POPULATE before
  # MADV_HUGEPAGE gave 4 KiB pages).  When even prefault=off gets no huge page
  # the kernel has none to give now: skip rather than blame the order.
  for mode in populate populate_write touch; do
    a=$(HAKMEM_HUGEPAGE=madvise HAKMEM_PREFAULT=$mode "$P" hugepage | get anonhuge_kb)
    if (( a > 0 )); then ok "hugepage=madvise prefault=$mode: AnonHugePages ${a} kB"
    elif (( ahp > 0 )); then not_ok "hugepage=madvise prefault=$mode gets huge pages" "AnonHugePages=$a kB (prefault=off: $ahp kB)"
    else skip "hugepage=madvise prefault=$mode" "kernel gave no huge page even with prefault=off"; fi
  done
else
  skip "AnonHugePages with hugepage=madvise" "THP mode is '$thp', not madvise/always"
fi

# Purge: RSS after freeing most of 48 MiB.
d=$(HAKMEM_PURGE=dontneed HAKMEM_PURGE_DELAY_MS=0 "$P" purge)
o=$(HAKMEM_PURGE=off "$P" purge)
l=$(HAKMEM_PURGE=dontneed HAKMEM_PURGE_DELAY_MS=100000 "$P" purge)
f=$(HAKMEM_PURGE=free HAKMEM_PURGE_DELAY_MS=0 "$P" purge)
dr=$(get rss_after_free_kb <<<"$d"); or=$(get rss_after_free_kb <<<"$o"); full=$(get rss_full_kb <<<"$o")
if (( dr * 3 < or )); then ok "purge=dontneed: RSS after frees ${dr} kB vs ${or} kB with off"
else not_ok "purge=dontneed lowers RSS" "dontneed=$dr off=$or"; fi
check "purge=off keeps RSS (${or} of ${full} kB)" test $(( or * 10 )) -ge $(( full * 8 ))
check "purge=off does no purges" test "$(get purges <<<"$o")" = 0
lr=$(get rss_after_free_kb <<<"$l"); lt=$(get rss_after_trim_kb <<<"$l")
check "purge delay: nothing purged before the delay ($lr kB)" test $(( lr * 10 )) -ge $(( full * 8 ))
check "purge delay: malloc_trim purges now ($lt kB)" test $(( lt * 3 )) -lt "$lr"
check "purge=free issues MADV_FREE purges" test "$(get purges <<<"$f")" -gt 0

# Zeroing: calloc of fresh memory skips memset only in lazy mode.
z=$(HAKMEM_ZERO=lazy "$P" zero); a=$(HAKMEM_ZERO=always "$P" zero)
check "zero=lazy skips memset on fresh memory" test "$(get calloc_skipped <<<"$z")" -gt 0
check "zero=always never skips" test "$(get calloc_skipped <<<"$a")" = 0
check "zero=always clears every calloc byte" test "$(get calloc_zeroed <<<"$a")" -ge 2000000
check "calloc memory is zero in both modes" test "$(get nonzero <<<"$z")$(get nonzero <<<"$a")" = 00

# Geometry: SuperSlab and slab size.
g1=$("$P" geometry); g2=$(HAKMEM_SUPERSLAB_SIZE=4M HAKMEM_SLAB_SIZE=16K "$P" geometry)
check "default SuperSlab 2 MiB, slab 64 KiB" test "$(get superslab_size <<<"$g1") $(get slab_size <<<"$g1")" = "2097152 65536"
check "HAKMEM_SUPERSLAB_SIZE=4M HAKMEM_SLAB_SIZE=16K take effect" test "$(get superslab_size <<<"$g2") $(get slab_size <<<"$g2")" = "4194304 16384"
s1=$(get slabs_1k <<<"$g1"); s2=$(get slabs_1k <<<"$g2")
check "16 KiB slabs: ~4x the slabs for the same blocks ($s2 vs $s1)" test $(( s2 )) -ge $(( s1 * 3 ))
check "4 MiB SuperSlabs: fewer of them" test "$(get superslabs <<<"$g2")" -lt "$(get superslabs <<<"$g1")"
check "blocks lie beyond 2 MiB inside a 4 MiB SuperSlab" test "$(get max_offset <<<"$g2")" -gt 2097152

# Thread cache capacity.
t0=$(HAKMEM_TCACHE=0 "$P" tcache | get cached_16); t64=$(HAKMEM_TCACHE=64 "$P" tcache | get cached_16)
tdef=$("$P" tcache | get cached_16)
check "HAKMEM_TCACHE=0 caches nothing" test "$t0" = 0
check "HAKMEM_TCACHE=64 caches at most 64 ($t64)" test "$t64" -le 64 -a "$t64" -gt 0
check "default caches more than 64 ($tdef)" test "$tdef" -gt 64

# Thread caches hold little beyond what the program uses (RSS): a refill
# of blocks up to 1 KiB moves ~4 KiB (here 4 blocks of 1 KiB, all cached
# once the one malloc returned is freed; 16 KiB, 16 blocks, before).
cb=$("$P" cache_bounds)
check "a refill of 1 KiB blocks caches 4 ($(get refill_cached_1024 <<<"$cb"))" test "$(get refill_cached_1024 <<<"$cb")" = 4
# Blocks other threads freed are reused before a slab's bump area grows.
check "a refill takes remotely freed blocks before carving new ones" test "$("$P" remote_first | get remote_reused)" = 1

# Large blocks: freed ones stay resident up to HAKMEM_LARGE_CACHE and are
# purged HAKMEM_LARGE_DECAY_MS after their free (on the next large call).
l1=$("$P" large); l0=$(HAKMEM_LARGE_CACHE=0 "$P" large); ld=$(HAKMEM_LARGE_DECAY_MS=0 "$P" large)
lk=$(HAKMEM_LARGE_DECAY_MS=100000 "$P" large); l100=$(HAKMEM_LARGE_DECAY_MS=100 "$P" large)
check "a freed 4 MiB block is reused without faults ($(get reuse_faults <<<"$l1"))" test "$(get reuse_faults <<<"$l1")" -lt 100
check "HAKMEM_LARGE_CACHE=0: every reuse faults again ($(get reuse_faults <<<"$l0"))" test "$(get reuse_faults <<<"$l0")" -gt 3000
check "HAKMEM_LARGE_DECAY_MS=0: purged at the next call ($(get reuse_faults <<<"$ld"))" test "$(get reuse_faults <<<"$ld")" -gt 3000
check "HAKMEM_LARGE_DECAY_MS=100: idle cached block purged after 150 ms ($(get rss_after_free_kb <<<"$l100") -> $(get rss_after_decay_kb <<<"$l100") KiB)" \
  test "$(get rss_after_decay_kb <<<"$l100")" -lt $(( $(get rss_after_free_kb <<<"$l100") - 6000 ))
check "default (1 s) and HAKMEM_LARGE_DECAY_MS=100000 keep it ($(get rss_after_decay_kb <<<"$l1") KiB)" \
  test "$(get rss_after_decay_kb <<<"$l1")" -gt $(( $(get rss_after_free_kb <<<"$l1") - 2000 ))
check "HAKMEM_LARGE_DECAY_MS=100000 keeps it ($(get rss_after_free_kb <<<"$lk") -> $(get rss_after_decay_kb <<<"$lk") KiB)" \
  test "$(get rss_after_decay_kb <<<"$lk")" -gt $(( $(get rss_after_free_kb <<<"$lk") - 2000 ))

# ... and once the small heap has carved as many new bytes as it holds
# (sqlite3 freed a 2 MiB buffer, then its page cache grew to its peak).
lc=$("$P" large_carve)
check "a resident freed 8 MiB block survives small churn ($(get purged_by_churn <<<"$lc") B purged)" \
  test "$(get purged_by_churn <<<"$lc")" -lt 1048576
check "... and is purged when the small heap grows by 10 MB ($(get purged_by_growth <<<"$lc") B)" \
  test "$(get purged_by_growth <<<"$lc")" -ge 8388608

# A bigger large block grows the cached mapping (its pages stay): 2, 4, 6,
# 8 MiB in turn fault about 8 MiB once, not 20 MiB.
check "2..8 MiB blocks in turn: the cached mapping grows ($(HAKMEM_LARGE_CACHE=0 "$P" large_step | get step_faults) faults purged, $("$P" large_step | get step_faults) kept)" \
  test "$("$P" large_step | get step_faults)" -lt 3000

# Config string reports effective values; bad values fall back to defaults.
c=$(HAKMEM_PREFAULT=touch HAKMEM_SUPERSLAB_SIZE=3M HAKMEM_TCACHE=12 "$P" config)
check "config reports knobs" grep -q "HAKMEM_PREFAULT=touch .*HAKMEM_SUPERSLAB_SIZE=2097152 .*HAKMEM_TCACHE=12" <<<"$c"
check "stats report the knobs too" grep -q "^stats_knobs 1 prefault=3 hugepage=0 zero_always=0 purge=1 tcache=12 delay_ms=100$" <<<"$c"
check "version string has a build id" grep -qE "^hakmem [0-9.]+ build [0-9a-f]+" <<<"$c"

# Every knob is parsed through hak_knobs_table.h: what the warning says is
# what runs.  A valid setting is silent; an invalid value or an unknown
# HAKMEM_* name is one line on stderr and the default runs.
"$P" config >/dev/null 2>"$TMP/err0"
check "valid settings: nothing on stderr" test ! -s "$TMP/err0"
HAKMEM_TCACHE=64 HAKMEM_LARGE_CACHE=4MiB HAKMEM_PURGE=free "$P" config >"$TMP/o" 2>"$TMP/e"
check "HAKMEM_LARGE_CACHE=4MiB HAKMEM_PURGE=free HAKMEM_TCACHE=64 accepted silently" \
  grep -q "HAKMEM_PURGE=free .*HAKMEM_TCACHE=64 .*HAKMEM_LARGE_CACHE=4194304 " "$TMP/o"
check "  (no warning)" test ! -s "$TMP/e"
# knob=value | effective value in the config string | warning line
for c in "HAKMEM_TCAHCE=12|HAKMEM_TCACHE=256 |hakmem: ignoring unknown knob HAKMEM_TCAHCE (see alloc/KNOBS.md)" \
         "HAKMEM_TCACHE=12x|HAKMEM_TCACHE=256 |hakmem: invalid value HAKMEM_TCACHE=12x; using the default (valid: a count from 0 to 4096)" \
         "HAKMEM_TCACHE=5000|HAKMEM_TCACHE=256 |hakmem: invalid value HAKMEM_TCACHE=5000; using the default (valid: a count from 0 to 4096)" \
         "HAKMEM_PURGE_DELAY_MS=5K|HAKMEM_PURGE_DELAY_MS=100 |hakmem: invalid value HAKMEM_PURGE_DELAY_MS=5K; using the default (valid: milliseconds (0 = at once))" \
         "HAKMEM_PURGE=never|HAKMEM_PURGE=dontneed |hakmem: invalid value HAKMEM_PURGE=never; using the default (valid: dontneed, free, off)" \
         "HAKMEM_SUPERSLAB_SIZE=3M|HAKMEM_SUPERSLAB_SIZE=2097152 |hakmem: invalid value HAKMEM_SUPERSLAB_SIZE=3M; using the default (valid: a power of two from 1M to 32M)" \
         "HAKMEM_SLAB_SIZE=1M|HAKMEM_SLAB_SIZE=65536 |hakmem: HAKMEM_SLAB_SIZE=1M is more than a quarter of the SuperSlab size; using 64K" \
         "HAKMEM_CHECK=yes|HAKMEM_CHECK=0 |hakmem: invalid value HAKMEM_CHECK=yes; using the default (valid: 0, 1)"; do
  IFS='|' read -r kv eff line <<<"$c"
  env "$kv" "$P" config >"$TMP/o" 2>"$TMP/e"
  if grep -qF -- "$eff" "$TMP/o" && [[ $(cat "$TMP/e") == "$line" ]]; then ok "$kv: one warning line, ${eff% } runs"
  else not_ok "$kv: one warning line, ${eff% } runs" "config: $(head -1 "$TMP/o"); stderr: $(cat "$TMP/e")"; fi
done
