#!/usr/bin/env bash
# Hostile inputs for every `hak trace` reader subcommand and the importer:
# empty files, directories, devices, FIFOs, a file without newlines, and a
# corpus trace cut at every 4 KiB boundary.  The rule (docs/DEVELOPING.md):
# one clear line naming the file, a non-zero exit, never a crash, a hang or
# unbounded memory; a cut trace is read up to its last complete chunk with
# a warning and exit 0.
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP" || exit 1

# fails_with NAME PATTERN CMD...: CMD exits 1 with exactly one line on
# stderr, matching PATTERN.  `timeout` is only a hang guard (a hung command
# ends with 124 and fails the check), not a timing assertion.
fails_with() {
  local name=$1 pat=$2; shift 2
  timeout -k 5 60 "$@" >/dev/null 2>"$TMP/.err"; local rc=$?
  if (( rc == 1 )) && [[ $(wc -l < "$TMP/.err") == 1 ]] && grep -qE -- "$pat" "$TMP/.err"; then
    ok "$name"
  else
    not_ok "$name" "exit $rc, stderr: $(head -c 300 "$TMP/.err")"
  fi
}

: > empty.hkt
mkdir adir
mkfifo fifo
for c in info dump stats validate; do
  fails_with "trace $c on an empty file" "^hak trace $c: empty.hkt: offset 0: empty file" \
    hak trace "$c" empty.hkt
  fails_with "trace $c on a directory" "^hak trace $c: adir: is a directory" hak trace "$c" adir
  fails_with "trace $c on /dev/zero refuses the device" "^hak trace $c: /dev/zero: a device" \
    hak trace "$c" /dev/zero
  # The unfixed reader blocked in open() on a FIFO without a writer.
  fails_with "trace $c on a FIFO without a writer does not block" \
    "^hak trace $c: fifo: a FIFO or pipe" hak trace "$c" fifo
done

# --- hak trace import ------------------------------------------------------
fails_with "import of an empty file" "^hak trace import: empty.hkt: no allocation records" \
  hak trace import empty.hkt -o out.hkt
fails_with "import of a directory names it" "^hak trace import: adir: is a directory" \
  hak trace import adir -o out.hkt
# /dev/zero has no newline: the unfixed importer's getline grew one line
# until memory ran out.  The address-space cap makes that a quick failure
# with another message; the fixed one stops at the first 4 KiB.
fails_with "import of /dev/zero stops at its first line" \
  "^hak trace import: /dev/zero:1: binary data \(a NUL byte\)" \
  bash -c 'ulimit -v 400000; exec hak trace import /dev/zero -o out.hkt'
check "a failed import leaves no output" test ! -e out.hkt
head -c 100000 /dev/zero | tr '\0' 'x' > long.txt
fails_with "import of a 100 kB line names the line" \
  "^hak trace import: long.txt:1: line longer than 4096 bytes" hak trace import long.txt -o out.hkt
printf '1: malloc 0x10 8\n1: free 0x10' > nonl.txt
check "import of a file whose last line has no newline" hak trace import -q nonl.txt -o nonl.hkt
check "  keeps that last line" bash -c 'hak trace dump nonl.hkt | grep -q "free 0x10$"'
# A FIFO is a stream for the importer (process substitution, adb pipes).
# (the writer's timeout: it would block in open() for ever if the importer
# never opened the FIFO)
timeout 60 bash -c "printf '5: malloc 0x20 16\n5: free 0x20\n' > fifo" &
check "import reads a FIFO with a writer" timeout -k 5 60 hak trace import -q fifo -o fifo.hkt
wait
check "  and gets its events" bash -c '[[ $(hak trace dump fifo.hkt | wc -l) == 3 ]]'
awk 'BEGIN { for (i = 1; i <= 65537; i++) printf "%d: malloc 0x%x 8\n", i, 16 * i }' > threads.txt
# 65536 threads of one event each: the event sink's per-thread buffers
# started at 256 events (1 GiB for this 1.5 MB input); the cap makes that a
# failure.
fails_with "import of more threads than the format holds names the line" \
  "^hak trace import: threads.txt:65537: more than 65536 threads" \
  bash -c 'ulimit -v 400000; exec hak trace import threads.txt -o out.hkt'

# --- a corpus trace cut at every 4 KiB boundary ----------------------------
# Each cut must be read up to its last complete chunk: exit 0, one warning
# naming the offset X where reading stopped, the chunk at X really does not
# fit in the cut (so nothing readable was dropped), and the events are a
# prefix of the full trace's (single-threaded traces: merged order is file
# order).
check_cuts() {
  local src=$1 full=$2 size bad=0 cuts=0 off c
  size=$(stat -c %s "$src")
  hak trace dump "$src" > "$full"
  for ((off = 4096; off < size; off += 4096)); do
    cuts=$((cuts + 1))
    head -c $off "$src" > cut.hkt
    for c in info stats "validate --allow-prefix"; do
      if ! timeout -k 5 60 hak trace $c cut.hkt > /dev/null 2> cut.err; then
        echo "# $c at $off: exit non-zero: $(head -c 200 cut.err)"; bad=1
      fi
    done
    # without --allow-prefix a cut trace fails validation, cleanly
    timeout -k 5 60 hak trace validate -q cut.hkt > /dev/null 2> cut.err
    if [[ $? != 1 ]] || ! grep -q -- "--allow-prefix" cut.err; then
      echo "# validate at $off: not exit 1 with the --allow-prefix hint: $(head -c 200 cut.err)"; bad=1
    fi
    if ! timeout -k 5 60 hak trace dump cut.hkt > cut.dump 2> cut.err; then
      echo "# dump at $off failed: $(head -c 200 cut.err)"; bad=1; continue
    fi
    local x
    x=$(sed -n 's/.*warning: trace is truncated at offset \([0-9]*\) of '$off':.*/\1/p' cut.err)
    if [[ -z $x || $(wc -l < cut.err) != 1 ]]; then
      echo "# dump at $off: expected one truncation warning, got: $(head -c 200 cut.err)"; bad=1; continue
    fi
    # comp_size of the chunk at X (u32 at X+24), when its header is there
    if (( x + 32 <= off )); then
      local cs
      cs=$(od -An -tu4 -j $((x + 24)) -N4 cut.hkt | tr -d ' ')
      if (( x + 32 + cs <= off )); then
        echo "# at $off the reader stopped at $x, but that chunk ($cs bytes) fits"; bad=1
      fi
    fi
    if ! head -n "$(wc -l < cut.dump)" "$full" | cmp -s - cut.dump; then
      echo "# at $off the events are not a prefix of the full trace's"; bad=1
    fi
  done
  (( bad == 0 && cuts > 1 ))
}
check "python3-json.hkt cut at every 4 KiB: read up to the last complete chunk" \
  check_cuts "$HAK_ROOT/traces/corpus/python3-json.hkt" py.dump
check "gcc-cc1.hkt cut at every 4 KiB: read up to the last complete chunk" \
  check_cuts "$HAK_ROOT/traces/corpus/gcc-cc1.hkt" gcc.dump
