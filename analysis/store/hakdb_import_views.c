/* hakdb_import_views.c - see db_import_views.h. */
#include "hakdb_import_views.h"
#include "hakdb_int.h"
#include "site_timeline.h"
#include "siteview.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dbv_views {
    hak_siteview v;
    hak_stl tl;
};

dbv_views *dbv_compute(hak_trace_reader *r, char *err, size_t errlen)
{
    dbv_views *d = calloc(1, sizeof *d);
    const hak_rss_sample *rss;
    size_t nrss = hak_tr_rss(r, &rss);
    hak_sv_opts so = {HAK_SV_TEMP_GLOBAL, DBV_SHORT_EVENTS, 0};
    if (!d || hak_sv_init(&d->v, &so, rss, nrss)) {
        free(d);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    hak_tr_rewind(r);
    int rc = hak_sv_run(&d->v, r, NULL, NULL, err, errlen);
    if (!rc)
        rc = hak_stl_run(&d->tl, &d->v, r, DBV_TIMELINE_TOP, DBV_TIMELINE_POINTS, 0, err, errlen);
    hak_tr_rewind(r);
    if (rc) {
        dbv_free(d);
        return NULL;
    }
    return d;
}

void dbv_free(dbv_views *d)
{
    if (!d)
        return;
    hak_sv_destroy(&d->v);
    hak_stl_free(&d->tl);
    free(d);
}

static int step_reset(hakdb *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        hakdb_fail(db, "import views");
        return rc == SQLITE_ROW ? SQLITE_ERROR : rc;
    }
    return 0;
}

/* ---- folded stacks ---- */

typedef struct folded { char *stack; const hak_sv_site *s; } folded;

static int cmp_folded(const void *a, const void *b)
{
    return strcmp(((const folded *)a)->stack, ((const folded *)b)->stack);
}

/* "root;...;leaf" of site id: function names as hak trace flame writes
 * them (';' in a name becomes ':'), innermost DBV_FLAME_DEPTH frames.
 * malloc'd; NULL when out of memory. */
static char *folded_stack(hak_trace_reader *r, hak_symbolizer *sym, uint32_t id)
{
    const hak_site *s = id ? hak_tr_site(r, id) : NULL;
    if (!s || !s->depth)
        return strdup(id ? "[no stack in the trace]" : "[no call site recorded]");
    uint32_t n = s->depth < DBV_FLAME_DEPTH ? s->depth : DBV_FLAME_DEPTH;
    size_t cap = 256, len = 0;
    char *out = malloc(cap);
    for (uint32_t k = n; out && k-- > 0;) {     /* root first */
        char buf[1024];
        if (sym)
            hak_sym_func(sym, s->ips[k], 0, buf, sizeof buf);
        else
            snprintf(buf, sizeof buf, "0x%" PRIx64, s->ips[k]);
        size_t l = strlen(buf);
        if (len + l + 2 > cap) {
            while (len + l + 2 > cap)
                cap *= 2;
            char *q = realloc(out, cap);
            if (!q) {
                free(out);
                return NULL;
            }
            out = q;
        }
        for (size_t i = 0; i < l; i++)
            out[len++] = buf[i] == ';' ? ':' : buf[i] == '\n' || buf[i] == '\r' ? ' ' : buf[i];
        if (k)
            out[len++] = ';';
    }
    if (out)
        out[len] = 0;
    return out;
}

static int store_flame(hakdb *db, int64_t trace_id, const hak_siteview *v, hak_trace_reader *r,
                       hak_symbolizer *sym)
{
    folded *rows = calloc((size_t)v->nsites + 1, sizeof *rows);
    size_t n = 0;
    int rc = rows ? 0 : SQLITE_NOMEM;
    for (uint32_t i = 0; !rc && i < v->nsites; i++) {
        const hak_sv_site *s = &v->sites[i];
        if (!s->allocs && !s->live)
            continue;
        if (!(rows[n].stack = folded_stack(r, sym, s->id)))
            rc = SQLITE_NOMEM;
        else
            rows[n++].s = s;
    }
    sqlite3_stmt *st = NULL;
    if (!rc && n)
        qsort(rows, n, sizeof *rows, cmp_folded);
    if (!rc)
        rc = hakdb_prepare(db, &st, "INSERT INTO trace_flame(trace_id, stack, allocs, alloc_bytes,"
                                    " leaked_bytes, peak_bytes) VALUES(?,?,?,?,?,?)");
    /* Sites whose stacks name the same functions merge into one row. */
    for (size_t i = 0; !rc && i < n;) {
        uint64_t w[4] = {0};
        size_t j = i;
        for (; j < n && !strcmp(rows[j].stack, rows[i].stack); j++) {
            w[0] += rows[j].s->allocs;
            w[1] += rows[j].s->alloc_bytes;
            w[2] += rows[j].s->live_bytes;
            w[3] += rows[j].s->peak_bytes;
        }
        sqlite3_bind_int64(st, 1, trace_id);
        hakdb_bind_text(st, 2, rows[i].stack);
        for (int k = 0; k < 4; k++)
            sqlite3_bind_int64(st, 3 + k, (int64_t)w[k]);
        rc = step_reset(db, st);
        i = j;
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < n; i++)
        free(rows[i].stack);
    free(rows);
    return rc;
}

/* The timeline's points: a row per point and top site, and one for the
 * other sites (rank 0, site NULL). */
static int store_timeline(hakdb *db, int64_t trace_id, const hak_stl *tl)
{
    sqlite3_stmt *st;
    int rc = hakdb_prepare(db, &st, "INSERT INTO trace_site_timeline(trace_id, point, ts_ns, rank,"
                                    " site, live_bytes) VALUES(?,?,?,?,?,?)");
    for (size_t p = 0; !rc && p < tl->npoints; p++)
        for (size_t k = 0; !rc && k <= tl->ntop; k++) {
            sqlite3_bind_int64(st, 1, trace_id);
            sqlite3_bind_int64(st, 2, (int64_t)p);
            sqlite3_bind_int64(st, 3, (int64_t)tl->at_ns[p]);
            sqlite3_bind_int64(st, 4, (int64_t)k);
            hakdb_bind_i64(st, 5, k ? (int64_t)tl->ids[k - 1] : HAKDB_NULL);
            sqlite3_bind_int64(st, 6, (int64_t)hak_stl_at(tl, p, k ? k : tl->ntop + 1));
            rc = step_reset(db, st);
        }
    sqlite3_finalize(st);
    return rc;
}

int dbv_store(hakdb *db, int64_t trace_id, const dbv_views *d, hak_trace_reader *r)
{
    const hak_siteview *v = &d->v;
    static const char *const tables[] = {"trace_view_stats", "trace_site_views", "trace_flame",
                                         "trace_site_timeline"};
    sqlite3_stmt *st;
    int rc;
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        char sql[96];
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE trace_id = ?1", tables[i]);
        if ((rc = hakdb_prepare(db, &st, sql)))
            return rc;
        sqlite3_bind_int64(st, 1, trace_id);
        rc = step_reset(db, st);
        sqlite3_finalize(st);
        if (rc)
            return rc;
    }
    if ((rc = hakdb_prepare(db, &st,
            "INSERT INTO trace_view_stats(trace_id, leaked_blocks, leaked_bytes, peak_bytes,"
            " peak_blocks, peak_seq, peak_ns, rss_peak_bytes, rss_peak_ns, rss_heap_bytes,"
            " temporary, short_lived, short_events, unknown_frees)"
            " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)")))
        return rc;
    sqlite3_bind_int64(st, 1, trace_id);
    sqlite3_bind_int64(st, 2, (int64_t)v->live);
    sqlite3_bind_int64(st, 3, (int64_t)v->live_bytes);
    sqlite3_bind_int64(st, 4, (int64_t)v->peak_bytes);
    sqlite3_bind_int64(st, 5, (int64_t)v->peak_live);
    hakdb_bind_i64(st, 6, v->have_peak ? (int64_t)v->peak_seq : HAKDB_NULL);
    hakdb_bind_i64(st, 7, v->have_peak ? (int64_t)v->peak_ns : HAKDB_NULL);
    hakdb_bind_i64(st, 8, v->have_rss ? (int64_t)v->rss_peak : HAKDB_NULL);
    hakdb_bind_i64(st, 9, v->have_rss ? (int64_t)v->rss_ns : HAKDB_NULL);
    hakdb_bind_i64(st, 10, v->have_rss ? (int64_t)v->rss_heap_bytes : HAKDB_NULL);
    sqlite3_bind_int64(st, 11, (int64_t)v->temporary);
    sqlite3_bind_int64(st, 12, (int64_t)v->short_lived);
    sqlite3_bind_int64(st, 13, (int64_t)v->opt.short_events);
    sqlite3_bind_int64(st, 14, (int64_t)v->unknown_frees);
    rc = step_reset(db, st);
    sqlite3_finalize(st);
    if (rc)
        return rc;

    if ((rc = hakdb_prepare(db, &st,
            "INSERT INTO trace_site_views(trace_id, site, allocs, alloc_bytes, leaked_blocks,"
            " leaked_bytes, leak_largest, peak_blocks, peak_bytes, rss_bytes, temporary, short_lived)"
            " VALUES(?,?,?,?,?,?,?,?,?,?,?,?)")))
        return rc;
    for (uint32_t i = 0; !rc && i < v->nsites; i++) {
        const hak_sv_site *s = &v->sites[i];
        if (!s->allocs && !s->live)
            continue;
        sqlite3_bind_int64(st, 1, trace_id);
        sqlite3_bind_int64(st, 2, s->id);
        sqlite3_bind_int64(st, 3, (int64_t)s->allocs);
        sqlite3_bind_int64(st, 4, (int64_t)s->alloc_bytes);
        sqlite3_bind_int64(st, 5, (int64_t)s->live);
        sqlite3_bind_int64(st, 6, (int64_t)s->live_bytes);
        sqlite3_bind_int64(st, 7, (int64_t)s->leak_largest);
        sqlite3_bind_int64(st, 8, (int64_t)s->peak_live);
        sqlite3_bind_int64(st, 9, (int64_t)s->peak_bytes);
        hakdb_bind_i64(st, 10, v->have_rss ? (int64_t)s->rss_bytes : HAKDB_NULL);
        sqlite3_bind_int64(st, 11, (int64_t)s->temporary);
        sqlite3_bind_int64(st, 12, (int64_t)s->short_lived);
        rc = step_reset(db, st);
    }
    sqlite3_finalize(st);
    if (rc || (rc = store_timeline(db, trace_id, &d->tl)))
        return rc;
    /* Frames named as hak trace flame names them (demangled; a stripped
     * library's local functions from its debug file, via libdw), so the
     * stored stacks are that command's output. */
    const hak_module *mods;
    size_t nmods = hak_tr_modules(r, &mods);
    hak_symbolizer *sym = nmods ? hak_sym_new(mods, nmods) : NULL;
    if (sym) {
        hak_sym_demangle(sym, 1);
        hak_sym_lines(sym, 1);
    }
    rc = store_flame(db, trace_id, v, r, sym);
    hak_sym_free(sym);
    return rc;
}
