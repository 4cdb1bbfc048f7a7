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
