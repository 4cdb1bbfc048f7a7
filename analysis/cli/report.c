/* report.c - `hak report`: gathering (rpt_gather) and the terminal
 * rendering; the HTML page is report_html.c. */
#include "report.h"
#include "report_validation.h"
#include "report_profile.h"
#include "hakdb.h"
#include "hakdb_sweep.h"
#include "report_svg.h"
#include "analysis_cli.h"
#include "hak_util.h"

#include <getopt.h>
#include <sqlite3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const rpt_metric[RPT_NMETRIC] = {"ops_per_s", "minor_faults", "peak_rss_bytes",
                                           "lat_p99_ns", "sim.dtlb_misses", "fidelity"};
const char *const rpt_metric_title[RPT_NMETRIC] = {"ops/s", "page faults (minor)", "peak RSS",
                                                 "p99 latency", "dTLB misses (simulated)",
                                                 "RSS fidelity"};

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? strdup((const char *)s) : NULL;
}

static rpt_setting *setting_for(rpt_trace *t, const char *alloc, const char *env, const char *mode)
{
    for (size_t i = 0; i < t->ns; i++)
        if (!strcmp(t->s[i].alloc, alloc) && !strcmp(t->s[i].env, env) && !strcmp(t->s[i].mode, mode))
            return &t->s[i];
    t->s = realloc(t->s, (t->ns + 1) * sizeof *t->s);
    rpt_setting *s = &t->s[t->ns++];
    memset(s, 0, sizeof *s);
    s->alloc = strdup(alloc);
    s->env = strdup(env);
    s->mode = strdup(mode);
    size_t n = strlen(alloc) + strlen(env) + strlen(mode) + 3;
    s->name = malloc(n);
    snprintf(s->name, n, "%s%s%s %s", alloc, *env ? " " : "", env, mode);
    s->tl_run = -1;
    for (int k = 0; k < RPT_NMETRIC; k++)
        s->m[k] = db_summarize(NULL, 0);
    return s;
}

static int cmp_setting(const void *a, const void *b)
{
    const rpt_setting *x = a, *y = b;
    /* highest ops/s first; unmeasured last; then by name */
    double vx = x->m[0].n ? x->m[0].median : -1, vy = y->m[0].n ? y->m[0].median : -1;
    if (vx != vy)
        return vx < vy ? 1 : -1;
    return strcmp(x->name, y->name);
}

enum { HIST_NS, HIST_BYTES, HIST_EVENTS };   /* what load_hist's labels count */

static void load_hist(hakdb *db, const char *sql, int64_t tid, rpt_hist *h, int kind)
{
    int bytes_labels = kind == HIST_BYTES;
    sqlite3_stmt *st;
    if (hakdb_read(db, sql, &st) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, tid);
    while (sqlite3_step(st) == SQLITE_ROW) {
        h->labels = realloc(h->labels, (h->n + 1) * sizeof *h->labels);
        h->values = realloc(h->values, (h->n + 1) * sizeof *h->values);
        char b[64];
        if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
            snprintf(b, sizeof b, "never freed");
        } else {
            double lo = sqlite3_column_double(st, 0);
            if (bytes_labels) {
                db_fmt_value(lo, "bytes", b, sizeof b);
                char *sp = strstr(b, ".0 ");   /* "1.0 KiB" -> "1 KiB" */
                if (sp)
                    memmove(sp, sp + 2, strlen(sp + 2) + 1);
            } else if (kind == HIST_EVENTS) {
                char c[32];
                snprintf(b, sizeof b, "%s ev", hak_fmt_count((uint64_t)lo, c, sizeof c));
            } else {
                db_fmt_value(lo, "ns", b, sizeof b);
            }
        }
        h->labels[h->n] = strdup(b);
        h->values[h->n++] = sqlite3_column_double(st, 1);
    }
    sqlite3_finalize(st);
}

static void load_sites(hakdb *db, const char *order, int64_t tid, rpt_site **out, size_t *n)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT site, allocs, bytes, short_lived, mean_lifetime_ns, symbol, frames FROM trace_sites"
             " WHERE trace_id = ?1 %s LIMIT 10", order);
    sqlite3_stmt *st;
    if (hakdb_read(db, sql, &st) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, tid);
    while (sqlite3_step(st) == SQLITE_ROW) {
        *out = realloc(*out, (*n + 1) * sizeof **out);
        rpt_site *s = &(*out)[(*n)++];
        s->site = sqlite3_column_int64(st, 0);
        s->allocs = sqlite3_column_int64(st, 1);
        s->bytes = sqlite3_column_int64(st, 2);
        s->short_lived = sqlite3_column_int64(st, 3);
        s->mean_life_ns = sqlite3_column_type(st, 4) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 4);
        s->symbol = col_dup(st, 5);
        s->frames = col_dup(st, 6);
    }
    sqlite3_finalize(st);
}

static int gather_trace(hakdb *db, rpt_report *r, rpt_trace *t, char *err, size_t errlen)
{
    /* Comparing labels: the settings table shows the new state. */
    const char *label = r->label ? r->label : r->by_build ? NULL : r->neu;
    /* Runs of partial traces still count here (compare/best leave them out). */
    db_filter f = {t->hash, label, r->sweep, NULL, 1};
    for (int k = 0; k < RPT_NMETRIC; k++) {
        db_metric_unit(db, rpt_metric[k], t->unit[k], sizeof t->unit[k]);
        t->higher[k] = hakdb_metric_higher_better(db, rpt_metric[k]);
    }
    for (int k = 0; k < RPT_NMETRIC; k++) {
        db_groups g = {0};
        if (db_collect_metric(db, rpt_metric[k], &f, &g, err, errlen) != 0)
            return -1;
        for (size_t i = 0; i < g.n; i++) {
            rpt_setting *s = setting_for(t, g.g[i].alloc, g.g[i].env, g.g[i].mode);
            s->m[k] = g.g[i].s;
        }
        db_groups_free(&g);
    }
    /* failed runs, and settings that only failed */
    sqlite3_stmt *st;
    hakdb_read(db, "SELECT b.name, r.env, count(*), min(r.status || ': ' || coalesce(r.error, '?')), "
        DB_MODE_EXPR " FROM runs r"
        " JOIN builds b ON b.id = r.build_id WHERE r.trace_id = ?1 AND r.status <> 'ok'"
        " AND (?2 IS NULL OR r.label = ?2) AND (?3 IS NULL OR r.sweep_id = ?3)"
        " GROUP BY b.name, r.env, 5", &st);
    sqlite3_bind_int64(st, 1, t->id);
    if (label)
        sqlite3_bind_text(st, 2, label, -1, SQLITE_TRANSIENT);
    if (r->sweep)
        sqlite3_bind_text(st, 3, r->sweep, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        rpt_setting *s = setting_for(t, (const char *)sqlite3_column_text(st, 0),
                                    (const char *)sqlite3_column_text(st, 1),
                                    (const char *)sqlite3_column_text(st, 4));
        s->failed = sqlite3_column_int64(st, 2);
        s->fail_reason = col_dup(st, 3);
    }
    sqlite3_finalize(st);
    if (t->ns)   /* t->s is NULL for a trace without runs (qsort: nonnull) */
        qsort(t->s, t->ns, sizeof *t->s, cmp_setting);
    /* one hue per allocator; its knob settings in lighter shades */
    for (size_t i = 0; i < t->ns; i++) {
        int k = 0;
        for (size_t j = 0; j < i; j++)
            k += !strcmp(t->s[j].alloc, t->s[i].alloc);
        snprintf(t->s[i].color, sizeof t->s[i].color, "%s", svg_shade(svg_color_for(t->s[i].alloc), k));
    }
    /* the timeline shown per setting: its latest ok run that has one */
    hakdb_read(db, "SELECT max(r.id) FROM runs r JOIN builds b ON b.id = r.build_id WHERE r.trace_id = ?1"
        " AND b.name = ?2 AND r.env = ?3 AND r.status = 'ok' AND (?4 IS NULL OR r.label = ?4)"
        " AND (?5 IS NULL OR r.sweep_id = ?5) AND " DB_MODE_EXPR " = ?6"
        " AND EXISTS (SELECT 1 FROM timelines x WHERE x.run_id = r.id)", &st);
    for (size_t i = 0; i < t->ns; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, t->id);
        sqlite3_bind_text(st, 2, t->s[i].alloc, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, t->s[i].env, -1, SQLITE_TRANSIENT);
        if (label)
            sqlite3_bind_text(st, 4, label, -1, SQLITE_TRANSIENT);
        if (r->sweep)
            sqlite3_bind_text(st, 5, r->sweep, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, t->s[i].mode, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            t->s[i].tl_run = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    for (int k = 0; k < RPT_NMETRIC; k++) {
        t->best[k] = -1;
        for (size_t i = 0; i < t->ns && k != RPT_NMETRIC - 1; i++) {   /* fidelity: no "best" */
            if (!t->s[i].m[k].n)
                continue;
            int b = t->best[k];
            if (b < 0 || (t->higher[k] ? t->s[i].m[k].median > t->s[b].m[k].median
                                       : t->s[i].m[k].median < t->s[b].m[k].median))
                t->best[k] = (int)i;
        }
    }
    if (r->base && r->neu) {
        db_cmp_opts o = {r->base, r->neu, r->by_build, t->hash, 0.02, r->by_build ? r->label : NULL, 1};
        for (int k = 0; k < 3; k++)
            if (db_compare_metric(db, &o, rpt_metric[k], &t->cmp_store[k], &t->cmp[k], &t->ncmp[k],
                                  err, errlen) != 0)
                return -1;
    }
    hakdb_read(db, "SELECT allocs, bytes_allocated, peak_live_bytes FROM trace_stats WHERE trace_id = ?1", &st);
    sqlite3_bind_int64(st, 1, t->id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        t->has_stats = 1;
        t->st_allocs = sqlite3_column_int64(st, 0);
        t->st_bytes = sqlite3_column_int64(st, 1);
        t->st_peak_live = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    if (t->has_stats) {
        load_hist(db, "SELECT lo_bytes, allocs FROM trace_size_hist WHERE trace_id = ?1 ORDER BY lo_bytes",
                  t->id, &t->sizes, HIST_BYTES);
        /* At a coarse recording clock most lifetimes in time are 0 ns:
         * then the chart shows lifetimes in events, which no clock cuts. */
        t->ts_res_ns = -1;
        t->life_zero_share = 0;
        hakdb_read(db, "SELECT (SELECT 1.0 * sum(CASE WHEN bucket = 0 THEN objects ELSE 0 END) / sum(objects)"
            "        FROM trace_lifetime_hist WHERE trace_id = ?1 AND bucket >= 0),"
            "       (SELECT ts_resolution_ns FROM trace_stats WHERE trace_id = ?1),"
            "       (SELECT count(*) FROM trace_lifetime_events_hist WHERE trace_id = ?1)", &st);
        sqlite3_bind_int64(st, 1, t->id);
        int have_events = 0;
        if (sqlite3_step(st) == SQLITE_ROW) {
            t->life_zero_share = sqlite3_column_double(st, 0);
            if (sqlite3_column_type(st, 1) != SQLITE_NULL)
                t->ts_res_ns = sqlite3_column_int64(st, 1);
            have_events = sqlite3_column_int(st, 2) > 0;
        }
        sqlite3_finalize(st);
        t->lifetimes_in_events = have_events && t->life_zero_share > 0.5;
        if (t->lifetimes_in_events)
            load_hist(db, "SELECT lo_events, objects FROM trace_lifetime_events_hist WHERE trace_id = ?1"
                          " ORDER BY bucket < 0, bucket", t->id, &t->lifetimes, HIST_EVENTS);
        else
            load_hist(db, "SELECT lo_ns, objects FROM trace_lifetime_hist WHERE trace_id = ?1"
                          " ORDER BY bucket < 0, bucket", t->id, &t->lifetimes, HIST_NS);
        load_sites(db, "ORDER BY bytes DESC, site", t->id, &t->top_bytes, &t->ntop_bytes);
        load_sites(db, "AND short_lived > 0 ORDER BY short_lived DESC, site", t->id, &t->top_short,
                   &t->ntop_short);
    }
    return 0;
}

int rpt_gather(hakdb *db, rpt_report *r, const char *trace, char *err, size_t errlen)
{
    hakdb_iso_time(HAKDB_NULL, r->generated);
    sqlite3_stmt *st;
    hakdb_read(db, "SELECT (SELECT count(*) FROM runs WHERE (?1 IS NULL OR label = ?1) AND (?2 IS NULL OR sweep_id = ?2)),"
        " (SELECT count(*) FROM machines),"
        " (SELECT coalesce(hostname, '?') || ', ' || coalesce(cpu_model, 'unknown CPU') || ', '"
        "  || coalesce(cores, '?') || ' cores, kernel ' || coalesce(kernel, '?') || ', THP '"
        "  || coalesce(thp_mode, 'n/a') || ', perf counters: ' || CASE WHEN counters = '' THEN 'none'"
        "  ELSE counters END FROM machines ORDER BY id DESC LIMIT 1)", &st);
    if (r->label)
        sqlite3_bind_text(st, 1, r->label, -1, SQLITE_TRANSIENT);
    if (r->sweep)
        sqlite3_bind_text(st, 2, r->sweep, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        r->runs = sqlite3_column_int64(st, 0);
        r->nmachines = sqlite3_column_int64(st, 1);
        const unsigned char *m = sqlite3_column_text(st, 2);
        snprintf(r->machine, sizeof r->machine, "%s", m ? (const char *)m : "no machine recorded");
    }
    sqlite3_finalize(st);
    char tc[400], sql[2048];
    snprintf(sql, sizeof sql,
        "SELECT t.id, t.hash, " DB_TRACE_NAME ", t.path, t.events, t.threads, t.duration_ns FROM traces t"
        " WHERE (EXISTS (SELECT 1 FROM runs r WHERE r.trace_id = t.id AND (?2 IS NULL OR r.label = ?2)"
        "   AND (?3 IS NULL OR r.label IN (?3, ?4)) AND (?5 IS NULL OR r.sweep_id = ?5))"
        "  OR (?2 IS NULL AND ?3 IS NULL AND ?5 IS NULL"
        "      AND EXISTS (SELECT 1 FROM trace_stats s WHERE s.trace_id = t.id)))"
        " AND (?1 IS NULL OR %s) ORDER BY t.program, t.id", db_trace_cond(1, tc, sizeof tc));
    if (hakdb_read(db, sql, &st) != SQLITE_OK) {
        snprintf(err, errlen, "%s", hakdb_sql_error(db));
        return -1;
    }
    if (trace)
        sqlite3_bind_text(st, 1, trace, -1, SQLITE_TRANSIENT);
    if (r->label)
        sqlite3_bind_text(st, 2, r->label, -1, SQLITE_TRANSIENT);
    if (r->sweep)
        sqlite3_bind_text(st, 5, r->sweep, -1, SQLITE_TRANSIENT);
    if (r->base && r->neu && !r->by_build) {
        sqlite3_bind_text(st, 3, r->base, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, r->neu, -1, SQLITE_TRANSIENT);
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        r->t = realloc(r->t, (r->nt + 1) * sizeof *r->t);
        rpt_trace *t = &r->t[r->nt++];
        memset(t, 0, sizeof *t);
        t->id = sqlite3_column_int64(st, 0);
        t->hash = col_dup(st, 1);
        t->program = col_dup(st, 2);
        if (!t->program)
            t->program = strdup("?");
        t->path = col_dup(st, 3);
        t->events = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 4);
        t->threads = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 5);
        t->duration_ns = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 6);
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < r->nt; i++)
        if (gather_trace(db, r, &r->t[i], err, errlen) != 0)
            return -1;
    return 0;
}

static void free_hist(rpt_hist *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->labels[i]);
    free(h->labels);
    free(h->values);
}

static void free_sites(rpt_site *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i].symbol);
        free(s[i].frames);
    }
    free(s);
}

void rpt_free(rpt_report *r)
{
    for (size_t i = 0; i < r->nt; i++) {
        rpt_trace *t = &r->t[i];
        for (size_t k = 0; k < t->ns; k++) {
            free(t->s[k].alloc);
            free(t->s[k].env);
            free(t->s[k].mode);
            free(t->s[k].name);
            free(t->s[k].fail_reason);
        }
        free(t->s);
        for (int k = 0; k < 3; k++) {
            free(t->cmp[k]);
            db_groups_free(&t->cmp_store[k]);
        }
        free_hist(&t->sizes);
        free_hist(&t->lifetimes);
        free_sites(t->top_bytes, t->ntop_bytes);
        free_sites(t->top_short, t->ntop_short);
        free(t->hash);
        free(t->program);
        free(t->path);
    }
    free(r->t);
}

/* ---- text rendering ----------------------------------------------------- */

static void text_bar(FILE *out, double v, double max, int width)
{
    int n = max > 0 ? (int)lround(width * v / max) : 0;
    for (int i = 0; i < n; i++)
        fputs("#", out);
}

/* The callers below a call site's first frame, one per line (the first
 * frame is already on the site's line), at most 6. */
static void text_stack(FILE *out, const char *frames)
{
    if (!frames)
        return;
    const char *p = strstr(frames, " <- ");
    for (int k = 0; p && k < 6; k++) {
        p += 4;
        const char *e = strstr(p, " <- ");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char one[512], safe[600];
        snprintf(one, sizeof one, "%.*s", (int)(n < sizeof one ? n : sizeof one - 1), p);
        fprintf(out, "  %24s<- %s\n", "", db_esc(one, safe, sizeof safe));
        p = e;
    }
}

void rpt_text(hakdb *db, const rpt_report *r, FILE *out)
{
    char x1[512], x2[512], x3[512];   /* stored strings, control characters escaped */
    fprintf(out, "hakmem report: %s, %lld runs%s%s%s%s, generated %s\nmachine: %s%s\n",
            db_esc(r->db_path, x1, sizeof x1), (long long)r->runs, r->label ? " labelled " : "",
            db_esc(r->label, x2, sizeof x2), r->sweep ? " of sweep " : "", r->sweep ? r->sweep : "",
            r->generated, db_esc(r->machine, x3, sizeof x3), r->nmachines > 1 ? " (and others)" : "");
    if (!r->nt)
        fprintf(out, "\n(no runs match)\n");
    for (size_t i = 0; i < r->nt; i++) {
        const rpt_trace *t = &r->t[i];
        char e[32], d[32];
        fprintf(out, "\n== %s  (trace %.8s, %s events, %lld thread%s, recorded %s)\n\n",
                db_esc(t->program, x1, sizeof x1), t->hash,
                t->events >= 0 ? hak_fmt_count((uint64_t)t->events, e, sizeof e) : "?",
                (long long)t->threads, t->threads == 1 ? "" : "s",
                t->duration_ns >= 0 ? db_fmt_value((double)t->duration_ns, "ns", d, sizeof d) : "?");
        static const char *const nm[] = {"setting", "runs", "ops/s", "ops/s range", "minflt",
                                         "peak RSS", "p99 lat", "dTLB (sim)", "fidelity", "failed"};
        db_tbl *tb = db_tbl_new(10, nm);
        for (size_t k = 0; k < t->ns; k++) {
            const rpt_setting *s = &t->s[k];
            size_t row = db_tbl_add_row(tb);
            char b[96], lo[40], hi[40];
            db_tbl_setf(tb, row, 0, DB_TEXT, "%s", s->name);
            size_t runs = 0;
            for (int m = 0; m < RPT_NMETRIC; m++)
                if (s->m[m].n > runs)
                    runs = s->m[m].n;
            db_tbl_setf(tb, row, 1, DB_INT, "%zu", runs);
            int cols[RPT_NMETRIC] = {2, 4, 5, 6, 7, 8};
            for (int m = 0; m < RPT_NMETRIC; m++) {
                if (!s->m[m].n) {
                    db_tbl_set(tb, row, cols[m], DB_REAL, NULL);
                    continue;
                }
                db_fmt_value(s->m[m].median, t->unit[m], b, sizeof b);
                if (t->best[m] == (int)k && t->ns > 1)
                    strcat(b, " *");
                db_tbl_set(tb, row, cols[m], DB_REAL, b);
            }
            if (s->m[0].n > 1) {
                db_fmt_value(s->m[0].min, "ops/s", lo, sizeof lo);
                db_fmt_value(s->m[0].max, "ops/s", hi, sizeof hi);
                db_tbl_setf(tb, row, 3, DB_REAL, "%s..%s", lo, hi);
            } else {
                db_tbl_set(tb, row, 3, DB_REAL, NULL);
            }
            if (s->failed)
                db_tbl_setf(tb, row, 9, DB_TEXT, "%lld (%.40s)", (long long)s->failed,
                            s->fail_reason ? s->fail_reason : "");
            else
                db_tbl_set(tb, row, 9, DB_TEXT, "");
        }
        db_tbl_print(tb, DB_FMT_TEXT, out);
        db_tbl_free(tb);
        fprintf(out, "(* best in column; medians over repeats; '-' = not measured; fidelity: RSS\n"
                     " timeline similarity of the replay to the recording, 1 = same shape)\n");
        if (r->base && r->neu) {
            if (r->by_build)
                fprintf(out, "\nwhat changes switching build %s -> %s:\n", db_esc(r->base, x1, sizeof x1),
                        db_esc(r->neu, x2, sizeof x2));
            else
                fprintf(out, "\nwhat changed, %s -> %s (settings above: %s):\n", r->base, r->neu,
                        r->label ? r->label : r->neu);
            const char *const cn[] = {"setting", "metric", "base", "new", "change", "verdict"};
            db_tbl *ct = db_tbl_new(6, cn);
            free(ct->names[2]);
            ct->names[2] = strdup(r->base);
            free(ct->names[3]);
            ct->names[3] = strdup(r->neu);
            for (int pass = 0; pass < 3; pass++)
                for (int k = 0; k < 3; k++)
                    for (size_t j = 0; j < t->ncmp[k]; j++) {
                        const db_cmp_row *c = &t->cmp[k][j];
                        if (!c->base || !c->neu)
                            continue;
                        int cls = c->c.verdict == DB_WORSE ? 0 : c->c.verdict == DB_BETTER ? 1 : 2;
                        if (cls != pass)
                            continue;
                        size_t row = db_tbl_add_row(ct);
                        char a[40];
                        if (r->by_build)
                            db_tbl_set(ct, row, 0, DB_TEXT, *c->base->env ? c->base->env : "(defaults)");
                        else
                            db_tbl_setf(ct, row, 0, DB_TEXT, "%s%s%s", c->base->alloc,
                                        *c->base->env ? " " : "", c->base->env);
                        db_tbl_set(ct, row, 1, DB_TEXT, rpt_metric_title[k]);
                        db_tbl_set(ct, row, 2, DB_REAL, db_fmt_value(c->base->s.median, t->unit[k], a, sizeof a));
                        db_tbl_set(ct, row, 3, DB_REAL, db_fmt_value(c->neu->s.median, t->unit[k], a, sizeof a));
                        db_tbl_setf(ct, row, 4, DB_REAL, "%+.1f%%", 100 * c->c.rel);
                        db_tbl_set(ct, row, 5, DB_TEXT, c->c.verdict == DB_SAME ? "same (within noise)"
                                                        : db_verdict_name(c->c.verdict));
                    }
            if (ct->nrows)
                db_tbl_print(ct, DB_FMT_TEXT, out);
            else
                fprintf(out, "  (no setting has ok runs under both labels)\n");
            db_tbl_free(ct);
        }
        if (t->has_stats) {
            char a[32], b[32];
            fprintf(out, "\nallocations by requested size (%s allocations, %s requested):\n",
                    hak_fmt_count((uint64_t)t->st_allocs, a, sizeof a),
                    db_fmt_value((double)t->st_bytes, "bytes", b, sizeof b));
            double mx = 0;
            for (size_t k = 0; k < t->sizes.n; k++)
                mx = fmax(mx, t->sizes.values[k]);
            for (size_t k = 0; k < t->sizes.n; k++) {
                fprintf(out, "  >= %-9s %12s  ", t->sizes.labels[k],
                        hak_fmt_count((uint64_t)t->sizes.values[k], a, sizeof a));
                text_bar(out, t->sizes.values[k], mx, 40);
                fputc('\n', out);
            }
            if (t->ntop_bytes) {
                fprintf(out, "\ntop call sites by bytes:\n");
                for (size_t k = 0; k < t->ntop_bytes && k < 5; k++) {
                    fprintf(out, "  %10s %5.1f%%  %s\n",
                            db_fmt_value((double)t->top_bytes[k].bytes, "bytes", a, sizeof a),
                            t->st_bytes ? 100.0 * (double)t->top_bytes[k].bytes / (double)t->st_bytes : 0,
                            t->top_bytes[k].symbol ? db_esc(t->top_bytes[k].symbol, x1, sizeof x1) : "(unknown)");
                    text_stack(out, t->top_bytes[k].frames);
                }
            }
            if (t->ntop_short) {
                fprintf(out, "\ntop call sites by short-lived objects:\n");
                for (size_t k = 0; k < t->ntop_short && k < 5; k++) {
                    fprintf(out, "  %10s of %-10s %s\n", hak_fmt_count((uint64_t)t->top_short[k].short_lived, a, sizeof a),
                            hak_fmt_count((uint64_t)t->top_short[k].allocs, b, sizeof b),
                            t->top_short[k].symbol ? db_esc(t->top_short[k].symbol, x1, sizeof x1) : "(unknown)");
                    text_stack(out, t->top_short[k].frames);
                }
            }
        }
        rpt_profile_text(db, t->id, out);
    }
}

/* ---- CLI ---------------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak report [--db FILE] [--html FILE] [--trace T] [--label L]\n"
        "                  [--sweep ID] [--base A --new B [--by label|build]] [-q]\n"
        "\n"
        "Summarises the run history per trace: every allocator and knob setting\n"
        "with the median (and range) of ops/s, minor page faults, peak RSS, p99\n"
        "latency and simulated dTLB misses, the best in each column, failed runs\n"
        "with their reason, and (after 'hak db import-trace') the size histogram\n"
        "and top call sites.  With --base/--new, a noise-aware comparison of the\n"
        "two labels, or with --by build of two allocator builds (e.g. glibc and\n"
        "hakmem) per trace and setting (see 'hak db compare --help').  A setting\n"
        "is allocator + knobs + mode (threads serial|recorded, touch, pace).\n"
        "A --trace, --label, --base or --new matching nothing is an error.\n"
        "\n"
        "  --html FILE  also write one self-contained HTML page (inline CSS and\n"
        "               SVG charts: comparison table, bar charts per setting, RSS\n"
        "               timelines overlaid with the recorded one, histograms,\n"
        "               call sites); no network needed to view it\n"
        "  --trace T    only traces matching T exactly (program, path, their base\n"
        "               names, or a hash prefix); a glob pattern if T has * ? [\n"
        "  --label L    only runs labelled L\n"
        "  --sweep ID   only the runs of one sweep (hak sweep prints its id)\n"
        "  -q           no text report on stdout (with --html)\n");
    fputs("\nexamples:\n"
          "  hak report\n"
          "  hak report --html report.html -q --label nightly\n"
          "  hak report --base v1 --new v2\n", out);
}

int cmd_report(int argc, char **argv)
{
    static const struct option lo[] = {
        {"db", required_argument, 0, 1000}, {"html", required_argument, 0, 1001},
        {"trace", required_argument, 0, 1002}, {"label", required_argument, 0, 1003},
        {"base", required_argument, 0, 1004}, {"new", required_argument, 0, 1005},
        {"sweep", required_argument, 0, 1006}, {"by", required_argument, 0, 1007},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *dbp = NULL, *html = NULL, *trace = NULL;
    rpt_report r;
    memset(&r, 0, sizeof r);
    int quiet = 0, by_given = 0, c;
    optind = 0;
    opterr = 0; /* one-line errors: hak_cmd_bad_option */
    while ((c = getopt_long(argc, argv, "hq", lo, NULL)) != -1) {
        switch (c) {
        case 1000: dbp = optarg; break;
        case 1001: html = optarg; break;
        case 1002: trace = optarg; break;
        case 1003: r.label = optarg; break;
        case 1004: r.base = optarg; break;
        case 1005: r.neu = optarg; break;
        case 1007:
            if (strcmp(optarg, "label") && strcmp(optarg, "build")) {
                hak_cmd_err("report", "--by: '%s' is not 'label' or 'build'", optarg);
                return 2;
            }
            r.by_build = !strcmp(optarg, "build");
            by_given = 1;
            break;
        case 1006: {
            uint64_t id;
            if (hak_parse_u64(optarg, &id) != 0) {
                hak_cmd_err("report", "--sweep: '%s' is not a sweep id", optarg);
                return 2;
            }
            r.sweep = optarg;
            break;
        }
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: return hak_cmd_bad_option("report", argc, argv);
        }
    }
    if (optind < argc) {
        hak_cmd_err("report", "unexpected argument '%s'; see --help", argv[optind]);
        return 2;
    }
    if (!r.base != !r.neu) {
        hak_cmd_err("report", "--base and --new go together");
        return 2;
    }
    if (by_given && !r.base) {   /* --by alone would be silently ignored */
        hak_cmd_err("report", "--by needs --base and --new");
        return 2;
    }
    hakdb *db = db_open_for("report", dbp);
    if (!db)
        return 1;
    r.db_path = hakdb_path(db);
    db_match_kind side = r.by_build ? DB_MATCH_BUILD : DB_MATCH_LABEL;
    if (db_require_match(db, "report", "--trace", DB_MATCH_TRACE, trace) ||
        db_require_match(db, "report", "--label", DB_MATCH_LABEL, r.label) ||
        db_require_match(db, "report", "--base", side, r.base) ||
        db_require_match(db, "report", "--new", side, r.neu)) {
        hakdb_close(db);
        return 1;
    }
    char err[600];
    int rc = 0;
    if (rpt_gather(db, &r, trace, err, sizeof err) != 0) {
        hak_cmd_err("report", "%s", err);
        rc = 1;
    } else {
        if (!quiet || !html) {
            rpt_text(db, &r, stdout);
            rpt_validation_text(db, r.label, stdout);
        }
        if (html) {
            FILE *f = fopen(html, "w");
            if (!f) {
                hak_cmd_err("report", "%s: cannot write: %m", html);
                rc = 1;
            } else {
                rc = rpt_html(db, &r, f);
                if (fclose(f) != 0 || rc) {
                    hak_cmd_err("report", "%s: write failed", html);
                    rc = 1;
                }
            }
        }
    }
    rpt_free(&r);
    hakdb_close(db);
    return rc;
}
