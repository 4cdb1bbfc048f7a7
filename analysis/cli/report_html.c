/* report_html.c - the self-contained HTML page of `hak report --html`:
 * inline CSS and SVG, no network; one small script, the flame graph's zoom
 * (cli/report_profile.c).  Sections per trace: headline verdicts, the
 * settings table, the base/new comparison, bar charts, RSS timelines
 * overlaid with the recorded one, histograms, call sites and the memory
 * profile (leaks, peak consumers, temporaries, flame graphs). */
#include "report.h"
#include "report_validation.h"
#include "report_profile.h"
#include "report_svg.h"
#include "hak_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const css =
    "body{font:14px/1.45 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1f2328;"
    "margin:0;background:#f6f8fa}"
    "header{background:#0f172a;color:#e2e8f0;padding:18px 32px}"
    "header h1{margin:0 0 4px;font-size:22px;color:#fff}"
    "header .meta{color:#94a3b8;font-size:12.5px}"
    "main{padding:8px 32px 32px;max-width:1240px}"
    "section.trace{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px 20px;margin:18px 0}"
    "h2{margin:0 0 2px;font-size:19px}h3{font-size:14.5px;margin:18px 0 6px;color:#334155}"
    ".hash{font:12px ui-monospace,Menlo,monospace;color:#64748b;font-weight:normal}"
    ".meta{color:#57606a;font-size:12.5px}"
    ".cards{display:flex;gap:10px;flex-wrap:wrap;margin:12px 0}"
    ".card{border:1px solid #d0d7de;border-left:4px solid #2563eb;border-radius:6px;padding:8px 12px;min-width:200px;background:#fbfcfd}"
    ".card .k{font-size:11.5px;color:#57606a;text-transform:uppercase;letter-spacing:.04em}"
    ".card .v{font-size:16px;font-weight:600}.card .s{font-size:12px;color:#57606a}"
    "table{border-collapse:collapse;font-size:13px;margin:4px 0 8px}"
    "th{background:#f1f5f9;text-align:left;font-weight:600;border-bottom:2px solid #cbd5e1}"
    "th,td{padding:4px 10px;border-bottom:1px solid #e5e7eb;white-space:nowrap}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    "td.name{white-space:normal;max-width:340px}.scroll{overflow-x:auto}"
    "td.best{background:#dcfce7;font-weight:600}td.na{color:#94a3b8;text-align:right}"
    "td.fail{color:#b91c1c}.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}"
    ".reg{color:#b91c1c;font-weight:700}.imp{color:#15803d;font-weight:700}.same{color:#57606a}"
    ".charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:18px 28px;margin-top:10px}"
    "svg.chart{background:#fff;font-family:inherit;width:100%;height:auto}"
    "svg .ct{font-size:13px;font-weight:600;fill:#1f2328}svg .cn{font-size:11px;fill:#57606a}"
    "svg .ax{font-size:10.5px;fill:#57606a}svg .vert{writing-mode:vertical-rl}"
    "svg .lb{font-size:11.5px;fill:#1f2328}svg .lb.best{font-weight:700}"
    "svg .val{font-size:11px;fill:#334155}svg .val.best{font-weight:700;fill:#111}"
    "svg .na{font-size:11px;fill:#94a3b8;font-style:italic}svg .lg{font-size:11px;fill:#334155}"
    "svg .grid{stroke:#e5e7eb;stroke-width:1}svg .wh{stroke:#111;stroke-width:1.2;fill:none}"
    "code{font:12px ui-monospace,Menlo,monospace;background:#f1f5f9;padding:1px 4px;border-radius:3px}"
    "footer{color:#57606a;font-size:12px;padding:0 32px 24px}";

static void esc(FILE *o, const char *s)
{
    db_html_str(o, s ? s : "");
}

static void card(FILE *o, const char *key, const char *value, const char *sub, const char *color)
{
    fprintf(o, "<div class=\"card\" style=\"border-left-color:%s\"><div class=\"k\">", color);
    esc(o, key);
    fputs("</div><div class=\"v\">", o);
    esc(o, value);
    fputs("</div><div class=\"s\">", o);
    esc(o, sub);
    fputs("</div></div>\n", o);
}

/* Headline cards: best setting per metric and its margin over the next. */
static void cards(FILE *o, const rpt_trace *t)
{
    static const char *const keys[RPT_NMETRIC] = {"fastest (ops/s)", "fewest page faults",
                                                 "smallest peak RSS", "lowest p99 latency",
                                                 "fewest dTLB misses (sim)", ""};
    fputs("<div class=\"cards\">\n", o);
    for (int k = 0; k < RPT_NMETRIC; k++) {
        int b = t->best[k];
        if (b < 0)
            continue;
        const rpt_setting *s = &t->s[b];
        int runner = -1;
        for (size_t i = 0; i < t->ns; i++) {
            if ((int)i == b || !t->s[i].m[k].n)
                continue;
            if (runner < 0 || (k == 0 ? t->s[i].m[k].median > t->s[runner].m[k].median
                                      : t->s[i].m[k].median < t->s[runner].m[k].median))
                runner = (int)i;
        }
        char v[96], sub[256], a[40];
        snprintf(v, sizeof v, "%s", s->name);
        if (runner >= 0) {
            const db_summary *x = &s->m[k], *y = &t->s[runner].m[k];
            db_change c = db_metric_deterministic(rpt_metric[k]) ? db_compare_exact(y, x, k == 0, 0.0)
                                                                : db_compare(y, x, k == 0, 0.02);
            double ratio = k == 0 ? x->median / y->median : y->median / x->median;
            snprintf(sub, sizeof sub, "%s; %.2fx vs %s (%s)", db_fmt_value(x->median, t->unit[k], a, sizeof a),
                     ratio, t->s[runner].name,
                     x->median == y->median ? "tie"
                     : c.verdict == DB_BETTER ? (db_metric_deterministic(rpt_metric[k]) ? "deterministic" : "beyond noise")
                     : c.verdict == DB_SAME ? (db_metric_deterministic(rpt_metric[k]) ? "tie" : "within noise")
                     : "1 run: unsure");
        } else {
            snprintf(sub, sizeof sub, "%s; only setting measured", db_fmt_value(s->m[k].median, t->unit[k], a, sizeof a));
        }
        card(o, keys[k], v, sub, s->color);
    }
    fputs("</div>\n", o);
}

static void settings_table(FILE *o, const rpt_trace *t)
{
    int show[RPT_NMETRIC];
    for (int k = 0; k < RPT_NMETRIC; k++) {
        show[k] = 0;
        for (size_t i = 0; i < t->ns; i++)
            show[k] |= t->s[i].m[k].n > 0;
    }
    fputs("<div class=\"scroll\"><table><tr><th>allocator + knobs</th><th class=\"n\">runs</th>", o);
    for (int k = 0; k < RPT_NMETRIC; k++)
        if (show[k])
            fprintf(o, "<th class=\"n\">%s</th>%s", rpt_metric_title[k], k == 0 ? "<th class=\"n\">range</th>" : "");
    fputs("<th>failed runs</th></tr>\n", o);
    for (size_t i = 0; i < t->ns; i++) {
        const rpt_setting *s = &t->s[i];
        size_t runs = 0;
        for (int k = 0; k < RPT_NMETRIC; k++)
            if (s->m[k].n > runs)
                runs = s->m[k].n;
        fprintf(o, "<tr><td class=\"name\"><span class=\"sw\" style=\"background:%s\"></span>", s->color);
        esc(o, s->name);
        fprintf(o, "</td><td class=\"n\">%zu</td>", runs);
        for (int k = 0; k < RPT_NMETRIC; k++) {
            if (!show[k])
                continue;
            char b[64], lo[40], hi[40];
            if (!s->m[k].n)
                fputs("<td class=\"na\">&ndash;</td>", o);
            else
                fprintf(o, "<td class=\"n%s\">%s</td>", t->best[k] == (int)i && t->ns > 1 ? " best" : "",
                        db_fmt_value(s->m[k].median, t->unit[k], b, sizeof b));
            if (k == 0) {
                if (s->m[0].n > 1)
                    fprintf(o, "<td class=\"n\">%s&ndash;%s</td>", db_fmt_value(s->m[0].min, "ops/s", lo, sizeof lo),
                            db_fmt_value(s->m[0].max, "ops/s", hi, sizeof hi));
                else
                    fputs("<td class=\"na\">&ndash;</td>", o);
            }
        }
        if (s->failed) {
            fprintf(o, "<td class=\"fail\">%lld: ", (long long)s->failed);
            esc(o, s->fail_reason);
            fputs("</td>", o);
        } else {
            fputs("<td></td>", o);
        }
        fputs("</tr>\n", o);
    }
    fputs("</table></div>\n<p class=\"meta\">Medians over repeated runs; green = best in column; "
          "&ndash; = not measured (NULL), never zero; RSS fidelity = how closely the replay's RSS "
          "timeline follows the recorded program's (1 = same shape).</p>\n", o);
}

static void compare_table(FILE *o, const rpt_report *r, const rpt_trace *t)
{
    fprintf(o, "<h3>%s: ", r->by_build ? "Switching allocator" : "What changed");
    esc(o, r->base);
    fputs(" &rarr; ", o);
    esc(o, r->neu);
    fprintf(o, "</h3>\n<table><tr><th>%s</th><th>metric</th>", r->by_build ? "knobs" : "allocator + knobs");
    fputs("<th class=\"n\">base</th>"
          "<th class=\"n\">new</th><th class=\"n\">change</th><th class=\"n\">noise</th><th>verdict</th></tr>\n", o);
    int any = 0;
    /* regressions of every metric first, then improvements, then the rest */
    for (int pass = 0; pass < 3; pass++)
        for (int k = 0; k < 3; k++)
            for (size_t j = 0; j < t->ncmp[k]; j++) {
                const db_cmp_row *c = &t->cmp[k][j];
                if (!c->base || !c->neu)
                    continue;
                int cls = c->c.verdict == DB_WORSE ? 0 : c->c.verdict == DB_BETTER ? 1 : 2;
                if (cls != pass)
                    continue;
                any = 1;
                char a[40], b[40];
                fprintf(o, "<tr><td>");
                if (r->by_build)
                    fprintf(o, "%s%s", *c->base->env ? "" : "(defaults)", "");
                else
                    esc(o, c->base->alloc);
                if (*c->base->env) {
                    fputs(" ", o);
                    esc(o, c->base->env);
                }
                fprintf(o, "</td><td>%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                           "<td class=\"n\">%+.1f%%</td><td class=\"n\">&plusmn;%.1f%%</td><td class=\"%s\">%s</td></tr>\n",
                        rpt_metric_title[k], db_fmt_value(c->base->s.median, t->unit[k], a, sizeof a),
                        db_fmt_value(c->neu->s.median, t->unit[k], b, sizeof b), 100 * c->c.rel,
                        100 * c->c.noise, cls == 0 ? "reg" : cls == 1 ? "imp" : "same",
                        cls == 0 ? "regression" : cls == 1 ? "improvement"
                        : c->c.verdict == DB_SAME ? "same (within noise)" : "unsure (1 run)");
            }
    if (!any)
        fputs("<tr><td colspan=\"7\" class=\"meta\">no setting has ok runs under both labels</td></tr>\n", o);
    fputs("</table>\n", o);
}

static void bar_chart(FILE *o, const rpt_trace *t, int k, const char *note)
{
    svg_bar *bars = calloc(t->ns ? t->ns : 1, sizeof *bars);
    size_t n = 0;
    for (size_t i = 0; i < t->ns; i++) {
        const rpt_setting *s = &t->s[i];
        if (!s->m[k].n && !s->failed)
            continue;
        bars[n++] = (svg_bar){s->name, s->color, s->m[k].n ? s->m[k].median : NAN,
                              s->m[k].n > 1 ? s->m[k].min : NAN, s->m[k].n > 1 ? s->m[k].max : NAN,
                              t->best[k] == (int)i && t->ns > 1, s->failed > 0};
    }
    svg_bars(o, rpt_metric_title[k], t->unit[k], note, bars, n);
    free(bars);
}

static void load_series(hakdb *db, const char *sql, int64_t id, double **x, double **y, size_t *n)
{
    sqlite3_stmt *st;
    *x = *y = NULL;
    *n = 0;
    if (hakdb_read(db, sql, &st) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, id);
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 1) == SQLITE_NULL)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *x = realloc(*x, cap * sizeof **x);
            *y = realloc(*y, cap * sizeof **y);
        }
        (*x)[*n] = sqlite3_column_double(st, 0);
        (*y)[(*n)++] = sqlite3_column_double(st, 1);
    }
    sqlite3_finalize(st);
    /* time -> fraction of the run, so a fast replay and a slow recording
     * overlay; RSS -> growth above the first sample: the recorded program
     * started with its whole runtime resident, a replay worker with next
     * to nothing, so only the heap's growth compares (as for fidelity) */
    if (*n) {
        double t0 = (*x)[0], t1 = (*x)[*n - 1], y0 = (*y)[0];
        for (size_t i = 0; i < *n; i++) {
            (*x)[i] = t1 > t0 ? ((*x)[i] - t0) / (t1 - t0) : 0;
            (*y)[i] = (*y)[i] > y0 ? (*y)[i] - y0 : 0;
        }
    }
}

static void timeline_chart(FILE *o, hakdb *db, const rpt_trace *t)
{
    svg_series *s = calloc(t->ns + 1, sizeof *s);
    size_t n = 0;
    double *xs[64], *ys[64];
    for (size_t i = 0; i < t->ns && n < 63; i++) {
        if (t->s[i].tl_run < 0)
            continue;
        size_t k;
        load_series(db, "SELECT t_ns, rss_bytes FROM timelines WHERE run_id = ?1 ORDER BY idx",
                    t->s[i].tl_run, &xs[n], &ys[n], &k);
        s[n] = (svg_series){t->s[i].name, t->s[i].color, 0, k, xs[n], ys[n], 0};
        n++;
    }
    size_t k;
    load_series(db, "SELECT t_ns, rss_bytes FROM trace_rss WHERE trace_id = ?1 ORDER BY idx", t->id,
                &xs[n], &ys[n], &k);
    char rec_name[128];
    if (k) {
        /* The y scale is the replayed heaps'; the recording is clipped if it grew more. */
        double peak = 0, rmax = 0;
        for (size_t j = 0; j < k; j++)
            peak = ys[n][j] > peak ? ys[n][j] : peak;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < s[i].n; j++)
                rmax = s[i].y[j] > rmax ? s[i].y[j] : rmax;
        char b[32];
        if (n && peak > rmax * 1.25)
            snprintf(rec_name, sizeof rec_name, "recorded, clipped (grew %s)",
                     db_fmt_value(peak, "bytes", b, sizeof b));
        else
            snprintf(rec_name, sizeof rec_name, "recorded (original program)");
        s[n] = (svg_series){rec_name, "#111111", 1, k, xs[n], ys[n], 1};
        n++;
    } else {
        free(xs[n]);
        free(ys[n]);
    }
    if (n)
        svg_lines(o, "RSS over the run (growth above each run's first sample)",
                  "progress through the run (replays run faster than the recording)", "bytes", s, n);
    for (size_t i = 0; i < n; i++) {
        free(xs[i]);
        free(ys[i]);
    }
    free(s);
}

static void sites_table(FILE *o, const char *title, const rpt_site *s, size_t n, int64_t total, int short_mode)
{
    if (!n)
        return;
    fprintf(o, "<h3>%s</h3>\n<table><tr><th class=\"n\">site</th><th>call site (first frame outside the allocator)</th>"
               "<th class=\"n\">allocations</th><th class=\"n\">bytes</th><th class=\"n\">%s</th>"
               "<th class=\"n\">mean lifetime</th></tr>\n", title, short_mode ? "short-lived" : "% of bytes");
    for (size_t i = 0; i < n; i++) {
        char a[32], b[32], c[32], d[32];
        fprintf(o, "<tr><td class=\"n\">%lld</td><td>", (long long)s[i].site);
        const char *more = s[i].frames ? strstr(s[i].frames, " <- ") : NULL;
        if (more) {   /* the whole stack, folded (no script needed) */
            fputs("<details><summary><code>", o);
            esc(o, s[i].symbol ? s[i].symbol : "?");
            fputs("</code></summary><code class=\"stack\">", o);
            for (const char *p = more; p; ) {
                p += 4;
                const char *e = strstr(p, " <- ");
                size_t len = e ? (size_t)(e - p) : strlen(p);
                char one[512];
                snprintf(one, sizeof one, "%.*s", (int)(len < sizeof one ? len : sizeof one - 1), p);
                fputs("&larr; ", o);
                esc(o, one);
                fputs("<br>", o);
                p = e;
            }
            fputs("</code></details>", o);
        } else {
            fputs("<code>", o);
            esc(o, s[i].symbol ? s[i].symbol : "(unknown: no stack recorded)");
            fputs("</code>", o);
        }
        fprintf(o, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td>",
                hak_fmt_count((uint64_t)s[i].allocs, a, sizeof a), db_fmt_value((double)s[i].bytes, "bytes", b, sizeof b));
        if (short_mode)
            fprintf(o, "<td class=\"n\">%s</td>", hak_fmt_count((uint64_t)s[i].short_lived, c, sizeof c));
        else
            fprintf(o, "<td class=\"n\">%.1f%%</td>", total ? 100.0 * (double)s[i].bytes / (double)total : 0);
        fprintf(o, "<td class=\"n\">%s</td></tr>\n", db_fmt_value(s[i].mean_life_ns, "ns", d, sizeof d));
    }
    fputs("</table>\n", o);
}

int rpt_html(hakdb *db, const rpt_report *r, FILE *o)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>hakmem report</title>\n<style>", o);
    fputs(css, o);
    fputs("</style>\n</head>\n<body>\n<header>\n<h1>hakmem allocator report</h1>\n<div class=\"meta\">", o);
    esc(o, r->db_path);
    fprintf(o, " &middot; %lld runs", (long long)r->runs);
    if (r->label) {
        fputs(" labelled ", o);
        esc(o, r->label);
    }
    if (r->sweep) {
        fputs(" of sweep ", o);
        esc(o, r->sweep);
    }
    fputs(" &middot; ", o);
    esc(o, r->machine);
    fprintf(o, "%s &middot; generated %s</div>\n</header>\n<main>\n",
            r->nmachines > 1 ? " (and other machines)" : "", r->generated);
    if (!r->nt)
        fputs("<p>No runs match.</p>\n", o);
    if (r->nt) {   /* contents: one entry per trace section */
        fputs("<nav class=\"toc\"><h2>Contents</h2>\n<ol>\n", o);
        for (size_t i = 0; i < r->nt; i++) {
            const rpt_trace *t = &r->t[i];
            fprintf(o, "<li><a href=\"#trace-%lld\">", (long long)t->id);
            esc(o, t->program);
            fprintf(o, "</a> <span class=\"hash\">%.12s</span> &middot; %zu setting%s</li>\n", t->hash,
                    t->ns, t->ns == 1 ? "" : "s");
        }
        fputs("</ol>\n</nav>\n", o);
    }
    for (size_t i = 0; i < r->nt; i++) {
        const rpt_trace *t = &r->t[i];
        char a[32], b[32];
        fprintf(o, "<section class=\"trace\" id=\"trace-%lld\">\n<h2>", (long long)t->id);
        esc(o, t->program);
        fprintf(o, " <span class=\"hash\">%s</span></h2>\n<div class=\"meta\">", t->hash);
        if (t->events >= 0)
            fprintf(o, "%s events &middot; ", hak_fmt_count((uint64_t)t->events, a, sizeof a));
        if (t->threads >= 0)
            fprintf(o, "%lld thread%s &middot; ", (long long)t->threads, t->threads == 1 ? "" : "s");
        if (t->duration_ns >= 0)
            fprintf(o, "recorded over %s &middot; ", db_fmt_value((double)t->duration_ns, "ns", b, sizeof b));
        esc(o, t->path);
        fputs("</div>\n", o);
        cards(o, t);
        if (t->ns) {
            fputs("<h3>Allocators and knob settings</h3>\n", o);
            settings_table(o, t);
        } else {
            fputs("<p class=\"meta\">No replay runs of this trace yet: <code>hak replay TRACE --alloc hakmem "
                  "--alloc glibc --repeat 3</code>.</p>\n", o);
        }
        if (r->base && r->neu)
            compare_table(o, r, t);
        fputs("<div class=\"charts\">\n", o);
        if (t->ns) {
            bar_chart(o, t, 0, "higher is better; whiskers: min..max");
            bar_chart(o, t, 1, "lower is better");
            bar_chart(o, t, 2, "lower is better");
        }
        for (size_t k = 0; k < t->ns; k++)
            if (t->s[k].m[4].n) {
                bar_chart(o, t, 4, "lower is better; memory-system model");
                break;
            }
        timeline_chart(o, db, t);
        if (t->has_stats) {
            svg_hist(o, "allocations by requested size (bucket lower bound)", "allocations",
                     (const char *const *)t->sizes.labels, t->sizes.values, t->sizes.n, "#2563eb");
            char ltitle[256], res[32];
            if (t->lifetimes_in_events)
                snprintf(ltitle, sizeof ltitle, "objects by lifetime in events (time lifetimes: %.0f%%"
                         " are 0 ns at the recording's %s clock)", 100 * t->life_zero_share,
                         t->ts_res_ns > 0 ? db_fmt_value((double)t->ts_res_ns, "ns", res, sizeof res)
                                          : "coarse");
            else
                snprintf(ltitle, sizeof ltitle, "objects by lifetime (bucket lower bound)");
            svg_hist(o, ltitle, "objects",
                     (const char *const *)t->lifetimes.labels, t->lifetimes.values, t->lifetimes.n, "#0891b2");
        }
        fputs("</div>\n", o);
        if (t->has_stats) {
            sites_table(o, "Top call sites by bytes allocated", t->top_bytes, t->ntop_bytes, t->st_bytes, 0);
            sites_table(o, "Top call sites by short-lived objects", t->top_short, t->ntop_short, t->st_bytes, 1);
        } else {
            fputs("<p class=\"meta\">No trace statistics: run <code>hak db import-trace TRACE</code> "
                  "for the size histogram and call sites.</p>\n", o);
        }
        rpt_profile_html(db, t->id, o);
        fputs("</section>\n", o);
    }
    rpt_validation_html(db, r->label, o);
    fputs("</main>\n<footer>Generated by <code>hak report --html</code> from the run history in SQLite; "
          "every figure is queryable with <code>hak db query</code> (schema: analysis/store/schema.sql). "
          "Verdicts flag a change only when it exceeds run-to-run noise (see <code>hak db compare --help</code>)."
          "</footer>\n</body>\n</html>\n", o);
    return ferror(o) ? -1 : 0;
}
