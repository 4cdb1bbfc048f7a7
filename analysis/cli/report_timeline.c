/* report_timeline.c - see report_timeline.h. */
#include "report_timeline.h"
#include "db_cli.h"
#include "db_table.h"
#include "hak_util.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

typedef struct series {
    int rank;                    /* 1.. top; 0 = the other sites */
    int64_t site;
    char *symbol;
    uint64_t max;
    uint64_t *v;                 /* [npoints] */
} series;

typedef struct chart {
    size_t npoints, nseries;     /* series: ranks 1.. in order, 'other' last */
    uint64_t *ts;                /* [npoints] */
    series s[RPT_MAX_SERIES + 1];
} chart;

static void chart_free(chart *c)
{
    free(c->ts);
    for (size_t i = 0; i < c->nseries; i++) {
        free(c->s[i].symbol);
        free(c->s[i].v);
    }
}

/* Loads the trace's timeline: 1 when there is one, 0 (nothing to show:
 * no table before migration 010, no rows, out of memory) otherwise. */
static int load(hakdb *db, int64_t tid, chart *c)
{
    memset(c, 0, sizeof *c);
    sqlite3_stmt *st;
    if (hakdb_read(db, "SELECT max(point) + 1, max(rank) FROM trace_site_timeline"
                              " WHERE trace_id = ?1", &st))
        return 0;
    sqlite3_bind_int64(st, 1, tid);
    int64_t np = 0, top = 0;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        np = sqlite3_column_int64(st, 0);
        top = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (np <= 0 || np > 100000)
        return 0;
    if (top > RPT_MAX_SERIES)
        top = RPT_MAX_SERIES;
    c->npoints = (size_t)np;
    c->nseries = (size_t)top + 1;
    int ok = !!(c->ts = calloc(c->npoints, sizeof *c->ts));
    for (size_t i = 0; i < c->nseries; i++) {
        c->s[i].rank = i + 1 < c->nseries ? (int)i + 1 : 0;
        ok &= !!(c->s[i].v = calloc(c->npoints, sizeof *c->s[i].v));
    }
    if (!ok || hakdb_read(db, "SELECT x.point, x.ts_ns, x.rank, x.site, x.live_bytes, s.symbol"
            " FROM trace_site_timeline x LEFT JOIN trace_sites s"
            " ON s.trace_id = x.trace_id AND s.site = x.site WHERE x.trace_id = ?1", &st)) {
        chart_free(c);
        return 0;
    }
    sqlite3_bind_int64(st, 1, tid);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t p = sqlite3_column_int64(st, 0), rank = sqlite3_column_int64(st, 2);
        if (p < 0 || (size_t)p >= c->npoints || rank < 0 || rank > top)
            continue;
        series *s = &c->s[rank ? rank - 1 : top];
        uint64_t v = (uint64_t)sqlite3_column_int64(st, 4);
        c->ts[p] = (uint64_t)sqlite3_column_int64(st, 1);
        s->v[p] = v;
        if (v > s->max)
            s->max = v;
        s->site = sqlite3_column_int64(st, 3);
        const char *sym = (const char *)sqlite3_column_text(st, 5);
        if (!s->symbol && rank)
            s->symbol = strdup(sym ? sym : "(no stack recorded)");
    }
    sqlite3_finalize(st);
    return 1;
}

void rp_timeline_text(hakdb *db, int64_t tid, FILE *out)
{
    chart c;
    if (!load(db, tid, &c))
        return;
    char a[32], safe[600];
    fprintf(out, "memory over time: the top call sites by their own largest live bytes "
            "(%zu points; hak trace timeline), with their largest live bytes at those points:\n", c.npoints);
    for (size_t i = 0; i + 1 < c.nseries && i < 5; i++)
        fprintf(out, "  #%d %10s  %s\n", c.s[i].rank, db_fmt_value((double)c.s[i].max, "bytes", a, sizeof a),
                db_esc(c.s[i].symbol, safe, sizeof safe));
    chart_free(&c);
}

/* Fill colours of ranks 1.., 'other' grey. */
static const char *const palette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                      "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#86bcb6"};
#define NPAL (sizeof palette / sizeof *palette)

enum { CW = 1200, CH = 240, PADL = 70, PADB = 22, PADT = 8 };

void rp_timeline_html(hakdb *db, int64_t tid, FILE *o)
{
    chart c;
    if (!load(db, tid, &c))
        return;
    uint64_t ymax = 0, tmax = c.ts[c.npoints - 1] ? c.ts[c.npoints - 1] : 1;
    for (size_t p = 0; p < c.npoints; p++) {
        uint64_t sum = 0;
        for (size_t i = 0; i < c.nseries; i++)
            sum += c.s[i].v[p];
        if (sum > ymax)
            ymax = sum;
    }
    if (!ymax)
        ymax = 1;
    double pw = CW - PADL - 8, ph = CH - PADB - PADT;
    char a[32], b[32];
    fputs("<h3>Memory over time per call site</h3>\n<p class=\"meta\">Live requested bytes of the "
          "call sites with the largest live bytes at any moment of their own, stacked (the first "
          "at the bottom), and of all the other sites together, at evenly spaced points in time; "
          "the top edge is the live heap. The same data: <code>hak trace timeline --csv</code>, "
          "<code>analysis/queries/memory_over_time.sql</code>.</p>\n", o);
    fprintf(o, "<svg class=\"timeline\" viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\" "
               "xmlns=\"http://www.w3.org/2000/svg\" data-ymax=\"%llu\" data-tmax=\"%llu\" "
               "style=\"font:11px sans-serif;background:#fff\">\n", CW, CH,
            (unsigned long long)ymax, (unsigned long long)tmax);
    /* axes: 0 and the largest live heap; 0 and the end of the trace */
    fprintf(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n", PADL, PADT,
            PADL, PADT + (int)ph);
    fprintf(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n", PADL,
            PADT + (int)ph, PADL + (int)pw, PADT + (int)ph);
    fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", PADL - 4, PADT + 10,
            db_fmt_value((double)ymax, "bytes", a, sizeof a));
    fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n", PADL - 4, PADT + (int)ph);
    fprintf(o, "<text x=\"%d\" y=\"%d\">0 s</text>\n", PADL, CH - 6);
    fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", PADL + (int)pw, CH - 6,
            db_fmt_value((double)tmax, "ns", b, sizeof b));
    /* the bands, bottom up: each polygon runs along its top edge forward
     * and back along the edge below it */
    uint64_t *below = calloc(c.npoints, sizeof *below);
    for (size_t i = 0; below && i < c.nseries; i++) {
        const series *s = &c.s[i];
        if (!s->max)
            continue;
        fprintf(o, "<polygon class=\"band\" data-rank=\"%d\" fill=\"%s\" fill-opacity=\"0.85\" "
                   "stroke=\"#fff\" stroke-width=\"0.3\" points=\"", s->rank,
                s->rank ? palette[(size_t)(s->rank - 1) % NPAL] : "#bab0ac");
        for (size_t p = 0; p < c.npoints; p++)
            fprintf(o, "%.1f,%.1f ", PADL + pw * (double)c.ts[p] / (double)tmax,
                    PADT + ph - ph * (double)(below[p] + s->v[p]) / (double)ymax);
        for (size_t p = c.npoints; p-- > 0;)
            fprintf(o, "%.1f,%.1f ", PADL + pw * (double)c.ts[p] / (double)tmax,
                    PADT + ph - ph * (double)below[p] / (double)ymax);
        fputs("\"><title>", o);
        if (s->rank) {
            fprintf(o, "#%d site %lld: ", s->rank, (long long)s->site);
            db_html_str(o, s->symbol);
        } else {
            fputs("all other call sites", o);
        }
        fprintf(o, " (up to %s at these points)</title></polygon>\n", db_fmt_value((double)s->max, "bytes", a, sizeof a));
        for (size_t p = 0; p < c.npoints; p++)
            below[p] += s->v[p];
    }
    free(below);
    fputs("</svg>\n<table class=\"legend\"><tr><th></th><th class=\"n\">site</th><th>call site</th>"
          "<th class=\"n\">largest at these points</th></tr>\n", o);
    for (size_t i = 0; i < c.nseries; i++) {
        const series *s = &c.s[i];
        fprintf(o, "<tr data-rank=\"%d\"><td><span style=\"display:inline-block;width:12px;height:12px;"
                   "background:%s\"></span></td><td class=\"n\">", s->rank,
                s->rank ? palette[(size_t)(s->rank - 1) % NPAL] : "#bab0ac");
        if (s->rank)
            fprintf(o, "%lld</td><td><code>", (long long)s->site);
        else
            fputs("</td><td><code>", o);
        db_html_str(o, s->rank ? s->symbol : "all other call sites");
        fprintf(o, "</code></td><td class=\"n\">%s</td></tr>\n",
                db_fmt_value((double)s->max, "bytes", a, sizeof a));
    }
    fputs("</table>\n", o);
    chart_free(&c);
}
