#!/bin/sh
# gen_man.sh HAK OUTDIR VERSION: one man page per command, section 1, made
# from the command's own --help text (so the pages never drift from it):
# hak(1), hak-record(1), hak-db-compare(1), ...
set -eu
hak=$1 out=$2 version=$3
mkdir -p "$out"
page() {   # page NAME "hak sub cmd" SUMMARY
  name=$1 cmd=$2 summary=$3
  # shellcheck disable=SC2086
  help=$($hak ${cmd#hak} --help 2>&1) || true
  {
    printf '.TH %s 1 "" "hakmem %s" "hakmem manual"\n' "$(echo "$name" | tr a-z A-Z)" "$version"
    printf '.SH NAME\n%s \\- %s\n' "$name" "$(printf '%s' "$summary" | sed 's/-/\\-/g')"
    printf '.SH DESCRIPTION\n.nf\n'
    # roff: escape backslashes, protect lines starting with . or '
    printf '%s\n' "$help" | sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
    printf '.fi\n.SH SEE ALSO\nhak(1), hak-db(1), hak-trace(1)\n'
  } > "$out/$name.1"
}
page hak "hak" "record, replay and compare malloc/free streams against allocator builds"
# Commands and subcommands from the help texts' own lists.
$hak --help | sed -n '/^commands:/,/^$/p' | awk 'NF >= 2 && $1 != "commands:" {print $1}' |
while read -r c; do
  sum=$($hak --help | awk -v c="$c" '$1 == c {$1 = ""; sub(/^ +/, ""); print; exit}')
  page "hak-$c" "hak $c" "$sum"
  $hak "$c" --help 2>/dev/null | sed -n '/^subcommands:/,/^$/p' |
    awk 'NF >= 2 && $1 != "subcommands:" {print $1}' | while read -r s; do
      ssum=$($hak "$c" --help | sed -n '/^subcommands:/,/^$/p' | awk -v s="$s" '$1 == s {$1 = ""; sub(/^ +/, ""); print; exit}')
      page "hak-$c-$s" "hak $c $s" "$ssum"
    done
done
