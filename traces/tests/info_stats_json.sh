#!/usr/bin/env bash
# hak trace info --json and hak trace stats --json: valid JSON carrying the
# same figures as the text output.
. "$(dirname "$0")/../../tests/tap.sh"
hak trace synth larson --threads 4 --iters 20000 -o "$TMP/l.hkt" >/dev/null
if ! command -v python3 >/dev/null; then skip "JSON checks" "needs python3"; exit 0; fi
j=$(hak trace info --json "$TMP/l.hkt")
check "trace info --json is valid JSON" python3 -c 'import json,sys; json.loads(sys.argv[1])' "$j"
txt_events=$(hak trace info "$TMP/l.hkt" | sed -n 's/^events: *\([0-9,]*\).*/\1/p' | tr -d ,)
check "... with the text output's event count ($txt_events)" \
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["events"] == int(sys.argv[2])' "$j" "$txt_events"
check "... status complete, 4 threads, operations by name" \
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["status"] == "complete" and len(d["threads"]) == 4 and d["operations"]["malloc"] == 20000' "$j"
head -c 20000 "$TMP/l.hkt" > "$TMP/cut.hkt"
j=$(hak trace info --json "$TMP/cut.hkt" 2>/dev/null)
check "a cut trace says truncated, with the offset" \
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["status"] == "truncated" and d["truncation"]["offset"] > 0' "$j"
j=$(hak trace stats --json --top 3 "$TMP/l.hkt")
check "trace stats --json is valid JSON" python3 -c 'import json,sys; json.loads(sys.argv[1])' "$j"
check "... size histogram counts every allocation; lifetimes every freed block" \
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert sum(b["count"] for b in d["sizes"]) == d["allocations"] == 20000; assert sum(b["count"] for b in d["lifetimes_events"]) == d["freed_blocks"] == sum(b["count"] for b in d["lifetimes_ns"])' "$j"
check "... cross-thread frees and at most --top sites per ranking" \
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["cross_thread_frees"] > 0 and len(d["top_sites_by_allocations"]) <= 3 and len(d["top_sites_by_bytes"]) <= 3' "$j"
