#!/usr/bin/env bash
# alloc/KNOBS.md documents exactly the knobs of alloc/hak_knobs_table.h: one
# row per knob, whose name and "values (default first)" cells are the ones
# generated from the table (knob_probe table), and no row for anything else.
. "$(dirname "$0")/../../tests/tap.sh"
P=$HAK_ROOT/build/tests/alloc/knob_probe
MD=$HAK_ROOT/alloc/KNOBS.md
"$P" table >"$TMP/gen" || { not_ok "knob_probe table runs"; exit 0; }
n=$(wc -l <"$TMP/gen")
check "the table has knobs ($n)" test "$n" -gt 0
while IFS= read -r row; do
  name=$(sed -E 's/^\| `([A-Z_]+)`.*/\1/' <<<"$row")
  if grep -qF -- "$row" "$MD"; then ok "KNOBS.md: $name row matches the table"
  else not_ok "KNOBS.md: $name row matches the table" "expected a row starting: $row; found: $(grep -F "\`$name\`" "$MD" | grep '^| `' | cut -c1-120)"; fi
done <"$TMP/gen"
grep -oE '^\| `HAKMEM_[A-Z_]+`' "$MD" | sed 's/^| `//; s/`$//' | sort >"$TMP/doc"
sed -E 's/^\| `([A-Z_]+)`.*/\1/' "$TMP/gen" | sort >"$TMP/tab"
check "KNOBS.md has no row for a knob the table lacks ($(comm -23 "$TMP/doc" "$TMP/tab" | tr '\n' ' '))" \
  test -z "$(comm -23 "$TMP/doc" "$TMP/tab")"
check "every knob has exactly one row" test "$(wc -l <"$TMP/doc")" = "$n"
