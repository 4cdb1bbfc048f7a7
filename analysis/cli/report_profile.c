/* report_profile.c - see report_profile.h. */
#include "report_profile.h"
#include "report_timeline.h"
#include "db_cli.h"
#include "db_table.h"
#include "hak_util.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* ---- the three questions, by call site ---- */

typedef struct pq {
    const char *title, *text_title;
    const char *cols[3];         /* column headers after the call site */
    const char *units[3];        /* "count" or "bytes" */
    const char *sql;             /* site, symbol, frames, 3 values; ?1 = trace */
} pq;

static const pq questions[] = {
    {"Leaks: blocks not freed by the end of the trace", "leaks (not freed by the end of the trace)",
     {"blocks", "bytes", "largest"}, {"count", "bytes", "bytes"},
     "SELECT v.site, s.symbol, s.frames, v.leaked_blocks, v.leaked_bytes, v.leak_largest"
     " FROM trace_site_views v LEFT JOIN trace_sites s USING (trace_id, site)"
     " WHERE v.trace_id = ?1 AND v.leaked_blocks > 0 ORDER BY v.leaked_bytes DESC, v.site"},
    {"Peak consumers: live at the heap peak", "peak consumers (live at the heap peak)",
     {"blocks", "bytes", "allocated in all"}, {"count", "bytes", "bytes"},
     "SELECT v.site, s.symbol, s.frames, v.peak_blocks, v.peak_bytes, v.alloc_bytes"
     " FROM trace_site_views v LEFT JOIN trace_sites s USING (trace_id, site)"
     " WHERE v.trace_id = ?1 AND v.peak_bytes > 0 ORDER BY v.peak_bytes DESC, v.site"},
    {"Temporaries: freed with no other allocation or free in between",
     "temporaries (freed with no other allocation or free in between)",
     {"temporary", "short-lived", "allocations"}, {"count", "count", "count"},
     "SELECT v.site, s.symbol, s.frames, v.temporary, v.short_lived, v.allocs"
     " FROM trace_site_views v LEFT JOIN trace_sites s USING (trace_id, site)"
     " WHERE v.trace_id = ?1 AND (v.temporary > 0 OR v.short_lived > 0)"
     " ORDER BY v.temporary DESC, v.short_lived DESC, v.site"},
};

typedef struct totals {
    int64_t leaked_blocks, leaked_bytes, peak_bytes, peak_blocks, peak_ns, temporary, short_lived;
    int64_t short_events;
    int have_peak_ns;
} totals;

static int load_totals(hakdb *db, int64_t tid, totals *t)
{
    sqlite3_stmt *st;
    if (hakdb_read(db, "SELECT leaked_blocks, leaked_bytes, peak_bytes, peak_blocks, peak_ns, temporary,"
            " short_lived, short_events FROM trace_view_stats WHERE trace_id = ?1", &st))
        return 0;     /* a database from before migration 009 has no such table */
    sqlite3_bind_int64(st, 1, tid);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        t->leaked_blocks = sqlite3_column_int64(st, 0);
        t->leaked_bytes = sqlite3_column_int64(st, 1);
        t->peak_bytes = sqlite3_column_int64(st, 2);
        t->peak_blocks = sqlite3_column_int64(st, 3);
        t->have_peak_ns = sqlite3_column_type(st, 4) != SQLITE_NULL;
        t->peak_ns = sqlite3_column_int64(st, 4);
        t->temporary = sqlite3_column_int64(st, 5);
        t->short_lived = sqlite3_column_int64(st, 6);
        t->short_events = sqlite3_column_int64(st, 7);
    }
    sqlite3_finalize(st);
    return found;
}

static const char *fmt(int64_t v, const char *unit, char *buf, size_t len)
{
    return strcmp(unit, "bytes") ? hak_fmt_count((uint64_t)v, buf, len)
                                 : db_fmt_value((double)v, "bytes", buf, len);
}

void rpt_profile_text(hakdb *db, int64_t tid, FILE *out)
{
    totals t;
    if (!load_totals(db, tid, &t))
        return;
    char a[32], b[32], c[32], d[32], e[32], f[32];
    fprintf(out, "\nmemory profile: %s blocks (%s) leaked; peak %s live in %s blocks; "
            "%s temporaries, %s short-lived (<= %lld events)\n",
            hak_fmt_count((uint64_t)t.leaked_blocks, a, sizeof a),
            db_fmt_value((double)t.leaked_bytes, "bytes", b, sizeof b),
            db_fmt_value((double)t.peak_bytes, "bytes", c, sizeof c),
            hak_fmt_count((uint64_t)t.peak_blocks, d, sizeof d),
            hak_fmt_count((uint64_t)t.temporary, e, sizeof e),
            hak_fmt_count((uint64_t)t.short_lived, f, sizeof f), (long long)t.short_events);
    for (size_t q = 0; q < sizeof questions / sizeof *questions; q++) {
        sqlite3_stmt *st;
        if (hakdb_read(db, questions[q].sql, &st))
            continue;
        sqlite3_bind_int64(st, 1, tid);
        int n = 0;
        while (n < 5 && sqlite3_step(st) == SQLITE_ROW) {
            if (!n++)
                fprintf(out, "top call sites, %s: %s, %s, %s\n", questions[q].text_title,
                        questions[q].cols[0], questions[q].cols[1], questions[q].cols[2]);
            const char *sym = (const char *)sqlite3_column_text(st, 1);
            char safe[600];
            fprintf(out, "  %10s %10s %10s  %s\n",
                    fmt(sqlite3_column_int64(st, 3), questions[q].units[0], a, sizeof a),
                    fmt(sqlite3_column_int64(st, 4), questions[q].units[1], b, sizeof b),
                    fmt(sqlite3_column_int64(st, 5), questions[q].units[2], c, sizeof c),
                    sym ? db_esc(sym, safe, sizeof safe) : "(no stack recorded)");
        }
        sqlite3_finalize(st);
    }
    rp_timeline_text(db, tid, out);
}

static void esc(FILE *o, const char *s)
{
    db_html_str(o, s ? s : "");
}

static void html_question(FILE *o, hakdb *db, int64_t tid, const pq *q)
{
    sqlite3_stmt *st;
    if (hakdb_read(db, q->sql, &st))
        return;
    sqlite3_bind_int64(st, 1, tid);
    int n = 0;
    while (n < RPP_TOP && sqlite3_step(st) == SQLITE_ROW) {
        char a[32];
        if (!n++) {
            fprintf(o, "<h3>%s</h3>\n<table><tr><th class=\"n\">site</th><th>call site</th>", q->title);
            for (int k = 0; k < 3; k++)
                fprintf(o, "<th class=\"n\">%s</th>", q->cols[k]);
            fputs("</tr>\n", o);
        }
        fprintf(o, "<tr><td class=\"n\">%lld</td><td>", (long long)sqlite3_column_int64(st, 0));
        const char *sym = (const char *)sqlite3_column_text(st, 1);
        const char *frames = (const char *)sqlite3_column_text(st, 2);
        const char *more = frames ? strstr(frames, " <- ") : NULL;
        if (more) {   /* the whole stack, folded (no script needed) */
            fputs("<details><summary><code>", o);
            esc(o, sym ? sym : "?");
            fputs("</code></summary><code class=\"stack\">", o);
            for (const char *p = more; p;) {
                p += 4;
                const char *e = strstr(p, " <- ");
                char one[512];
                size_t len = e ? (size_t)(e - p) : strlen(p);
                snprintf(one, sizeof one, "%.*s", (int)(len < sizeof one ? len : sizeof one - 1), p);
                fputs("&larr; ", o);
                esc(o, one);
                fputs("<br>", o);
                p = e;
            }
            fputs("</code></details>", o);
        } else {
            fputs("<code>", o);
            esc(o, sym ? sym : "(no stack recorded)");
            fputs("</code>", o);
        }
        fputs("</td>", o);
        for (int k = 0; k < 3; k++)
            fprintf(o, "<td class=\"n\">%s</td>", fmt(sqlite3_column_int64(st, 3 + k), q->units[k],
                                                      a, sizeof a));
        fputs("</tr>\n", o);
    }
    if (n)
        fputs("</table>\n", o);
    sqlite3_finalize(st);
}

/* ---- the flame graph ---- */

typedef struct fnode {
    char *name;
    uint64_t value;
    struct fnode **kid;
    size_t nkid, capkid;
} fnode;

static fnode *child(fnode *p, const char *name, size_t len)
{
    for (size_t i = 0; i < p->nkid; i++)
        if (strlen(p->kid[i]->name) == len && !memcmp(p->kid[i]->name, name, len))
            return p->kid[i];
    if (p->nkid == p->capkid) {
        size_t c = p->capkid ? 2 * p->capkid : 4;
        fnode **k = realloc(p->kid, c * sizeof *k);
        if (!k)
            return NULL;
        p->kid = k;
        p->capkid = c;
    }
    fnode *n = calloc(1, sizeof *n);
    if (!n || !(n->name = strndup(name, len))) {
        free(n);
        return NULL;
    }
    return p->kid[p->nkid++] = n;
}

static void free_tree(fnode *n)
{
    for (size_t i = 0; i < n->nkid; i++)
        free_tree(n->kid[i]);
    free(n->kid);
    free(n->name);
    free(n);
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(fnode *const *)a)->name, (*(fnode *const *)b)->name);
}

static int depth_of(fnode *n, uint64_t min)
{
    int d = 0;
    for (size_t i = 0; i < n->nkid; i++)
        if (n->kid[i]->value >= min) {
            int k = depth_of(n->kid[i], min);
            if (k > d)
                d = k;
        }
    return d + 1;
}

enum { FW = 1200, FH = 17 };

typedef struct flame_out {
    FILE *o;
    uint64_t total, min;
    int height;              /* px */
    const char *unit;
    size_t emitted;
} flame_out;

/* A frame's label cut to what fits in px pixels (about 7 px a character),
 * not inside a UTF-8 sequence.  "" when under 3 characters fit. */
static void fit_label(const char *name, double px, char *buf, size_t len)
{
    long fit = (long)((px - 6) / 7);
    size_t n = strlen(name);
    if (fit < 3) {
        buf[0] = 0;
        return;
    }
    if ((size_t)fit >= n) {
        snprintf(buf, len, "%s", name);
        return;
    }
    size_t keep = (size_t)fit - 2;
    while (keep && ((unsigned char)name[keep] & 0xC0) == 0x80)
        keep--;
    snprintf(buf, len, "%.*s..", (int)keep, name);
}

static void color_of(const char *name, char out[8])
{
    uint64_t h = hak_hash64(name, strlen(name), 7);
    snprintf(out, 8, "#%02x%02x%02x", 205 + (unsigned)(h % 50), 90 + (unsigned)((h >> 8) % 130),
             40 + (unsigned)((h >> 16) % 40));
}

static void emit(flame_out *f, fnode *n, uint64_t x, int depth)
{
    if (f->emitted >= 20000)
        return;
    f->emitted++;
    double fx = (double)x / (double)f->total, fw = (double)n->value / (double)f->total;
    double px = fw * FW;
    char label[512], col[8], v[32];
    fit_label(n->name, px, label, sizeof label);
    color_of(n->name, col);
    fprintf(f->o, "<g class=\"f\" data-x=\"%.9f\" data-w=\"%.9f\" data-d=\"%d\" data-n=\"", fx, fw, depth);
    esc(f->o, n->name);
    fputs("\"><title>", f->o);
    esc(f->o, n->name);
    fprintf(f->o, " (%s, %.2f%%)</title><rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" rx=\"2\" "
            "fill=\"%s\"/><text x=\"%.1f\" y=\"%d\">", fmt((int64_t)n->value, f->unit, v, sizeof v),
            100 * fw, fx * FW, f->height - (depth + 1) * FH, px > 0.6 ? px - 0.5 : 0.1, FH - 1,
            depth ? col : "#e5e7eb", fx * FW + 3, f->height - depth * FH - 5);
    esc(f->o, label);
    fputs("</text></g>\n", f->o);
    qsort(n->kid, n->nkid, sizeof *n->kid, by_name);
    uint64_t cx = x;
    for (size_t i = 0; i < n->nkid; i++) {
        if (n->kid[i]->value >= f->min)
            emit(f, n->kid[i], cx, depth + 1);
        cx += n->kid[i]->value;
    }
}

/* One flame graph of column col of trace_flame; nothing when all zero. */
static void flame(FILE *o, hakdb *db, int64_t tid, const char *col, const char *title,
                  const char *unit, int open)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT stack, %s FROM trace_flame WHERE trace_id = ?1 AND %s > 0",
             col, col);
    sqlite3_stmt *st;
    if (hakdb_read(db, sql, &st))
        return;
    sqlite3_bind_int64(st, 1, tid);
    fnode *root = calloc(1, sizeof *root);
    int oom = !root || !(root->name = strdup("all"));
    while (!oom && sqlite3_step(st) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        uint64_t w = (uint64_t)sqlite3_column_int64(st, 1);
        fnode *n = root;
        root->value += w;
        for (const char *p = s; n && p && *p;) {
            const char *e = strchr(p, ';');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            if ((n = child(n, p, len)))
                n->value += w;
            p = e ? e + 1 : NULL;
        }
        oom = !n;
    }
    sqlite3_finalize(st);
    if (!oom && root->value) {
        flame_out f = {o, root->value, (uint64_t)((double)root->value * RPP_MIN_FRACTION), 0, unit, 0};
        if (!f.min)
            f.min = 1;
        int levels = depth_of(root, f.min);
        f.height = levels * FH + 2;
        char v[32];
        fprintf(o, "<details class=\"flame\"%s><summary>%s: %s in all</summary>\n", open ? " open" : "",
                title, fmt((int64_t)root->value, unit, v, sizeof v));
        fprintf(o, "<svg class=\"flame\" data-width=\"%d\" viewBox=\"0 0 %d %d\" width=\"100%%\" "
                   "role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">\n", FW, FW, f.height);
        emit(&f, root, 0, 0);
        fputs("</svg>\n</details>\n", o);
    }
    if (root)
        free_tree(root);
}

/* Zooms a flame graph to the clicked frame: its descendants spread over
 * the width, its ancestors span it, the rest is hidden; 'all' (the root)
 * zooms back out.  Labels are re-cut to the new widths. */
static const char *const zoom_js =
    "<script>\n"
    "(function(){if(window.hakFlame)return;window.hakFlame=1;\n"
    "function fit(n,px){var c=Math.floor((px-6)/7);if(c<3)return '';return n.length<=c?n:n.slice(0,c-2)+'..';}\n"
    "function zoom(g){var s=g.closest('svg'),W=+s.getAttribute('data-width'),x0=+g.dataset.x,"
    "w0=+g.dataset.w,d0=+g.dataset.d,e=1e-9;\n"
    " s.querySelectorAll('g.f').forEach(function(f){var x=+f.dataset.x,w=+f.dataset.w,d=+f.dataset.d,nx,nw;\n"
    "  if(d<d0){if(x<=x0+e&&x+w>=x0+w0-e){nx=0;nw=1;}else{f.style.display='none';return;}}\n"
    "  else if(x>=x0-e&&x+w<=x0+w0+e){nx=(x-x0)/w0;nw=w/w0;}else{f.style.display='none';return;}\n"
    "  var r=f.querySelector('rect'),t=f.querySelector('text'),px=nw*W;f.style.display='';\n"
    "  r.setAttribute('x',(nx*W).toFixed(1));r.setAttribute('width',Math.max(px-0.5,0.1).toFixed(1));\n"
    "  t.setAttribute('x',(nx*W+3).toFixed(1));t.textContent=fit(f.dataset.n,px);});\n"
    " s.setAttribute('data-zoom',g.dataset.n);}\n"
    "document.addEventListener('click',function(ev){var g=ev.target.closest&&ev.target.closest('svg.flame g.f');"
    "if(g)zoom(g);});})();\n"
    "</script>\n";

static const char *const flame_css =
    "<style>svg.flame{font:11px ui-monospace,Menlo,monospace;background:#fff;cursor:pointer}"
    "svg.flame text{fill:#1f2328;pointer-events:none}svg.flame g.f:hover rect{stroke:#111;stroke-width:.6}"
    "details.flame{margin:6px 0}details.flame summary{font-weight:600;color:#334155;cursor:pointer}</style>\n";

void rpt_profile_html(hakdb *db, int64_t tid, FILE *o)
{
    totals t;
    if (!load_totals(db, tid, &t))
        return;
    char a[32], b[32], c[32], d[32];
    fputs("<h3>Memory profile</h3>\n<p class=\"meta\">", o);
    fprintf(o, "%s blocks (%s) not freed by the end of the trace; peak %s live in %s blocks",
            hak_fmt_count((uint64_t)t.leaked_blocks, a, sizeof a),
            db_fmt_value((double)t.leaked_bytes, "bytes", b, sizeof b),
            db_fmt_value((double)t.peak_bytes, "bytes", c, sizeof c),
            hak_fmt_count((uint64_t)t.peak_blocks, d, sizeof d));
    if (t.have_peak_ns)
        fprintf(o, " at %s", db_fmt_value((double)t.peak_ns, "ns", a, sizeof a));
    fprintf(o, "; %s temporaries, %s blocks freed within %lld events. The same figures: "
               "<code>hak trace leaks|peak|temporaries|flame</code>, "
               "<code>analysis/queries/leaks.sql</code> and its neighbours.</p>\n",
            hak_fmt_count((uint64_t)t.temporary, b, sizeof b),
            hak_fmt_count((uint64_t)t.short_lived, c, sizeof c), (long long)t.short_events);
    for (size_t q = 0; q < sizeof questions / sizeof *questions; q++)
        html_question(o, db, tid, &questions[q]);
    rp_timeline_html(db, tid, o);
    fputs("<h3>Flame graphs</h3>\n<p class=\"meta\">Call stacks from the root (bottom) to the "
          "allocating function; a frame's width is its share. Click a frame to zoom in, "
          "<b>all</b> to zoom out; hover for figures.</p>\n", o);
    fputs(flame_css, o);
    fputs(zoom_js, o);
    flame(o, db, tid, "alloc_bytes", "bytes allocated", "bytes", 1);
    flame(o, db, tid, "peak_bytes", "bytes live at the heap peak", "bytes", 0);
    flame(o, db, tid, "leaked_bytes", "bytes leaked", "bytes", 0);
    flame(o, db, tid, "allocs", "allocations", "count", 0);
}
