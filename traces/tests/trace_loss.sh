#!/usr/bin/env bash
# Honest status of partial traces (issue 13): loss records shown by
# `hak trace info`, `hak trace validate` failing on truncated or incomplete
# traces unless --allow-prefix, `hak replay` storing their runs as such and
# `hak db compare`/`best` leaving them out unless --include-incomplete; and
# bounded readers: files of side chunks that decompress a thousandfold stay
# under 256 MiB in every reader (FORMAT.md, "Reader limits").
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP"
CRAFT=$HAK_ROOT/build/tests/traces/hkt_craft
if [[ ! -x $CRAFT ]]; then skip "partial traces" "hkt_craft is not built"; exit 0; fi

"$CRAFT" lossy whole.hkt
"$CRAFT" lossy lossy.hkt 1 2 99
size=$(stat -c %s whole.hkt)
head -c $((size - 100)) whole.hkt > cut.hkt
head -c $(( $(stat -c %s lossy.hkt) - 100 )) lossy.hkt > lossycut.hkt

# --- info -----------------------------------------------------------------
hak trace info lossy.hkt > info.out 2> info.err; rc=$?
check "info on an incomplete trace exits 0" test "$rc" = 0
check "info: one 'incomplete' status line per loss record, reason, events, detail" \
  bash -c 'grep -c "^status: *incomplete: " info.out | grep -qx 3 &&
           grep -q "^status: *incomplete: out of memory after 2,000 events, 17 lost (test loss 1)$" info.out &&
           grep -q "^status: *incomplete: write failed after 2,000 events" info.out &&
           grep -q "^status: *incomplete: unknown reason 99 after 2,000 events" info.out'
check "info: an incomplete trace is not called complete" bash -c '! grep -q "^status: *complete" info.out'
check "info: one warning line on stderr" \
  bash -c '[[ $(wc -l < info.err) == 1 ]] && grep -q "warning: trace is incomplete: out of memory" info.err'
check "info on a whole trace: complete, no warning" \
  bash -c 'hak trace info whole.hkt 2>err | grep -q "^status: *complete$" && [[ ! -s err ]]'
hak trace info lossycut.hkt > ic.out 2>/dev/null
check "info on a cut incomplete trace: the truncated line and the loss lines" \
  bash -c 'grep -q "^status: *TRUNCATED at offset" ic.out && grep -c "^status: *incomplete:" ic.out | grep -qx 3'

# --- validate -----------------------------------------------------------------
check "validate: a whole trace is valid (exit 0)" hak trace validate -q whole.hkt
for t in cut lossy lossycut; do
  hak trace validate $t.hkt > v.out 2> v.err; rc=$?
  check "validate $t: exits 1" test "$rc" = 1
  check "validate $t: verdict INCOMPLETE, one-line reason naming --allow-prefix" \
    bash -c 'grep -q ": INCOMPLETE (0 errors" v.out && [[ $(wc -l < v.err) == 1 ]] && grep -q -- "--allow-prefix" v.err'
  hak trace validate --allow-prefix $t.hkt > v.out 2> v.err; rc=$?
  check "validate --allow-prefix $t: exits 0, verdict 'valid prefix'" \
    bash -c "[[ $rc == 0 ]] && grep -q ': valid prefix (0 errors' v.out"
  check_fails "validate --allow-prefix --strict $t: still fails (its warnings)" \
    hak trace validate --allow-prefix --strict -q $t.hkt
done
check "validate lossy: lists each loss record" \
  bash -c 'hak trace validate lossy.hkt 2>/dev/null | grep -qE "^  incomplete +3$"'
check "validate --help documents --allow-prefix" \
  bash -c 'hak trace validate --help | grep -q -- "--allow-prefix"'
# In an incomplete trace a free of a block never seen allocated may be
# explained by the lost events: a warning, not an error.
"$CRAFT" lossfree lf.hkt
hak trace validate --allow-prefix lf.hkt > lf.out 2>&1; rc=$?
check "validate --allow-prefix: a free after a loss is a 'bad free after loss' warning" \
  bash -c "[[ $rc == 0 ]] && grep -qE '^  bad free after loss +1$' lf.out && grep -q 'valid prefix (0 errors, 2 warnings' lf.out"
check_fails "validate --allow-prefix --strict: ... which --strict refuses" \
  hak trace validate --allow-prefix --strict -q lf.hkt
# A real error in the readable part stays an error with --allow-prefix.
{ echo "1: malloc 0x10 8"; echo "1: free 0x10"; echo "1: free 0x10"
  for ((i = 1; i <= 3000; i++)); do printf '2: malloc 0x%x 16\n' $((0x100000 + 16 * i)); done; } > df.txt
hak trace import -q df.txt -o df.hkt
head -c $(( $(stat -c %s df.hkt) - 40 )) df.hkt > dfcut.hkt
check_fails "validate --allow-prefix: a double free in the prefix is still INVALID" \
  hak trace validate --allow-prefix -q dfcut.hkt

# --- replay and the database ---------------------------------------------------
db=$TMP/r.db
if hak replay --help >/dev/null 2>&1; then
  check "replay a whole trace" hak replay whole.hkt --alloc glibc --alloc bump --repeat 2 --label a --db "$db" -q
  check "replay it again" hak replay whole.hkt --alloc glibc --alloc bump --repeat 2 --label b --db "$db" -q
  hak replay lossy.hkt --alloc glibc --alloc bump --repeat 2 --label a --db "$db" -q 2> rl.err; rc=$?
  check "replay an incomplete trace: exit 0 and a one-line note" \
    bash -c "[[ $rc == 0 ]] && grep -q 'note: incomplete trace (the recorder lost events: out of memory after 2000 events)' rl.err"
  hak replay cut.hkt --alloc glibc --alloc bump --repeat 2 --label b --db "$db" -q 2> rc.err
  check "replay a truncated trace: a note" grep -q "stored as runs of a truncated trace" rc.err
  hak replay lossy.hkt cut.hkt --alloc glibc --alloc bump --repeat 2 --label b --db "$db" -q 2>/dev/null
  check "the database says which traces are partial" \
    bash -c "[[ \$(sqlite3 '$db' \"select group_concat(completeness, ',') from (select completeness from traces order by completeness)\") == complete,incomplete,truncated ]]"
  check "db runs: a run of a partial trace says so" \
    bash -c "hak db runs --db '$db' --limit 0 | grep -q 'ok (incomplete trace)' &&
             hak db runs --db '$db' --limit 0 | grep -q 'ok (truncated trace)' &&
             hak db runs --db '$db' --limit 0 --csv | head -1 | grep -q ',trace_completeness$'"
  hak db best --db "$db" > best.out 2> best.err
  check "db best: only the whole trace's rows" \
    bash -c '[[ $(grep -c "whole.hkt" best.out) == 1 ]] && ! grep -qE "lossy|cut" best.out'
  check "db best: says how many runs it left out" \
    grep -q "note: left out 16 runs of truncated or incomplete traces (--include-incomplete uses them)" best.err
  check "db best --include-incomplete: all three traces" \
    bash -c "hak db best --db '$db' --include-incomplete 2>/dev/null | grep -cE 'whole.hkt|lossy.hkt|cut.hkt' | grep -qx 3"
  hak db compare --db "$db" --base a --new b --metric ops_per_s > cmp.out 2> cmp.err
  check "db compare: only the whole trace's pairs" \
    bash -c 'grep -q "whole.hkt" cmp.out && ! grep -qE "lossy|cut" cmp.out'
  check "db compare: says how many runs it left out" \
    grep -q "note: left out 16 runs of truncated or incomplete traces" cmp.err
  check "db compare --include-incomplete: the partial traces too" \
    bash -c "hak db compare --db '$db' --base a --new b --metric ops_per_s --include-incomplete 2>/dev/null | grep -q lossy.hkt"
  hak db merge --db "$TMP/m.db" "$db" >/dev/null 2>&1
  check "db merge keeps what is known of each trace" \
    bash -c "[[ \$(sqlite3 '$TMP/m.db' \"select count(*) from traces where completeness <> 'complete'\") == 2 ]]"
  check "compare and best --help document --include-incomplete" \
    bash -c "hak db compare --help | grep -q -- --include-incomplete && hak db best --help | grep -q -- --include-incomplete"
else
  skip "replay of partial traces" "hak replay is not built"
fi

# --- bounded readers -------------------------------------------------------------
# Each bomb is a few hundred KB of side chunks that expand to gigabytes of
# records (the unlimited reader ran out of memory).  The address-space cap
# keeps a regression from taking the machine down; the peak RSS must stay
# under 256 MiB and the status must name the limit.
limit_kb=$((256 * 1024))
for k in sites rss modules mixed; do
  "$CRAFT" bomb b-$k.hkt $k
  check "bomb $k: under 16 MiB on disk" test "$(stat -c %s b-$k.hkt)" -lt $((16 << 20))
  cmds=("trace info" "replay --alloc glibc --db $TMP/bomb.db -q")
  [[ $k == mixed ]] && cmds+=("trace stats" "trace validate --allow-prefix" "trace dump")
  for c in "${cmds[@]}"; do
    kb=$(ulimit -v 2097152; "$CRAFT" maxrss hak $c b-$k.hkt 2> bomb.err > bomb.kb; echo "$?:$(cat bomb.kb)")
    rc=${kb%%:*}; kb=${kb#*:}
    if [[ $c == "trace info" || $c == "trace dump" || $c == "trace stats" ]]; then want=0; else want=x; fi
    if [[ -z $kb ]] || (( kb > limit_kb )); then
      not_ok "bomb $k: hak $c peaks under 256 MiB" "peak ${kb:-?} KiB, exit $rc: $(head -c 300 bomb.err)"
    elif [[ $want == 0 && $rc != 0 ]]; then
      not_ok "bomb $k: hak $c exits 0" "exit $rc: $(head -c 300 bomb.err)"
    else
      ok "bomb $k: hak $c peaks at $((kb / 1024)) MiB (< 256), exit $rc"
    fi
  done
done
check "bomb sites: info names the offset and the limit" \
  bash -c "hak trace info b-sites.hkt 2>/dev/null | grep -qE '^status: *DAMAGED at offset [0-9]+ .*more than 16777216 call-site frames'"
check "bomb modules: info names the offset and the limit" \
  bash -c "hak trace info b-modules.hkt 2>/dev/null | grep -qE '^status: *DAMAGED at offset [0-9]+ .*side records exceed the reader limit of 160 MiB'"
hak trace info b-rss.hkt > rss.out 2>/dev/null
check "bomb rss: thinned, and info says so" \
  grep -qE '^rss samples: *[0-9]+ .*1 in [0-9]+ of the file.s samples' rss.out
check "bomb rss: stops at the 512 MiB decompression limit" \
  grep -q 'side records decompress to more than 512 MiB in all' rss.out
