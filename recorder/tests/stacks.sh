#!/usr/bin/env bash
# Call sites must be exact (README "Call sites"): the recorded stack of
# every allocation equals what a full libunwind unwind at that call gives.
# - issue 17's reproducer: one wrapper reached through one helper from two
#   callers at the same depth must give two sites with the right counts;
# - stack_zoo (wrappers at depths 1..5 from many callers, recursion, C++
#   containers and operator new, callbacks, signal handlers, longjmp and
#   exceptions, threads, fork) recorded with HAKREC_STACKS_VERIFY=1, which
#   unwinds every event again with libunwind and reports each difference;
# - the same program's call-site profile (allocations per symbolised stack)
#   equal to a --stacks-exact recording's, in parent and child;
# - a frame without unwind information: the stack cut and marked there;
# - dlclose then dlopen of another object at the same address;
# - python3 (real code, deep interpreter stacks) under the verifier.
. "$(dirname "$0")/../../tests/tap.sh"

P=$HAK_ROOT/build/tests/recorder/progs
cd "$TMP" || exit 1

# profile TRACE: "allocs % bytes avg frames" per call site, sorted (site
# ids differ between recordings, so they are left out).
profile() {
  hak trace stats --top 100000 --depth 64 "$1" 2>/dev/null | sed -n '/by allocations/,/^$/p' |
    awk '$1 ~ /^[0-9]+$/ { $1 = ""; $2 = ""; print }' | sort
}

hak record -q -o x.hkt -- "$P/xmalloc_callers" >/dev/null
hak trace stats --depth 3 x.hkt >x.stats 2>&1
if grep -Eq '^ +[0-9]+ +[0-9]+ +1,000 .*xmalloc.* <- g.* <- f1' x.stats &&
   grep -Eq '^ +[0-9]+ +[0-9]+ +3,000 .*xmalloc.* <- g.* <- f2' x.stats; then
  ok "xmalloc <- g from f1 and f2 at the same depth: two sites, 1,000 and 3,000 allocations"
else not_ok "xmalloc reached from two callers" "$(sed -n '/by allocations/,/^$/p' x.stats | head -6 | tr '\n' '|')"; fi

# verified LOG NAME MIN_PROCS [MIN_EVENTS]: every process line says 0
# mismatches, most events were walked (not handed to libunwind), and
# there are enough.
verified() {
  local log=$1 name=$2 procs=$3 min=${4:-1000} lines bad
  lines=$(grep -c 'stacks verified:' "$log")
  bad=$(grep -E 'stacks verified:' "$log" | awk -v min="$min" '{ ev = $4; w = $6; mm = $8; if (mm != 0 || ev < min || w * 10 < ev * 9) print }')
  if (( lines >= procs )) && [[ -z $bad ]] && ! grep -q 'stack mismatch' "$log"; then
    ok "$name: every event's stack equals libunwind's ($(grep 'stacks verified:' "$log" | awk '{ e += $4; w += $6 } END { print e " events, " w " walked" }'))"
  else
    not_ok "$name: stacks differ from libunwind's" "$lines process lines; $(grep -E 'mismatch' "$log" | head -3 | tr '\n' '|')"
  fi
}

HAKREC_STACKS_VERIFY=1 hak record -q -o zv.hkt -- "$P/stack_zoo" 40 >zv.out 2>zv.err
verified zv.err "stack_zoo, depth 8, parent + 3 threads + forked child" 2
HAKREC_STACKS_VERIFY=1 hak record -q --stacks=40 -o zv40.hkt -- "$P/stack_zoo" 10 >/dev/null 2>zv40.err
verified zv40.err "stack_zoo, depth 40" 2

hak record -q -o zd.hkt -- "$P/stack_zoo" 40 >/dev/null 2>&1
hak record -q --stacks-exact -o ze.hkt -- "$P/stack_zoo" 40 >/dev/null 2>&1
pd=$(profile zd.hkt); pe=$(profile ze.hkt)
cd_=(zd.*.hkt); ce=(ze.*.hkt)
if [[ -n $pd && $pd == "$pe" ]] && (( $(wc -l <<<"$pd") >= 100 )); then
  ok "stack_zoo: $(wc -l <<<"$pd") call sites, allocations per stack as with --stacks-exact"
else not_ok "stack_zoo: call sites differ from --stacks-exact" "$(diff <(echo "$pd") <(echo "$pe") | head -4 | tr '\n' '|')"; fi
if [[ -f ${cd_[0]} && -f ${ce[0]} ]] && [[ "$(profile "${cd_[0]}")" == "$(profile "${ce[0]}")" ]]; then
  ok "stack_zoo forked child: call sites as with --stacks-exact"
else not_ok "stack_zoo forked child: call sites differ from --stacks-exact"; fi

# A frame without unwind information (stack_zoo's nocfi_call): the stack
# is cut after it and marked, by the walk and after libunwind alike.
cutd=$(hak trace stats --top 100000 --depth 8 zd.hkt | grep -c 'nocfi_call.*<- \[cut: no unwind info\]$')
cute=$(hak trace stats --top 100000 --depth 8 ze.hkt | grep -c 'nocfi_call.*<- \[cut: no unwind info\]$')
if (( cutd >= 1 && cutd == cute )); then ok "frame without unwind info: stack cut and marked there ($cutd site(s), as with --stacks-exact)"
else not_ok "frame without unwind info: not cut and marked" "default $cutd, exact $cute sites"; fi

# An object unloaded and another loaded at its addresses (dlclose): the
# unwind rules learned for the first must not be used for the second.
PL=$HAK_ROOT/build/tests/recorder
HAKREC_STACKS_VERIFY=1 hak record -q -o dl.hkt -- "$P/dl_reload" "$PL/libplug_a.so" "$PL/libplug_b.so" >dl.out 2>dl.err
hak record -q --stacks-exact -o dle.hkt -- "$P/dl_reload" "$PL/libplug_a.so" "$PL/libplug_b.so" >/dev/null 2>&1
if grep -q 'same address: yes' dl.out; then
  verified dl.err "dl_reload: plugin reloaded at the same address" 1 400
  # (the plugin's frame shows as an address: the plugin file is closed)
  if hak trace stats --depth 3 dl.hkt | grep -Eq '^ +[0-9]+ +[0-9]+ +400 .*<- via.* <- main' &&
     hak trace stats --depth 3 dle.hkt | grep -Eq '^ +[0-9]+ +[0-9]+ +400 .*<- via.* <- main'; then
    ok "dl_reload: all 400 plugin allocations from via <- main, also with --stacks-exact"
  else not_ok "dl_reload: plugin call sites wrong" "$(hak trace stats --depth 3 dl.hkt | sed -n '/by allocations/,/^$/p' | sed -n 3,4p | tr '\n' '|')"; fi
else skip "dl_reload" "the loader put the plugins at different addresses: $(cat dl.out dl.err | head -2 | tr '\n' ' ')"; fi

PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
if [[ -n $PY && -x $PY ]]; then
  PYTHONMALLOC=malloc HAKREC_STACKS_VERIFY=1 hak record -q --stacks=16 -o py.hkt -- "$PY" -c '
import json, re
d = {str(i): [i, str(i) * 3] for i in range(3000)}
s = json.dumps(d)
print(len(json.loads(s)), len(re.findall(r"[0-9]+", s)))' >/dev/null 2>py.err
  verified py.err "python3, depth 16" 1
else skip "python3 under the verifier" "python3 not installed"; fi
