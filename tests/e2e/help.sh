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
