#!/usr/bin/env bash
# `hak report`: the text report and the self-contained HTML page over the
# known-content fixture database (see analysis/tests/gen_fixture.c).
. "$(dirname "$0")/../../tests/tap.sh"
db=$TMP/fx.db
"$HAK_ROOT/build/tests/analysis/gen_fixture" "$db" "$TMP/fx.hkt" >/dev/null || { not_ok "fixture"; exit 0; }
out=$(hak report --db "$db" --html "$TMP/r.html")
cmp=$(hak report --db "$db" --base v1 --new v2 --html "$TMP/c.html")
check "text report has a section per trace (incl. an imported trace without runs)" \
  bash -c '[[ $(grep -c "^== " <<<"$1") == 3 ]]' _ "$out"
check "text report marks the best ops/s" bash -c 'grep -q "^mimalloc .*130.00 M/s \*" <<<"$1"' _ "$out"
check "compare report covers the two traces with runs under both labels" \
  bash -c '[[ $(grep -c "^== " <<<"$1") == 2 ]]' _ "$cmp"
check "compare report shows the regression" bash -c 'grep -q "^hakmem .*ops/s.*-16.7%.*REGRESSION" <<<"$1"' _ "$cmp"
check "text report shows failed runs with the reason" bash -c 'grep -q "3 (crashed: killed by SIGSEGV)" <<<"$1"' _ "$cmp"
check "text report has the size histogram and call sites" \
  bash -c 'grep -q "top call sites by bytes" <<<"$1" && grep -q "fixture_load_config" <<<"$1"' _ "$out"
h=$TMP/r.html
check "HTML starts with a doctype and ends with </html>" \
  bash -c "head -1 '$h' | grep -q '^<!DOCTYPE html>' && tail -1 '$h' | grep -q '^</html>$'"
check "compare HTML has the comparison table" grep -qF "What changed: v1 &rarr; v2" "$TMP/c.html"
check "compare HTML flags the regression" grep -q 'class="reg">regression' "$TMP/c.html"
for sec in "Allocators and knob settings" "ops/s</title>" \
           "page faults (minor)</title>" "peak RSS</title>" "RSS over the run (growth above each run's first sample)</title>" \
           "allocations by requested size" "objects by lifetime" "Top call sites by bytes allocated" \
           "Top call sites by short-lived objects" "recorded (original program)"; do
  check "HTML has: $sec" grep -qF "$sec" "$h"
done
check "HTML needs no network (no src/href/url() to anything but its own #anchors)" \
  bash -c "! grep -qiE 'src=|href=\"[^#]|url\\(|@import' '$h'"
check "HTML has a table of contents linking every trace section" \
  bash -c "grep -q '<nav class=\"toc\">' '$h' && for id in \$(grep -o 'section class=\"trace\" id=\"[^\"]*' '$h' | sed 's/.*id=\"//'); do grep -q \"href=\\\"#\$id\\\"\" '$h' || exit 1; done"
check "HTML call sites show the whole stack (callers folded under the site)" \
  bash -c "grep -q '<details><summary><code>fixture_load_config+0x0 (gen_fixture)</code></summary><code class=\"stack\">&larr; main+0x1 (gen_fixture)' '$h'"
check "text report shows the stack under a call site" bash -c 'grep -A1 "fixture_load_config" <<<"$1" | grep -q "<- main+0x1 (gen_fixture)"' _ "$out"
check "settings show their threads mode" bash -c 'grep -q "^mimalloc threads=serial " <<<"$1"' _ "$out"
check "HTML's only scripts are the flame graph's inline zoom (cli/report_profile.c)" \
  bash -c "[[ \$(grep -ci '<script' '$h') == \$(grep -c '^(function(){if(window.hakFlame)return;' '$h') ]] &&
           ! grep -qi '<script [^>]*src' '$h'"
check "every <svg> and <section> is closed" \
  bash -c "[[ \$(grep -o '<svg' '$h' | wc -l) == \$(grep -o '</svg>' '$h' | wc -l) && \$(grep -o '<section' '$h' | wc -l) == \$(grep -o '</section>' '$h' | wc -l) ]]"
if command -v python3 >/dev/null; then
  check "HTML is well-formed (balanced tags)" python3 - "$h" <<'PY'
import sys
from html.parser import HTMLParser
void = {"meta", "br", "img", "hr", "input", "link", "line", "rect", "path", "polyline"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.stack = []
    def handle_starttag(self, tag, attrs):
        if tag not in void: self.stack.append(tag)
    def handle_startendtag(self, tag, attrs): pass
    def handle_endtag(self, tag):
        if tag in void: return
        if not self.stack or self.stack[-1] != tag:
            sys.exit("unbalanced </%s> at line %d, open: %s" % (tag, self.getpos()[0], self.stack[-3:]))
        self.stack.pop()
p = P(); p.feed(open(sys.argv[1]).read()); p.close()
sys.exit("unclosed: %s" % p.stack if p.stack else 0)
PY
else
  skip "HTML is well-formed (balanced tags)" "python3 not installed"
fi
check "--label restricts the runs" bash -c "hak report --db '$db' --label knobs | grep -q '^hakmem HAKMEM_HUGEPAGE=madvise'"
check "--trace restricts the traces" bash -c "[[ \$(hak report --db '$db' --trace python | grep -c '^== ') == 1 ]]"
check "--sweep restricts to the sweep's runs" \
  bash -c "hak report --db '$db' --sweep 1 | grep -q '^hakmem report: .* 9 runs of sweep 1' && [[ \$(hak report --db '$db' --sweep 1 | grep -c '^== ') == 1 ]]"
out=$(hak report --db "$db" --label v1 --by build --base glibc --new hakmem --html "$TMP/b.html")
check "--by build compares two allocators per trace" \
  bash -c 'grep -q "what changes switching build glibc -> hakmem" <<<"$1" && grep -q "^(defaults) .*ops/s .*+20.0%.*better" <<<"$1"' _ "$out"
check "--by build HTML section" grep -q "Switching allocator: glibc &rarr; hakmem" "$TMP/b.html"
check_fails "--by takes label or build" hak report --db "$db" --by nonsense --base a --new b
check_fails "--sweep takes a number" hak report --db "$db" --sweep x
check_fails "a --label matching no run is an error" hak report --db "$db" --label nosuch
check "... naming the filter and the nearest labels" \
  bash -c "hak report --db '$db' --label v3 2>&1 >/dev/null | grep -q \"^hak report: --label 'v3' matches no label .*nearest: 'v1', 'v2'\""
check_fails "a --trace matching no trace is an error" hak report --db "$db" --trace '%'
check_fails "missing database fails cleanly" hak report --db "$TMP/none.db"
check_fails "--base without --new is a usage error" hak report --db "$db" --base v1
check_fails "unwritable --html fails cleanly" hak report --db "$db" --html /nonexistent/dir/r.html
check "hak report --help" bash -c "hak report --help | grep -q '^usage: hak report'"

# The RSS chart is scaled to the replayed heaps: a recorded program whose
# RSS grew far more (its whole runtime) is clipped and says by how much.
big=$TMP/bigrss.db; cp "$db" "$big"
sqlite3 "$big" "INSERT INTO trace_rss(trace_id, idx, t_ns, rss_bytes)
  SELECT (SELECT id FROM traces WHERE hash LIKE 'aaaa%'), idx, t_ns, rss_bytes + idx * 1073741824 FROM trace_rss"
hak report --db "$big" -q --html "$TMP/big.html"
check "RSS chart: the recording that grew 2 GiB is clipped and labelled" \
  grep -q "recorded, clipped (grew 2.00 GiB)" "$TMP/big.html"
check "RSS chart: the y axis is the replays' scale (MiB, not GiB)" \
  bash -c "awk '/id=\"trace-1\"/{f=1} f' '$TMP/big.html' | sed -n '/RSS over the run/,/<\/svg>/p' > '$TMP/chart'; grep -q 'MiB</text>' '$TMP/chart' && ! grep -q 'GiB</text>' '$TMP/chart'"
