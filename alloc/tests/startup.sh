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

# The fork handlers are registered when a second thread starts allocating,
# not at init (hak_init.c, atfork_register): pthread_atfork is in a part of
# libc a single-threaded program never reaches (~13 pages of libc text).
# A shim counts the registrations whose prepare handler is ours; a fork
# must work either way (the child allocates and frees).
cat > "$TMP/shim.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
static int ours;
int __register_atfork(void (*pre)(void), void (*par)(void), void (*chi)(void), void *dso)
{
    static int (*real)(void (*)(void), void (*)(void), void (*)(void), void *);
    if (!real) real = (int (*)(void (*)(void), void (*)(void), void (*)(void), void *))dlsym(RTLD_NEXT, "__register_atfork");
    Dl_info di;
    if (pre && dladdr((void *)pre, &di) && di.dli_fname && strstr(di.dli_fname, "libhakmem")) ours++;
    return real(pre, par, chi, dso);
}
__attribute__((destructor)) static void report(void) { fprintf(stderr, "hakmem_atfork %d\n", ours); }
C
cat > "$TMP/forker.c" <<'C'
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
static void *worker(void *a) { free(malloc(100)); return a; }
int main(int argc, char **argv)
{
    char *p = malloc(64);
    strcpy(p, "x");
    if (argc > 1) { pthread_t t; pthread_create(&t, NULL, worker, NULL); pthread_join(t, NULL); }
    pid_t c = fork();
    if (c == 0) { char *q = malloc(5000); q[0] = 1; free(q); free(p); _exit(0); }
    int st = 1;
    waitpid(c, &st, 0);
    free(p);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
C
if cc -shared -fPIC -o "$TMP/shim.so" "$TMP/shim.c" -ldl 2>"$TMP/cc.err" && cc -o "$TMP/forker" "$TMP/forker.c" -lpthread 2>>"$TMP/cc.err"; then
  one=$(LD_PRELOAD="$TMP/shim.so $LIB" "$TMP/forker" 2>&1); r1=$?
  two=$(LD_PRELOAD="$TMP/shim.so $LIB" "$TMP/forker" thread 2>&1); r2=$?
  check "one thread: no fork handlers registered, fork works ($one, exit $r1)" \
    test "$r1" = 0 -a "$(grep -c '^hakmem_atfork 0$' <<<"$one")" -ge 1
  check "a second thread allocating registers them once, fork works ($(tr '\n' ' ' <<<"$two")exit $r2)" \
    test "$r2" = 0 -a "$(grep '^hakmem_atfork' <<<"$two" | sort -u)" = "hakmem_atfork 1"
else
  skip "fork handler registration" "cannot build the shim: $(head -1 "$TMP/cc.err")"
fi
