#!/usr/bin/env bash
# The memory-profiler views (`hak trace leaks|peak|temporaries|flame|diff`)
# on a recorded program with known answers (recorder/tests/progs/
# views_known.c: every number below follows from its source), then on
# synthetic, empty, truncated and unrelated traces, and bad usage.
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP" || exit 1
PROG=$HAK_ROOT/build/tests/recorder/progs/views_known
VIEWS="leaks peak temporaries flame diff timeline views"

for s in $VIEWS; do
  check "hak trace $s --help: usage, definitions and examples" \
    bash -c "hak trace $s --help | grep -q '^usage: hak trace $s' && hak trace $s --help | grep -q '^examples:'"
  check_fails "hak trace $s without a trace is a usage error" hak trace $s
  check_fails "hak trace $s: missing file fails" hak trace $s nothere.hkt
done
check_fails "flame: unknown weight" hak trace flame --weight cycles x.hkt
check_fails "temporaries: bad scope" hak trace temporaries --scope process x.hkt
check_fails "temporaries: bad --max-time" hak trace temporaries --max-time soon x.hkt
check_fails "diff needs two traces" hak trace diff x.hkt
check_fails "peak: bad --by" hak trace peak --by stack x.hkt
check_fails "views: --csv is a usage error (three tables)" hak trace views --csv x.hkt
check_fails "views: unknown weight" hak trace views --weight cycles x.hkt
check_fails "views: an unknown option is a usage error" hak trace views --by rss x.hkt

# ---- a program with known answers ------------------------------------------
hak record -q --stacks-exact -o vk.hkt -- "$PROG" 5
hak record -q --stacks-exact -o vk8.hkt -- "$PROG" 8
[[ -s vk.hkt && -s vk8.hkt ]] || { not_ok "recording views_known" "no trace"; exit 0; }

# sum FUNC COLUMN FILE: sum of a CSV column over the rows whose frames name FUNC
sum() { awk -F, -v f="$1" -v c="$2" 'index($0, f "+0x") {s += $c} END {print s + 0}' "$3"; }
maxcol() { awk -F, -v f="$1" -v c="$2" 'index($0, f "+0x") && $c > m {m = $c} END {print m + 0}' "$3"; }

hak trace leaks --csv --top 0 vk.hkt > leaks.csv
check "leaks: leak_small: 5 blocks, 5000 bytes, largest 1000" \
  test "$(sum leak_small 3 leaks.csv) $(sum leak_small 4 leaks.csv) $(maxcol leak_small 5 leaks.csv)" = "5 5000 1000"
check "leaks: leak_big: 3 blocks, 14336 bytes, largest 8192" \
  test "$(sum leak_big 3 leaks.csv) $(sum leak_big 4 leaks.csv) $(maxcol leak_big 5 leaks.csv)" = "3 14336 8192"
check "leaks: nothing from temp_loop, short_pairs or peak_build" \
  test "$(sum temp_loop 3 leaks.csv)$(sum short_pairs 3 leaks.csv)$(sum peak_build 3 leaks.csv)" = 000
check "leaks: ranked by bytes, leak_big first" bash -c "sed -n 2p leaks.csv | grep -q leak_big"
check "leaks: the full stack reaches main" bash -c "sed -n 2p leaks.csv | grep -q ' <- main+0x'"
# file:line from the program's DWARF (libdw), the call's line: leak_big's malloc
ln=$(grep -n 'sink = malloc(sizes\[i\])' "$HAK_ROOT/recorder/tests/progs/views_known.c" | cut -d: -f1)
if python3 -c 'import ctypes; ctypes.CDLL("libdw.so.1")' 2>/dev/null; then
  check "leaks: frames carry file:line from DWARF (views_known.c:$ln for leak_big's malloc)" \
    bash -c "sed -n 2p leaks.csv | grep -q 'leak_big+0x[0-9a-f]* (views_known) at [^ ]*views_known.c:$ln <- main+'"
else
  skip "leaks: file:line" "libdw.so.1 is not installed"
fi
check "leaks --no-lines: no file:line" bash -c "! hak trace leaks --csv --no-lines vk.hkt | grep -q ' at '"
hak trace leaks vk.hkt > leaks.txt
check "leaks: text states the definition" grep -q '^definition: a leak is a block allocated and not freed' leaks.txt
check "leaks: text totals" grep -q '^not freed: 8 blocks, 19,336 bytes' leaks.txt
hak trace leaks --json vk.hkt > leaks.json
check "leaks: JSON parses, totals 8 blocks / 19336 bytes, frames arrays" python3 -c '
import json, sys
d = json.load(open("leaks.json"))
assert d["leaked_blocks"] == 8 and d["leaked_bytes"] == 19336, d
assert d["truncated"] is False and "not freed" in d["definition"]
assert any(f.startswith("leak_big+") for f in d["sites"][0]["frames"]), d["sites"][0]'

hak trace peak --csv --top 0 vk.hkt > peak.csv
hak trace peak --json vk.hkt > peak.json
check "peak: 1019336 live bytes in 18 blocks (10 x 100000 + the 8 leaks)" python3 -c '
import json
d = json.load(open("peak.json"))
assert d["peak"]["live_bytes"] == 1019336 and d["peak"]["live_blocks"] == 18, d["peak"]'
check "peak: peak_build holds 1000000 bytes in 10 blocks then, ranked first" \
  bash -c "test \"\$(sed -n 2p peak.csv | cut -d, -f3,4)\" = 1000000,10 && sed -n 2p peak.csv | grep -q peak_build"
check "peak: leaks so far are at the peak too" \
  test "$(sum leak_small 3 peak.csv) $(sum leak_big 3 peak.csv)" = "5000 14336"
check "peak: nothing of temp_loop or short_pairs at the peak" \
  test "$(sum temp_loop 3 peak.csv)$(sum short_pairs 3 peak.csv)" = 00
if python3 -c 'import json,sys; sys.exit(json.load(open("peak.json"))["peak_rss"] is None)'; then
  check "peak: RSS peak shown with the live heap then" grep -q '^peak RSS:  .* live heap then' <(hak trace peak vk.hkt)
else
  skip "peak: RSS peak" "the recording has no RSS samples"
fi

hak trace temporaries --csv --top 0 --max-events 5 vk.hkt > temp.csv
check "temporaries: temp_loop: 7 allocations, 7 temporary, 7 short-lived" \
  test "$(sum temp_loop 3 temp.csv) $(sum temp_loop 4 temp.csv) $(sum temp_loop 6 temp.csv)" = "7 7 7"
check "temporaries: short_pairs: 8 short-lived, none temporary" \
  test "$(sum short_pairs 3 temp.csv) $(sum short_pairs 4 temp.csv) $(sum short_pairs 6 temp.csv)" = "8 0 8"
check "temporaries: peak_build blocks live 10 events: not short-lived at 5" \
  test "$(sum peak_build 6 temp.csv)" = 0
hak trace temporaries --csv --top 0 --max-events 10 vk.hkt > temp10.csv
check "temporaries: ... and short-lived at --max-events 10" test "$(sum peak_build 6 temp10.csv)" = 10
check "temporaries: total 7 of 33 in the text" \
  bash -c "hak trace temporaries vk.hkt | grep -q '^allocations: 33; temporary: 7 (21.21%)'"
check "temporaries: --scope thread agrees on one thread" \
  bash -c "hak trace temporaries --scope thread vk.hkt | grep -q 'temporary: 7 '"

hak trace flame --weight leaked vk.hkt > fl.txt
check "flame --weight leaked: two stacks, root first, exact bytes" \
  bash -c "test \$(wc -l < fl.txt) = 2 && grep -qE '(^|;)main;leak_big 14336\$' fl.txt && grep -qE '(^|;)main;leak_small 5000\$' fl.txt"
check "flame --weight peak: peak_build 1000000" \
  bash -c "hak trace flame --weight peak vk.hkt | grep -qE ';main;peak_build 1000000\$'"
check "flame --weight allocs: temp_loop 7" \
  bash -c "hak trace flame --weight allocs vk.hkt | grep -qE ';main;temp_loop 7\$'"
check "flame --weight bytes: the weights add up to all bytes allocated (1020040)" \
  bash -c "test \$(hak trace flame vk.hkt | awk '{s += \$NF} END {print s}') = 1020040"

hak trace diff --csv --top 0 vk.hkt vk8.hkt > diff.csv
check "diff: one changed site, leak_small: +3 allocs, +3000 bytes, +3000 peak, +3000 leaked" \
  bash -c "test \$(wc -l < diff.csv) = 2 && sed -n 2p diff.csv | grep -q '^1,both,5,8,3,5000,8000,3000,5000,8000,3000,5000,8000,3000,\"leak_small (views_known)'"
check "diff: the other sites are matched and unchanged" \
  bash -c "hak trace diff vk.hkt vk8.hkt | grep -q '^call sites: 5 in both, 0 only in A, 0 only in B; 4 unchanged'"
check "diff: B to A is the opposite change" \
  bash -c "hak trace diff --csv vk8.hkt vk.hkt | sed -n 2p | grep -q '^1,both,8,5,-3,'"
# another build of the same program (-O0, its own addresses and offsets):
# sites still match by function and module
mkdir -p o0 && cc -O0 -g -o o0/views_known "$HAK_ROOT/recorder/tests/progs/views_known.c"
hak record -q --stacks-exact -o vkO0.hkt -- ./o0/views_known 5
check "diff of two builds (-O2 and -O0): all 5 sites matched, none changed" \
  bash -c "hak trace diff vk.hkt vkO0.hkt | grep -q '^call sites: 5 in both, 0 only in A, 0 only in B; 5 unchanged'"

# views: one pass, the same answers as the three views and flame run apart
{ hak trace leaks vk.hkt; printf '\n--------\n\n'; hak trace peak vk.hkt; printf '\n--------\n\n'
  hak trace temporaries vk.hkt; } > apart.txt
check "views: text is leaks, peak and temporaries as printed apart" \
  bash -c "hak trace views vk.hkt | cmp - apart.txt"
check "views: --json holds each view's JSON" python3 -c '
import json, subprocess
run = lambda *a: json.loads(subprocess.check_output(["hak", "trace", *a]))
d = run("views", "--json", "--top", "2", "--max-events", "10", "vk.hkt")
assert d["leaks"] == run("leaks", "--json", "--top", "2", "vk.hkt"), "leaks"
assert d["peak"] == run("peak", "--json", "--top", "2", "vk.hkt"), "peak"
assert d["temporaries"] == run("temporaries", "--json", "--top", "2", "--max-events", "10", "vk.hkt")
assert d["leaks"]["leaked_bytes"] == 19336 and d["peak"]["peak"]["live_bytes"] == 1019336
assert d["temporaries"]["temporary"] == 7'
for w in allocs bytes leaked peak; do
  check "views --flame --weight $w: the same folded stacks as hak trace flame" \
    bash -c "hak trace views --flame vf-$w.txt --weight $w vk.hkt >/dev/null && hak trace flame --weight $w vk.hkt | cmp - vf-$w.txt"
done
check "views --scope thread --depth 3: as temporaries with the same options" \
  bash -c "hak trace views --scope thread --depth 3 vk.hkt | sed -n '/^temporaries in/,\$p' | cmp - <(hak trace temporaries --scope thread --depth 3 vk.hkt)"
check_fails "views --flame into a missing directory fails" hak trace views --flame nodir/f.txt vk.hkt
check "... naming the file" bash -c "hak trace views --flame nodir/f.txt vk.hkt 2>&1 >/dev/null | grep -q 'nodir/f.txt'"

# timeline: one point per event, so the rows go through the peak exactly
ne=$(hak trace info vk.hkt | awk '/^events:/ {gsub(",","",$2); print $2}')
hak trace timeline --csv --by events --points "$ne" --top 3 vk.hkt > tl.csv
check "timeline: header names the top 3 sites by their maximum" \
  bash -c "head -1 tl.csv | grep -qE '^ts_ns,seq,live_bytes,site_[0-9]+,site_[0-9]+,site_[0-9]+,other\$'"
check "timeline: one row per event, the heap column peaks at 1019336 and ends at 19336" \
  bash -c "test \$(( \$(wc -l < tl.csv) - 1 )) = $ne && test \$(awk -F, 'NR>1 && \$3>m {m=\$3} END {print m}' tl.csv) = 1019336 && tail -1 tl.csv | grep -q '^[0-9]*,[0-9]*,19336,'"
check "timeline: the top site (peak_build) reaches 1000000; sites + other = heap on every row" \
  bash -c "test \$(awk -F, 'NR>1 && \$4>m {m=\$4} END {print m}' tl.csv) = 1000000 && awk -F, 'NR>1 && \$4+\$5+\$6+\$7 != \$3 {exit 1}' tl.csv"
check "timeline: JSON parses, 10 points by time, last = the end" python3 -c '
import json, subprocess
d = json.loads(subprocess.check_output(["hak", "trace", "timeline", "--json", "--points", "10", "vk.hkt"]))
assert len(d["points"]) == 10 and d["points"][-1]["live_bytes"] == 19336, d["points"][-1]
assert d["sites"][0]["max_bytes"] == 1000000'
check_fails "timeline: --points 0 is a usage error" hak trace timeline --points 0 vk.hkt

# ---- a stripped binary, its debug file by build-id, another machine's root --
# views_known built here, its debug info split off into DBG/.build-id/ and
# the binary stripped, recorded, then moved under a sysroot: without the
# options its own frames are offsets; --debug-dir names its local functions
# (only the debug file has them) with file:line; --sysroot finds the moved file.
if command -v objcopy >/dev/null && command -v strip >/dev/null && command -v readelf >/dev/null &&
   python3 -c 'import ctypes; ctypes.CDLL("libdw.so.1")' 2>/dev/null; then
  mkdir -p sx/bin && cc -O2 -g -o sx/bin/views_known "$HAK_ROOT/recorder/tests/progs/views_known.c"
  objcopy --only-keep-debug sx/bin/views_known vk.debug && strip --strip-all sx/bin/views_known
  bid=$(readelf -n sx/bin/views_known | awk '/Build ID/ {print $3}')
  mkdir -p "dbg/.build-id/${bid:0:2}" && mv vk.debug "dbg/.build-id/${bid:0:2}/${bid:2}.debug"
  hak record -q --stacks-exact -o sx.hkt -- ./sx/bin/views_known
  check "stripped: without the debug file, its frames are module offsets" \
    bash -c "hak trace leaks --csv sx.hkt | sed -n 2p | grep -q '^1,[0-9]*,3,14336,8192,\"views_known+0x'"
  check "--debug-dir: names and lines from the debug file found by build-id" \
    bash -c "hak trace leaks --csv --debug-dir dbg sx.hkt | sed -n 2p | grep -q '\"leak_big+0x[0-9a-f]* (views_known) at [^ ]*views_known.c:$ln <- main+'"
  mkdir -p "root$TMP/sx" && mv sx/bin "root$TMP/sx/"
  check "moved away: offsets even with --debug-dir (the file is missing)" \
    bash -c "hak trace leaks --csv --debug-dir dbg sx.hkt | sed -n 2p | grep -q ',\"views_known+0x'"
  check "--sysroot: the moved file is found, and flame names its functions" \
    bash -c "hak trace flame --weight leaked --sysroot root --debug-dir dbg sx.hkt | grep -qE ';main;leak_big 14336\$'"
  check_fails "--sysroot that is not a directory is a usage error" hak trace leaks --sysroot nowhere sx.hkt
else
  skip "stripped binaries and --debug-dir/--sysroot" "needs binutils and libdw.so.1"
fi

# ---- C++ names are demangled (libstdc++'s __cxa_demangle) -----------------
hak record -q -o cxx.hkt -- "$HAK_ROOT/build/tests/recorder/progs/cxx" >/dev/null
hak trace flame --weight allocs cxx.hkt > cxx.folded
hak trace flame --weight allocs --no-demangle cxx.hkt > cxx.raw
check "C++: flame frames demangled (operator new(unsigned long), no _Znwm)" \
  bash -c "grep -q 'operator new(unsigned long)' cxx.folded && ! grep -q '_Znwm' cxx.folded"
check "C++: --no-demangle keeps the mangled names" grep -q '_Znwm' cxx.raw
check "C++: template names demangled (std::vector<int, ...>::_M_default_append)" \
  grep -q 'std::vector<int, std::allocator<int> >::_M_default_append(unsigned long);operator new' cxx.folded
cl=$(grep -n 'n->v.resize' "$HAK_ROOT/recorder/tests/progs/cxx.cc" | cut -d: -f1)
if python3 -c 'import ctypes; ctypes.CDLL("libdw.so.1")' 2>/dev/null; then
  hak trace peak --top 0 --depth 0 cxx.hkt > cxxpeak.txt
  check "C++: inlined frames expanded, named and located ('... (inlined)' lines)" \
    grep -qE '^      std::.* at [^ ]+:[0-9]+ \(inlined\)$' cxxpeak.txt
  check "C++: the vector's call site is main at cxx.cc:$cl (n->v.resize)" \
    grep -qE "^      main\+0x[0-9a-f]+ \(cxx\) at [^ ]*cxx.cc:$cl\$" cxxpeak.txt
else
  skip "C++: inlined frames" "libdw.so.1 is not installed"
fi
check "C++: peak text demangled too" \
  bash -c "hak trace peak --top 0 --depth 0 cxx.hkt | grep -q 'operator new(unsigned long)+0x'"

# ---- synthetic, empty, truncated, unrelated --------------------------------
hak trace synth random-mixed --iters 100000 --slots 64 --seed 7 -q -o rm.hkt
check "synthetic: 64 leaked blocks (the live slots)" \
  bash -c "hak trace leaks --json rm.hkt | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"leaked_blocks\"] == 64'"
check "synthetic: peak equals hak trace info's peak" \
  bash -c "test \"\$(hak trace info rm.hkt | sed -n 's/^peak live: .*(\([0-9]*\) bytes).*/\1/p')\" = \"\$(hak trace peak --json rm.hkt | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"peak\"][\"live_bytes\"])')\""
check "synthetic: sites without stacks are named so" \
  bash -c "hak trace leaks rm.hkt | grep -q 'site 1: no stack in the trace'"
hak trace synth random-mixed --iters 0 -q -o none.hkt
for s in leaks peak temporaries views; do
  check "no allocations: $s succeeds and says none" bash -c "hak trace $s none.hkt | grep -qE 'no leaks: the trace has no allocation|heap peak: none|allocations: 0;'"
done
hak trace flame none.hkt > fl0.txt 2> fl0.err; rc=$?
check "no allocations: flame writes nothing, says why on stderr, exit 0" \
  bash -c "test $rc = 0 && test ! -s fl0.txt && grep -q 'no allocation in the trace' fl0.err"
check_fails "no allocations: diff has nothing in common: exit 1" hak trace diff none.hkt none.hkt
# cut a longer trace in the middle: the readable prefix is used and said so
sz=$(stat -c %s rm.hkt)
head -c $((sz / 2)) rm.hkt > cut.hkt
hak trace leaks cut.hkt > cut.txt 2> cut.err; rc=$?
check "truncated: leaks exits 0 with the readable prefix" test "$rc" = 0
check "truncated: the output says the results cover the readable prefix" \
  grep -q '^note: the trace is cut off at byte .*readable prefix only' cut.txt
check "truncated: and warns on stderr" grep -q 'warning: trace is truncated' cut.err
check "truncated: JSON carries it" \
  bash -c "hak trace peak --json cut.hkt 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"truncated\"] and \"cut off\" in d[\"note\"]'"
# a trace whose recorder lost events (loss records, crafted)
CRAFT=$HAK_ROOT/build/tests/traces/hkt_craft
if [[ -x $CRAFT ]] && "$CRAFT" lossy lossy.hkt 1 2 99 2>/dev/null; then
  hak trace leaks lossy.hkt > lossy.txt 2> lossy.err; rc=$?
  check "lost events: leaks exits 0, says the recorder lost events, and what that means" \
    bash -c "test $rc = 0 && grep -q '^note: the recorder lost .*events (3 loss records, first: out of memory after 2000 events): a block whose free was lost shows as leaked' lossy.txt && grep -q 'warning: the recorder lost' lossy.err"
  check "lost events: JSON says incomplete" \
    bash -c "hak trace temporaries --json lossy.hkt 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"incomplete\"] and \"lost\" in d[\"note\"]'"
else
  skip "lost events" "hkt_craft is not built"
fi
hak trace diff vk.hkt rm.hkt > nc.txt 2> nc.err; rc=$?
check "diff of unrelated traces: exit 1, says no call site in common" \
  bash -c "test $rc = 1 && grep -q 'no call site in common' nc.err && grep -q '0 in both, 5 only in A, 1 only in B' nc.txt"
printf 'not a trace at all\n' > junk.hkt
for s in leaks peak temporaries flame views; do
  check_fails "$s: a file that is not a trace fails cleanly" hak trace $s junk.hkt
done

# ---- the same program under heaptrack ---------------------------------------
# Where heaptrack is installed, its figures for views_known must agree with
# ours within the definitions' differences: the same leaks and the same peak
# consumers (heaptrack also sees libstdc++'s 72,704-byte emergency pool,
# which its own preloaded C++ library brings into the process), and its
# temporaries exceed ours exactly where its cheaper test fires: it compares
# the freed block's (size, stack) with the last allocation's, not the block
# itself, so alloc32's first free of each pair (4) and peak_build's first
# free (1) count too.
if command -v heaptrack >/dev/null && command -v heaptrack_print >/dev/null; then
  heaptrack -o "$TMP/ht" "$PROG" 5 >/dev/null 2>&1
  ht=$(ls "$TMP"/ht.* 2>/dev/null | head -1)
  heaptrack_print -f "$ht" -p 1 -T 1 -l 1 -a 0 -n 20 > ht.txt 2>/dev/null
  check "heaptrack: same total leaked (19.34K = 19,336 bytes)" \
    bash -c "grep -q '^total memory leaked: 19.34K\$' ht.txt && hak trace leaks vk.hkt | grep -q '^not freed: 8 blocks, 19,336 bytes'"
  check "heaptrack: same leaks per site (leak_big 14.34K over 3, leak_small 5.00K over 5)" \
    bash -c "grep -A1 '^14.34K leaked over 3 calls from\$' ht.txt | grep -q '^leak_big' && grep -A1 '^5.00K leaked over 5 calls from\$' ht.txt | grep -q '^leak_small'"
  check "heaptrack: same peak consumer (peak_build 1000.00K over 10 calls)" \
    bash -c "grep -A1 '^1000.00K peak memory consumed over 10 calls from\$' ht.txt | grep -q '^peak_build'"
  check "heaptrack: temp_loop 7 of 7 temporary, as ours" \
    bash -c "grep -A1 '^7 temporary allocations of 7 allocations in total' ht.txt | grep -q '^temp_loop'"
  check "heaptrack: its (size, stack) test adds alloc32's 4 and peak_build's 1 (ours: 0)" \
    bash -c "grep -A1 '^4 temporary allocations of 8 allocations' ht.txt | grep -q '^alloc32' && grep -A1 '^1 temporary allocations of 10 allocations' ht.txt | grep -q '^peak_build'"
  check "... where ours counts none (the blocks freed are not the last allocated)" \
    test "$(sum short_pairs 4 temp.csv)$(sum peak_build 4 temp.csv)" = 00
else
  skip "heaptrack cross-check" "heaptrack is not installed (apt-get install heaptrack)"
fi
