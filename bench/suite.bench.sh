#!/usr/bin/env bash
# Workload suite: hakmem against glibc, mimalloc, jemalloc and tcmalloc on
# kinds of programs the alloc bench does not cover (cross-thread
# producer/consumer, thread churn, random cross-thread frees, false sharing,
# large blocks, a mixed small loop, larson-like churn with thread
# hand-over), each a mode of build/bench/workloads (bench/suite/workloads.c),
# plus real programs (python3, sqlite3, gcc) run under LD_PRELOAD.  Every
# figure is the median of HAK_BENCH_REPS (default 5) runs, interleaved
# across allocators.  Real programs are single-threaded, and on a shared
# machine their wall time is mostly time spent waiting for a CPU: they are
# compared on runs per CPU second (user + system time of the program and
# its children, which includes the allocator's page faults and syscalls);
# their wall times are stored and listed too.  Figures go to bench_results ('suite.*') and
# build/bench/suite.md.
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
. bench/suite/ranges.sh
bench_db_init
REPS=${HAK_BENCH_REPS:-5}
W=$PWD/build/bench/workloads
[[ -x $W ]] || { echo "suite.bench: build first (make bench builds it)" >&2; exit 1; }
LIBDIR=/usr/lib/x86_64-linux-gnu
# HAK_SUITE_HAKMEM=PATH measures another build of libhakmem.so as "hakmem" (A/Bs).
HAKLIB=${HAK_SUITE_HAKMEM:-$PWD/build/lib/libhakmem.so}
[[ -e $HAKLIB ]] || { echo "suite.bench: HAK_SUITE_HAKMEM=$HAKLIB: no such file" >&2; exit 2; }
declare -A LIBS=([glibc]="" [hakmem]="$HAKLIB"
                 [mimalloc]="$LIBDIR/libmimalloc.so.2" [jemalloc]="$LIBDIR/libjemalloc.so.2"
                 [tcmalloc]="$LIBDIR/libtcmalloc_minimal.so.4")
ALLOCS=(glibc hakmem)
for p in mimalloc jemalloc tcmalloc; do
  if [[ -e ${LIBS[$p]} ]]; then ALLOCS+=("$p"); else echo "suite.bench: $p not installed, skipped" >&2; fi
done
PEERS=(glibc "${ALLOCS[@]:2}")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/haksuite.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Real-program inputs.
cat > "$WORK/alloc_heavy.py" <<'PY'
import json, random, collections
random.seed(7)
d = {}
for i in range(200000):
    d[str(i)] = [random.random() for _ in range(i % 7)] + ["x" * (i % 300)]
for i in range(0, 200000, 3):
    del d[str(i)]
s = json.dumps(d, sort_keys=True)
c = collections.Counter(len(v) for v in d.values())
t = sorted(((k, len(v)) for k, v in d.items()), key=lambda kv: (kv[1], kv[0]))
print(len(s), sorted(c.items())[:5], t[:3], sum(len(k) for k in d))
PY
cat > "$WORK/workload.sql" <<'SQL'
create table t(a integer primary key, b text, c real);
with recursive n(x) as (select 1 union all select x+1 from n where x<120000)
insert into t select x, printf('%08x', (x * 2654435761) % 4294967296) || x, x*0.5 from n;
create index tb on t(b);
select count(*), sum(c), max(length(b)) from t where a % 7 = 3;
select count(*) from (select b from t order by b limit 50000 offset 100);
select b, count(*) from t group by substr(b, 1, 2) order by 2 desc limit 3;
delete from t where a % 2 = 0; vacuum; select count(*) from t;
SQL
{
  echo '#include <stdio.h>'
  for i in $(seq 1 150); do
    echo "static int f$i(int *a, int n) { int s = 0; for (int i = 0; i < n; i++) { s += a[i] * $i; if (s > 1000) s -= a[(i + $i) % n]; } return s; }"
    echo "struct s$i { int x[$((i % 9 + 1))]; double d; }; int g$i(struct s$i *p) { return p->x[0] + (int)p->d + f$i(p->x, $((i % 9 + 1))); }"
  done
  echo 'int main(void) { int a[10] = {1,2,3,4,5,6,7,8,9,10}; int t = 0;'
  for i in $(seq 1 150); do echo "  t += f$i(a, 10);"; done
  echo '  printf("%d\n", t); return 0; }'
} > "$WORK/gen.c"

# name | kind (wl = workloads mode, exec = real program) | args | what op is
SUITE=(
  "xthread_64b|wl|xthread 10000000|blocks/s (malloc in one thread, free in another)"
  "thread_churn|wl|churn 100|ops/s (2 threads per round, 100 rounds, mixed sizes to 40 KiB)"
  "random_xfree|wl|rxfree 2000000|ops per CPU second (8 B..16 KiB, random cross-thread frees)"
  "false_sharing_passive|wl|fs_passive 4000000|ops/s (malloc+100 writes+free)"
  "false_sharing_active|wl|fs_active 4000000|ops/s (malloc+100 writes+free)"
  "large_2_8mb|wl|large 600|blocks per CPU second (malloc, write every byte, free)"
  "small_loop|wl|small_loop 60000000|ops per CPU second (malloc+free of 8..512 B)"
  "larson_handover|wl|larson 400|ops/s (free+malloc; threads hand over and exit)"
  "python3_dicts|exec|python3 $WORK/alloc_heavy.py|runs per CPU second"
  "sqlite3_insert_query|exec|sqlite3 :memory: -init $WORK/workload.sql .quit|runs per CPU second"
  "gcc_O2_compile|exec|gcc -O2 -S -o - $WORK/gen.c|runs per CPU second"
)

# HAK_SUITE_ONLY="name name..." runs only those workloads (quick A/Bs).
if [[ -n ${HAK_SUITE_ONLY:-} ]]; then
  keep=()
  for s in "${SUITE[@]}"; do [[ " $HAK_SUITE_ONLY " == *" ${s%%|*} "* ]] && keep+=("$s"); done
  (( ${#keep[@]} )) || { echo "suite.bench: HAK_SUITE_ONLY='$HAK_SUITE_ONLY' names no workload" >&2; exit 2; }
  SUITE=("${keep[@]}")
fi
load0=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A OPS RSS OUTSUM WALL VERD=()
BELOW_GLIBC=()
SKIP=()
for ((r = 0; r < REPS; r++)); do
  for s in "${SUITE[@]}"; do
    IFS='|' read -r name kind args what <<<"$s"
    if [[ $kind == exec ]]; then
      prog=${args%% *}
      if ! command -v "$prog" >/dev/null; then [[ $r == 0 ]] && SKIP+=("$name ($prog not installed)"); continue; fi
    fi
    for a in "${ALLOCS[@]}"; do
      out="$WORK/$name.$a.out"
      if [[ $kind == wl ]]; then
        # shellcheck disable=SC2086
        res=$(LD_PRELOAD=${LIBS[$a]} "$W" $args 2>/dev/null)
      else
        # shellcheck disable=SC2086
        res=$(LD_PRELOAD=${LIBS[$a]} "$W" exec "$out" $args 2>/dev/null </dev/null)
        [[ $(awk '$1=="exit"{print $2}' <<<"$res") == 0 ]] || res=""
        [[ -n $res ]] && OUTSUM[$name,$a]=$(md5sum <"$out" | cut -c1-32)
        WALL[$name,$a]+="$(awk '$1=="secs"{print $2}' <<<"$res") "
        res=$(awk '$1=="cpu_secs" && $2 > 0 {print "ops_per_s", 1 / $2} {print}' <<<"$res")
      fi
      OPS[$name,$a]+="$(awk '$1=="ops_per_s"{print $2; exit}' <<<"$res") "
      RSS[$name,$a]+="$(awk '$1=="peak_rss_kb"{print $2}' <<<"$res") "
    done
  done
done

load=$(cut -d' ' -f1-3 /proc/loadavg)
out=build/bench/suite.md
geo_sum=0; geo_n=0
{
  echo "## Workload suite (suite.bench.sh)"
  echo
  echo "Median of $REPS interleaved runs of each workload under LD_PRELOAD of each"
  echo "allocator (load average at the start: $load0, at the end: $load on $(nproc) cores; the machine"
  echo "was shared with other jobs, so wall times are noisy). Throughput: higher is"
  echo "better; peak RSS (VmHWM of the workload, maxrss of a real program): lower"
  echo "is better. Workloads: \`build/bench/workloads\` (bench/suite/workloads.c)."
  echo "Single-threaded workloads and real programs are compared per CPU second"
  echo "(user + system time, page faults included): under load their wall time is"
  echo "mostly waiting for a CPU; real programs' wall times are listed below the table."
  echo
  hdr="| workload | unit |"; sep="|---|---|"
  for a in "${ALLOCS[@]}"; do hdr+=" $a |"; sep+="---:|"; done
  hdr+=" hakmem vs best peer | hakmem runs min-max | best peer runs min-max | verdict (ranges) | peak RSS MB (hakmem / lowest peer) |"
  sep+="---:|---:|---:|---|---:|"
  echo "$hdr"; echo "$sep"
  for s in "${SUITE[@]}"; do
    IFS='|' read -r name kind args what <<<"$s"
    [[ -z ${OPS[$name,hakmem]// /} ]] && continue
    declare -A M=() R=() RG=()
    for a in "${ALLOCS[@]}"; do
      # shellcheck disable=SC2086
      M[$a]=$(median ${OPS[$name,$a]}); R[$a]=$(median ${RSS[$name,$a]})
      # shellcheck disable=SC2086
      RG[$a]=$(range_of ${OPS[$name,$a]}); rr=$(range_of ${RSS[$name,$a]})
      bench_put "suite.$name" "$a" ops_per_s "${M[$a]}" "$what" "$REPS" "runs: ${OPS[$name,$a]}; load $load"
      bench_put "suite.$name" "$a" ops_per_s_min "${RG[$a]% *}" "$what" "$REPS" "slowest run"
      bench_put "suite.$name" "$a" ops_per_s_max "${RG[$a]#* }" "$what" "$REPS" "fastest run"
      bench_put "suite.$name" "$a" peak_rss_kb "${R[$a]}" KiB "$REPS" "runs: ${RSS[$name,$a]}"
      bench_put "suite.$name" "$a" peak_rss_kb_max "${rr#* }" KiB "$REPS" "highest run"
    done
    best=""; bestn=""; low=""; lown=""
    for p in "${PEERS[@]}"; do
      v=${M[$p]}; [[ -z $v ]] && continue
      if [[ -z $best ]] || awk -v a="$v" -v b="$best" 'BEGIN{exit !(a > b)}'; then best=$v; bestn=$p; fi
      v=${R[$p]}
      if [[ -z $low ]] || awk -v a="$v" -v b="$low" 'BEGIN{exit !(a < b)}'; then low=$v; lown=$p; fi
    done
    # Peers by median, best first: the verdict names the best overlapping one.
    byrank=()
    while read -r _ p; do byrank+=("$p:${RG[$p]% *}:${RG[$p]#* }"); done < <(
      for p in "${PEERS[@]}"; do [[ -n ${M[$p]} ]] && echo "${M[$p]} $p"; done | sort -gr)
    read -r vd vpeer <<<"$(suite_verdict "${RG[hakmem]}" "${byrank[@]}")"
    VERD[$vd]+="$name "
    vcode=$(case $vd in ahead) echo 1;; level) echo 0;; *) echo -1;; esac)
    bench_put "suite.$name" hakmem verdict "$vcode" "1 ahead, 0 level, -1 behind" "$REPS" "$vd $vpeer (run ranges against every peer)"
    # "Never below glibc": the same rule against glibc alone.
    gv=$(verdict_of "${RG[hakmem]% *}" "${RG[hakmem]#* }" "${RG[glibc]% *}" "${RG[glibc]#* }")
    [[ $gv == behind ]] && BELOW_GLIBC+=("$name")
    unit=${what%% (*}
    row="| $name | $unit |"
    for a in "${ALLOCS[@]}"; do row+=" $(fmt_ops "${M[$a]}") |"; done
    ratio=$(awk -v h="${M[hakmem]}" -v b="$best" 'BEGIN{printf "%.2f", h/b}')
    geo_sum=$(awk -v g="$geo_sum" -v r="$ratio" 'BEGIN{print g + log(r)}'); geo_n=$((geo_n + 1))
    row+=" $ratio ($bestn) | $(fmt_ops "${RG[hakmem]% *}")-$(fmt_ops "${RG[hakmem]#* }") |"
    row+=" $(fmt_ops "${RG[$bestn]% *}")-$(fmt_ops "${RG[$bestn]#* }") | $vd$([[ $vpeer != - ]] && echo " ($vpeer)") |"
    row+=" $(awk -v h="${R[hakmem]}" -v l="$low" 'BEGIN{printf "%.1f / %.1f", h/1024, l/1024}') ($lown) |"
    echo "$row"
    unset M R RG
  done
  echo
  echo "Geometric mean of hakmem / best peer over the $geo_n workloads: $(awk -v g="$geo_sum" -v n="$geo_n" 'BEGIN{printf "%.2f", exp(g/n)}')"
  echo
  echo "Verdicts from the run ranges (ahead: hakmem's slowest run beats every"
  echo "peer's fastest; behind: some peer's slowest run beats hakmem's fastest;"
  echo "level: the ranges overlap, named peer = best overlapping one by median):"
  for v in ahead level behind; do
    n=$(wc -w <<<"${VERD[$v]:-}")
    echo "- $v: $n${VERD[$v]:+ (${VERD[$v]% })}"
  done
  echo "- below glibc (hakmem's fastest run slower than glibc's slowest): ${BELOW_GLIBC[*]:-none}"
  echo
  echo "Real programs give identical output under every allocator; their wall"
  echo "times (s, medians; waiting for a CPU included) and hakmem / glibc:"
  for s in "${SUITE[@]}"; do
    IFS='|' read -r name kind args what <<<"$s"
    [[ $kind == exec && -n ${OUTSUM[$name,glibc]:-} ]] || continue
    same=identical
    for a in "${ALLOCS[@]}"; do [[ ${OUTSUM[$name,$a]:-} == "${OUTSUM[$name,glibc]}" ]] || same="DIFFERS under $a"; done
    walls=""
    for a in "${ALLOCS[@]}"; do
      # shellcheck disable=SC2086
      w=$(median ${WALL[$name,$a]}); walls+=" $a $(printf %.2f "$w"),"
      bench_put "suite.$name" "$a" wall_secs "$w" s "$REPS" "runs: ${WALL[$name,$a]}"
    done
    # shellcheck disable=SC2086
    wr=$(awk -v h="$(median ${WALL[$name,hakmem]})" -v g="$(median ${WALL[$name,glibc]})" 'BEGIN{printf "%.2f", h/g}')
    echo "- $name: $same; wall${walls%,}; hakmem / glibc $wr"
  done
  for k in "${SKIP[@]}"; do echo "- skipped: $k"; done
  echo
  echo "Repeat: \`bench/run.sh suite\` (HAK_BENCH_REPS=N for more runs)."
} > "$out"
cat "$out"
