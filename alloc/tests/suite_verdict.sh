#!/usr/bin/env bash
# bench/suite/ranges.sh: the suite's verdicts come from run-to-run ranges.
# "level" only when hakmem's range overlaps a peer's; "behind" as soon as
# one peer's slowest run beats hakmem's fastest, even when that peer is not
# the best by median; "ahead" only when hakmem's slowest beats every fastest.
. "$(dirname "$0")/../../tests/tap.sh"
. "$HAK_ROOT/bench/suite/ranges.sh"
eq() { local name=$1 want=$2 got=$3; if [[ $got == "$want" ]]; then ok "$name"; else not_ok "$name" "want '$want', got '$got'"; fi; }

eq "range of unsorted runs, empty values ignored" "0.97 10" "$(range_of 3 0.97 2 10 '')"
eq "range of no runs is empty" "" "$(range_of '' '')"
eq "range compares numbers, not strings" "9 100" "$(range_of 100 9 50)"
eq "ahead: slowest hakmem run beats every peer's fastest" "ahead -" "$(suite_verdict '5 7' a:1:4 b:2:4.9)"
eq "level: ranges overlap (touching counts)" "level b" "$(suite_verdict '5 7' b:7:9 a:1:4)"
eq "level names the first overlapping peer (best by median)" "level b" "$(suite_verdict '5 7' b:6:8 c:4:6 a:1:4)"
eq "behind: a peer's slowest run beats hakmem's fastest" "behind b" "$(suite_verdict '5 7' a:1:4 b:7.5:9)"
eq "behind beats level even when the overlapping peer has the best median" "behind c" "$(suite_verdict '5 7' b:3:20 c:7.1:8)"
eq "behind names the peer with the fastest slowest run" "behind c" "$(suite_verdict '5 7' b:8:9 c:8.5:8.6)"
eq "a peer without runs is ignored" "ahead -" "$(suite_verdict '5 7' a:: b:1:2)"
eq "verdict_of is numeric (1e6 vs 9e5)" "ahead" "$(verdict_of 1e6 2e6 8e5 9e5)"
eq "fmt_ops millions" "12.35M" "$(fmt_ops 12345678)"
eq "fmt_ops small" "0.851" "$(fmt_ops 0.8512)"
