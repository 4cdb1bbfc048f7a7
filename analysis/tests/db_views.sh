#!/usr/bin/env bash
# hak db import-trace stores the memory-profiler views (migration 009:
# trace_view_stats, trace_site_views, trace_flame; 011:
# trace_site_timeline) with the answers of `hak trace
# leaks|peak|temporaries|flame|timeline` for a program with known answers
# (recorder/tests/progs/views_known.c), and the ready-made questions
# analysis/queries/{leaks,peak_consumers,temporaries,flame,memory_over_time}.sql
# return them; re-import replaces, merge copies.
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP" || exit 1
Q=$HAK_ROOT/analysis/queries
PROG=$HAK_ROOT/build/tests/recorder/progs/views_known
hak record -q --stacks-exact -o vk.hkt -- "$PROG" 5
[[ -s vk.hkt ]] || { not_ok "recording views_known" "no trace"; exit 0; }
check "import-trace" hak db import-trace -q --db v.db vk.hkt
q1() { sqlite3 v.db "$1"; }
site() {   # site FUNC COLUMNS: the COLUMNS of the site whose symbol names FUNC
  q1 "select $2 from trace_site_views v join trace_sites s using (trace_id, site)
      where s.symbol like '$1+0x%'"
}
# views_known.c: leak_small leaks 5 x 1000 bytes; leak_big 3 blocks (14336
# bytes, the largest 8192); temp_loop makes 7 temporaries; peak_build
# holds 10 x 100000 bytes at the peak.
check "totals: 8 blocks, 19336 bytes leaked; 7 temporaries" \
  test "$(q1 'select leaked_blocks, leaked_bytes, temporary from trace_view_stats')" = "8|19336|7"
peak=$(hak trace peak --json vk.hkt | grep -o '"peak": {"live_bytes": [0-9]*' | grep -o '[0-9]*$')
check "totals: the peak's bytes as hak trace peak says ($peak)" \
  test "$(q1 'select peak_bytes from trace_view_stats')" = "$peak"
check "leak_small: 5 blocks, 5000 bytes, largest 1000" test "$(site leak_small 'leaked_blocks, leaked_bytes, leak_largest')" = "5|5000|1000"
check "leak_big: 3 blocks, 14336 bytes, largest 8192" test "$(site leak_big 'leaked_blocks, leaked_bytes, leak_largest')" = "3|14336|8192"
check "temp_loop: 7 temporaries of 7 allocations" test "$(site temp_loop 'temporary, v.allocs')" = "7|7"
check "peak_build: 10 blocks, 1000000 bytes live at the peak, none leaked" \
  test "$(site peak_build 'peak_blocks, peak_bytes, leaked_blocks')" = "10|1000000|0"
check "per-site allocations add up to the trace's" \
  test "$(q1 'select sum(allocs), sum(alloc_bytes) from trace_site_views')" = "$(q1 'select allocs, bytes_allocated from trace_stats')"

q() { hak db query --db v.db --csv "$@"; }
out=$(q "$Q/leaks.sql" -p trace=views_known)
check "leaks.sql: two leaking sites, leak_big first (74.1%)" \
  bash -c '[[ $(wc -l <<<"$1") == 3 ]] && sed -n 2p <<<"$1" | grep -q "leak_big+0x.*,3,14336,8192,74.1,"' _ "$out"
out=$(q "$Q/peak_consumers.sql" -p trace=views_known)
check "peak_consumers.sql: the peak, then peak_build holding 98.1%" \
  bash -c 'grep -q "^views_known,[0-9a-f]*,$2,18," <<<"$1" && grep -q "peak_build+0x.*,10,1000000,98.1," <<<"$1"' _ "$out" "$peak"
out=$(q "$Q/temporaries.sql" -p trace=views_known)
check "temporaries.sql: temp_loop first, 7 of 7" \
  bash -c 'sed -n 2p <<<"$1" | grep -q "temp_loop+0x.*,7,7,1000,7,100"' _ "$out"
out=$(q "$Q/flame.sql" -p trace=views_known)
for w in allocs:2 bytes:3 leaked:4 peak:5; do
  name=${w%:*} col=${w#*:}
  got=$(tail -n +2 <<<"$out" | awk -F, -v c="$col" '$c > 0 {print $1 " " $c}')
  check "flame.sql: the $name stacks are hak trace flame --weight $name's" \
    test "$got" = "$(hak trace flame --weight "$name" vk.hkt)"
done
# memory over time: the stored points are hak trace timeline's for the
# same 100 points and 8 sites (rank 0 = 'other')
tl=$(hak trace timeline --csv --points 100 --top 8 vk.hkt)
ntop=$(head -1 <<<"$tl" | tr ',' '\n' | grep -c '^site_')
got=$(q1 "select group_concat(v, ',') from (select x.point, x.ts_ns || ',' || sum(x.live_bytes) || ','
          || (select group_concat(live_bytes, ',') from (select live_bytes from trace_site_timeline y
              where y.trace_id = x.trace_id and y.point = x.point order by (y.rank = 0), y.rank)) as v
          from trace_site_timeline x group by x.point order by x.point) group by 1 = 1" | tr ',' '\n')
want=$(tail -n +2 <<<"$tl" | awk -F, '{$2 = ""; print}' OFS=, | sed 's/,,/,/' | tr ',' '\n')
check "timeline: 100 points of $ntop sites + other, as hak trace timeline --csv prints them" \
  bash -c '[[ -n $1 && $1 == "$2" ]]' _ "$got" "$want"
check "timeline: the sites are the CSV header's, in its order" \
  test "$(q1 'select group_concat(site, ",") from (select site from trace_site_timeline where point = 0 and rank > 0 order by rank)')" = \
       "$(head -1 <<<"$tl" | tr ',' '\n' | sed -n 's/^site_//p' | paste -sd,)"
check "timeline: the last point is the end: leak_big 14336 and leak_small 5000, heap 19336" \
  test "$(q1 "select sum(live_bytes), group_concat(f || ':' || live_bytes) from (select x.live_bytes,
             substr(s.symbol, 1, instr(s.symbol, '+') - 1) as f from trace_site_timeline x
             left join trace_sites s on s.trace_id = x.trace_id and s.site = x.site
             where x.point = 99 and x.live_bytes > 0 order by x.rank)")" = "19336|leak_big:14336,leak_small:5000"
out=$(q "$Q/memory_over_time.sql" -p trace=views_known)
check "memory_over_time.sql: 100 points, heap at the end 19336, #1 + ... + other = heap" \
  bash -c '[[ $(tail -n +2 <<<"$1" | wc -l) == 100 ]] && tail -1 <<<"$1" | grep -q "^views_known,99,[0-9.e-]*,19336," &&
           tail -n +2 <<<"$1" | awk -F, "{s = 0; for (i = 5; i <= NF; i++) s += \$i; if (s != \$4) exit 1}"' _ "$out"
check_fails "leaks.sql: a trace that is not there is an error" q "$Q/leaks.sql" -p trace=nosuchprog

check "import-trace again" hak db import-trace -q --db v.db vk.hkt
check "re-import replaces the rows" \
  test "$(q1 'select (select count(*) from trace_view_stats) || (select count(*) from trace_site_views) || (select count(*) from trace_flame) || "," || (select count(*) from trace_site_timeline)')" = "155,$((100 * (ntop + 1)))"
hak db import-trace -q --db other.db vk.hkt
hak trace synth random-mixed --iters 1000 -q -o rm.hkt && hak db import-trace -q --db other.db rm.hkt
check "merge" hak db merge --db m.db other.db
check "merge copies the views of both traces" \
  test "$(sqlite3 m.db 'select count(*) from trace_view_stats')|$(sqlite3 m.db 'select count(*) from trace_site_views')" = "2|6"
check "merge copies both traces' timelines" \
  test "$(sqlite3 m.db 'select count(distinct trace_id), count(*) from trace_site_timeline')" = \
       "2|$(sqlite3 other.db 'select count(*) from trace_site_timeline')"
