#!/usr/bin/env bash
# recorder/README.md's table of HAKREC_* variables lists exactly the
# variables the recorder's one parser knows (the knobs[] table of
# recorder/rec_config.c), so an unknown-variable warning that sends a user
# to the README finds every name there (HAKREC_ROTATE was missing).
. "$(dirname "$0")/../../tests/tap.sh"
src=$HAK_ROOT/recorder/rec_config.c
md=$HAK_ROOT/recorder/README.md
grep -oE '^ *\{"HAKREC_[A-Z_]+", k_' "$src" | grep -oE 'HAKREC_[A-Z_]+' | sort -u >"$TMP/table"
grep -oE '^\| `HAKREC_[A-Z_]+`' "$md" | grep -oE 'HAKREC_[A-Z_]+' | sort -u >"$TMP/doc"
n=$(wc -l <"$TMP/table")
check "the parser's table has variables ($n)" test "$n" -ge 15
check "README lists every variable of the table (missing: $(comm -23 "$TMP/table" "$TMP/doc" | tr '\n' ' '))" \
  test -z "$(comm -23 "$TMP/table" "$TMP/doc")"
check "README lists none the table lacks (extra: $(comm -13 "$TMP/table" "$TMP/doc" | tr '\n' ' '))" \
  test -z "$(comm -13 "$TMP/table" "$TMP/doc")"
