# Run-to-run ranges and verdicts for bench/suite.bench.sh (source it).
# The suite's target counts a difference inside the run-to-run range as
# level, so each workload is judged on the ranges of the runs, not on the
# medians alone: hakmem is "ahead" only when its slowest run beats every
# peer's fastest, "behind" when some peer's slowest run beats hakmem's
# fastest, and "level" when the ranges overlap.  Figures are higher-is-better.

# range_of V... -> "MIN MAX" (nothing when no value is given)
range_of() {
  printf '%s\n' "$@" | awk 'NF' | sort -g | awk 'NR==1{lo=$1} {hi=$1} END{ if (NR) print lo, hi }'
}

# verdict_of HAK_MIN HAK_MAX PEER_MIN PEER_MAX -> ahead | level | behind
verdict_of() {
  awk -v hl="$1" -v hh="$2" -v pl="$3" -v ph="$4" \
    'BEGIN{ if (hl + 0 > ph + 0) print "ahead"; else if (hh + 0 < pl + 0) print "behind"; else print "level" }'
}

# suite_verdict HAK_RANGE PEER:RANGE... -> "VERDICT PEER"
# PEER:RANGE is "name:min:max".  The verdict is the worst over all peers:
# behind any peer -> "behind NAME" (the peer whose slowest run is fastest),
# ahead of every peer -> "ahead -", otherwise "level NAME" (the first peer
# whose range overlaps hakmem's).
suite_verdict() {
  local hr=$1; shift
  local hl=${hr% *} hh=${hr#* } worst=ahead wpeer=- wmin="" p name lo hi v
  for p in "$@"; do
    IFS=: read -r name lo hi <<<"$p"
    [[ -z $lo ]] && continue
    v=$(verdict_of "$hl" "$hh" "$lo" "$hi")
    if [[ $v == behind ]]; then
      if [[ $worst != behind ]] || awk -v a="$lo" -v b="$wmin" 'BEGIN{exit !(a > b)}'; then
        worst=behind; wpeer=$name; wmin=$lo
      fi
    elif [[ $v == level && $worst == ahead ]]; then
      worst=level; wpeer=$name
    fi
  done
  echo "$worst $wpeer"
}

# fmt_ops V -> 12.34M / 5.6k / 0.851 (the suite table's number format)
fmt_ops() {
  awk -v v="$1" 'BEGIN{ if (v >= 1e6) printf "%.2fM", v/1e6; else if (v >= 1e3) printf "%.1fk", v/1e3; else printf "%.3g", v }'
}
