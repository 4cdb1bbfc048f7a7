#!/usr/bin/env bash
# build/bench/random_mixed, the recorder bench's program: WORK (third
# argument) must leave the default program untouched (the bench's
# random_mixed row and older results stay comparable), reach the checksum
# when > 0 (so the compiler cannot drop it), and bad arguments are one-line
# errors.
. "$(dirname "$0")/../../tests/tap.sh"
RM=$HAK_ROOT/build/bench/random_mixed
cd "$TMP" || exit 1
if [[ ! -x $RM ]]; then skip "random_mixed" "build/bench/random_mixed not built"; exit 0; fi
# Without WORK, every iteration adds (uint8_t)i: the checksum is known.
want=$(awk 'BEGIN{for (i = 0; i < 1000; i++) s += i % 256; print s}')
check "default: 1000 iterations, checksum sum(i mod 256)" \
  grep -qx "random_mixed: 1000 iterations, checksum $want" <("$RM" 1000)
check "WORK 0 is byte-identical to no WORK" cmp <("$RM" 1000 7) <("$RM" 1000 7 0)
"$RM" 1000 7 5 > w5a.txt; "$RM" 1000 7 5 > w5b.txt
check "WORK 5 is deterministic" cmp w5a.txt w5b.txt
check "WORK 5 keeps the iteration count" grep -q '^random_mixed: 1000 iterations, ' w5a.txt
check "WORK 5 reaches the checksum (golden value)" grep -qx 'random_mixed: 1000 iterations, checksum 251051' w5a.txt
"$RM" 1000 7 6 > w6.txt
check "WORK 6 gives another checksum than WORK 5" bash -c '! cmp -s w5a.txt w6.txt'
# THREADS: each thread runs the same loop on its own slots; without WORK
# each adds sum(i mod 256).
check "THREADS 3: three loops, checksum 3 x sum(i mod 256)" \
  grep -qx "random_mixed: 1000 iterations x 3 threads, checksum $((3 * want))" <("$RM" 1000 7 0 3)
check "THREADS 1 is the single-threaded program" cmp <("$RM" 1000 7 5) <("$RM" 1000 7 5 1)
for bad in "x" "10 0" "10 2 -3" "10 2 3z" "1 2 3 0" "1 2 3 4 5"; do
  # shellcheck disable=SC2086
  "$RM" $bad >out.txt 2>err.txt; rc=$?
  check "random_mixed $bad: exit 2, one line on stderr, no output" \
    bash -c "[[ $rc == 2 && \$(wc -l <err.txt) == 1 && ! -s out.txt ]]"
done
"$RM" 10 0 2>err.txt
check "SLOTS 0 names SLOTS" grep -q '^random_mixed: SLOTS: ' err.txt
check "--help prints usage, exit 0" bash -c "'$RM' --help | grep -q '^usage: random_mixed .*WORK'"
# The bench's null interposer: it must really take the calls (its
# slowdown is the floor the bench reports) and change nothing else.
NULLPRE=$HAK_ROOT/build/bench/libnullpreload.so
for f in malloc free calloc realloc; do
  check "libnullpreload.so exports $f" bash -c "nm -D --defined-only '$NULLPRE' | grep -qw '$f'"
done
check "random_mixed under libnullpreload.so: same output" \
  cmp <("$RM" 20000 7 3 2) <(LD_PRELOAD=$NULLPRE "$RM" 20000 7 3 2)
if command -v python3 >/dev/null; then
  check "python3 under libnullpreload.so: same output" \
    cmp <(python3 -c 'print(sum(len(str(i) * 50) for i in range(20000)))') \
        <(LD_PRELOAD=$NULLPRE python3 -c 'print(sum(len(str(i) * 50) for i in range(20000)))')
else
  skip "python3 under libnullpreload.so" "no python3"
fi
