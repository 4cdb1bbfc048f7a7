#!/usr/bin/env bash
# What hakmem's start-up adds to a small process's resident set.  The
# suite's smallest workloads are ~1.7 MB processes compared with glibc's
# peak RSS at 1.2x, and pages of libc's text count: the kernel maps them 16
# at a time around each fault (fault-around), so a libc function that a
# program using glibc's malloc never calls can add 64 KiB.  libc's
# clock_gettime was one (present libc text pages after start-up, medians of
# 11: 252 -> 236; glibc's own run 208-241): the clock is read through the
# vDSO directly (hak_clock.c, test_clock).
. "$(dirname "$0")/../../tests/tap.sh"
LIB=$HAK_ROOT/build/lib/libhakmem.so
imports=$(nm -D --undefined-only "$LIB" | awk '{print $NF}' | sed 's/@.*//')
check "libhakmem.so does not import clock_gettime (hak_clock.c reads the vDSO)" \
  bash -c "! grep -qx clock_gettime <<<'$imports'"
check "nor gettimeofday or time" bash -c "! grep -qxE 'gettimeofday|time' <<<'$imports'"

# The small globals every process writes (locks, list heads, counters,
# hak_cfg) share one page (HAK_HOT, in .data): as plain .bss they sat among
# the big arrays (registry, parked heaps) on 4 pages of their own, 16 KiB
# of a 1.7 MB process (and the orphan heap's state, written at init, took
# one more: now set on first use).  Checked on the symbols (not stripped).
syms=$(nm "$LIB" 2>/dev/null)
page_of() { awk -v s="$1" '$3 == s { print substr($1, 1, length($1) - 3); exit }' <<<"$syms"; }
want=$(page_of hak_cfg)
spread=""
for v in hak_init_state g_lock hak_orphan_lock hak_ctr hak_heaps hak_all_ss next_hint vdso_cgt \
         g_key parked_n slots_pool carved_total cache tab; do
  [[ $(page_of "$v") == "$want" ]] || spread+=" $v"
done
check "the globals start-up writes share hak_cfg's page (not:${spread:- none})" test -n "$want" -a -z "$spread"
# And what a process then has of our .bss: the registry's page (20 kB
# before; informational: a process whose first malloc comes before libc
# has set environ reads its environment into a static buffer).
cat > "$TMP/bss.awk" <<'AWK'
/^[0-9a-f]+-[0-9a-f]+ / {
  split($1, r, "-")
  in_bss = (prev_hak && NF == 5 && r[1] == prev_end)
  prev_hak = index($0, "libhakmem.so") > 0
  prev_end = r[2]
  next
}
in_bss && /^Rss:/ { print $2; found = 1; exit }
END { if (!found) print "none" }
AWK
echo "# our .bss resident after start-up: $(cd "$TMP" && LD_PRELOAD=$LIB awk -f "$TMP/bss.awk" /proc/self/smaps) kB"
