/* report_validation.c - `hak report`'s replay-validity section
 * (report_validation.h). */
#include "report_validation.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static const char *const metrics[] = {
    "peak_heap_rss_bytes", "final_heap_rss_bytes", "minor_faults", "heap_minor_faults", "wall_ns"};
static const char *const heads[] = {"peak heap", "final heap", "minor faults", "heap faults", "time"};
#define NM 5

typedef void (*emit_fn)(FILE *out, int kind, const char *a, const char *b, const double *v);
enum { E_HEAD, E_ROW, E_TAU, E_END };

/* The latest validations and their values, handed to emit row by row. */
static void walk(hakdb *db, const char *label, FILE *out, emit_fn emit)
{
    sqlite3_stmt *vs, *rs;
    if (hakdb_read(db, "SELECT id, command, coalesce(touch, '-'), repeats, created_at FROM validations"
            " WHERE ?1 IS NULL OR label = ?1 ORDER BY id DESC LIMIT " "10", &vs) != SQLITE_OK)
        return;    /* a database from before schema 8: nothing to show */
    if (label)
        sqlite3_bind_text(vs, 1, label, -1, SQLITE_STATIC);
    while (sqlite3_step(vs) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(vs, 0);
        /* the pace of its heap and faults replays (schema 14; asap before) */
        char pace[64] = "asap";
        if (hakdb_read(db, "SELECT pace FROM validations WHERE id = ? AND pace IS NOT NULL",
                       &rs) == SQLITE_OK) {
            sqlite3_bind_int64(rs, 1, id);
            if (sqlite3_step(rs) == SQLITE_ROW)
                snprintf(pace, sizeof pace, "%s", (const char *)sqlite3_column_text(rs, 0));
            sqlite3_finalize(rs);
        }
        char head[1200];
        snprintf(head, sizeof head, "%s  (validation %lld, %lld repeats, touch %s, pace %s, %s)",
                 (const char *)sqlite3_column_text(vs, 1), id, sqlite3_column_int64(vs, 3),
                 (const char *)sqlite3_column_text(vs, 2), pace,
                 (const char *)sqlite3_column_text(vs, 4));
        emit(out, E_HEAD, head, NULL, NULL);
        if (hakdb_read(db, "SELECT DISTINCT alloc FROM validation_values WHERE validation_id = ?"
                               " ORDER BY alloc", &rs) != SQLITE_OK)
            break;
        sqlite3_bind_int64(rs, 1, id);
        while (sqlite3_step(rs) == SQLITE_ROW) {
            const char *alloc = (const char *)sqlite3_column_text(rs, 0);
            double v[NM];
            for (int m = 0; m < NM; m++) {
                sqlite3_stmt *x;
                v[m] = NAN;
                if (hakdb_read(db, "SELECT ratio FROM validation_values WHERE validation_id = ?"
                                       " AND alloc = ? AND metric = ?", &x) != SQLITE_OK)
                    continue;
                sqlite3_bind_int64(x, 1, id);
                sqlite3_bind_text(x, 2, alloc, -1, SQLITE_STATIC);
                sqlite3_bind_text(x, 3, metrics[m], -1, SQLITE_STATIC);
                if (sqlite3_step(x) == SQLITE_ROW && sqlite3_column_type(x, 0) != SQLITE_NULL)
                    v[m] = sqlite3_column_double(x, 0);
                sqlite3_finalize(x);
            }
            emit(out, E_ROW, alloc, NULL, v);
        }
        sqlite3_finalize(rs);
        double tau[NM];
        for (int m = 0; m < NM; m++) {
            sqlite3_stmt *x;
            tau[m] = NAN;
            if (hakdb_read(db, "SELECT tau FROM validation_rankings WHERE validation_id = ?"
                                   " AND metric = ?", &x) != SQLITE_OK)
                continue;
            sqlite3_bind_int64(x, 1, id);
            sqlite3_bind_text(x, 2, metrics[m], -1, SQLITE_STATIC);
            if (sqlite3_step(x) == SQLITE_ROW && sqlite3_column_type(x, 0) != SQLITE_NULL)
                tau[m] = sqlite3_column_double(x, 0);
            sqlite3_finalize(x);
        }
        emit(out, E_TAU, "Kendall's tau-b", NULL, tau);
    }
    sqlite3_finalize(vs);
}

static void num(FILE *out, double v, const char *fmt)
{
    if (isnan(v))
        fprintf(out, fmt[0] == '<' ? "<td>-</td>" : "%13s", "-");
    else
        fprintf(out, fmt, v);
}

static int text_started;

static void emit_text(FILE *out, int kind, const char *a, const char *b, const double *v)
{
    (void)b;
    if (kind == E_HEAD) {
        if (!text_started)
            fprintf(out, "\n== Replay validity (hak validate): replayed / live, per allocator\n");
        text_started = 1;
        fprintf(out, "\n%s\n  %-14s", a, "alloc");
        for (int m = 0; m < NM; m++)
            fprintf(out, "%13s", heads[m]);
        fputc('\n', out);
        return;
    }
    fprintf(out, "  %-14s", a);
    for (int m = 0; m < NM; m++)
        num(out, v[m], "%13.3f");
    fputc('\n', out);
}

void rpt_validation_text(hakdb *db, const char *label, FILE *out)
{
    text_started = 0;
    walk(db, label, out, emit_text);
}

static void html_esc(FILE *o, const char *s)
{
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", o);
        else if (*s == '>') fputs("&gt;", o);
        else if (*s == '&') fputs("&amp;", o);
        else fputc(*s, o);
    }
}

static int html_started, html_open;

static void emit_html(FILE *out, int kind, const char *a, const char *b, const double *v)
{
    (void)b;
    if (kind == E_HEAD) {
        if (html_open)
            fputs("</table>\n", out);
        if (!html_started)
            fputs("<section><h2>Replay validity</h2>\n<p class=\"meta\">From <code>hak validate</code>: "
                  "replayed / live per allocator (1 = the replay predicts the program), and Kendall's "
                  "tau-b of the allocators' order (1 = same order).</p>\n", out);
        html_started = html_open = 1;
        fputs("<h3>", out);
        html_esc(out, a);
        fputs("</h3>\n<table><tr><th>alloc</th>", out);
        for (int m = 0; m < NM; m++)
            fprintf(out, "<th>%s</th>", heads[m]);
        fputs("</tr>\n", out);
        return;
    }
    fputs("<tr><td>", out);
    html_esc(out, a);
    fputs("</td>", out);
    for (int m = 0; m < NM; m++)
        num(out, v[m], "<td>%.3f</td>");
    fputs("</tr>\n", out);
}

void rpt_validation_html(hakdb *db, const char *label, FILE *out)
{
    html_started = html_open = 0;
    walk(db, label, out, emit_html);
    if (html_open)
        fputs("</table>\n</section>\n", out);
}
