#!/usr/bin/env bash
# Recorder integration tests: real programs and C test programs recorded with
# `hak record` (and by preloading libhakrec.so by hand).  Each run checks that
# program output and exit status are identical with and without recording,
# and that every trace written passes the checker (build/tests/recorder/
# hkt_check --clean: readable, seq unique and increasing, per-thread
# timestamps monotonic, no address live twice, replay form without
# inversions or double frees) and `hak trace validate` when it exists.
. "$(dirname "$0")/../../tests/tap.sh"

B=$HAK_ROOT/build
P=$B/tests/recorder/progs
CHK=$B/tests/recorder/hkt_check
LIB=$B/lib/libhakrec.so
cd "$TMP" || exit 1

have_validate=0
hak trace validate --help >/dev/null 2>&1 && have_validate=1

# valid_all NAME FILES...: every trace passes the checks.
valid_all() {
  local name=$1; shift
  local f bad=""
  (( $# > 0 )) || { not_ok "$name" "no trace written"; return; }
  for f in "$@"; do
    if ! "$CHK" --clean "$f" >"$f.chk" 2>&1; then bad+=" $f"; sed 's/^/#   /' "$f.chk" | grep -E 'FAIL|error|double|inver|trunc' ; continue; fi
    if (( have_validate )) && ! hak trace validate "$f" >"$f.val" 2>&1; then
      bad+=" $f(validate)"; tail -n 5 "$f.val" | sed 's/^/#   /'
    fi
  done
  if [[ -z $bad ]]; then ok "$name ($# trace(s))"; else not_ok "$name" "bad traces:$bad"; fi
}

# same_run NAME OUT -- CMD...: runs CMD plain and under hak record -o OUT,
# compares stdout+stderr and exit status.
same_run() {
  local name=$1 out=$2; shift 3
  "$@" >plain.out 2>plain.err; local rc1=$?
  hak record -q -o "$out" -- "$@" >rec.out 2>rec.err; local rc2=$?
  if (( rc1 == rc2 )) && cmp -s plain.out rec.out && cmp -s plain.err rec.err; then
    ok "$name: same output and status ($rc1) when recorded"
  else
    not_ok "$name: output or status differs when recorded" "status $rc1 vs $rc2"
    diff plain.out rec.out | head -5 | sed 's/^/#   /'
    diff plain.err rec.err | head -5 | sed 's/^/#   /'
  fi
}

key() { grep "^$2=" "$1.chk" | cut -d= -f2; }

# ---- CLI -------------------------------------------------------------------
check "hak record --help" bash -c 'hak record --help | grep -q "usage: hak record"'
check_fails "no program is a usage error" hak record -o x.hkt
check_fails "bad --stacks value" hak record --stacks=lots -- true
check_fails "bad --ts-resolution value" hak record --ts-resolution=fast -- true
check_fails "bad --zstd-level value" hak record --zstd-level=99 -- true
check_fails "bad --zstd-level word" hak record --zstd-level=fast -- true
check_fails "unwritable output is refused up front" hak record -o /nonexistent/dir/x.hkt -- true
hak record -q -o nothere.hkt -- ./no-such-program 2>err.txt; rc=$?
if (( rc == 127 )) && grep -q "cannot run" err.txt; then ok "missing program: exit 127 with a message"; else not_ok "missing program" "rc=$rc"; fi

hak record -o sig.hkt -- sh -c 'kill -KILL $$' 2>err.txt; rc=$?
if (( rc == 137 )) && grep -q "killed by signal 9" err.txt; then ok "program killed by a signal: exit 128+9 and a note"
else not_ok "killed by signal" "rc=$rc: $(cat err.txt)"; fi
hak record -q -o st.hkt -- sh -c 'exit 42'; rc=$?
if (( rc == 42 )); then ok "exit status passed through"; else not_ok "exit status" "got $rc"; fi

# ---- C test programs --------------------------------------------------------
# The first thread takes seqs without address clocks until a second one
# starts (rec_seq.c); race that switch a few times: seqs must stay unique
# and no address live twice.
for i in 1 2 3 4 5; do
  hak record -q -o "sw$i.hkt" -- "$P/seq_switch" 100000 >/dev/null 2>&1
done
valid_all "seq_switch: unique seqs across the single- to multi-thread switch" sw?.hkt
same_run "mt_handoff" mt.hkt -- "$P/mt_handoff" 4 20000
valid_all "mt_handoff: cross-thread frees/reallocs, no address live twice" mt.hkt
if [[ -f mt.hkt.chk ]] && (( $(key mt.hkt threads) >= 5 )) && (( $(key mt.hkt cross_thread_deps) > 1000 )); then
  ok "mt_handoff: all threads and cross-thread hand-offs recorded"
else not_ok "mt_handoff: threads/cross-thread deps missing"; fi

# Two encoders (rec_jobs.c): at zstd level 9 the writer falls behind at
# once, so the helper encoder takes chunks; the file must hold every event
# (the same count as with one encoder), each thread's chunks in seq order.
hak record -v --zstd-level 9 -o enc2.hkt -- "$P/mt_handoff" 4 100000 >/dev/null 2>enc2.err
HAKREC_ENCODERS=1 hak record -v --zstd-level 9 -o enc1.hkt -- "$P/mt_handoff" 4 100000 >/dev/null 2>enc1.err
valid_all "two encoders: mt_handoff trace" enc2.hkt
helped=$(sed -n 's/.*helper encoder: \([0-9]*\) chunks.*/\1/p' enc2.err)
helped1=$(sed -n 's/.*helper encoder: \([0-9]*\) chunks.*/\1/p' enc1.err)
# per-op counts; thread_exit depends on when the writer saw a thread go
ops() { hak trace info "$1" | sed -n '/^operations:/,/^threads:/p' | grep -v thread_exit; }
if [[ -n $helped ]] && (( helped > 0 )) && [[ $helped1 == 0 ]] && [[ $(ops enc2.hkt) == "$(ops enc1.hkt)" ]]; then
  ok "two encoders: the helper encoded $helped chunks, no event lost or doubled"
else not_ok "two encoders" "helped=$helped/$helped1: $(cat enc2.err)"; diff <(ops enc1.hkt) <(ops enc2.hkt) | sed 's/^/#   /'; fi
check "hak record -v prints a summary line" grep -q "B/event" enc2.err
check "hak record -v reports the recorder threads' CPU time" \
  grep -Eq "writer and helper CPU [0-9]+[.][0-9] ms \([0-9]+[.][0-9] ns/event\)" enc2.err

# Chunks of a thread that allocates at 300k events/s (a block per ~220 ms,
# the python3 kind): whole blocks, not one cut by every 90 ms partial
# flush (rec_writer.c, REC_PARTIAL_FAST: 15 chunks for its ~450k events
# before, ceil(events / 65536) = 7 now).
hak record -q -o steady.hkt -- "$P/steady" 300000 1500 2>steady.err
"$CHK" --clean steady.hkt >steady.chk 2>&1
sev=$(sed -n 's/^events=//p' steady.chk); sch=$(sed -n 's/^event_chunks=//p' steady.chk)
if [[ -n $sev && -n $sch ]] && (( sev > 200000 && sch <= (sev + 65535) / 65536 + 2 )); then
  ok "a thread at 300k events/s gets whole-block chunks ($sch chunks for $sev events)"
else not_ok "steady-rate chunks" "events=$sev chunks=$sch: $(head -3 steady.err steady.chk)"; fi

# The zstd ladder of an idle writer climbs to 12, not 15 (rec_writer.c:
# level 15's context nearly doubles what the program's peak RSS catches of
# the encoder at work).
hak record -q -v -o ladder.hkt -- "$P/steady" 20000 800 >/dev/null 2>ladder.err
lv=$(grep -o 'zstd level [0-9]*' ladder.err | tail -n 1)
if [[ $lv == "zstd level 12" ]]; then ok "an idle writer's zstd ladder tops out at level 12"
else not_ok "zstd ladder top" "got '$lv': $(tail -n 1 ladder.err)"; fi

# The recorder's threads carry names (top -H, perf, gdb); the helper
# encoder runs at nice 19, the writer at the program's own priority
# (rec_jobs.c).  Level 9 makes the writer fall behind, so the helper starts.
hak record -q --zstd-level 9 -o thr.hkt -- "$P/rec_threads" >thr.out 2>&1
pn=$(sed -n 's/^program nice //p' thr.out)
check "recorder threads: hakrec-writer at the program's nice, hakrec-encode at 19" \
  diff <(printf 'program nice %s\nhakrec-writer nice %s\nhakrec-encode nice 19\n' "$pn" "$pn") thr.out

# Call-site tables start small and grow (rec_stacks.c).  4096 distinct
# stacks must all become sites (the site hash and the key table grow),
# under --stacks-exact and by default, where every one is walked with the
# unwind rules alone (0 libunwind unwinds).
hak record -v --stacks-exact -o ms1.hkt -- "$P/many_sites" chains >/dev/null 2>ms1.err
hak record -v -o ms2.hkt -- "$P/many_sites" chains >/dev/null 2>ms2.err
valid_all "many_sites traces" ms1.hkt ms2.hkt
sites=$(hak trace info ms1.hkt | awk '/^call sites:/ {print $3}')
sites2=$(hak trace info ms2.hkt | awk '/^call sites:/ {print $3}')
unw=$(sed -n 's/.* \([0-9]*\) unwinds.*/\1/p' ms2.err)
if [[ -n $sites ]] && (( sites >= 4096 )); then ok "4096 distinct stacks: $sites call sites"
else not_ok "site table growth" "$sites call sites: $(cat ms1.err)"; fi
if [[ -n $sites2 && -n $unw ]] && (( sites2 == sites && unw == 0 )); then ok "4096 distinct stacks walked: $sites2 call sites, $unw unwinds"
else not_ok "key table growth" "$sites2 call sites, $unw unwinds: $(cat ms2.err)"; fi

# Shared mode takes seqs in per-thread batches (rec_seq.c); a batch must
# expire with the clock samples, or a thread that allocates every 20 ms
# next to a busy one gets all its events stamped at the first one's time.
hak record -q -o slow.hkt -- "$P/slow_thread" >/dev/null 2>&1
valid_all "slow_thread trace" slow.hkt
gaps=$(hak trace dump --thread 1 slow.hkt | awk '/malloc size=777/ {if (n++) printf "%d ", ($2 - p) / 1e6; p = $2}')
if [[ $(wc -w <<<"$gaps") == 9 ]] && ! grep -qE '(^| )[0-4] ' <<<"$gaps "; then
  ok "slow thread's events 20 ms apart keep their times (gaps ms: $gaps)"
else not_ok "slow thread's timestamps" "gaps between its mallocs (ms): $gaps"; fi
hak record -q -o slow1.hkt -- "$P/slow_thread" solo >/dev/null 2>&1
gaps=$(hak trace dump --thread 0 slow1.hkt | awk '/malloc size=777/ {if (n++) printf "%d ", ($2 - p) / 1e6; p = $2}')
if [[ $(wc -w <<<"$gaps") == 9 ]] && ! grep -qE '(^| )[0-4] ' <<<"$gaps "; then
  ok "one thread allocating every 20 ms keeps its times (gaps ms: $gaps)"
else not_ok "single thread's timestamps" "gaps between its mallocs (ms): $gaps"; fi

same_run "errno_keep (errno untouched by recording, ENOMEM kept)" errno.hkt -- "$P/errno_keep"

same_run "nested_threads" nest.hkt -- "$P/nested_threads"
if hak trace dump nest.hkt | grep -q "t2 thread_start .*parent=t1"; then ok "thread_start names the creating thread"
else not_ok "creator of t2 should be t1" "$(hak trace dump nest.hkt | grep thread_start | tr '\n' ' ')"; fi

same_run "cxx (g++ program)" cxx.hkt -- "$P/cxx"
valid_all "cxx trace" cxx.hkt

same_run "forker (fork without exec from a multi-threaded parent)" fork.hkt -- "$P/forker" 3
n=$(ls fork.*.hkt 2>/dev/null | wc -l)
if (( n == 3 )); then ok "forker: one trace per forked child"; else not_ok "forker: expected 3 child traces, got $n"; fi
valid_all "forker traces" fork.hkt fork.*.hkt
rm -f fork*.hkt
hak record -q --no-follow -o nf.hkt -- "$P/forker" 2 >/dev/null
n=$(ls nf.*.hkt 2>/dev/null | wc -l)
if (( n == 0 )) && [[ -s nf.hkt ]]; then ok "--no-follow: only the top process"; else not_ok "--no-follow wrote $n child traces"; fi

same_run "quick_exit (_exit)" qe.hkt -- "$P/quick_exit"
valid_all "quick_exit trace" qe.hkt
if [[ -f qe.hkt.chk ]] && (( $(key qe.hkt op_malloc) == 5001 )); then ok "_exit: every allocation flushed"
else not_ok "_exit: expected 5001 mallocs" "got $(key qe.hkt op_malloc)"; fi

# SIGKILL: preload by hand so we know the program's pid.
LD_PRELOAD=$LIB HAKREC_OUTPUT=$TMP/kill.hkt "$P/spinner" >kill.out &
pid=$!
for _ in $(seq 100); do grep -q ready kill.out 2>/dev/null && break; sleep 0.05; done
sleep 0.3
kill -9 $pid; wait $pid 2>/dev/null
if "$CHK" --clean --allow-truncated kill.hkt >kill.hkt.chk 2>&1 && (( $(key kill.hkt truncated) == 1 )) \
   && (( $(key kill.hkt events) > 1000 )); then
  ok "SIGKILL: trace readable up to its last chunk, truncation reported ($(key kill.hkt events) events)"
else not_ok "SIGKILL trace" "$(tr '\n' ' ' < kill.hkt.chk)"; fi

( ulimit -v 400000; "$P/oom" >plain.out 2>&1; echo $? >>plain.out
  hak record -q -o oom.hkt -- "$P/oom" >rec.out 2>&1; echo $? >>rec.out )
if cmp -s plain.out rec.out && grep -q "failures seen: yes" rec.out; then ok "oom (ulimit -v): same output, allocations failed"
else not_ok "oom run differs"; fi
valid_all "oom trace" oom.hkt
if [[ -f oom.hkt.chk ]] && (( $(key oom.hkt failed_allocs) > 0 )); then ok "oom: failed allocations recorded"
else not_ok "oom: no failed allocation in the trace"; fi

# Recording a program that already preloads another allocator: hak record
# prepends itself to LD_PRELOAD and records calls into that allocator.
if [[ -f $B/lib/libhakmem.so ]]; then
  LD_PRELOAD=$B/lib/libhakmem.so hak record -q -o onhak.hkt -- "$P/mt_handoff" 2 5000 >/dev/null
  valid_all "recording on top of a preloaded allocator (libhakmem.so)" onhak.hkt
else skip "recording on top of libhakmem.so" "libhakmem.so not built"; fi

# exec keeps the pid: the exec'd image writes the usual file and the image
# it replaced moves aside to STEM.PID.xN.hkt.
hak record -q -o ex.hkt -- sh -c "exec '$P/cxx'" >/dev/null
if hak trace info ex.hkt 2>/dev/null | grep -q "command: .*progs/cxx" && ls ex.*.x1.hkt >/dev/null 2>&1; then
  ok "exec: the new image writes the top file, the old one moves to STEM.PID.x1.hkt"
else not_ok "exec naming" "$(ls ex*.hkt | tr '\n' ' ')"; fi
valid_all "exec traces" ex*.hkt
hak record -q -o exf.hkt -- sh -c 'exec /nonexistent/prog' >/dev/null 2>&1; rc=$?
if (( rc == 127 )) && [[ -s exf.hkt ]] && ! ls exf.*.x1.hkt >/dev/null 2>&1; then ok "failed exec: trace moved back, status kept"
else not_ok "failed exec" "rc=$rc $(ls exf* | tr '\n' ' ')"; fi
valid_all "failed exec trace" exf.hkt

# ---- options ----------------------------------------------------------------
hak record -q --stacks=off -o nostack.hkt -- "$P/cxx" >/dev/null
"$CHK" nostack.hkt >nostack.hkt.chk
if (( $(key nostack.hkt sites) == 0 )) && (( $(key nostack.hkt events) > 1000 )); then ok "--stacks=off: no call sites"
else not_ok "--stacks=off"; fi
if [[ -f cxx.hkt.chk ]] && (( $(key cxx.hkt sites) > 0 )) && (( $(key cxx.hkt site_unknown) == 0 )) \
   && (( $(key cxx.hkt modules_with_build_id) > 0 )); then ok "default: call sites and modules with build-ids"
else not_ok "default: sites/modules missing"; fi
# python3 may be a pyenv shim (a shell script that execs the real one):
# record the real interpreter so the tests measure python, not the shim.
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
if [[ -n $PY && -x $PY ]]; then
  # The cached call sites must split allocations the way exact unwinding does
# (cxx calls operator new from several places in main at the same depth).
hak record -q --stacks-exact -o cxxe.hkt -- "$P/cxx" >/dev/null
sites_of() { hak trace stats "$1" 2>/dev/null | sed -n '/by allocations/,/^$/p' | awk '$1 ~ /^[0-9]+$/ {print $3}' | sort; }
if [[ -s cxx.hkt ]] && [[ "$(sites_of cxx.hkt)" == "$(sites_of cxxe.hkt)" ]] && (( $(sites_of cxx.hkt | wc -l) >= 5 )); then
  ok "cached call sites split allocations like exact unwinding"
else not_ok "cached vs exact call sites differ" "$(sites_of cxx.hkt | tr '\n' ' ') vs $(sites_of cxxe.hkt | tr '\n' ' ')"; fi
hak record -q --mmap -o mm.hkt -- "$PY" -c 'import mmap; m = mmap.mmap(-1, 1 << 20); m.close()' >/dev/null 2>&1
  "$CHK" mm.hkt >mm.hkt.chk 2>&1
  if grep -q "^op_mmap=" mm.hkt.chk && grep -q "^op_munmap=" mm.hkt.chk; then ok "--mmap: mmap and munmap recorded"
  else not_ok "--mmap: no mmap events"; fi
else skip "--mmap" "python3 not installed"; fi

hak record -q --ts-resolution=1us -o exact.hkt -- "$P/mt_handoff" 2 5000 >/dev/null
valid_all "--ts-resolution=1us (clock read per event)" exact.hkt
if [[ -f exact.hkt.chk ]] && (( $(key exact.hkt ts_not_monotonic) == 0 )); then ok "exact timestamps monotonic per thread"
else not_ok "exact timestamps"; fi

hak record -q --zstd-level=19 -o pinned.hkt -- "$P/mt_handoff" 2 5000 >/dev/null
valid_all "--zstd-level=19 (pinned level)" pinned.hkt

# Every interposed function's fields reach the trace exactly (compact
# records, rec_internal.h): api_all prints one regex per call.
hak record -q --mmap -o api.hkt -- "$P/api_all" >api.expect 2>/dev/null
hak trace dump api.hkt >api.dump 2>&1
miss=0
while IFS= read -r re; do grep -Eq " t0 $re" api.dump || { miss=$((miss + 1)); echo "#   not in the trace: $re"; }; done <api.expect
if (( miss == 0 )) && (( $(wc -l <api.expect) == 14 )); then ok "api_all: op, size, nmemb, align, pointers and errno of every call recorded exactly"
else not_ok "api_all: fields recorded" "$miss of $(wc -l <api.expect) calls not found"; fi

# ---- failure to write ---------------------------------------------------------
LD_PRELOAD=$LIB HAKREC_OUTPUT=/nonexistent/dir/x.hkt "$P/cxx" >out.txt 2>err.txt; rc=$?
if (( rc == 0 )) && grep -q "nodes" out.txt && (( $(grep -c hakrec err.txt) == 1 )); then
  ok "unwritable path: program unaffected, one line on stderr"
else not_ok "unwritable path" "rc=$rc, stderr: $(head -c 300 err.txt)"; fi
if [[ -w /dev/full ]]; then
  LD_PRELOAD=$LIB HAKREC_OUTPUT=/dev/full "$P/mt_handoff" 2 5000 >out.txt 2>err.txt; rc=$?
  if (( rc == 0 )) && grep -q "done" out.txt && (( $(grep -c hakrec err.txt) == 1 )); then
    ok "disk full (/dev/full): program unaffected, one line on stderr"
  else not_ok "disk full" "rc=$rc, stderr: $(head -c 300 err.txt)"; fi
else skip "disk full" "/dev/full not writable"; fi

# ---- the committed corpus stays readable by this build ----------------------
for f in "$HAK_ROOT"/traces/corpus/*.hkt; do
  [[ -e $f ]] || continue
  cp "$f" .; valid_all "corpus $(basename "$f")" "$(basename "$f")"
done

# ---- real programs --------------------------------------------------------------
if [[ -n $PY && -x $PY ]]; then
  same_run "python3 allocation-heavy script" py.hkt -- "$PY" -c '
import json
d = [{"k": str(i), "v": [i] * (i % 7), "s": "x" * (i % 300)} for i in range(60000)]
s = json.dumps(d); e = json.loads(s); print(len(s), len(e))
b = [bytearray(1000 + i % 5000) for i in range(3000)]; print(sum(map(len, b)))'
  valid_all "python3 trace" py.hkt
else skip "python3" "python3 not installed"; skip "python3 trace" "python3 not installed"; fi

if command -v perl >/dev/null; then
  same_run "perl hash workload" perl.hkt -- perl -e 'my %h; for my $i (1..60000) { $h{"k$i"} = [$i, "v" x ($i % 50)]; } delete $h{"k$_"} for 1..30000; print scalar(keys %h), "\n"'
  valid_all "perl trace" perl.hkt
else skip "perl" "perl not installed"; skip "perl trace" "perl not installed"; fi

if command -v gcc >/dev/null; then
  printf '#include <stdio.h>\nstruct s { int a[10]; };\nint main(void) { struct s x = {{1}}; printf("%%d\\n", x.a[0]); return 0; }\n' > prog.c
  same_run "gcc compiling a C file" gcc.hkt -- gcc -O2 -o prog prog.c
  valid_all "gcc traces (driver, cc1, as, collect2, ld)" gcc.hkt gcc.*.hkt
  n=$(ls gcc.*.hkt 2>/dev/null | wc -l)
  if (( n >= 2 )); then ok "gcc: exec'd children recorded into their own files ($n)"; else not_ok "gcc: $n child traces"; fi
else skip "gcc" "gcc not installed"; skip "gcc traces" ""; skip "gcc children" ""; fi

if command -v git >/dev/null; then
  git init -q repo && for i in 1 2 3 4 5; do seq $((i * 100)) > repo/f$i; done
  git -C repo add . && git -C repo -c user.email=t@t -c user.name=t commit -qm init
  same_run "git log --stat" git.hkt -- git -C repo log --stat --format=%s
  valid_all "git traces" git*.hkt
else skip "git" "git not installed"; skip "git traces" ""; fi

if command -v sqlite3 >/dev/null; then
  same_run "sqlite3 query workload" sq.hkt -- sqlite3 :memory: "create table t(a,b); with recursive c(x) as (select 1 union all select x+1 from c where x<20000) insert into t select x, hex(randomblob(20)) from c; create index i on t(b); select count(*), sum(length(b)) > 0 from t where a%7=0; select a from t order by b limit 0;"
  valid_all "sqlite3 trace" sq.hkt
else skip "sqlite3" "sqlite3 not installed"; skip "sqlite3 trace" ""; fi

if command -v make >/dev/null && command -v gcc >/dev/null; then
  mkdir mk && for i in 1 2 3 4; do echo "int f$i(void){return $i;}" > mk/f$i.c; done
  printf 'all: f1.o f2.o f3.o f4.o\n\t@echo built\n%%.o: %%.c\n\t@gcc -c $< -o $@\n' > mk/Makefile
  hak record -q -o make.hkt -- make -s -j2 -C mk >rec.out 2>&1; rc=$?
  if (( rc == 0 )) && grep -q built rec.out && [[ -f mk/f4.o ]]; then ok "make -j2: builds under the recorder"; else not_ok "make -j2" "rc=$rc"; fi
  valid_all "make -j2 traces (make, sh, gcc, cc1, as)" make*.hkt
else skip "make -j2" "make or gcc missing"; skip "make traces" ""; fi

# A non-PIE program that takes malloc's address (Debian's python3.11 does):
# dlsym(RTLD_DEFAULT, "malloc") names its canonical PLT entry, not the
# recorder, which once took itself for a dlopen'd copy and looped forever.
np=$HAK_ROOT/build/tests/recorder/progs/nopie_mallocptr
timeout 60 hak record -q -o nopie.hkt -- "$np" >np.out 2>&1; rc=$?
check "non-PIE program with malloc's address taken: recorded (rc=$rc), not hung" test $rc = 0
check "... its 1,000 mallocs are in the trace" \
  test "$(hak trace info nopie.hkt | awk '$1 == "malloc" {gsub(",", "", $2); print $2}')" -ge 1000

# --mmap: the recorder's own mappings (event blocks, stack tables) and
# libunwind's are not the program's; made inside an interposed call they
# were counted as a signal handler's lost calls, and every --mmap trace of
# a busy program came out incomplete (hak record exit 3).
hak record -q --mmap -o mmap_churn.hkt -- "$HAK_ROOT/build/tests/recorder/progs/churn" 4 300 >/dev/null 2>mm.err
check "--mmap of a 4-thread churn: exit 0, complete" \
  sh -c "test $? = 0 && hak trace info mmap_churn.hkt | grep -q '^status: *complete'"
if command -v gcc >/dev/null; then
  printf 'int f(int x) { return x * 3; }\n' >mm.c
  hak record -q --mmap -o mmap_gcc.hkt -- gcc -O2 -c mm.c -o mm.o >/dev/null 2>mm.err; rc=$?
  check "--mmap of gcc -c (cc1 unwound by libunwind): exit 0 (got $rc), every trace complete" \
    sh -c "test $rc = 0 && ! hak trace info mmap_gcc*.hkt 2>&1 | grep -q '^status: *[^c]'"
  check "... and cc1's own mmaps are in its trace" \
    sh -c "for f in mmap_gcc*.hkt; do hak trace info \$f; done | grep -q '^  mmap  *[1-9]'"
else skip "--mmap of gcc" "gcc missing"; skip "cc1's mmaps" ""; fi
