#!/usr/bin/env bash
# Bad input across the whole `hak` CLI: every case must fail cleanly (exit
# 1..127, never a signal), print exactly one line on stderr, and usage
# errors must exit 2.  Fast: nothing here replays or records for real.
. "$(dirname "$0")/../tap.sh"
cd "$TMP" || exit 1
T=$HAK_ROOT/traces/corpus/mt-handoff.hkt
mkdir adir
: > empty
echo hello > text.txt
head -c 300 "$T" > trunc.hkt
cp "$T" flip.hkt && printf '\xff' | dd of=flip.hkt bs=1 seek=200 conv=notrunc 2>/dev/null
echo "not sqlite" > notdb.db
hak trace synth tiny-hot -o ok.hkt -q 2>/dev/null || hak trace synth tiny-hot -o ok.hkt >/dev/null 2>&1
hak db import-trace --db good.db ok.hkt >/dev/null 2>&1
head -c 5000 good.db > truncdb.db

# bad [RC] NAME CMD...: clean failure (exit RC, or any 1..127 when RC is -),
# exactly one stderr line.
bad() {
  local want=$1 name=$2; shift 2
  timeout 20 "$@" </dev/null >out.txt 2>err.txt; local rc=$?
  local n; n=$(wc -l <err.txt)
  if (( rc == 0 || rc == 124 || rc >= 128 )); then not_ok "$name" "exit $rc: $*"; sed 's/^/#   /' err.txt | head -3
  elif [[ $want != - && $rc != "$want" ]]; then not_ok "$name" "exit $rc, wanted $want: $*"; head -3 err.txt | sed 's/^/#   /'
  elif (( n != 1 )); then not_ok "$name" "$n stderr lines: $*"; head -5 err.txt | sed 's/^/#   /'
  else ok "$name"; fi
}

for sub in info dump stats validate; do
  bad 1 "trace $sub: missing file" hak trace $sub nonexist.hkt
  bad 1 "trace $sub: directory" hak trace $sub adir
  bad 1 "trace $sub: empty file" hak trace $sub empty
  bad 1 "trace $sub: /dev/null" hak trace $sub /dev/null
  bad 1 "trace $sub: text file" hak trace $sub text.txt
  bad 1 "trace $sub: flipped byte" hak trace $sub flip.hkt
  bad 2 "trace $sub: unknown option" hak trace $sub --bogus ok.hkt
  bad 2 "trace $sub: no trace" hak trace $sub
done
check_fails "trace validate --strict fails on a truncated trace" hak trace validate --strict -q trunc.hkt
bad 1 "trace validate: a truncated trace fails without --allow-prefix" hak trace validate -q trunc.hkt
check "trace validate --allow-prefix accepts its valid prefix" hak trace validate --allow-prefix -q trunc.hkt
bad 2 "trace dump --limit -1" hak trace dump --limit -1 ok.hkt
bad 2 "trace dump --limit huge" hak trace dump --limit 99999999999999999999 ok.hkt
bad 2 "trace dump --limit abc" hak trace dump --limit abc ok.hkt
bad 2 "trace dump --limit without value" hak trace dump ok.hkt --limit
bad 2 "trace synth: unknown workload" hak trace synth nosuch -o x.hkt
bad 1 "trace import: text file" hak trace import text.txt -o x.hkt
bad 1 "trace import: directory" hak trace import adir -o x.hkt
bad 2 "trace: unknown subcommand" hak trace frob

bad 2 "record: no program" hak record
bad 2 "record --: no program" hak record --
bad - "record -- /nonexistent" hak record -q -o r.hkt -- /nonexistent
bad - "record: program not executable" hak record -q -o r.hkt -- ./text.txt
bad 2 "record: unknown option" hak record --bogus -- true
bad 2 "record -o without value" hak record -o
bad 2 "record --stacks=abc" hak record --stacks=abc -- true
bad 2 "record -o empty name" hak record -o "" -- true

bad 2 "replay: no trace" hak replay
bad 1 "replay: missing trace" hak replay nonexist.hkt --db r.db
bad 1 "replay: directory" hak replay adir --db r.db
bad 1 "replay: empty trace" hak replay empty --db r.db
bad 1 "replay: flipped byte" hak replay flip.hkt --db r.db
bad 2 "replay: unknown allocator" hak replay ok.hkt --alloc nosuch --db r.db
bad 2 "replay --env without =" hak replay ok.hkt --env FOO --db r.db
bad 2 "replay --repeat 0" hak replay ok.hkt --repeat 0 --db r.db
bad 2 "replay --repeat huge" hak replay ok.hkt --repeat 99999999999999999999 --db r.db
bad 2 "replay --timeout abc" hak replay ok.hkt --timeout abc --db r.db
bad 2 "replay --timeout -1" hak replay ok.hkt --timeout -1 --db r.db
bad 2 "replay --timeout nan" hak replay ok.hkt --timeout nan --db r.db
bad 2 "sim --timeout nan" hak sim ok.hkt --timeout nan --no-db
bad 2 "replay --threads bogus" hak replay ok.hkt --threads bogus --db r.db
bad 2 "replay: unknown option" hak replay ok.hkt --bogus
bad 2 "replay --db without value" hak replay ok.hkt --db
bad 1 "replay: non-SQLite database" hak replay ok.hkt --db notdb.db
bad 1 "replay: truncated database" hak replay ok.hkt --db truncdb.db
bad 1 "replay: database is a directory" hak replay ok.hkt --db adir

bad 2 "sim: no trace" hak sim
bad 1 "sim: empty trace" hak sim empty --no-db
bad 2 "sim: unknown allocator" hak sim ok.hkt --alloc nosuch --no-db
bad 2 "sim --tlb abc" hak sim ok.hkt --tlb abc --no-db
bad 2 "sim --timeout abc" hak sim ok.hkt --timeout abc --no-db
bad 2 "sim: --sweep-id with --sweep-uuid" hak sim ok.hkt --sweep-id 1 --sweep-uuid x --no-db
bad 1 "sim: non-SQLite database" hak sim ok.hkt --db notdb.db
bad 2 "sim: unknown option" hak sim ok.hkt --bogus

bad 2 "sweep: no trace" hak sweep
bad 2 "sweep --grid without =" hak sweep ok.hkt --grid FOO --db s.db
bad 2 "sweep --grid empty value" hak sweep ok.hkt --grid FOO=1,,2 --db s.db
bad 2 "sweep -j 0" hak sweep ok.hkt --grid FOO=1 -j 0 --db s.db
bad 2 "sweep --repeat 0" hak sweep ok.hkt --grid FOO=1 --repeat 0 --db s.db
bad 2 "sweep: missing trace" hak sweep nonexist.hkt --grid FOO=1 --db s.db
bad 1 "sweep: non-SQLite database" hak sweep ok.hkt --grid FOO=1 --db notdb.db
bad 1 "sweep: empty trace" hak sweep empty --grid FOO=1 --db s.db
bad 2 "sweep: unknown allocator" hak sweep ok.hkt --grid FOO=1 --alloc nosuch --db s.db
bad 2 "sweep: unknown option" hak sweep ok.hkt --bogus

for sub in runs info best; do
  bad 1 "db $sub: missing database" hak db $sub --db nonexist.db
  bad 1 "db $sub: non-SQLite database" hak db $sub --db notdb.db
  bad 1 "db $sub: truncated database" hak db $sub --db truncdb.db
  bad 1 "db $sub: empty file" hak db $sub --db empty
  bad 1 "db $sub: directory" hak db $sub --db adir
  bad 2 "db $sub: unknown option" hak db $sub --db good.db --bogus
done
bad 2 "db runs --limit -1" hak db runs --db good.db --limit -1
bad 2 "db runs --limit huge" hak db runs --db good.db --limit 99999999999999999999
bad 2 "db runs --kind bogus" hak db runs --db good.db --kind bogus
bad 2 "db query: empty SQL" hak db query --db good.db ""
bad 2 "sim: --db with --no-db" hak sim ok.hkt --db x.db --no-db
bad 1 "db show: no such run" hak db show --db good.db 999999
bad 2 "db compare: no --base/--new" hak db compare --db good.db
bad 1 "db query: bad SQL" hak db query --db good.db 'select nonsense from nowhere'
bad 1 "db query: write refused" hak db query --db good.db 'delete from runs'
bad 2 "db query -p without =" hak db query --db good.db -p abc 'select 1'
bad 1 "db merge: non-SQLite source" hak db merge --db m.db notdb.db
bad 1 "db merge: itself" hak db merge --db good.db good.db
bad 1 "db import-trace: flipped byte" hak db import-trace --db good.db flip.hkt
bad 1 "db import-trace: directory" hak db import-trace --db good.db adir
bad 2 "db: unknown subcommand" hak db frob
bad 1 "report: non-SQLite database" hak report --db notdb.db
bad 2 "report --sweep abc" hak report --db good.db --sweep abc
bad 2 "report: unknown option" hak report --db good.db --bogus

# Read-only database directory: reading works, writing fails cleanly.
if [[ $(id -u) != 0 ]]; then
  mkdir ro && cp good.db ro/h.db && chmod 555 ro
  check "db runs in a read-only directory works" hak db runs --db ro/h.db
  chmod 755 ro
else
  skip "db runs in a read-only directory works" "running as root (permissions not enforced)"
fi

# Output that cannot be written (a full disk) is a failure, not exit 0.
if [[ -w /dev/full ]]; then
  bad 1 "trace info > /dev/full" sh -c 'hak trace info ok.hkt > /dev/full'
  bad 1 "trace stats > /dev/full" sh -c 'hak trace stats ok.hkt > /dev/full'
  bad 1 "report > /dev/full" sh -c 'hak report --db good.db > /dev/full'
  bad 1 "hak --help > /dev/full" sh -c 'hak --help > /dev/full'
  bad 1 "db export -o /dev/full" hak db export --db good.db -o /dev/full
  bad 1 "db runs > /dev/full" sh -c 'hak db runs --db good.db > /dev/full'
else
  skip "writes to /dev/full fail" "no writable /dev/full"
fi
