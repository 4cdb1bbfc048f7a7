#!/usr/bin/env bash
# Real programs under LD_PRELOAD=libhakmem.so give output identical to a run
# without it: python3, perl, gcc, git, sqlite3, make -j2.
. "$(dirname "$0")/../../tests/tap.sh"
LIB=$HAK_ROOT/build/lib/libhakmem.so
cd "$TMP"

# same NAME CMD...: runs CMD with and without the allocator, compares stdout
# and exit status; the preloaded run must also have used hakmem.
same() {
  local name=$1; shift
  if ! command -v "$1" >/dev/null; then skip "$name" "$1 not installed"; return; fi
  "$@" >ref.out 2>ref.err; local r1=$?
  LD_PRELOAD=$LIB "$@" >hak.out 2>hak.err; local r2=$?
  if [[ $r1 == "$r2" ]] && cmp -s ref.out hak.out; then ok "$name (exit $r1, $(wc -c <ref.out) bytes identical)"
  else not_ok "$name" "exit $r1 vs $r2"; diff ref.out hak.out | head -5 | sed 's/^/#   /'; tail -3 hak.err | sed 's/^/#   /'; fi
}

check "preloaded process uses hakmem" bash -c \
  "LD_PRELOAD=$LIB python3 -c 'import ctypes; l=ctypes.CDLL(None); l.hak_alloc_version.restype=ctypes.c_char_p; print(l.hak_alloc_version().decode())' | grep -q '^hakmem '"

cat > alloc_heavy.py <<'PY'
import json, random, collections
random.seed(42)
d = {}
for i in range(150000):
    d[str(i)] = [random.random() for _ in range(i % 7)] + ["x" * (i % 300)]
for i in range(0, 150000, 3):
    del d[str(i)]
s = json.dumps(d, sort_keys=True)
c = collections.Counter(len(v) for v in d.values())
print(len(s), sorted(c.items())[:5], sum(len(k) for k in d))
print(sorted(set("".join(sorted(d)[:2000])))[:10])
PY
same "python3 allocation-heavy script" python3 alloc_heavy.py
same "perl hashes and strings" perl -e 'my %h; for my $i (1..200000) { $h{$i} = "v" x ($i % 97) } delete $h{$_} for grep { $_ % 3 } keys %h; my $s = join ",", map { length $h{$_} } sort { $a <=> $b } keys %h; print length($s), " ", scalar(keys %h), "\n"'

cat > prog.c <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct node { struct node *next; char name[24]; };
int main(void) {
  struct node *head = NULL;
  for (int i = 0; i < 1000; i++) { struct node *n = malloc(sizeof *n); snprintf(n->name, sizeof n->name, "n%d", i); n->next = head; head = n; }
  unsigned h = 0; for (struct node *n = head; n; n = n->next) h = h * 31 + (unsigned)strlen(n->name);
  printf("%u\n", h); return 0;
}
C
same "gcc compiles a C file" gcc -O2 -Wall -o prog prog.c
check "the program gcc built under hakmem runs" bash -c "./prog | grep -qE '^[0-9]+$'"

git_flow() {
  rm -rf repo && git init -q repo && cd repo || return 1
  git config user.email t@example.com && git config user.name Test
  for i in 1 2 3; do seq 1 $((i * 1000)) > "f$i.txt"; git add "f$i.txt"; GIT_COMMITTER_DATE="2020-01-0${i}T00:00:00Z" GIT_AUTHOR_DATE="2020-01-0${i}T00:00:00Z" git commit -q -m "commit $i"; done
  git log --stat --format='%H %s' && git gc -q && git count-objects -v | grep -v size
}
export -f git_flow
same "git init/commit/log/gc" bash -c 'git_flow'

same "sqlite3 query workload" sqlite3 :memory: "create table t(a integer primary key, b text, c real);
with recursive n(x) as (select 1 union all select x+1 from n where x<50000)
insert into t select x, hex(randomblob(8)) || x, x*0.5 from n;
create index tb on t(b); select count(*), sum(c), max(length(b)) from t where a % 7 = 3;
select count(*) from (select b from t order by b limit 20000 offset 100);
delete from t where a % 2 = 0; vacuum; select count(*) from t;"

mkdir -p mk && cd mk
for i in 1 2 3 4; do printf 'int f%d(int x){return x*%d;}\n' $i $i > f$i.c; done
printf 'int f1(int),f2(int),f3(int),f4(int);\nint main(void){return f1(1)+f2(2)+f3(3)+f4(4)-30;}\n' > main.c
printf 'OBJS=main.o f1.o f2.o f3.o f4.o\nall: app\napp: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n%%.o: %%.c\n\t$(CC) -O2 -c -o $@ $<\nclean:\n\trm -f app *.o\n' > Makefile
same "make -j2 builds a small project" bash -c 'make -s clean && make -s -j2 && ./app && echo built'
