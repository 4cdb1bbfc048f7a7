#!/usr/bin/env bash
# Every command and subcommand has man-page style help: --help and -h exit
# 0, print to stdout only, start with a synopsis and end with examples.
. "$(dirname "$0")/../tap.sh"
subs() { awk -v h="$1:" '$0==h{f=1;next} f&&!NF{f=0} f{print $1}'; }
cmds=$(hak --help | subs commands)
for c in $cmds; do
  all+=("$c")
  case $c in
    trace|db) for s in $(hak "$c" --help | subs subcommands); do all+=("$c $s"); done ;;
  esac
done
check "found the trace and db subcommands" bash -c '(( $1 >= 20 ))' _ "${#all[@]}"
for c in "${all[@]}"; do
  for h in --help -h; do
    # shellcheck disable=SC2086
    out=$(hak $c $h 2>"$TMP/err"); rc=$?
    if (( rc == 0 )) && [[ ! -s $TMP/err ]] && grep -q '^usage: hak ' <<<"$out" \
       && grep -qiE '^examples?:' <<<"$out"; then ok "hak $c $h: synopsis and examples"
    else not_ok "hak $c $h: synopsis and examples" "exit $rc, $(wc -c <"$TMP/err") bytes on stderr"; fi
  done
done

# One dispatch rule at every level (traces/common/hak_cmd.h): `help NAME`
# shows NAME's help, an unknown NAME is a one-line error and exit 2 (not
# the usage and exit 0), and no subcommand is the usage on stderr, exit 2.
for lvl in "" "trace " "db "; do
  # shellcheck disable=SC2086
  hak ${lvl}help bogus >"$TMP/out" 2>"$TMP/err"; rc=$?
  check "hak ${lvl}help bogus: exit 2, one line naming it" \
    bash -c '(( $1 == 2 )) && [[ ! -s $2 ]] && (( $(wc -l <"$3") == 1 )) && grep -q bogus "$3"' _ "$rc" "$TMP/out" "$TMP/err"
done
for pair in "help db:usage: hak db " "trace help leaks:usage: hak trace leaks" "db help runs:usage: hak db runs"; do
  # shellcheck disable=SC2086
  out=$(hak ${pair%%:*} 2>/dev/null); rc=$?
  check "hak ${pair%%:*}: the named command's help" bash -c '(( $1 == 0 )) && grep -q "^$2" <<<"$3"' _ "$rc" "${pair#*:}" "$out"
done
for lvl in trace db; do
  hak $lvl >"$TMP/out" 2>"$TMP/err"; rc=$?
  check "hak $lvl alone: the usage on stderr, exit 2" \
    bash -c '(( $1 == 2 )) && [[ ! -s $2 ]] && grep -q "^usage: hak $3" "$4"' _ "$rc" "$TMP/out" "$lvl" "$TMP/err"
done

# The bash completion offers exactly the commands and subcommands the
# command tables have (analysis/hak/hak.bash-completion).
comp_words() {   # WORDS offered after `hak $1` (empty: the first word)
  bash -c '. "$1"; COMP_WORDS=(hak $2 ""); COMP_CWORD=${#COMP_WORDS[@]}; ((COMP_CWORD--)); _hak;
           printf "%s\n" "${COMPREPLY[@]}"' _ "$HAK_ROOT/analysis/hak/hak.bash-completion" "$1" |
    grep -v '^--' | sort | tr '\n' ' '
}
for lvl in "" trace db; do
  # shellcheck disable=SC2086
  want=$(hak $lvl --help | subs "$([[ -z $lvl ]] && echo commands || echo subcommands)" | sort | tr '\n' ' ')
  got=$(comp_words "$lvl")
  check "completion of 'hak ${lvl:+$lvl }' offers exactly the table's names" test "$got" = "$want"
done
