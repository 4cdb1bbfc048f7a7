#!/usr/bin/env bash
# bench/validate.bench.sh - the replay-validity study (issue 19): does a
# replay of a recording predict what the program itself does under each
# allocator?  `hak validate` (replayer/cli/validate_cli.c) over five real
# programs:
#   python3   bench/validate/alloc_heavy.py, PYTHONMALLOC=malloc (pymalloc
#             would hide the objects from malloc inside its own arenas)
#   gcc       cc1 -O2 on a generated 100-function C file, preprocessed
#             (cc1 itself: the gcc driver is only a launcher whose
#             children a live run of one process would not see)
#   sqlite3   :memory: with bench/validate/sqlite_workload.sql on stdin
#   mt_churn  bench/validate/mt_churn.c, 4 threads, cross-thread frees;
#             recorded 3 times (--recordings 3): a recording is one
#             interleaving of its threads, which jemalloc's heap follows
#   cxx       bench/validate/cxx_containers.cc, std containers
# against glibc, hakmem, mimalloc, jemalloc, tcmalloc (those installed).
# Each validation runs the program live R times per allocator
# (interleaved, each run after an empty program's under the same
# allocator, whose faults and time are taken off: start-up is on neither
# side), records it once with its own mappings (hak record --mmap),
# replays it R times per allocator; medians.  Figures: per program and
# allocator the live and replayed peak heap RSS and their ratio, the
# ratio of minor faults and of time; per
# program Kendall's tau-b of the allocators' order by peak heap, faults and
# time; the glibc replay's RSS-timeline fidelity against the recording's
# heap samples (glibc on glibc).  Targets (issue 19): peak within 10%,
# faults within 20%, tau >= 0.8 (time: >= 0.6 where allocation dominates),
# fidelity >= 0.9.
set -u
. "$(dirname "$0")/lib.sh"
bench_db_init >/dev/null
R=${HAK_BENCH_REPEATS:-5}
# HAK_VALIDATE_PACE=asap|program|...: hak validate --pace (default: its own)
PACE=(); [[ -n ${HAK_VALIDATE_PACE:-} ]] && PACE=(--pace "$HAK_VALIDATE_PACE")
W=$(mktemp -d "${TMPDIR:-/tmp}/hakvalbench.XXXXXX")
trap 'rm -rf "$W"' EXIT
out=$HAK_ROOT/build/bench/validate.md
mkdir -p "$(dirname "$out")"
V=$HAK_ROOT/bench/validate
DB=${HAK_VALIDATE_DB:-$W/v.db}   # keep it elsewhere to look at the runs
cd "$W" || exit 1

CXX=${CXX:-g++}
cc -O2 -pthread -o mt_churn "$V/mt_churn.c" || exit 1
$CXX -O2 -o cxx_containers "$V/cxx_containers.cc" || exit 1
CC1=$(gcc -print-prog-name=cc1)
{
  echo '#include <stdio.h>'
  for i in $(seq 1 100); do
    echo "static int f$i(int *a, int n) { int s = 0; for (int i = 0; i < n; i++) { s += a[i] * $i; if (s > 1000) s -= a[(i + $i) % n]; } return s; }"
    echo "struct s$i { int x[$((i % 9 + 1))]; double d; }; int g$i(struct s$i *p) { return p->x[0] + (int)p->d + f$i(p->x, $((i % 9 + 1))); }"
  done
  echo 'int main(void) { int a[10] = {1,2,3,4,5,6,7,8,9,10}; int t = 0;'
  for i in $(seq 1 100); do echo "  t += f$i(a, 10);"; done
  echo '  printf("%d\n", t); return 0; }'
} >gen.c
gcc -E -o gen.i gen.c || exit 1     # cc1 alone does not know the include paths
PY=$(command -v /usr/bin/python3 python3 | head -1)   # not a shim that forks

# name | hak validate arguments after the options (python3's environment
# is set apart: exported to hak validate, so live runs, recording and
# replays all see it)
PROGS=(
  "python3|-- $PY $V/alloc_heavy.py"
  "gcc|-- $CC1 -fpreprocessed -quiet -O2 gen.i -o /dev/null"
  "sqlite3|--stdin $V/sqlite_workload.sql -- sqlite3 :memory:"
  "mt_churn|--recordings 3 -- ./mt_churn"
  "cxx|-- ./cxx_containers"
)
# Programs outside the study (not counted in the targets): a perl script,
# and git on this repository's own history when it is a git checkout (a
# fixed revision, so every run reads the same commits).
OUTSIDE=("perl|-- perl $V/hash_churn.pl")
GITREV=b22ba14
git -C "$HAK_ROOT" cat-file -e "$GITREV^{commit}" 2>/dev/null &&
  OUTSIDE+=("git|-- git -C $HAK_ROOT log -p -n 300 $GITREV")
[[ ${HAK_VALIDATE_OUTSIDE:-1} == 0 ]] && OUTSIDE=()
status=0
# HAK_VALIDATE_REPORT_ONLY=1 with HAK_VALIDATE_DB: the tables from a kept
# database, without running the study again
[[ ${HAK_VALIDATE_REPORT_ONLY:-0} == 1 ]] && PROGS_RUN=() || PROGS_RUN=("${PROGS[@]}" "${OUTSIDE[@]}")
for p in "${PROGS_RUN[@]}"; do
  name=${p%%|*} args=${p#*|}
  echo "-- validate $name" >&2
  # shellcheck disable=SC2086  # args is a word list on purpose
  envs=(); [[ $name == python3 ]] && envs=(PYTHONMALLOC=malloc)
  if ! env "${envs[@]}" hak validate --repeat "$R" "${PACE[@]}" --db "$DB" --label "$name" $args >"$name.txt" 2>"$name.err"; then
    echo "hak validate failed on $name:" >&2; cat "$name.err" >&2; status=1
  fi
  cat "$name.txt" >&2
done

q() { sqlite3 -separator ' ' "$DB" "$1"; }
range() {  # NAME ALLOC METRIC SIDE: min..max of the runs behind a median, in MiB
  q "select printf('%.1f..%.1f', x.$4_min / 1048576.0, x.$4_max / 1048576.0) from validation_values x
     join validations v on v.id = x.validation_id
     where v.label = '$1' and x.alloc = '$2' and x.metric = '$3' and x.$4_min is not null"
}
val() {  # NAME ALLOC METRIC COLUMN
  q "select x.$4 from validation_values x join validations v on v.id = x.validation_id
     where v.label = '$1' and x.alloc = '$2' and x.metric = '$3'"
}
tau() { q "select round(k.tau, 2) from validation_rankings k join validations v on v.id = k.validation_id
           where v.label = '$1' and k.metric = '$2'"; }
fid() {  # median fidelity of the glibc replays of NAME's recording
  median $(q "select r.fidelity from runs r join validations v on v.runs_label = r.label
              where v.label = '$1' and r.alloc_spec = 'glibc' and r.fidelity is not null")
}
mib() { awk -v b="$1" 'BEGIN{ if (b == "") print "-"; else printf "%.1f", b / 1048576 }'; }
r3() { awk -v x="$1" 'BEGIN{ if (x == "") print "-"; else printf "%.2f", x }'; }

# pair_table COUNTED PROG...: per program and allocator, live vs replayed;
# COUNTED=1 counts the pairs toward the targets
pair_table() {
  local counted=$1; shift
  echo "| program | allocator | peak heap live (runs) | replay (runs) | ratio | faults live | replay | ratio | heap faults live | ratio | time live | replay |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  for p in "$@"; do
    name=${p%%|*}
    for a in $allocs; do
      lp=$(val "$name" "$a" peak_heap_rss_bytes live) rp=$(val "$name" "$a" peak_heap_rss_bytes replay)
      pr=$(val "$name" "$a" peak_heap_rss_bytes ratio)
      lf=$(val "$name" "$a" minor_faults live) rf=$(val "$name" "$a" minor_faults replay)
      fr=$(val "$name" "$a" minor_faults ratio)
      lh=$(val "$name" "$a" heap_minor_faults live) hr=$(val "$name" "$a" heap_minor_faults ratio)
      lt=$(val "$name" "$a" wall_ns live) rt=$(val "$name" "$a" wall_ns replay)
      [[ -z $lp ]] && continue
      bench_put "validate.$name" "$a" live_peak_heap_bytes "$lp" B "$R" ""
      bench_put "validate.$name" "$a" replay_peak_heap_bytes "$rp" B "$R" ""
      bench_put "validate.$name" "$a" peak_heap_ratio "$pr" x "$R" "replay / live"
      bench_put "validate.$name" "$a" live_minor_faults "$lf" faults "$R" "whole program"
      bench_put "validate.$name" "$a" replay_minor_faults "$rf" faults "$R" "allocation work"
      bench_put "validate.$name" "$a" minor_faults_ratio "$fr" x "$R" "replay / live"
      bench_put "validate.$name" "$a" live_heap_minor_faults "$lh" faults "$R" "in heap mappings"
      bench_put "validate.$name" "$a" heap_minor_faults_ratio "$hr" x "$R" "replay / live heap faults"
      bench_put "validate.$name" "$a" live_wall_ns "$lt" ns "$R" "whole program"
      bench_put "validate.$name" "$a" replay_wall_ns "$rt" ns "$R" "allocation work"
      if ((counted)); then
        n_peak=$((n_peak + 1)); n_flt=$((n_flt + 1))
        in_range "$pr" 0.9 1.1 && met_peak=$((met_peak + 1))
        in_range "$fr" 0.8 1.2 && met_flt=$((met_flt + 1))
        [[ -n $hr ]] && n_hflt=$((n_hflt + 1))
        in_range "$hr" 0.8 1.2 && met_hflt=$((met_hflt + 1))
      fi
      printf '| %s | %s | %s MiB (%s) | %s MiB (%s) | %s | %.0f | %.0f | %s | %s | %s | %.0f ms | %.0f ms |\n' \
        "$name" "$a" "$(mib "$lp")" "$(range "$name" "$a" peak_heap_rss_bytes live)" \
        "$(mib "$rp")" "$(range "$name" "$a" peak_heap_rss_bytes replay)" "$(r3 "$pr")" \
        "$lf" "$rf" "$(r3 "$fr")" "$(awk -v x="$lh" 'BEGIN{ if (x == "") print "-"; else printf "%.0f", x }')" "$(r3 "$hr")" \
        "$(awk -v t="$lt" 'BEGIN{print t / 1e6}')" "$(awk -v t="$rt" 'BEGIN{print t / 1e6}')"
    done
  done
}
allocs=$(q "select distinct alloc from validation_values order by alloc = 'glibc' desc, alloc = 'hakmem' desc, alloc")
# tau_table COUNTED PROG...: per program, the rankings' agreement
tau_table() {
  local counted=$1; shift
  echo "| program | touch (auto) | pace | tau peak heap | tau faults | tau heap faults | tau time | allocation share | glibc-on-glibc fidelity |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for p in "$@"; do
    name=${p%%|*}
    tp=$(tau "$name" peak_heap_rss_bytes) tf=$(tau "$name" minor_faults) tt=$(tau "$name" wall_ns)
    th=$(tau "$name" heap_minor_faults)
    fi=$(fid "$name")
    touch=$(q "select touch from validations where label = '$name' order by id desc limit 1")
    pace=$(q "select coalesce(pace, 'asap') from validations where label = '$name' order by id desc limit 1")
    share=$(awk -v r="$(val "$name" glibc wall_ns replay)" -v l="$(val "$name" glibc wall_ns live)" \
            'BEGIN{ if (l > 0 && r != "") printf "%.2f", r / l }')
    [[ -z $tp ]] && continue
    bench_put "validate.$name" all tau_peak_heap "$tp" tau "$R" "Kendall tau-b, live vs replay order"
    bench_put "validate.$name" all tau_minor_faults "$tf" tau "$R" ""
    bench_put "validate.$name" all tau_heap_minor_faults "$th" tau "$R" ""
    bench_put "validate.$name" all tau_time "$tt" tau "$R" ""
    bench_put "validate.$name" glibc alloc_time_share "$share" x "$R" "glibc replay time / live time"
    bench_put "validate.$name" glibc timeline_fidelity "$fi" "" "$R" "glibc replay of a glibc recording"
    if ((counted)); then
      n_tau=$((n_tau + 1))
      in_range "$tp" 0.8 1 && met_tp=$((met_tp + 1))
      in_range "$tf" 0.8 1 && met_tf=$((met_tf + 1))
      [[ -n $th ]] && n_th=$((n_th + 1))
      in_range "$th" 0.8 1 && met_th=$((met_th + 1))
      if in_range "$share" 0.5 1000; then n_tt=$((n_tt + 1)); in_range "$tt" 0.6 1 && met_tt=$((met_tt + 1)); fi
      n_fi=$((n_fi + 1)); in_range "$fi" 0.9 1 && met_fi=$((met_fi + 1))
    fi
    echo "| $name | ${touch#auto:} | ${pace:--} | ${tp:--} | ${tf:--} | ${th:--} | ${tt:--} | ${share:--} | $(r3 "$fi") |"
  done
}
met_peak=0 n_peak=0 met_flt=0 n_flt=0 met_tp=0 met_tf=0 n_tau=0 met_tt=0 n_tt=0 met_fi=0 n_fi=0
met_hflt=0 n_hflt=0 met_th=0 n_th=0
in_range() { awk -v r="$1" -v lo="$2" -v hi="$3" 'BEGIN{exit !(r != "" && r >= lo && r <= hi)}'; }
{
  echo "## Replay validity (bench/validate.bench.sh)"
  echo
  echo "Issue 19: \`hak validate\` runs each program live under each allocator ($R runs,"
  echo "interleaved), records it once under glibc (\`hak record --mmap\`: with the"
  echo "program's own mappings, which the replays map too), replays the recording $R"
  echo "times per allocator (\`--touch auto\`: first, pages or pages:F, fitted to the"
  echo "recording's heap samples under glibc; threads as recorded; heap and faults"
  echo "from replays at the program's pace, \`--pace program:D\`, D the live glibc median;"
  echo "time from replays as fast as possible) and compares medians.  Peak heap is"
  echo "heap-only RSS (brk heap + private anonymous mappings: no code, .bss, stacks or"
  echo "files), sampled every 5 ms live, exact in the replay.  Live"
  echo "faults and time are the whole program's after start-up (less those of an empty"
  echo "program run under the same allocator just before), replayed ones the allocation"
  echo "work's; live heap faults are those of the live faults whose address lies in the"
  echo "heap (as heap RSS counts it; perf samples every fault with its address), the"
  echo "like-with-like figure.  (runs): min..max of the runs behind a median; mt_churn"
  echo "is recorded 3 times and its replays' median and range are over all 3 x $R.  2-core"
  echo "machine shared with other jobs (load"
  echo "$(cut -d' ' -f1-3 /proc/loadavg) at the end): times are noisy, heap figures are not."
  echo
  pair_table 1 "${PROGS[@]}"
  echo
  echo "Kendall's tau-b of the allocators' order, live vs replayed (1 = same order).  The"
  echo "allocation share is the glibc replay's time over the glibc live run's: where it"
  echo "is 0.5 or more allocation dominates and the time target (tau >= 0.6) applies."
  echo "Fidelity: the glibc replay's heap timeline against the recording's own heap"
  echo "samples (median over the $R glibc replays)."
  echo
  tau_table 1 "${PROGS[@]}"
  echo
  echo "Targets: peak heap within 10% in $met_peak of $n_peak program/allocator pairs; minor"
  echo "faults within 20% in $met_flt of $n_flt (heap faults: $met_hflt of $n_hflt); tau >= 0.8 by"
  echo "peak heap on $met_tp of $n_tau programs, by faults on $met_tf of $n_tau (heap faults: $met_th of"
  echo "$n_th); by time (where allocation dominates) >= 0.6"
  echo "on $met_tt of $n_tt; fidelity >= 0.9 on $met_fi of $n_fi.  Why each miss happens:"
  echo "README.md, \"What a replay predicts\"."
  if ((${#OUTSIDE[@]})); then
    echo
    echo "Programs outside the study (not counted above): perl (bench/validate/hash_churn.pl)"
    echo "and git (\`git log -p -n 300 $GITREV\` on this repository).  git's live faults are"
    echo "mostly its pack files' (mapped files, not heap)."
    echo
    pair_table 0 "${OUTSIDE[@]}"
    echo
    tau_table 0 "${OUTSIDE[@]}"
  fi
} >"$out"
cat "$out"
exit $status
