#!/usr/bin/env bash
# Regressions from the CLI QA pass: how `hak db`/`hak report` treat files
# that are not databases, and bad options (one line on stderr, exit 2).
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP" || exit 1
: > empty.db
# one_line EXPECTED_RC PATTERN CMD...: exit status and a single stderr line.
one_line() {
  local rc=$1 pat=$2; shift 2
  "$@" >/dev/null 2>err.txt; local got=$?
  [[ $got == "$rc" && $(wc -l <err.txt) == 1 ]] && grep -q -- "$pat" err.txt
}
check "db runs: a 0-byte file is refused, naming it" one_line 1 "empty.db: empty file" hak db runs --db empty.db
check "db runs: the 0-byte file is left untouched (no silent migration)" test ! -s empty.db
check "report: a 0-byte file is refused" one_line 1 "empty.db: empty file" hak report --db empty.db
check "db runs: /dev/null is not a regular file" one_line 1 "/dev/null: not a regular file" hak db runs --db /dev/null
check "db runs: --db= (empty path) is refused" one_line 1 "empty database path" hak db runs --db=
check "db runs --bogus: one line naming it, exit 2" one_line 2 "'--bogus'" hak db runs --db empty.db --bogus
check "db show -5: one line naming it, exit 2" one_line 2 "'-5'" hak db show -5
check "db query --db (no value): one line, exit 2" one_line 2 "'--db'" hak db query --db
check "report --bogus: one line, exit 2" one_line 2 "'--bogus'" hak report --bogus
check "db export -o: one line, exit 2" one_line 2 "'-o'" hak db export -o
# A bad trace whose name also occurs in the reader's message still gets named.
echo junk > trace
check "db import-trace names a bad file called 'trace'" one_line 1 "^hak db import-trace: trace: " \
  hak db import-trace --db new.db trace
# Filters with a fixed set of values: a typo is a usage error, not "(no rows)".
check "db runs --kind bogus: exit 2" one_line 2 "--kind: 'bogus'" hak db runs --db empty.db --kind bogus
check "db runs --status bogus: exit 2" one_line 2 "--status: 'bogus'" hak db runs --db empty.db --status bogus
check "db runs --sweep abc: exit 2" one_line 2 "--sweep: 'abc'" hak db runs --db empty.db --sweep abc
check "db best --kind bogus: exit 2" one_line 2 "--kind: 'bogus'" hak db best --db empty.db --kind bogus
check "db best --sweep 0: exit 2" one_line 2 "--sweep: '0'" hak db best --db empty.db --sweep 0
check "db query '' (empty SQL) is a usage error" one_line 2 "empty SQL" hak db query --db empty.db ''
check "report --by without --base/--new is a usage error" one_line 2 "--by needs" hak report --db empty.db --by build
check "db compare --min-change nan is a usage error" one_line 2 "min-change" hak db compare --db empty.db --base a --new b --min-change nan
# A trace that was imported but never replayed: its report section has no
# settings (sorting the NULL settings array was undefined behaviour).
hak trace synth tiny-hot -o lone.hkt >/dev/null 2>&1
hak db import-trace --db lone.db -q lone.hkt >/dev/null 2>&1
check "report on a trace without runs exits 0" hak report --db lone.db
