#!/usr/bin/env bash
# `hak report` shows the memory profile of a trace whose views were
# imported (analysis/cli/report_profile.c): leaks, peak consumers and
# temporaries of a program with known answers (views_known), in text and
# HTML, memory over time per call site as a stacked chart
# (report_timeline.c), and interactive flame graphs; the tables, the zoom
# and the chart are exercised in a real headless browser
# (chromium-headless-shell, installed by make check as root via peers-ok;
# else that part skips with the reason).
. "$(dirname "$0")/../../tests/tap.sh"
cd "$TMP" || exit 1
PROG=$HAK_ROOT/build/tests/recorder/progs/views_known
hak record -q --stacks-exact -o vk.hkt -- "$PROG" 5
[[ -s vk.hkt ]] || { not_ok "recording views_known" "no trace"; exit 0; }
hak db import-trace -q --db r.db vk.hkt
check "a replay of it" hak replay vk.hkt --alloc glibc --db r.db -q
txt=$(hak report --db r.db)
check "text: the profile's totals (8 blocks leaked, 7 temporaries)" \
  bash -c 'grep -q "^memory profile: 8 blocks (18.9 KiB) leaked; peak .* live in 18 blocks; 7 temporaries" <<<"$1"' _ "$txt"
check "text: leak_big leads the leaks (3 blocks, 14.0 KiB, largest 8.0 KiB)" \
  bash -c 'grep -A1 "^top call sites, leaks" <<<"$1" | grep -Eq "^ +3 +14.0 KiB +8.0 KiB +leak_big\+0x"' _ "$txt"
check "text: peak_build leads the peak consumers (10 blocks, 976.6 KiB)" \
  bash -c 'grep -A1 "^top call sites, peak consumers" <<<"$1" | grep -Eq "^ +10 +976.6 KiB .*peak_build\+0x"' _ "$txt"
check "text: temp_loop leads the temporaries (7 of 7)" \
  bash -c 'grep -A1 "^top call sites, temporaries" <<<"$1" | grep -Eq "^ +7 +7 +7 +temp_loop\+0x"' _ "$txt"
check "text: memory over time, peak_build the top site, then leak_big and leak_small" \
  bash -c 'grep -A3 "^memory over time: the top call sites" <<<"$1" | tail -3 | sed "s/+0x.*//" | awk "{print \$1, \$NF}" |
           paste -sd" " | grep -qx "#1 peak_build #2 leak_big #3 leak_small"' _ "$txt"

hak report --db r.db --html r.html -q
for sec in "Memory profile" "Leaks: blocks not freed by the end of the trace" \
           "Peak consumers: live at the heap peak" "Temporaries: freed with no other allocation" \
           "Memory over time per call site" "Flame graphs" "bytes allocated: 996.1 KiB in all" "bytes live at the heap peak:" \
           "bytes leaked: 18.9 KiB in all" "allocations: 33 in all"; do
  check "HTML has: $sec" grep -qF "$sec" r.html
done
check "HTML: four flame graphs, the first open" \
  bash -c "[[ \$(grep -c '<svg class=\"flame\"' r.html) == 4 ]] && grep -q '<details class=\"flame\" open>' r.html"
check "HTML: the leaked flame graph has leak_big and leak_small, not peak_build" \
  bash -c "sed -n '/bytes leaked:/,/<\/svg>/p' r.html | grep -q 'data-n=\"leak_big\"' &&
           sed -n '/bytes leaked:/,/<\/svg>/p' r.html | grep -q 'data-n=\"leak_small\"' &&
           ! sed -n '/bytes leaked:/,/<\/svg>/p' r.html | grep -q 'data-n=\"peak_build\"'"
check "HTML: a stacked chart of the top sites, peak_build the first band and legend row" \
  bash -c "grep -q '<svg class=\"timeline\"' r.html && grep -q '<polygon class=\"band\" data-rank=\"1\"' r.html &&
           grep -A1 '<tr data-rank=\"1\">' r.html | grep -q 'peak_build+0x'"
check "HTML: one script (the zoom), inline" \
  bash -c "[[ \$(grep -c '<script>' r.html) == 1 ]] && ! grep -qi '<script [^>]*src' r.html"
check "HTML needs no network (nothing fetched; http only in the SVG namespace)" \
  bash -c "! grep -qiE 'src=|href=\"[^#]|url\\(|@import|fetch\\(|XMLHttpRequest' r.html &&
           ! grep -o 'https\\?://[^\" ]*' r.html | grep -qv '^http://www.w3.org/2000/svg$'"

# A trace replayed but never imported has no profile section.
hak trace synth random-mixed --iters 2000 -q -o rm.hkt
hak replay rm.hkt --alloc glibc --db plain.db -q
hak report --db plain.db --html plain.html -q
check "no views imported: no memory profile, no script" \
  bash -c "! grep -q 'Memory profile' plain.html && ! grep -q '<script' plain.html &&
           ! hak report --db plain.db | grep -q '^memory profile'"

# The zoom, in a real browser: a copy of the page with a script that
# clicks frames and writes what it sees into the page, dumped by
# headless Chromium after the scripts ran.
B=$(command -v chromium-headless-shell || command -v chromium || true)
if [[ -z $B ]]; then
  skip "flame graph zoom in a headless browser" \
    "no chromium-headless-shell or chromium (apt-get install chromium-headless-shell)"
  exit 0
fi
cp r.html t.html
cat >> t.html <<'JS'
<script>
(function(){
  var out = {}, svg = document.querySelector('svg.flame');
  function frame(n){ return svg.querySelector('g.f[data-n="' + n + '"]'); }
  function w(n){ var g = frame(n); return g ? +g.querySelector('rect').getAttribute('width') : -1; }
  function shown(n){ var g = frame(n); return !!g && g.style.display !== 'none'; }
  function click(n){ frame(n).querySelector('rect').dispatchEvent(new MouseEvent('click', {bubbles: true})); }
  out.before = w('leak_big');
  out.label_before = frame('leak_big').querySelector('text').textContent;
  click('leak_big');
  out.zoomed = w('leak_big'); out.main = w('main'); out.peak_hidden = !shown('peak_build');
  out.label = frame('leak_big').querySelector('text').textContent;
  click('all');
  out.after = w('leak_big'); out.peak_back = shown('peak_build');
  var pre = document.createElement('pre'); pre.id = 'hak-test'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
JS
# The chart as drawn: the point in the middle of its height at the heap
# peak's time is peak_build's band (98% of the peak); at the end (19336
# bytes left, 2% of it) the same height is above every band.
cat >> t.html <<'JS'
<script>
(function(){
  var svg = document.querySelector('svg.timeline'), o = {};
  var band = svg.querySelector('polygon[data-rank="1"]');
  var pts = band.getAttribute('points').trim().split(/ +/).map(function(p){ return p.split(',').map(Number); });
  var top = pts.slice(0, pts.length / 2), peak = top[0];
  top.forEach(function(p){ if (p[1] < peak[1]) peak = p; });
  var ys = pts.map(function(p){ return p[1]; }), y0 = Math.max.apply(null, ys), mid = (y0 + peak[1]) / 2;
  function at(x, y){ var q = svg.createSVGPoint(); q.x = x; q.y = y; q = q.matrixTransform(svg.getScreenCTM());
    var e = document.elementFromPoint(q.x, q.y); return e && e.getAttribute('data-rank') !== null ? e.getAttribute('data-rank') : (e ? e.tagName : 'none'); }
  window.scrollTo(0, 0);
  svg.scrollIntoView();
  o.at_peak = at(peak[0], mid);
  o.at_end = at(top[top.length - 1][0] - 1, mid);
  o.bands = svg.querySelectorAll('polygon.band').length;
  // the three tables as rendered: the first row's call site, and that it has a height
  document.querySelectorAll('h3').forEach(function(h){
    var t = h.nextElementSibling, k = h.textContent.split(':')[0].toLowerCase();
    if (!t || t.tagName !== 'TABLE' || !/^(leaks|peak consumers|temporaries)$/.test(k)) return;
    var r = t.rows[1], c = r && r.cells[1].querySelector('code');
    o[k.replace(' ', '_')] = (c ? c.textContent.split('+')[0] : '') + (r && r.getBoundingClientRect().height > 0 ? '' : ' (not drawn)');
  });
  var pre = document.createElement('pre'); pre.id = 'hak-tl'; pre.textContent = JSON.stringify(o);
  document.body.appendChild(pre);
})();
</script>
JS
res=$(timeout 60 "$B" --headless --no-sandbox --disable-gpu --dump-dom "file://$TMP/t.html" 2>/dev/null |
      tee dom.html | grep -o '<pre id="hak-test">[^<]*' | sed 's/.*>//')
tl=$(grep -o '<pre id="hak-tl">[^<]*' dom.html | sed 's/.*>//')
if [[ -z $res ]]; then
  not_ok "flame graph zoom in $B" "no result from the page (did the scripts run?)"
else
  num() { grep -o "\"$1\":[-0-9.]*" <<<"$res" | cut -d: -f2; }
  # leak_big is 14336 of 1020040 bytes: 16.9 px of 1200 before the zoom
  check "browser: leak_big starts narrow ($(num before) px), unlabelled" \
    bash -c '(( $(awk -v w="$1" "BEGIN{print (w > 10 && w < 20)}") )) && grep -q "\"label_before\":\"\"" <<<"$2"' _ "$(num before)" "$res"
  check "browser: a click zooms it to the full width, labelled, its caller main too" \
    bash -c '[[ $1 == 1199.5 && $2 == 1199.5 ]] && grep -q "\"label\":\"leak_big\"" <<<"$3"' _ "$(num zoomed)" "$(num main)" "$res"
  check "browser: its sibling peak_build is hidden while zoomed" grep -q '"peak_hidden":true' <<<"$res"
  check "browser: a click on 'all' zooms back out" \
    bash -c '[[ $1 == "$2" ]] && grep -q "\"peak_back\":true" <<<"$3"' _ "$(num after)" "$(num before)" "$res"
fi
if [[ -z $tl ]]; then
  not_ok "timeline chart in $B" "no result from the page (did the scripts run?)"
else
  check "browser: mid-height at the heap peak's time is peak_build's band (rank 1)" grep -q '"at_peak":"1"' <<<"$tl"
  check "browser: the leaks, peak consumers and temporaries tables drawn, led by leak_big, peak_build, temp_loop" \
    bash -c 'grep -q "\"leaks\":\"leak_big\"" <<<"$1" && grep -q "\"peak_consumers\":\"peak_build\"" <<<"$1" &&
             grep -q "\"temporaries\":\"temp_loop\"" <<<"$1"' _ "$tl"
  check "browser: the same height at the end is above every band" \
    bash -c 'grep -q "\"at_end\":\"svg\"" <<<"$1" && grep -q "\"bands\":[1-9]" <<<"$1"' _ "$tl"
fi
