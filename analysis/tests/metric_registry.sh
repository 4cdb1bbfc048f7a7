#!/usr/bin/env bash
# Metric names live in one registry (metric_info, analysis/store/migrations):
# every name a writer stores (hak replay under glibc and under HAKMEM, whose
# statistics add alloc.*, and hak sim) has a row there with its unit and
# direction, so no reader has to guess which way is better.
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP"
hak trace synth random-mixed --iters 20000 --slots 64 -o t.hkt >/dev/null
check "hak replay under glibc stores its run" hak replay -q --db m.db --alloc glibc t.hkt
if [[ -e $HAK_ROOT/build/lib/libhakmem.so ]]; then
  check "hak replay under HAKMEM stores its run" hak replay -q --db m.db --alloc hakmem t.hkt
else
  skip "hak replay under HAKMEM" "build/lib/libhakmem.so is not built"
fi
check "hak sim stores its run" hak sim -q --db m.db t.hkt
n=$(sqlite3 m.db "select count(distinct name) from run_metrics")
check "the runs stored metrics ($n names)" test "$n" -gt 20
missing=$(sqlite3 m.db "select group_concat(name, ' ') from (select distinct name from run_metrics
                        where name not in (select name from metric_info) order by name)")
if [[ -z $missing ]]; then ok "every stored metric has a registry row (metric_info)"
else not_ok "every stored metric has a registry row (metric_info)" "no row for: $missing (add them in a migration)"; fi
bad=$(sqlite3 m.db "select count(*) from metric_info where better not in ('higher','lower') or unit is null
                    or description is null or description = ''")
check "every registry row has a unit, a direction and a description" test "$bad" = 0
