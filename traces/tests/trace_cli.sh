#!/usr/bin/env bash
# End-to-end tests of `hak trace`: synth -> info/stats/validate/dump round
# trips with exact counts, determinism, truncated files, bad input, and the
# Android importer.
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP"

# --help everywhere
check "hak trace --help exits 0" bash -c 'hak trace --help | grep -q "^subcommands:"'
for s in info dump stats validate synth import; do
  check "hak trace $s --help exits 0 with usage and examples" \
    bash -c "hak trace $s --help | grep -q '^usage: hak trace $s' && hak trace $s --help | grep -q '^examples:'"
done
check "hak trace help synth works" bash -c 'hak trace help synth | grep -q random-mixed'
check_fails "unknown subcommand fails" hak trace frobnicate
check_fails "hak trace without subcommand is a usage error" hak trace

# count OP FILE: events of operation OP in a dump
count() { awk -v op="$1" '$4 == op' "$2" | wc -l; }

# --- random-mixed: exact counts -------------------------------------------
check "synth random-mixed writes a trace" \
  hak trace synth random-mixed --iters 10000 --slots 64 --seed 42 -o rm.hkt
hak trace dump rm.hkt > rm.dump 2> rm.err
hak trace info rm.hkt > rm.info
live=$(awk '/^live at end:/ {print $4}' rm.info)
check "random-mixed: 64 slots are live at the end" test "$live" = 64
check "random-mixed: N mallocs" test "$(count malloc rm.dump)" = 10000
check "random-mixed: N - live frees" test "$(count free rm.dump)" = $((10000 - 64))
check "random-mixed: thread start and exit" \
  test "$(count thread_start rm.dump)$(count thread_exit rm.dump)" = 11
check "random-mixed: dump has every event" test "$(wc -l < rm.dump)" = $((2 + 10000 + 10000 - 64))
check "random-mixed: seq is 0..n-1 in dump order" \
  bash -c "awk '\$1 != NR-1 {exit 1}' rm.dump"
check "random-mixed: timestamps increase" bash -c "awk 'NR>1 && \$2 <= p {exit 1} {p=\$2}' rm.dump"
check "random-mixed: sizes within 16..1039" \
  bash -c "awk '\$4==\"malloc\" {sub(\"size=\",\"\",\$5); if (\$5+0<16 || \$5+0>1039) exit 1}' rm.dump"
check "info counts mallocs" grep -qE '^  malloc +10,000$' rm.info
check "info counts frees" grep -qE '^  free +9,936$' rm.info
check "info reports a complete file" grep -q '^status: *complete' rm.info
check "info reports bytes per event" grep -qE 'file bytes per event' rm.info
check "info reports peak live bytes" grep -qE '^peak live: .*bytes\) in 64 blocks' rm.info
check "info shows the synth options" grep -q 'options: *random-mixed --iters 10000 --slots 64 --seed 42' rm.info
check "dump of a complete trace warns about nothing" test ! -s rm.err
check "validate: valid, leaks counted, exit 0" \
  bash -c 'hak trace validate rm.hkt | grep -q "valid (0 errors, 0 warnings, 64 leaked blocks)"'
hak trace stats rm.hkt > rm.stats
check "stats: size histogram covers 10000 allocations" \
  bash -c "sed -n '/^allocation sizes/,/^\$/p' rm.stats | awk 'NR>1 && NF {gsub(\",\",\"\",\$2); s+=\$2} END {exit s != 10000}'"
check "stats: lifetimes of 9936 freed blocks" grep -q 'lifetimes of 9,936 freed blocks, in events (64 blocks' rm.stats
check "stats: top sites by count and by bytes" \
  bash -c 'grep -q "^top 10 call sites by allocations" rm.stats && grep -q "^top 10 call sites by bytes" rm.stats'

# --- determinism -------------------------------------------------------------
hak trace synth random-mixed --iters 10000 --slots 64 --seed 42 -o rm2.hkt -q
check "same seed gives identical bytes" cmp -s rm.hkt rm2.hkt
hak trace synth random-mixed --iters 10000 --slots 64 --seed 43 -o rm3.hkt -q
check_fails "another seed gives another trace" cmp -s rm.hkt rm3.hkt
for w in "tiny-hot --iters 5000" "larson --threads 3 --iters 5000" "producer-consumer --items 5000"; do
  hak trace synth $w -q -o a.hkt; hak trace synth $w -q -o b.hkt
  check "deterministic: $w" cmp -s a.hkt b.hkt
done

# --- other workloads -----------------------------------------------------------
hak trace synth tiny-hot --iters 1050 --size 16 --batch 100 -q -o th.hkt
hak trace dump th.hkt > th.dump
check "tiny-hot: 1050 mallocs of 16 bytes" \
  test "$(awk '$4=="malloc" && $5=="size=16"' th.dump | wc -l)" = 1050
check "tiny-hot: 1050 frees, nothing leaks" \
  bash -c "test \$(awk '\$4==\"free\"' th.dump | wc -l) = 1050 && hak trace validate th.hkt | grep -q ', 0 leaked blocks'"
check "tiny-hot: peak live is one batch" bash -c 'hak trace info th.hkt | grep -q "in 100 blocks at most"'

hak trace synth larson --threads 4 --iters 20000 --slots 50 --seed 3 -q -o la.hkt
check "larson: validates" hak trace validate -q la.hkt
check "larson: 4 threads" bash -c 'hak trace info la.hkt | grep -q "^threads: *4$"'
check "larson: has cross-thread frees" \
  bash -c "hak trace stats la.hkt | awk '/^cross-thread frees:/ {gsub(\",\",\"\",\$3); exit !(\$3 > 1000)}'"
check "dump --thread 2 --limit 5 shows 5 events of t2" \
  bash -c 'hak trace dump --thread 2 --limit 5 la.hkt | awk "\$3 != \"t2\" {exit 1} END {exit NR != 5}"'

hak trace synth producer-consumer --items 3000 --seed 9 -q -o pc.hkt
hak trace dump pc.hkt > pc.dump
check "producer-consumer: every malloc on t0" \
  test "$(awk '$4=="malloc" && $3=="t0"' pc.dump | wc -l)" = 3000
check "producer-consumer: every free on t1" \
  test "$(awk '$4=="free" && $3=="t1"' pc.dump | wc -l)" = 3000
check "producer-consumer: all frees are cross-thread" \
  bash -c 'hak trace stats pc.hkt | grep -q "^cross-thread frees: 3,000 of 3,000"'

# --- truncation: a cut file gives its prefix, and says where it stopped -------
hak trace synth random-mixed --iters 50000 --slots 256 --seed 1 -q -o big.hkt
hak trace dump big.hkt > big.dump
size=$(stat -c %s big.hkt)
for cut in 200 20000 $((size / 2)) $((size - 1)); do
  head -c "$cut" big.hkt > cut.hkt
  hak trace dump cut.hkt > cut.dump 2> cut.err; rc=$?
  check "cut at $cut: dump exits 0" test "$rc" = 0
  check "cut at $cut: dump is a prefix of the full dump" \
    bash -c "head -n \$(wc -l < cut.dump) big.dump | cmp -s - cut.dump"
  if (( cut <= size / 2 )); then
    check "cut at $cut: shorter than the full dump" test "$(wc -l < cut.dump)" -lt "$(wc -l < big.dump)"
  fi
  check "cut at $cut: warning names the offset" grep -q 'truncated at offset [0-9]* of '"$cut" cut.err
  check "cut at $cut: info reports the truncation" \
    bash -c "hak trace info cut.hkt 2>/dev/null | grep -q '^status: *TRUNCATED at offset'"
  # A cut trace is not the whole recording: validate fails unless told to
  # accept the readable prefix.
  check_fails "cut at $cut: validate fails (truncated)" hak trace validate -q cut.hkt
  check "cut at $cut: validate --allow-prefix warns but passes" \
    bash -c "hak trace validate --allow-prefix cut.hkt 2>/dev/null | grep -qE 'valid prefix \(0 errors, 1 warnings'"
  check_fails "cut at $cut: validate --allow-prefix --strict fails" \
    hak trace validate --allow-prefix --strict -q cut.hkt
done

# --- a damaged chunk inside the file is an error, not a truncation -----------
cp big.hkt flip.hkt
mid=$((size / 2))
orig=$(od -An -tu1 -j "$mid" -N1 big.hkt | tr -d ' ')
printf "$(printf '\\%03o' $(( orig ^ 0xff )))" | dd of=flip.hkt bs=1 seek="$mid" conv=notrunc status=none
check_fails "flipped byte: validate fails" hak trace validate -q flip.hkt
check "flipped byte: validate names the damaged chunk" \
  bash -c "hak trace validate flip.hkt | grep -qE '^  damaged chunk +1'"
check "flipped byte: info says DAMAGED with the offset" \
  bash -c "hak trace info flip.hkt 2>/dev/null | grep -q '^status: *DAMAGED at offset [0-9]*'"
check "flipped byte: dump still prints the prefix" \
  bash -c "hak trace dump flip.hkt 2>/dev/null | head -n 100 | cmp -s - <(head -n 100 big.dump)"

# --- bad input: clean one-line errors with the offset -------------------------
: > empty.hkt
printf 'this is not a trace at all, just text\n' > text.hkt
head -c 10 big.hkt > header.hkt
for s in info dump stats validate; do
  check_fails "$s: missing file fails" hak trace $s nonexistent.hkt
  check "$s: missing file is named" bash -c "hak trace $s nonexistent.hkt 2>&1 | grep -q 'nonexistent.hkt: No such file'"
  for f in empty text header; do
    check_fails "$s: $f file fails cleanly" hak trace $s $f.hkt
    check "$s: $f file error is one line with an offset" \
      bash -c "hak trace $s $f.hkt 2>&1 >/dev/null | awk 'END {exit NR != 1}' && hak trace $s $f.hkt 2>&1 | grep -q 'offset [0-9]'"
  done
  check_fails "$s: no argument is a usage error" hak trace $s
  check_fails "$s: a directory fails cleanly" hak trace $s .
done
check "bad number names the option" \
  bash -c "hak trace synth random-mixed --iters 12x -o x.hkt 2>&1 | grep -q -- \"--iters: '12x'\""
check_fails "bad number: exit non-zero" hak trace synth random-mixed --iters 12x -o x.hkt
check_fails "dump --limit junk fails" hak trace dump --limit -3 rm.hkt
check_fails "dump --thread out of range fails" hak trace dump --thread 7 rm.hkt
check_fails "synth unknown workload fails" hak trace synth zigzag -o x.hkt
check_fails "synth option of another workload fails" hak trace synth tiny-hot --slots 4 -o x.hkt
check_fails "synth without -o fails" hak trace synth tiny-hot
check_fails "synth --min > --max fails" hak trace synth random-mixed --min 100 --max 10 -o x.hkt
check_fails "synth to an unwritable path fails" hak trace synth tiny-hot --iters 10 -o /nonexistent/dir/x.hkt

# --- Android import ---------------------------------------------------------
cat > android.txt <<'TXT'
100: malloc 0x7000001000 32 1000 1050
100: calloc 0x7000002000 4 16 1100 1180
200: malloc 0x7000003000 100 1200 1260
200: free 0x7000001000 1300 1320
100: realloc 0x7000004000 0x7000002000 128 1400 1480
100: memalign 0x7000010000 64 256 1500 1590
200: thread_done 0x0 1600
200: malloc 0x7000020000 8 1650 1660
100: free 0x7000003000 1700 1710
100: free 0x0 1800 1801
TXT
cat > android.want <<'TXT'
0 0 t0 thread_start os_tid=100 parent=t0
1 0 t0 malloc size=32 -> 0x7000001000
2 100 t0 calloc nmemb=4 size=16 -> 0x7000002000
3 200 t1 thread_start os_tid=200 parent=t0
4 200 t1 malloc size=100 -> 0x7000003000
5 300 t1 free 0x7000001000
6 400 t0 realloc 0x7000002000 size=128 -> 0x7000004000
7 500 t0 memalign align=64 size=256 -> 0x7000010000
8 600 t1 thread_exit
9 650 t2 thread_start os_tid=200 parent=t0
10 650 t2 malloc size=8 -> 0x7000020000
11 700 t0 free 0x7000003000
12 800 t0 free 0x0
TXT
check "import of an Android record_allocs file" hak trace import -q android.txt -o android.hkt
check "import gives the expected dump" bash -c 'hak trace dump android.hkt | diff android.want -'
check "imported trace validates (cross-thread free, realloc, memalign)" \
  bash -c 'hak trace validate android.hkt | grep -q "valid (0 errors, 0 warnings, 3 leaked blocks)"'
check "imported trace: 3 threads (a reused tid is a new thread)" \
  bash -c 'hak trace info android.hkt | grep -q "^threads: *3$"'
sed -E 's/ [0-9]+ [0-9]+$//; s/(thread_done 0x0) [0-9]+$/\1/' android.txt > android-old.txt
check "import without timestamps (older Android)" hak trace import -q android-old.txt -o old.hkt
check "old format: same events, 1 ns per record" \
  bash -c "hak trace dump old.hkt | awk '{print \$2}' | tr '\n' ' ' | grep -q '^0 0 1 2 2 3 4 5 6 7 7 8 9 $'"
printf '1: malloc 0x10 8\n1: free 0x10\n1: free 0x10\n2: free 0x999\n' > bad.txt
hak trace import -q bad.txt -o bad.hkt
hak trace validate bad.hkt > bad.out; rc=$?
check "validate fails on a double free and an unknown free" test "$rc" = 1
check "validate counts the double free" grep -qE '^  double free +1$' bad.out
check "validate counts the unknown free" grep -qE '^  unknown free +1$' bad.out
check "validate shows the offending event" grep -q 'free 0x999: pointer never returned' bad.out
printf '1: malloc 0x10 8\n1: malloc 0x20\n' > badline.txt
check_fails "import of a malformed line fails" hak trace import badline.txt -o bl.hkt
check "import error names file:line and what was expected" \
  bash -c "hak trace import badline.txt -o bl.hkt 2>&1 | grep -q 'badline.txt:2: column [0-9]*: expected SIZE'"
check "a failed import leaves no output" test ! -e bl.hkt
check_fails "import of a binary file fails" hak trace import rm.hkt -o x.hkt
check_fails "import of an empty file fails" hak trace import empty.hkt -o x.hkt
check_fails "import of a missing file fails" hak trace import nonexistent.txt -o x.hkt
check_fails "import without -o fails" hak trace import android.txt
check "import from stdin" bash -c 'hak trace import -q - -o stdin.hkt < android.txt && hak trace dump stdin.hkt | diff android.want -'

# --- round trip: synth -> dump -> Android text -> import gives the same stream
hak trace synth larson --threads 3 --iters 3000 --slots 20 --seed 5 -q -o rt.hkt
hak trace dump rt.hkt | awk '
  $4=="thread_start" {sub("os_tid=","",$5); os[$3]=$5; next}
  $4=="malloc" {sub("size=","",$5); print os[$3] ": malloc " $7 " " $5; next}
  $4=="free"   {print os[$3] ": free " $5; next}
  $4=="thread_exit" {print os[$3] ": thread_done 0x0"}' > rt.txt
hak trace import -q rt.txt -o rt2.hkt
norm() { hak trace dump "$1" | awk '$4 != "thread_start" {$1=$2=$3=""; sub(/ site=[0-9]+$/, ""); print}'; }
check "round trip through Android text keeps every operation" \
  bash -c "diff <($(declare -f norm); norm rt.hkt) <($(declare -f norm); norm rt2.hkt) >/dev/null"
check "round trip keeps the validate verdict and leak count" \
  bash -c 'test "$(hak trace validate rt.hkt | tail -1 | sed s/rt.hkt//)" = "$(hak trace validate rt2.hkt | tail -1 | sed s/rt2.hkt//)"'
check "round trip keeps the cross-thread free count" \
  bash -c 'test "$(hak trace stats rt.hkt | grep ^cross-thread)" = "$(hak trace stats rt2.hkt | grep ^cross-thread)"'
cp android.txt same.txt
check_fails "import refuses to overwrite its input" hak trace import same.txt -o same.txt
check "the input survives" cmp -s android.txt same.txt

# --- damaged files: flipped bytes never crash a subcommand (deterministic) --
hak trace synth larson --threads 3 --iters 2000 --slots 16 --seed 8 -q -o dmg.hkt
dsize=$(stat -c %s dmg.hkt)
x=12345 crashed=0 tried=0
for i in $(seq 1 40); do
  x=$(( (x * 1103515245 + 12345) % 2147483648 ))
  off=$(( x % dsize )); byte=$(( (x >> 8) % 256 ))
  cp dmg.hkt d.hkt
  printf "$(printf '\\%03o' "$byte")" | dd of=d.hkt bs=1 seek="$off" conv=notrunc status=none
  for s in info dump stats validate; do
    timeout 20 hak trace $s d.hkt >/dev/null 2>d.err; rc=$?
    tried=$((tried + 1))
    if (( rc >= 124 )); then crashed=$((crashed + 1)); echo "# $s: exit $rc with byte $byte at offset $off"; fi
  done
done
check "no crash or hang on $tried runs over 40 damaged copies" test "$crashed" = 0

# --- recorded traces (traces/corpus, from hak record) ------------------------
corpus=$HAK_ROOT/traces/corpus
for f in "$corpus"/*.hkt; do
  [ -e "$f" ] || { skip "corpus traces" "traces/corpus has no traces"; break; }
  b=$(basename "$f")
  check "$b: info, stats and validate run" \
    bash -c "hak trace info '$f' >/dev/null && hak trace stats '$f' | grep -q '^top 10 call sites by bytes' && hak trace validate -q '$f' >/dev/null"
  n=$(hak trace info "$f" | awk '/^modules:/ {print $2}')
  check "$b: --modules lists every module" \
    test "$(hak trace info --modules "$f" | grep -c '^      build-id ')" = "$n"
done
py=$corpus/python3-json.hkt
if [ -e "$py" ] && hak trace info --modules "$py" | grep -A1 'libpython3.11.so.1.0$' | grep -q 'function symbols'; then
  check "python3 trace: top call sites are symbolised through libpython" \
    bash -c "hak trace stats --top 3 '$py' | grep -qE '_PyObject_(Malloc|Calloc)\+0x[0-9a-f]+ \(libpython3.11.so.1.0\)'"
else
  skip "python3 trace: symbolised call sites" "the recorded libpython3.11 is not on this machine"
fi

# --- every cut of a small 2-thread trace gives, per thread, a prefix of that
# thread's events (chunks hold one thread's events, so a cut file holds each
# thread's readable prefix; the global order of a cut is not a prefix)
hak trace synth producer-consumer --items 300 --seed 2 -q -o small.hkt
hak trace dump small.hkt > small.dump
ssize=$(stat -c %s small.hkt)
bad=0 cuts=0
for ((cut = 0; cut < ssize; cut += 23)); do
  head -c "$cut" small.hkt > sc.hkt
  cuts=$((cuts + 1))
  if hak trace dump sc.hkt > sc.dump 2> sc.err; then
    for t in t0 t1; do
      awk -v t=$t '$3 == t' sc.dump > sc.t
      awk -v t=$t '$3 == t' small.dump | head -n "$(wc -l < sc.t)" | cmp -s - sc.t ||
        { bad=$((bad + 1)); echo "# cut $cut: $t is not a prefix"; }
    done
    grep -q 'truncated at offset' sc.err || { bad=$((bad + 1)); echo "# cut $cut: no truncation reported"; }
  else
    rc=$?
    # only a cut inside the file header may fail, cleanly and naming the offset
    if (( rc >= 128 )) || ! grep -q 'offset' sc.err; then bad=$((bad + 1)); echo "# cut $cut: exit $rc"; fi
  fi
done
check "all $cuts cuts (every 23rd byte) dump per-thread prefixes or fail cleanly" test "$bad" = 0

# --- validate on cut multi-thread files: bad frees that a lost chunk can
# explain are warnings, earlier ones stay errors --------------------------------
head -c 1400 small.hkt > pc-cut.hkt
check "cut producer-consumer: validate --allow-prefix passes with warnings" \
  bash -c "hak trace validate --allow-prefix pc-cut.hkt | grep -qE '^  bad free after cut +[1-9]' && hak trace validate --allow-prefix -q pc-cut.hkt >/dev/null"
check_fails "cut producer-consumer: validate --allow-prefix --strict fails" \
  hak trace validate --allow-prefix --strict -q pc-cut.hkt
{ echo "1: malloc 0x10 8"; echo "1: free 0x10"; echo "1: free 0x10"
  for ((i = 1; i <= 20000; i++)); do printf '2: malloc 0x%x 16\n' $((0x100000 + 16 * i)); done; } > early.txt
hak trace import -q early.txt -o early.hkt
esize=$(stat -c %s early.hkt)
head -c $((esize - 40)) early.hkt > early-cut.hkt
hak trace validate --allow-prefix early-cut.hkt > early.out
check "cut file: a double free before every thread's cut stays an error" \
  bash -c "grep -qE '^  double free +1$' early.out && grep -q 'INVALID' early.out && grep -q '^  truncated' early.out"
