/* hakdb_import.c - a trace's statistics into the run history (hakdb_import.h). */
#include "hakdb_import.h"
#include "hakdb_import_views.h"
#include "hakdb_int.h"
#include "hak_util.h"
#include "heapmodel.h"
#include "symbolize.h"
#include "trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define NSIZE 65      /* bucket 0: size 0; bucket k: [2^(k-1), 2^k) */
#define NLIFE 65      /* bucket k: lifetime in [2^(k-1), 2^k) ns; 0: 0 ns */
#define MAX_FRAMES 12

typedef struct site_acc {
    uint64_t allocs, bytes, freed, short_lived;
    double life_sum;
} site_acc;

typedef struct acc {
    uint64_t size_n[NSIZE], size_b[NSIZE];
    uint64_t life_n[NLIFE], life_b[NLIFE];
    uint64_t life_ev_n[NLIFE], life_ev_b[NLIFE];   /* lifetime in events: seq(free) - seq(alloc) */
    uint64_t ts_res;           /* smallest non-zero gap between event timestamps; 0 none */
    uint64_t leak_n, leak_b;
    site_acc *sites;
    uint32_t nsites;           /* array length (max site id + 1) */
    uint64_t short_ns;
    int oom;
} acc;

static int bucket_of(uint64_t v)
{
    return v ? 64 - __builtin_clzll(v) : 0;   /* 1 -> 1, 2..3 -> 2, ... */
}

static site_acc *site_of(acc *a, uint32_t id)
{
    if (id >= a->nsites) {
        uint32_t n = a->nsites ? a->nsites : 64;
        while (n <= id)
            n *= 2;
        site_acc *s = realloc(a->sites, (size_t)n * sizeof *s);
        if (!s) {
            a->oom = 1;
            return NULL;
        }
        memset(s + a->nsites, 0, (size_t)(n - a->nsites) * sizeof *s);
        a->sites = s;
        a->nsites = n;
    }
    return &a->sites[id];
}

static void on_death(void *ctx, const hak_hm_obj *o, const hak_event *ev)
{
    acc *a = ctx;
    uint64_t life = ev->ts_ns >= o->ts_ns ? ev->ts_ns - o->ts_ns : 0;
    int b = bucket_of(life);
    a->life_n[b]++;
    a->life_b[b] += o->size;
    int eb = bucket_of(ev->seq > o->seq ? ev->seq - o->seq : 0);
    a->life_ev_n[eb]++;
    a->life_ev_b[eb] += o->size;
    site_acc *s = site_of(a, o->site);
    if (s) {
        s->freed++;
        s->short_lived += life < a->short_ns;
        s->life_sum += (double)life;
    }
}

static void on_live(void *ctx, const hak_hm_obj *o)
{
    acc *a = ctx;
    a->leak_n++;
    a->leak_b += o->size;
}

/* Frames inside the allocator, the recorder or an allocation wrapper
 * (xmalloc, _PyObject_Malloc, g_malloc0, operator new...) say little about
 * the program; the call site is the first frame outside them. */
static int boring_frame(const char *s)
{
    if (strstr(s, "libhakrec") || strstr(s, "libhakmem") || !strncmp(s, "0x", 2))
        return 1;
    const char *plus = strchr(s, '+');
    size_t n = plus ? (size_t)(plus - s) : strlen(s);
    if (strchr(s, '(') == NULL)      /* "module+0xoff": no symbol, no judgement */
        return 0;
    static const char *const words[] = {"alloc", "free", "_Znw", "_Zna", "operator new"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        size_t w = strlen(words[i]);
        for (size_t k = 0; k + w <= n; k++)
            if (!strncasecmp(s + k, words[i], w))
                return 1;
    }
    return 0;
}

/* Minimal JSON string escaping into buf. */
static void json_str(char *buf, size_t len, size_t *pos, const char *s)
{
    if (!s) {
        *pos += (size_t)snprintf(buf + *pos, *pos < len ? len - *pos : 0, "null");
        return;
    }
    if (*pos < len) buf[(*pos)++] = '"';
    for (; *s && *pos + 8 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { buf[(*pos)++] = '\\'; buf[(*pos)++] = (char)c; }
        else if (c < 0x20) *pos += (size_t)snprintf(buf + *pos, len - *pos, "\\u%04x", c);
        else buf[(*pos)++] = (char)c;
    }
    if (*pos < len) buf[(*pos)++] = '"';
    if (*pos < len) buf[*pos] = 0;
}

const char *hakdb_trace_meta_json(const hak_trace_meta *m, char *buf, size_t len)
{
    size_t p = 0;
#define PUT(...) p += (size_t)snprintf(buf + p, p < len ? len - p : 0, __VA_ARGS__)
    PUT("{\"version\":%u,\"pid\":%d,\"ppid\":%d,\"start_wall_ns\":%llu,\"page_size\":%u,\"argv\":[",
        m->version, m->pid, m->ppid, (unsigned long long)m->start_wall_ns, m->page_size);
    for (uint32_t i = 0; i < m->argc && p < len; i++) {
        if (i) PUT(",");
        json_str(buf, len, &p, m->argv ? m->argv[i] : NULL);
    }
    PUT("],\"hostname\":"); json_str(buf, len, &p, m->hostname);
    PUT(",\"kernel\":"); json_str(buf, len, &p, m->kernel);
    PUT(",\"thp_mode\":"); json_str(buf, len, &p, m->thp_mode);
    PUT(",\"cpu_model\":"); json_str(buf, len, &p, m->cpu_model);
    PUT(",\"recorder\":"); json_str(buf, len, &p, m->recorder);
    PUT(",\"options\":"); json_str(buf, len, &p, m->options);
    PUT("}");
#undef PUT
    if (p >= len)
        snprintf(buf, len, "{}");
    return buf;
}

typedef struct store_arg {
    int64_t trace_id;
    acc *a;
    hak_trace_reader *r;
    hak_symbolizer *sym;
    const hak_heap_model *m;
    uint64_t short_ns;
    const char *truncated;
    const dbv_views *views;      /* leaks, peak, temporaries, flame (db_import_views.h) */
} store_arg;

static int exec1(hakdb *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        hakdb_fail(db, "import");
        return rc;
    }
    return SQLITE_OK;
}

/* One lifetime histogram (in ns or in events): bucket k holds lifetimes in
 * [2^(k-1), 2^k), bucket 0 exactly 0, bucket -1 the objects never freed;
 * sql inserts (trace_id, bucket, lo, hi, objects, bytes). */
static int store_log2_hist(hakdb *db, int64_t trace_id, const acc *a, const char *sql,
                           const uint64_t *objects, const uint64_t *bytes)
{
    sqlite3_stmt *st;
    int rc = hakdb_prepare(db, &st, sql);
    if (rc)
        return rc;
    for (int b = -1; b < NLIFE && !rc; b++) {
        uint64_t n = b < 0 ? a->leak_n : objects[b], by = b < 0 ? a->leak_b : bytes[b];
        if (!n)
            continue;
        sqlite3_bind_int64(st, 1, trace_id);
        sqlite3_bind_int(st, 2, b);
        if (b < 0) {
            sqlite3_bind_null(st, 3);
            sqlite3_bind_null(st, 4);
        } else {
            uint64_t lo = b ? 1ull << (b - 1) : 0, hi = b ? (b == 64 ? UINT64_MAX : 1ull << b) : 1;
            sqlite3_bind_int64(st, 3, (int64_t)lo);
            sqlite3_bind_int64(st, 4, hi > INT64_MAX ? INT64_MAX : (int64_t)hi);
        }
        sqlite3_bind_int64(st, 5, (int64_t)n);
        sqlite3_bind_int64(st, 6, (int64_t)(by > INT64_MAX ? INT64_MAX : by));
        rc = exec1(db, st);
    }
    sqlite3_finalize(st);
    return rc;
}

static int store_body(hakdb *db, void *p)
{
    store_arg *s = p;
    sqlite3 *q = db->db;
    static const char *const del[] = {"trace_stats", "trace_size_hist", "trace_lifetime_hist",
                                      "trace_lifetime_events_hist", "trace_sites", "trace_rss"};
    sqlite3_stmt *st;
    int rc;
    for (size_t i = 0; i < sizeof del / sizeof *del; i++) {
        char sql[96];
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE trace_id = ?1", del[i]);
        if ((rc = hakdb_prepare(db, &st, sql)))
            return rc;
        sqlite3_bind_int64(st, 1, s->trace_id);
        rc = exec1(db, st);
        sqlite3_finalize(st);
        if (rc)
            return rc;
    }
    acc *a = s->a;
    uint64_t nsites = 0;
    for (uint32_t i = 0; i < a->nsites; i++)
        nsites += a->sites[i].allocs > 0;
    char now[32];
    hakdb_iso_time(HAKDB_NULL, now);
    if ((rc = hakdb_prepare(db, &st,
            "INSERT INTO trace_stats(trace_id, imported_at, allocs, frees, bytes_allocated,"
            " peak_live_bytes, sites, short_lived_ns, truncated, ts_resolution_ns)"
            " VALUES(?,?,?,?,?,?,?,?,?,?)")))
        return rc;
    sqlite3_bind_int64(st, 1, s->trace_id);
    hakdb_bind_text(st, 2, now);
    sqlite3_bind_int64(st, 3, (int64_t)s->m->allocs);
    sqlite3_bind_int64(st, 4, (int64_t)s->m->frees);
    sqlite3_bind_int64(st, 5, (int64_t)s->m->alloc_bytes);
    sqlite3_bind_int64(st, 6, (int64_t)s->m->peak_live_bytes);
    sqlite3_bind_int64(st, 7, (int64_t)nsites);
    sqlite3_bind_int64(st, 8, (int64_t)s->short_ns);
    hakdb_bind_text(st, 9, s->truncated && *s->truncated ? s->truncated : NULL);
    hakdb_bind_i64(st, 10, s->a->ts_res ? (int64_t)s->a->ts_res : HAKDB_NULL);
    rc = exec1(db, st);
    sqlite3_finalize(st);
    if (rc)
        return rc;

    if ((rc = hakdb_prepare(db, &st,
            "INSERT INTO trace_size_hist(trace_id, lo_bytes, hi_bytes, allocs, bytes) VALUES(?,?,?,?,?)")))
        return rc;
    for (int b = 0; b < NSIZE && !rc; b++) {
        if (!a->size_n[b])
            continue;
        uint64_t lo = b ? 1ull << (b - 1) : 0, hi = b ? (b == 64 ? UINT64_MAX : 1ull << b) : 1;
        sqlite3_bind_int64(st, 1, s->trace_id);
        sqlite3_bind_int64(st, 2, (int64_t)lo);
        sqlite3_bind_int64(st, 3, hi > INT64_MAX ? INT64_MAX : (int64_t)hi);
        sqlite3_bind_int64(st, 4, (int64_t)a->size_n[b]);
        sqlite3_bind_int64(st, 5, (int64_t)(a->size_b[b] > INT64_MAX ? INT64_MAX : a->size_b[b]));
        rc = exec1(db, st);
    }
    sqlite3_finalize(st);
    if (rc)
        return rc;

    if ((rc = store_log2_hist(db, s->trace_id, a,
            "INSERT INTO trace_lifetime_hist(trace_id, bucket, lo_ns, hi_ns, objects, bytes)"
            " VALUES(?,?,?,?,?,?)", a->life_n, a->life_b)))
        return rc;
    /* The same objects by lifetime in events, which no clock quantises. */
    if ((rc = store_log2_hist(db, s->trace_id, a,
            "INSERT INTO trace_lifetime_events_hist(trace_id, bucket, lo_events, hi_events, objects, bytes)"
            " VALUES(?,?,?,?,?,?)", a->life_ev_n, a->life_ev_b)))
        return rc;

    if ((rc = hakdb_prepare(db, &st,
            "INSERT INTO trace_sites(trace_id, site, symbol, frames, allocs, bytes, freed, short_lived,"
            " mean_lifetime_ns) VALUES(?,?,?,?,?,?,?,?,?)")))
        return rc;
    for (uint32_t i = 0; i < a->nsites && !rc; i++) {
        site_acc *x = &a->sites[i];
        if (!x->allocs)
            continue;
        char frames[MAX_FRAMES * 160] = "", sym[160] = "", one[160];
        const hak_site *hs = i ? hak_tr_site(s->r, i) : NULL;
        if (hs && s->sym) {
            for (uint32_t d = 0; d < hs->depth; d++) {
                hak_sym_format(s->sym, hs->ips[d], one, sizeof one);
                if (!sym[0] && !boring_frame(one))
                    snprintf(sym, sizeof sym, "%s", one);
                if (d < MAX_FRAMES) {
                    size_t n = strlen(frames);
                    snprintf(frames + n, sizeof frames - n, "%s%s", d ? " <- " : "", one);
                }
            }
            if (!sym[0] && hs->depth)   /* every frame "boring": keep the innermost */
                hak_sym_format(s->sym, hs->ips[0], sym, sizeof sym);
        }
        sqlite3_bind_int64(st, 1, s->trace_id);
        sqlite3_bind_int64(st, 2, i);
        hakdb_bind_text(st, 3, sym[0] ? sym : NULL);
        hakdb_bind_text(st, 4, frames[0] ? frames : NULL);
        sqlite3_bind_int64(st, 5, (int64_t)x->allocs);
        sqlite3_bind_int64(st, 6, (int64_t)x->bytes);
        sqlite3_bind_int64(st, 7, (int64_t)x->freed);
        sqlite3_bind_int64(st, 8, (int64_t)x->short_lived);
        if (x->freed)
            sqlite3_bind_double(st, 9, x->life_sum / (double)x->freed);
        else
            sqlite3_bind_null(st, 9);
        rc = exec1(db, st);
    }
    sqlite3_finalize(st);
    if (rc)
        return rc;

    const hak_rss_sample *rss;
    size_t nrss = hak_tr_rss(s->r, &rss);
    if (nrss) {
        if ((rc = hakdb_prepare(db, &st,
                "INSERT INTO trace_rss(trace_id, idx, t_ns, rss_bytes) VALUES(?,?,?,?)")))
            return rc;
        for (size_t i = 0; i < nrss && !rc; i++) {
            sqlite3_bind_int64(st, 1, s->trace_id);
            sqlite3_bind_int64(st, 2, (int64_t)i);
            sqlite3_bind_int64(st, 3, (int64_t)rss[i].ts_ns);
            sqlite3_bind_int64(st, 4, (int64_t)rss[i].rss_bytes);
            rc = exec1(db, st);
        }
        sqlite3_finalize(st);
    }
    (void)q;
    if (!rc)
        rc = dbv_store(db, s->trace_id, s->views, s->r);
    return rc;
}

const char *hakdb_trace_program(const hak_trace_meta *m, const char *path)
{
    if (m && m->argc && m->argv && m->argv[0] && m->argv[0][0])
        return hak_base_name(m->argv[0]);
    if (m && m->recorder && m->recorder[0])
        return m->recorder;
    return hak_base_name(path);
}

int hakdb_import_trace(hakdb *db, const char *path, const hakdb_import_opts *o,
                    hakdb_import_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    char hash[17];
    if (hak_hash_file(path, hash) != 0) {
        snprintf(err, errlen, "%s: cannot read: %m", path);
        return -1;
    }
    hak_trace_reader *r = hak_tr_open(path, err, errlen);
    if (!r) {
        if (!hak_msg_names_path(err, path)) {   /* one line naming the file */
            char why[512];
            snprintf(why, sizeof why, "%s", err);
            snprintf(err, errlen, "%s: %s", path, why);
        }
        return -1;
    }
    acc *a = calloc(1, sizeof *a);
    hak_heap_model m;
    if (!a || hak_hm_init(&m, on_death, a) != 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(a);
        hak_tr_close(r);
        return -1;
    }
    a->short_ns = o && o->short_lived_ns ? o->short_lived_ns : 1000000;
    /* A trace that declares its clock unit has that resolution exactly;
     * the smallest gap seen is only a bound (two events 1 us apart may never
     * happen in a slow program), so it is used only for exact-unit traces. */
    const hak_trace_meta *um = hak_tr_meta(r);
    uint64_t declared_unit = um && um->ts_unit_ns > 1 ? um->ts_unit_ns : 0;
    hak_event ev;
    int rc;
    uint64_t first_ts = 0, last_ts = 0, n = 0;
    while ((rc = hak_tr_next(r, &ev)) == 1) {
        if (!n++)
            first_ts = ev.ts_ns;
        else if (ev.ts_ns != last_ts) {
            uint64_t gap = ev.ts_ns > last_ts ? ev.ts_ns - last_ts : last_ts - ev.ts_ns;
            if (!declared_unit && (!a->ts_res || gap < a->ts_res))
                a->ts_res = gap;
        }
        last_ts = ev.ts_ns;
        if (declared_unit && n > 1)
            a->ts_res = declared_unit;
        uint64_t before = m.allocs;
        unsigned f = hak_hm_apply(&m, &ev);
        if (f & HAK_HM_OOM)
            a->oom = 1;
        if (m.allocs > before) {   /* a block was born */
            uint64_t bytes = hak_hm_request_bytes(&ev);
            int b = bucket_of(bytes);
            a->size_n[b]++;
            a->size_b[b] += bytes;
            site_acc *s = site_of(a, ev.site);
            if (s) {
                s->allocs++;
                s->bytes += bytes;
            }
        }
        if (a->oom)
            break;
    }
    const hak_tr_status *status = hak_tr_status_get(r);
    if (rc < 0 || a->oom) {
        snprintf(err, errlen, "%s: %s", path, a->oom ? "out of memory" : hak_tr_error(r));
        hak_hm_destroy(&m);
        free(a->sites);
        free(a);
        hak_tr_close(r);
        return -1;
    }
    hak_hm_foreach_live(&m, on_live, a);
    char verr[256];
    dbv_views *views = dbv_compute(r, verr, sizeof verr);
    if (!views) {
        snprintf(err, errlen, "%s: %s", path, verr);
        hak_hm_destroy(&m);
        free(a->sites);
        free(a);
        hak_tr_close(r);
        return -1;
    }

    const hak_trace_meta *meta = hak_tr_meta(r);
    static char mj[16384];
    hakdb_trace_meta_json(meta, mj, sizeof mj);

    hakdb_trace t = {.hash = hash, .path = path, .program = hakdb_trace_program(meta, path),
                     .events = (int64_t)hak_tr_nevents(r), .threads = hak_tr_nthreads(r),
                     .duration_ns = n ? (int64_t)(last_ts - first_ts) : HAKDB_NULL,
                     .file_bytes = (int64_t)status->file_bytes, .meta_json = mj,
                     .completeness = status->incomplete ? "incomplete"
                                   : status->truncated ? "truncated" : "complete"};
    int64_t tid = hakdb_upsert_trace(db, &t);
    int ret = -1;
    if (tid < 0) {
        snprintf(err, errlen, "%s: %s", path, hakdb_error(db));
    } else {
        const hak_module *mods;
        size_t nmods = hak_tr_modules(r, &mods);
        store_arg sa = {tid, a, r, nmods ? hak_sym_new(mods, nmods) : NULL, &m, a->short_ns,
                        status->truncated ? status->reason : NULL, views};
        if (sa.sym)   /* C++ names as people read them (libstdc++, when installed) */
            hak_sym_demangle(sa.sym, 1);
        if (hakdb_tx(db, "import trace", store_body, &sa) != 0) {
            snprintf(err, errlen, "%s: %s", path, hakdb_error(db));
        } else {
            ret = 0;
            res->trace_id = tid;
            res->events = n;
            res->allocs = m.allocs;
            res->frees = m.frees;
            res->bytes = m.alloc_bytes;
            for (uint32_t i = 0; i < a->nsites; i++)
                res->sites += a->sites[i].allocs > 0;
            snprintf(res->truncated, sizeof res->truncated, "%s",
                     status->truncated ? status->reason : "");
        }
        hak_sym_free(sa.sym);
    }
    dbv_free(views);
    hak_hm_destroy(&m);
    free(a->sites);
    free(a);
    hak_tr_close(r);
    return ret;
}
