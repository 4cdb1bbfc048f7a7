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

# Our .bss (the mapping after the library's own): only the registry's page.
# The small globals every process writes (locks, list heads, counters,
# hak_cfg) share one .data page (HAK_HOT); as plain .bss they sat among the
# big arrays on 4 pages of their own (this read 20 kB), and the orphan
# heap's state, written at init, took one more (now set on first use).
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
bss=$(cd "$TMP" && LD_PRELOAD=$LIB awk -f "$TMP/bss.awk" /proc/self/smaps)
check "start-up dirties one page of our .bss (Rss ${bss} kB, want <= 4)" test "$bss" != none -a "${bss/none/99}" -le 4
