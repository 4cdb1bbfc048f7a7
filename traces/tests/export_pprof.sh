#!/usr/bin/env bash
# hak trace export --pprof: the gzipped profile.proto read back by
# `go tool pprof` (Debian's golang-go; make check installs it as root via
# peers-ok, else this skips), its four totals equal to hak trace stats'
# and leaks' figures, on a recording with stacks and file:line
# (views_known), on a 4-thread synthetic trace without stacks and on a
# recorded python3; then bad usage and write failures.
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP" || exit 1
PROG=$HAK_ROOT/build/tests/recorder/progs/views_known

check "export --help: usage, the sample types and examples" \
  bash -c "hak trace export --help | grep -q '^usage: hak trace export --pprof FILE' &&
           hak trace export --help | grep -q inuse_space && hak trace export --help | grep -q '^examples:'"
check "hak trace --help lists export" bash -c "hak trace --help | grep -q '^  export '"
check_fails "export without a format is a usage error" hak trace export x.hkt
hak trace export x.hkt 2> err.txt; rc=$?
check "... exit 2, naming --pprof" bash -c "[[ $rc == 2 ]] && grep -q -- '--pprof FILE' err.txt"
check_fails "export without a trace" hak trace export --pprof out.pb.gz
check_fails "export: missing trace file" hak trace export --pprof out.pb.gz nothere.hkt
check "export: nothing written for a missing trace" test ! -e out.pb.gz

hak trace synth larson --threads 4 --iters 200000 --seed 3 -q -o lar.hkt
hak trace export --pprof /nonexistent-dir/p.pb.gz lar.hkt 2> err.txt; rc=$?
check "export to an unwritable path: exit 1, one line naming the file" \
  bash -c "[[ $rc == 1 ]] && [[ \$(wc -l < err.txt) == 1 ]] && grep -q '/nonexistent-dir/p.pb.gz' err.txt"
if [[ -w /dev/full ]]; then
  hak trace export --pprof /dev/full lar.hkt 2> err.txt; rc=$?
  check "export to a full device: exit 1, 'write failed'" bash -c "[[ $rc == 1 ]] && grep -q 'write failed' err.txt"
fi
check "export --pprof - writes gzip to standard output" \
  bash -c "hak trace export --pprof - lar.hkt | head -c 2 | od -An -tx1 | grep -q '1f 8b'"

if ! command -v go >/dev/null || ! go tool pprof -h >/dev/null 2>&1; then
  skip "go tool pprof reads the profile back" "golang-go is not installed (apt-get install golang-go; make check installs it when root)"
  exit 0
fi
export GOCACHE=$TMP/gocache GOPATH=$TMP/gopath HOME=$TMP   # go must not write elsewhere
# totals FILE: the four totals as go tool pprof -top prints them
totals() {
  local si t out=""
  for si in alloc_objects alloc_space inuse_objects inuse_space; do
    t=$(go tool pprof -top -sample_index=$si -unit=B "$1" 2>/dev/null |
        sed -n 's/.*of \([0-9][0-9]*\)B* total.*/\1/p' | head -1)
    out+="${t:-?} "
  done
  echo "${out% }"
}
# expected TRACE: allocations, bytes, live blocks and bytes at the end
expected() {
  local s l
  s=$(hak trace stats --json "$1") l=$(hak trace leaks --json "$1")
  j() { grep -o "\"$1\": [0-9]*" | head -1 | awk '{print $2}'; }
  echo "$(j allocations <<<"$s") $(j bytes_requested <<<"$s") $(j live_at_end <<<"$s") $(j leaked_bytes <<<"$l")"
}
compare() {   # compare NAME TRACE
  hak trace export --pprof "$2.pb.gz" "$2" 2>/dev/null
  local got want; got=$(totals "$2.pb.gz") want=$(expected "$2")
  if [[ $got == "$want" && $want != *' '' '* ]]; then
    ok "$1: go tool pprof totals equal stats and leaks ($got)"
  else
    not_ok "$1: go tool pprof totals equal stats and leaks" "pprof '$got', hak '$want'"
  fi
}
compare "4-thread larson, no stacks" lar.hkt
check "larson: stackless sites get a named pseudo-frame" \
  bash -c "go tool pprof -top -sample_index=alloc_objects lar.hkt.pb.gz 2>/dev/null | grep -q '\[no stack in the trace\]'"

if [[ -x $PROG ]] && hak record -q --stacks-exact -o vk.hkt -- "$PROG" 5 && [[ -s vk.hkt ]]; then
  compare "views_known (known leaks)" vk.hkt
  go tool pprof -raw vk.hkt.pb.gz > raw.txt 2>/dev/null
  # views_known.c: leak_small leaks 5 blocks of 1000 bytes, leak_big 3 (14336 bytes)
  check "views_known: a sample 5 5000 5 5000 for leak_small's stack" \
    bash -c "grep -Eq '^ +5 +5000 +5 +5000: ' raw.txt"
  check "views_known: a sample 3 14336 3 14336 for leak_big's stack" \
    bash -c "grep -Eq '^ +3 +14336 +3 +14336: ' raw.txt"
  check "views_known: function names, the leaf first" \
    bash -c "go tool pprof -top -sample_index=inuse_space vk.hkt.pb.gz 2>/dev/null | grep -Eq ' leak_big$'"
  check "views_known: the profile carries its mapping with build id" \
    bash -c "grep -A3 '^Mappings' raw.txt | grep -q 'views_known [0-9a-f]\{40\}'"
  if grep -q 'views_known.c:[0-9]' raw.txt; then
    check "views_known: file:line of leak_small's call" \
      bash -c "grep -Eq 'leak_small .*views_known.c:[0-9]+' raw.txt"
  else
    hak trace leaks vk.hkt | grep -q 'views_known.c:' &&
      not_ok "views_known: file:line in the profile" "hak trace leaks shows file:line, the profile does not" ||
      skip "views_known: file:line" "no DWARF line info here (libdw missing?)"
  fi
  hak trace export --no-lines --depth 1 --pprof vk1.pb.gz vk.hkt
  check "--depth 1: one location per sample" \
    bash -c "go tool pprof -raw vk1.pb.gz 2>/dev/null | sed -n '/^Samples:/,/^Locations/p' |
             grep -E '^ +[0-9].*: ' | awk -F: '{n += 1; if (split(\$2, a, \" \") != 1) bad = 1} END {exit bad || n != 5}'"
else
  not_ok "recording views_known" "no trace"
fi
hak record -q -o py.hkt -- python3 -c "import json; print(len(json.dumps(list(range(20000)))))" >/dev/null 2>&1
if [[ -s py.hkt ]]; then compare "recorded python3" py.hkt
else skip "recorded python3" "python3 could not be recorded here"; fi

# A cut-off trace: exported (exit 0, warning), the comment says so.
sz=$(stat -c %s lar.hkt); head -c $((sz / 2)) lar.hkt > cut.hkt
hak trace export --pprof cut.pb.gz cut.hkt 2> err.txt; rc=$?
check "cut-off trace: exit 0 with a warning" bash -c "[[ $rc == 0 ]] && grep -qi 'warning\|cut off\|truncated' err.txt"
check "cut-off trace: the profile's comment says it covers a prefix" \
  bash -c "go tool pprof -raw cut.pb.gz 2>/dev/null | grep -i '^Comment:.*cut off'"
