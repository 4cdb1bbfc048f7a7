#!/usr/bin/env bash
# Regressions from the CLI QA pass over `hak record`: a program that cannot
# be run leaves no empty PROGRAM.hkt behind (and keeps a file that was
# there), bad options give one line.
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP" || exit 1
hak record -q -- /nonexistent/prog 2>/dev/null; rc=$?
check "record of a missing program exits 127" test "$rc" = 127
check "... and leaves no prog.hkt behind" test ! -e prog.hkt
echo data > notexec
hak record -q -- ./notexec 2>/dev/null; rc=$?
check "record of a non-executable file exits 126" test "$rc" = 126
check "... and leaves no notexec.hkt behind" test ! -e notexec.hkt
echo keep > keep.hkt
hak record -q -o keep.hkt -- /nonexistent/prog 2>/dev/null
check "an existing -o file is not deleted when the program cannot run" grep -qx keep keep.hkt
hak record -q -o ran.hkt -- sh -c 'exit 127'; rc=$?
check "a program that itself exits 127 keeps its trace" bash -c "[[ $rc == 127 && -s ran.hkt ]]"
hak record -o '' -- true 2>err.txt; rc=$?
check "record -o '' is a usage error naming -o" bash -c "[[ $rc == 2 ]] && grep -q -- '-o: empty' err.txt"
hak record --bogus -- true 2>err.txt; rc=$?
check "record --bogus: one line, exit 2" bash -c "[[ $rc == 2 && \$(wc -l <err.txt) == 1 ]]"
