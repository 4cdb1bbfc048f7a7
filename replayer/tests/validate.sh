#!/usr/bin/env bash
# hak validate (issue 19) on a program with known heap behaviour
# (validate_known.c: a 16 MiB peak of 256 KiB blocks, 8 MiB live at exit):
# the live heap figures are the program's, the replayed ones agree where
# the replay's touch policy matches the program and visibly disagree where
# it does not, the results land in the documented tables, the query and
# hak report show them, and bad input gets one line and a non-zero exit.
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP" || exit 1
prog=$HAK_ROOT/build/tests/replayer/validate_known
MiB=1048576
allocs=glibc,hakmem
[[ -e /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 ]] && allocs=$allocs,jemalloc
nalloc=$(tr ',' '\n' <<<"$allocs" | wc -l)

hak validate --alloc $allocs --repeat 2 --db v.db --label known -- "$prog" full >out.txt 2>err.txt
check "validate exits 0" test $? = 0
check "prints a row per metric and allocator" \
  test "$(grep -cE '^(peak heap RSS|final heap RSS|minor faults|heap faults|time) +glibc' out.txt)" = 5
check "prints the rankings" grep -q "Kendall's tau-b" out.txt
q() { sqlite3 v.db "$1"; }
# shown FILE CMD...: CMD, and on failure FILE's last lines (a failed
# validation's own output: the --touch first check failed at load 7-14
# and its output was not kept)
shown() { local f=$1; shift; "$@" && return 0; echo "--- $f:"; tail -n 15 "$f"; return 1; }
check "one validation stored, with its trace and label" \
  test "$(q "select count(*) from validations where trace_id is not null and label = 'known' and repeats = 2")" = 1
check "5 metrics x $nalloc allocators of values" \
  test "$(q "select count(*) from validation_values where live_n = 2 and replay_n = 2")" = $((5 * nalloc))
check "5 rankings over $nalloc allocators" \
  test "$(q "select count(*) from validation_rankings where nallocs = $nalloc")" = 5
check "ratio is replay / live" \
  test "$(q "select count(*) from validation_values where abs(ratio - replay / live) > 1e-9")" = 0
# Known figures: the live peak is the 16 MiB of blocks plus the allocator's
# own (< 4 MiB); the final heap holds the 8 MiB still live.
check "live peak heap of glibc is 16..20 MiB" \
  test "$(q "select live between 16*$MiB and 20*$MiB from validation_values
             where alloc = 'glibc' and metric = 'peak_heap_rss_bytes'")" = 1
check "live final heap of glibc is 8..11 MiB (read at the exit stop)" \
  test "$(q "select live between 8*$MiB and 11*$MiB from validation_values
             where alloc = 'glibc' and metric = 'final_heap_rss_bytes'")" = 1
check "every allocator's replayed peak heap is within 10% of live" \
  test "$(q "select count(*) from validation_values where metric = 'peak_heap_rss_bytes'
             and ratio between 0.9 and 1.1")" = $nalloc
check "minor faults within 20% (the program's own faults are few)" \
  test "$(q "select count(*) from validation_values where metric = 'minor_faults'
             and ratio between 0.8 and 1.2")" = $nalloc
check "replays are ordinary runs with heap figures (as fast as possible, and paced)" \
  test "$(q "select count(*) from runs r join run_metrics m on m.run_id = r.id
             where r.label = (select runs_label from validations) and m.name = 'heap.peak_rss_bytes'
             and m.value between 15*$MiB and 20*$MiB")" = $((4 * nalloc))

# Heap faults compare like with like: a program that writes 8 MiB of its
# .bss first takes 2,048 faults no replay of its allocations takes; its
# live minor faults are 1.5x the replay's, its live heap faults (those in
# heap mappings, sampled with perf) are not.
hak validate --alloc glibc --repeat 1 --db v.db --label bss -- "$prog" bss >bss.txt 2>&1
check "bss: validate exits 0" shown bss.txt test $? = 0
bv() { q "select round(x.$2, 2) from validation_values x join validations v on v.id = x.validation_id
          where v.label = 'bss' and x.alloc = 'glibc' and x.metric = '$1'"; }
if ! grep -q 'heap faults not measured' bss.txt; then
  check "bss: live minor faults hold the .bss pages (replay/live $(bv minor_faults ratio) < 0.8)" \
    awk -v r="$(bv minor_faults ratio)" 'BEGIN { exit !(r != "" && r < 0.8) }'
  check "... live heap faults do not (replay/live $(bv heap_minor_faults ratio), 0.9..1.1)" \
    awk -v r="$(bv heap_minor_faults ratio)" 'BEGIN { exit !(r != "" && r >= 0.9 && r <= 1.1) }'
  check "... and are fewer than the minor faults by the 2,048 pages or more" \
    awk -v a="$(bv minor_faults live)" -v h="$(bv heap_minor_faults live)" 'BEGIN { exit !(a != "" && h != "" && a - h >= 2048) }'
else
  skip "bss: heap faults" "not measured here: $(grep -o 'heap faults not measured.*' bss.txt)"
fi

# A program that writes one byte of each block: its resident heap is tiny,
# a replay writing every page (--touch pages) is not, and validate says so.
hak validate --alloc glibc --repeat 1 --touch pages --db v.db -- "$prog" first >first.txt 2>&1
check "the first-byte program: live peak heap below 2 MiB" \
  test "$(q "select live < 2*$MiB from validation_values v join validations x on x.id = v.validation_id
             where x.command like '% first' and metric = 'peak_heap_rss_bytes'")" = 1
check "... and the page-touching replay is 8x or more of it" \
  test "$(q "select ratio > 8 from validation_values v join validations x on x.id = v.validation_id
             where x.command like '% first' and metric = 'peak_heap_rss_bytes'")" = 1
hak validate --alloc glibc --repeat 1 --touch first --db v.db -- "$prog" first >tfirst.txt 2>&1
check "... while --touch first replays it within 2x" \
  shown tfirst.txt test "$(q "select ratio < 2 from validation_values v join validations x on x.id = v.validation_id
             where x.command like '% first' and x.touch = 'first' and metric = 'peak_heap_rss_bytes'")" = 1
# --touch auto (the default) calibrates on the recording's own heap samples:
# for the first-byte program it picks first, or pages over at most a tenth
# of each block (the fit: glibc's first-byte replay holds its blocks' first
# pages, 136 KiB, the program 300 KiB with its own small blocks), and pages
# for the full one.
hak validate --alloc glibc,hakmem --repeat 1 --db v.db -- "$prog" first >auto.txt 2>&1
check "... and the default, --touch auto, chooses first or pages:0.0F for it" \
  test "$(q "select touch = 'auto:first' or touch like 'auto:pages:0.0%' from validations
             order by id desc limit 1")" = 1
check "... and replays it within 2x for every allocator" \
  test "$(q "select count(*) from validation_values where validation_id = (select max(id) from validations)
             and metric = 'peak_heap_rss_bytes' and ratio < 2")" = 2
check "--touch auto chose pages for the program that writes its blocks" \
  test "$(q "select touch from validations where label = 'known'")" = auto:pages

# A program that execs again (a wrapper script, pyenv's shims): the second
# exec is followed, not a SIGTRAP that kills it.
hak validate --alloc glibc --repeat 1 --db v.db -- sh -c 'exec "$0" full' "$prog" >exec.txt 2>&1
check "a program that execs again: validate exits 0" test $? = 0
check "... and measures the exec'd program's heap (peak 16..20 MiB)" \
  test "$(q "select live between 16*$MiB and 20*$MiB from validation_values v join validations x on x.id = v.validation_id
             where x.command like 'sh -c %' and metric = 'peak_heap_rss_bytes'")" = 1

check "the query lists every validation's values" \
  test "$(hak db query "$HAK_ROOT/analysis/queries/validation.sql" --db v.db --csv | grep -c 'peak_heap_rss_bytes')" = $((nalloc + 6))
hak report --db v.db >report.txt 2>&1
check "hak report has a replay-validity section" grep -q "Replay validity" report.txt
check "... with the validated command and its tau" grep -q "validate_known full" report.txt

# A program that maps its heap itself (mmap/munmap, as GCC maps its
# collected pages): the recording holds the mappings (--mmap) and the
# replays map, touch and unmap them, so both sides count the same memory.
# (Before, replays left them out and held 0.35-0.53 of cc1's live heap.)
hak validate --alloc glibc,hakmem --repeat 1 --db v.db --label mmap -- "$prog" mmap >mmap.txt 2>&1
check "a program that maps its own heap: validate exits 0" test $? = 0
check "... its 64 mmaps and 64 munmaps, 32 of them of half a mapping, are replayed" \
  grep -q "128 mmap/munmap/mremap calls of the program are replayed" mmap.txt
vq() {  # LABEL: per allocator, peak heap ratio within the validation LABEL
  q "select count(*) from validation_values v join validations x on x.id = v.validation_id
     where x.label = '$1' and metric = 'peak_heap_rss_bytes' and ratio between $2 and $3"
}
check "... and the replayed peak heap is within 10% of live for both allocators" \
  test "$(vq mmap 0.9 1.1)" = 2
check "... and so is the final heap (4 MiB: the halves unmapped are unmapped in the replay)" \
  test "$(q "select count(*) from validation_values v join validations x on x.id = v.validation_id
             where x.label = 'mmap' and metric = 'final_heap_rss_bytes' and ratio between 0.9 and 1.1
             and live between 4*$MiB and 6*$MiB")" = 2

# A program that writes the first half of each block: neither "first" (1
# byte: 0.01x) nor "pages" (2x) holds what it holds; --touch auto fits the
# part of each block written (pages:F) to the recording's heap samples.
hak validate --alloc glibc,hakmem --repeat 1 --db v.db --label half -- "$prog" half >half.txt 2>&1
check "a program that writes half of each block: auto fits a part (pages:0.F)" \
  test "$(q "select touch like 'auto:pages:0.%' from validations where label = 'half'")" = 1
check "... and replays its peak heap within 25% for both allocators" \
  test "$(vq half 0.75 1.25)" = 2

# --pace program (the default with glibc among the allocators): heap and
# faults come from replays paced at the program's own speed (the live glibc
# runs' duration: validate_known pause sleeps 300 ms between its two
# rounds, which allocators that purge after a delay notice), time from a
# second set replayed as fast as possible.
hak validate --alloc glibc,hakmem --repeat 2 --db v.db --label pause -- "$prog" pause >pause.txt 2>&1
check "pause: validate exits 0, says the pace" grep -q "replayed heap and faults at --pace program:" pause.txt
check "... the validation stores pace program:D, D the live glibc median (>= 300 ms)" \
  test "$(q "select pace like 'program:%ms' and cast(substr(pace, 9) as real) >= 300 from validations
             where label = 'pause'")" = 1
rl=$(q "select runs_label from validations where label = 'pause'")
check "... 2 allocators x 2 replays at each pace, the paced ones at the validation's pace" \
  test "$(q "select group_concat(n, ' ') from (select count(*) as n from runs where label = '$rl'
             group by pace = (select pace from validations where label = 'pause') order by 1)")" = "4 4"
check "... the paced replays keep the 300 ms pause, the asap ones do not" \
  test "$(q "select sum(pace = 'asap' and wall_ns < 300000000) || ' ' || sum(pace <> 'asap' and wall_ns >= 300000000)
             from runs where label = '$rl'")" = "4 4"
check "... replayed time is the asap replays' median" \
  test "$(q "select count(*) from validation_values x join validations v on v.id = x.validation_id
             where v.label = 'pause' and x.metric = 'wall_ns' and x.replay < 300000000")" = 2
check "... and replayed faults the paced ones', with their range" \
  test "$(q "select count(*) from validation_values x join validations v on v.id = x.validation_id
             join (select alloc_spec, min(minor_faults) lo, max(minor_faults) hi from runs
                   where label = '$rl' and pace <> 'asap' group by alloc_spec) r on r.alloc_spec = x.alloc
             where v.label = 'pause' and x.metric = 'minor_faults'
               and x.replay_min = r.lo and x.replay_max = r.hi and x.replay between r.lo and r.hi")" = 2
hak validate --alloc glibc,hakmem --repeat 1 --pace asap --db v.db --label pause-asap -- "$prog" pause >/dev/null 2>&1
check "--pace asap: one set of replays, the validation's pace asap" \
  test "$(q "select v.pace || ' ' || count(*) from validations v join runs r on r.label = v.runs_label
             where v.label = 'pause-asap' and r.pace = 'asap'")" = "asap 2"

# A program that callocs its big blocks and writes one byte of each: the
# allocator's calloc hands out fresh zero pages unwritten, the program
# touches one; replayed with --touch pages they are all written, with
# --calloc-touch first only the first byte (the allocator's own zeroing
# is replayed either way: it is its calloc).
hak validate --alloc glibc --repeat 1 --touch pages --db v.db --label calloc-same -- "$prog" calloc >/dev/null 2>&1
hak validate --alloc glibc --repeat 1 --touch pages --calloc-touch first --db v.db --label calloc-first \
  -- "$prog" calloc >cfirst.txt 2>&1
fq() {  # LABEL LO HI: per allocator, minor faults ratio within the validation LABEL
  q "select count(*) from validation_values v join validations x on x.id = v.validation_id
     where x.label = '$1' and metric = 'minor_faults' and ratio between $2 and $3"
}
check "calloc'd sparse table: --touch pages holds 8x its live heap or more, faults too" \
  test "$(vq calloc-same 8 1000) $(fq calloc-same 8 1000)" = "1 1"
check "... --calloc-touch first: faults within 25% (64 pages), stored with the touch" \
  shown cfirst.txt test "$(fq calloc-first 0.75 1.25) $(q "select touch from validations where label = 'calloc-first'")" = "1 pages"
check "... and its runs' touch says so (pages+calloc:first)" \
  shown cfirst.txt test "$(q "select count(distinct r.touch) || r.touch from runs r join validations v on v.runs_label = r.label
             where v.label = 'calloc-first'")" = "1pages+calloc:first"

# --recordings N: the program recorded N times, each recording replayed
# --repeat times per allocator; the replayed medians and ranges are over
# all of them (a multi-threaded program's recordings differ in their
# threads' interleaving, which some allocators' heaps follow).
hak validate --alloc glibc,hakmem --repeat 2 --recordings 2 -o rk.hkt --db v.db --label recs \
  -- "$prog" full >recs.txt 2>&1
check "--recordings 2: exits 0, keeps both recordings (-o FILE, FILE.2)" \
  bash -c "[[ \$(grep -c '2 recordings, each replayed 2 times' recs.txt) == 1 && -s rk.hkt && -s rk.hkt.2 ]]"
rl=$(q "select runs_label from validations where label = 'recs'")
check "... stores recordings = 2 and 4 replays behind each replayed median" \
  test "$(q "select v.recordings || ' ' || min(x.replay_n) || ' ' || max(x.replay_n) from validations v
             join validation_values x on x.validation_id = v.id where v.label = 'recs'")" = "2 4 4"
check "... its replays come from two traces, 2 allocators x 2 x 2 recordings at each pace" \
  test "$(q "select count(distinct trace_id) || ' ' || count(*) from runs where label = '$rl'")" = "2 16"
check "... the replayed range spans every recording's paced runs" \
  test "$(q "select count(*) from validation_values x join validations v on v.id = x.validation_id
             join (select alloc_spec, min(minor_faults) lo, max(minor_faults) hi from runs
                   where label = '$rl' and pace <> 'asap' group by alloc_spec) r on r.alloc_spec = x.alloc
             where v.label = 'recs' and x.metric = 'minor_faults' and x.replay_min = r.lo and x.replay_max = r.hi")" = 2
check "... and a validation of one recording stores recordings = 1" \
  test "$(q "select recordings from validations where label = 'known'")" = 1

# hak db merge copies the validations with their values and rankings (it
# copied only their runs before: the merged history had replays that no
# validation named); merging twice adds them once.
hak db merge --db m.db -q v.db v.db
mq() { sqlite3 m.db "$1"; }
vcounts='select (select count(*) from validations) || (select count(*) from validations where trace_id is not null)
  || (select count(*) from validation_values) || (select count(*) from validation_rankings)'
check "merge: validations, values and rankings copied once (twice merged)" \
  test "$(mq "$vcounts")" = "$(q "$vcounts")"
check "... the validation query gives the same rows on the merged history" \
  test "$(hak db query "$HAK_ROOT/analysis/queries/validation.sql" --db m.db --csv | md5sum)" = \
       "$(hak db query "$HAK_ROOT/analysis/queries/validation.sql" --db v.db --csv | md5sum)"
check "... each validation still finds its replays and its recording" \
  test "$(mq "select count(*) from validations v where exists (select 1 from runs r where r.label = v.runs_label)
              and (v.trace_id is null or exists (select 1 from traces t where t.id = v.trace_id))")" = "$(q "select count(*) from validations")"
check "... and merge says how many it added" \
  bash -c "hak db merge --db m2.db v.db | grep -q '+$(q "select count(*) from validations") validations'"

# A program no longer than its own start-up (the empty program run before
# each live run took as long): --pace program paces at its whole duration,
# with a note.  Before, "the live runs under glibc have no duration" ended
# 6 of 10 validations of `true` at load 8-10, and validate_known first (60
# ms) under make check's load.
tv=0
for i in 1 2 3; do
  hak validate --alloc glibc --repeat 1 --db v.db --label "true$i" -- true >true$i.txt 2>&1 && tv=$((tv + 1))
done
check "a program as short as its start-up validates (3 of 3), paced" \
  shown true3.txt test "$tv $(q "select count(*) from validations where label like 'true_' and pace like 'program:%'")" = "3 3"

# bad input: one line, non-zero exit, nothing stored
n0=$(q "select count(*) from validations")
one_line() {
  local rc=$1 pat=$2; shift 2
  "$@" >/dev/null 2>e.txt; local got=$?
  [[ $got == "$rc" && $(wc -l <e.txt) == 1 ]] && grep -q -- "$pat" e.txt
}
check "no program: exit 2" one_line 2 "no program given" hak validate --db v.db
check "--repeat 0: exit 2" one_line 2 "'--repeat '0'\\|--repeat '0'" hak validate --repeat 0 --db v.db -- true
check "unknown allocator: exit 1, named" one_line 1 "--alloc 'nosuch'" hak validate --alloc glibc,nosuch --db v.db -- true
check "missing --stdin file: exit 2" one_line 2 "--stdin 'no-such-file'" hak validate --stdin no-such-file --db v.db -- true
check "a program that fails: exit 1, with its status" \
  one_line 1 "under glibc: exited with status 3" hak validate --alloc glibc --db v.db -- sh -c 'exit 3'
check "a program that does not exist: exit 1, named" \
  one_line 1 "cannot run ./no-such-prog" hak validate --alloc glibc --db v.db -- ./no-such-prog
check "--calloc-touch all: exit 2, named" one_line 2 "--calloc-touch 'all'" hak validate --calloc-touch all --db v.db -- true
check "--recordings 0: exit 2, named" one_line 2 "--recordings '0'" hak validate --recordings 0 --db v.db -- true
check "--recordings 16 x --repeat 5: exit 2, says the limit" \
  one_line 2 "at most 64 replays per allocator" hak validate --recordings 16 --repeat 5 --db v.db -- true
check "--pace slow: exit 2, named" one_line 2 "--pace 'slow'" hak validate --pace slow --db v.db -- true
check "--pace program:0: exit 2, named" one_line 2 "--pace 'program:0'" hak validate --pace program:0 --db v.db -- true
check "--pace program without glibc: exit 2, says why" \
  one_line 2 "--pace program: needs glibc" hak validate --alloc hakmem --pace program --db v.db -- true
check "nothing stored by the failures" test "$(q "select count(*) from validations")" = "$n0"
hak trace synth random-mixed --iters 2000 --slots 64 --seed 1 -q -o synth.hkt
check "hak replay --touch auto on a trace without heap samples: exit 1, says why" \
  one_line 1 "synth.hkt: --touch auto needs the recording's heap samples" \
  hak replay synth.hkt --alloc glibc --touch auto --db v.db
check "hak replay --touch pages:1.5: exit 2, named" \
  one_line 2 "--touch 'pages:1.5'" hak replay synth.hkt --alloc glibc --touch pages:1.5 --db v.db
hak replay synth.hkt --alloc glibc --touch pages:0.5 --db v.db --label part -q >/dev/null 2>&1
check "hak replay --touch pages:0.5 runs and stores its touch as pages:0.50" \
  test "$(q "select count(*) from runs where label = 'part' and touch = 'pages:0.50' and status = 'ok'")" = 1
check "--help" hak validate --help
