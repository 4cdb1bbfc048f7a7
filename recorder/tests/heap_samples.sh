#!/usr/bin/env bash
# Heap-only RSS samples in recorded traces (FORMAT.md kind 6, issue 19):
# the recorder samples the memory the program's allocator holds, not its
# code, stacks or files, and not the recorder's own event blocks; a replay
# computes fidelity against them.
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP" || exit 1
MiB=1048576
known=$HAK_ROOT/build/tests/replayer/validate_known
# max and last heap sample (bytes) of a trace, from hak trace info's line
heap_peak() { hak trace info "$1" | sed -n 's/^heap samples: *\([0-9]*\) (peak \(.*\))$/\2/p'; }
to_bytes() { awk -v v="$1" -v u="$2" 'BEGIN { m = u == "GiB" ? 1073741824 : u == "MiB" ? 1048576 : u == "KiB" ? 1024 : 1; printf "%.0f", v * m }'; }

hak record -o known.hkt -- "$known" full >/dev/null 2>&1
check "record of the known program exits 0" test $? = 0
check "its trace has heap samples" grep -q "^heap samples: *[2-9]\|^heap samples: *[1-9][0-9]" <(hak trace info known.hkt)
# The peak of a program that holds its blocks long enough to be sampled on
# a loaded machine (validate_known holds its 16 MiB for 60 ms, which make
# check's load made the samples miss once: 8.2 MiB): heap_known holds 24 MiB
# of written blocks for 400 ms.
hak record -o hk0.hkt -- "$HAK_ROOT/build/tests/recorder/progs/heap_known" >/dev/null 2>&1
read -r v u <<<"$(heap_peak hk0.hkt)"
peak=$(to_bytes "$v" "$u")
check "heap peak is heap_known's 24 MiB of blocks (24..28 MiB, got $v $u)" \
  test "$peak" -ge $((24 * MiB)) -a "$peak" -le $((28 * MiB))
# hak trace info --json states the same peak, in bytes (it had no heap
# figures at all), and null for a trace without heap samples.
jpeak=$(hak trace info --json hk0.hkt | sed -n 's/^ *"heap_peak_bytes": \([0-9]*\).*/\1/p')
check "trace info --json: heap_peak_bytes is the text's peak (${jpeak:-none} bytes vs $v $u)" \
  bash -c "[[ -n '$jpeak' ]] && (( ($jpeak - $peak) * ($jpeak - $peak) < 65536 * 65536 ))"
hak trace synth random-mixed --iters 1000 -o synth.hkt >/dev/null
check "... and null for a trace without heap samples" \
  bash -c "hak trace info --json synth.hkt | grep -q '^ *\"heap_samples\": 0,' && hak trace info --json synth.hkt | grep -q '^ *\"heap_peak_bytes\": null'"
read -r v u <<<"$(hak trace info hk0.hkt | sed -n 's/^rss samples: *[0-9]* (peak \(.*\))$/\1/p')"
rss=$(to_bytes "$v" "$u")
check "... below the whole-process RSS peak ($rss bytes)" test "$peak" -lt "$rss"

# A churning program holds ~80 KiB live; the recorder's event blocks (2 MiB
# each, several per thread) are anonymous memory too, but not the heap.
hak record -o churn.hkt -- "$HAK_ROOT/build/tests/recorder/progs/churn" 4 300 >/dev/null 2>&1
read -r v u <<<"$(heap_peak churn.hkt)"
hpeak=$(to_bytes "$v" "$u")
read -r v u <<<"$(hak trace info churn.hkt | sed -n 's/^rss samples: *[0-9]* (peak \(.*\))$/\1/p')"
rpeak=$(to_bytes "$v" "$u")
check "churn: heap samples leave the recorder's blocks out (heap $hpeak < 12 MiB)" test "$hpeak" -lt $((12 * MiB))
check "... which the RSS samples include (rss $rpeak > heap + 10 MiB)" test "$rpeak" -gt $((hpeak + 10 * MiB))

# Replay fidelity uses the heap samples when a trace has them.
HAK_REPLAY_MIN_TIME=0 hak replay known.hkt "$HAK_ROOT/traces/corpus/sqlite3-workload.hkt" \
  --alloc glibc --db f.db >/dev/null 2>&1
check "fidelity of a trace with heap samples says it used them" \
  test "$(sqlite3 f.db "select m.value > 1 from runs r join traces t on t.id = r.trace_id
          join run_metrics m on m.run_id = r.id and m.name = 'fidelity.recorded_heap_samples'
          where t.path like '%known.hkt'")" = 1
check "... an older trace (corpus) falls back to whole-process RSS (0 heap samples)" \
  test "$(sqlite3 f.db "select cast(m.value as integer) from runs r join traces t on t.id = r.trace_id
          join run_metrics m on m.run_id = r.id and m.name = 'fidelity.recorded_heap_samples'
          where t.path like '%sqlite3-workload.hkt'")" = 0

# The heap samples equal the program's own heap: what the recorder mallocs
# (zstd contexts, the encoder's tables, jobs: rec_arena.c) is not in them.
# heap_known measures its heap-only RSS at its plateau when run alone; the
# recording's peak must match it within 0.25 MiB (zstd level 15: its context
# alone is ~2 MiB, and before the arena the samples were ~10 MiB above).
hk=$HAK_ROOT/build/tests/recorder/progs/heap_known
live=$("$hk" measure)
check "heap_known measures its own heap ($live bytes)" test "${live:-0}" -gt $((24 * MiB))
for i in 1 2 3; do
  hak record --zstd-level 15 -o hk.hkt -- "$hk" >/dev/null 2>&1
  read -r v u <<<"$(heap_peak hk.hkt)"
  got=$(to_bytes "$v" "$u")
  # the peak is printed to 0.1 MiB: allow that rounding on top
  check "recorded heap peak $i ($v $u) is heap_known's own heap $live +- 0.25 MiB (+ 0.05 rounding)" \
    awk -v a="$got" -v b="$live" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.3 * 1048576) }'
done

# A peak shorter than the timed samples are apart (heap_spike: 64 MiB of
# written blocks reached 1 MiB a millisecond, held 2 ms, unmapped): the
# sample taken at each new RSS high (rec_heap.c) sees it.  Timed samples
# alone saw >= 57.6 MiB in 2 of 10 recordings (34.2-64.3 MiB); with them
# every recording read 61.3-64.3 MiB (16 of 16, load 7-8).
for i in 1 2 3; do
  hak record -o spike.hkt -- "$HAK_ROOT/build/tests/recorder/progs/heap_spike" >/dev/null 2>&1
  read -r v u <<<"$(heap_peak spike.hkt)"
  sp=$(to_bytes "$v" "$u")
  check "short heap peak $i is recorded (>= 0.9 of 64 MiB, got $v $u)" test "${sp:-0}" -ge $((64 * MiB * 9 / 10))
done
