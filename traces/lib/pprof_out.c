/* pprof_out.c - see pprof_out.h.  Builds the Profile message in memory
 * (strings, functions and locations deduplicated through small hash
 * tables), packs it with protobuf-c and writes it through zlib's gzip
 * stream.  Memory is bounded by the call sites and their distinct frames. */
#include "pprof_out.h"
#include "profile.pb-c.h"
#include "hak_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

typedef Perftools__Profiles__Profile pb_profile;
typedef Perftools__Profiles__ValueType pb_vtype;
typedef Perftools__Profiles__Sample pb_sample;
typedef Perftools__Profiles__Mapping pb_mapping;
typedef Perftools__Profiles__Location pb_location;
typedef Perftools__Profiles__Line pb_line;
typedef Perftools__Profiles__Function pb_function;

/* ---- growable pointer arrays and a u64 -> id hash map ---- */

static int push(void ***a, size_t *n, size_t *cap, void *p)
{
    if (!p)
        return -1;
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        void **q = realloc(*a, c * sizeof *q);
        if (!q)
            return -1;
        *a = q;
        *cap = c;
    }
    (*a)[(*n)++] = p;
    return 0;
}

typedef struct idmap { uint64_t *key, *val; size_t mask, n; } idmap;   /* val 0 = empty */

static size_t slot_of(uint64_t k, size_t mask)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (size_t)k & mask;
}

static uint64_t idmap_get(const idmap *m, uint64_t k)
{
    if (!m->key)
        return 0;
    for (size_t i = slot_of(k, m->mask);; i = (i + 1) & m->mask) {
        if (!m->val[i])
            return 0;
        if (m->key[i] == k)
            return m->val[i];
    }
}

static int idmap_put(idmap *m, uint64_t k, uint64_t v)
{
    if (2 * (m->n + 1) > (m->key ? m->mask + 1 : 0)) {
        size_t cap = m->key ? 2 * (m->mask + 1) : 256;
        idmap g = {calloc(cap, sizeof *g.key), calloc(cap, sizeof *g.val), cap - 1, 0};
        if (!g.key || !g.val) {
            free(g.key);
            free(g.val);
            return -1;
        }
        for (size_t i = 0; m->key && i <= m->mask; i++)
            if (m->val[i])
                idmap_put(&g, m->key[i], m->val[i]);
        free(m->key);
        free(m->val);
        *m = g;
    }
    size_t i = slot_of(k, m->mask);
    while (m->val[i])
        i = (i + 1) & m->mask;
    m->key[i] = k;
    m->val[i] = v;
    m->n++;
    return 0;
}

/* ---- the profile being built ---- */

typedef struct builder {
    hak_symbolizer *sym;
    const hak_module *mods;
    size_t nmods;
    char **str;                  /* string_table; str[0] = "" */
    size_t nstr, capstr;
    idmap strs;                  /* hash of a string -> index + 1 (chained by probing) */
    pb_function **fn;
    size_t nfn, capfn;
    idmap fns;                   /* name index << 32 | file index -> id */
    pb_location **loc;
    size_t nloc, caploc;
    idmap locs;                  /* address -> id */
    uint64_t pseudo[2];          /* locations of the two stackless pseudo-frames */
    int oom;
} builder;

/* Index of s in the string table, added when new. */
static int64_t intern(builder *b, const char *s)
{
    if (!*s)
        return 0;
    size_t len = strlen(s);
    uint64_t h = hak_hash64(s, len, 0x9e3779b97f4a7c15ull);
    /* Equal hashes of different strings: probe h, h + 1, ... as keys. */
    for (uint64_t k = h;; k++) {
        uint64_t id = idmap_get(&b->strs, k);
        if (!id)
            break;
        if (!strcmp(b->str[id - 1], s))
            return (int64_t)(id - 1);
    }
    char *c = strdup(s);
    if (push((void ***)&b->str, &b->nstr, &b->capstr, c)) {
        free(c);
        b->oom = 1;
        return 0;
    }
    uint64_t k = h;
    while (idmap_get(&b->strs, k))
        k++;
    if (idmap_put(&b->strs, k, b->nstr))
        b->oom = 1;
    return (int64_t)(b->nstr - 1);
}

static uint64_t function_of(builder *b, const char *name, const char *file)
{
    int64_t n = intern(b, name), f = intern(b, file);
    uint64_t key = (uint64_t)n << 32 | (uint64_t)(uint32_t)f, id = idmap_get(&b->fns, key);
    if (id)
        return id;
    pb_function *fn = malloc(sizeof *fn);
    if (!fn || push((void ***)&b->fn, &b->nfn, &b->capfn, fn)) {
        free(fn);
        b->oom = 1;
        return 0;
    }
    perftools__profiles__function__init(fn);
    fn->id = b->nfn;
    fn->name = fn->system_name = n;
    fn->filename = f;
    if (idmap_put(&b->fns, key, fn->id))
        b->oom = 1;
    return fn->id;
}

typedef struct frame_list {
    char *name[64], *loc[64];
    unsigned n;
} frame_list;

static void on_frame(void *ctx, const char *frame, const char *loc, int inlined)
{
    frame_list *l = ctx;
    (void)inlined;
    if (l->n < 64) {
        l->name[l->n] = strdup(frame);
        l->loc[l->n++] = loc ? strdup(loc) : NULL;
    }
}

/* A Location with lines; name NULL: the frames at ip from the symboliser. */
static uint64_t add_location(builder *b, uint64_t ip, const char *pseudo)
{
    frame_list l = {.n = 0};
    char buf[1024];
    if (pseudo) {
        l.name[l.n] = strdup(pseudo);
        l.loc[l.n++] = NULL;
    } else {
        hak_sym_frames(b->sym, ip, on_frame, &l);
        /* The frame itself (last) by its function alone, as pprof names
         * functions: hak_sym_frames shows it as "func+0x1a (module)". */
        hak_sym_func(b->sym, ip, 0, buf, sizeof buf);
        if (l.n) {
            free(l.name[l.n - 1]);
            l.name[l.n - 1] = strdup(buf);
        } else {
            l.name[l.n] = strdup(buf);
            l.loc[l.n++] = NULL;
        }
    }
    pb_location *loc = calloc(1, sizeof *loc);
    pb_line *lines = calloc(l.n ? l.n : 1, sizeof *lines);
    pb_line **lp = calloc(l.n ? l.n : 1, sizeof *lp);
    if (!loc || !lines || !lp || push((void ***)&b->loc, &b->nloc, &b->caploc, loc)) {
        free(loc);
        free(lines);
        free(lp);
        b->oom = 1;
        loc = NULL;
    }
    if (loc) {
        perftools__profiles__location__init(loc);
        loc->id = b->nloc;
        loc->address = pseudo ? 0 : ip;
        for (size_t i = 0; !pseudo && i < b->nmods; i++)
            if (ip >= b->mods[i].base && ip - b->mods[i].base < b->mods[i].size) {
                loc->mapping_id = i + 1;
                break;
            }
        for (unsigned k = 0; k < l.n; k++) {
            perftools__profiles__line__init(&lines[k]);
            lp[loc->n_line++] = &lines[k];     /* so line[0] is the array */
            if (!l.name[k]) {
                b->oom = 1;
                continue;
            }
            /* "file:line" -> file, line */
            int64_t line = 0;
            char *colon = l.loc[k] ? strrchr(l.loc[k], ':') : NULL;
            if (colon && colon[1]) {
                char *end;
                long long v = strtoll(colon + 1, &end, 10);
                if (!*end && v >= 0) {
                    *colon = 0;
                    line = v;
                }
            }
            lines[k].function_id = function_of(b, l.name[k], l.loc[k] ? l.loc[k] : "");
            lines[k].line = line;
        }
        loc->line = lp;
    }
    for (unsigned k = 0; k < l.n; k++) {
        free(l.name[k]);
        free(l.loc[k]);
    }
    return loc ? loc->id : 0;
}

static uint64_t location_of(builder *b, uint64_t ip)
{
    uint64_t id = idmap_get(&b->locs, ip);
    if (id)
        return id;
    id = add_location(b, ip, NULL);
    if (id && idmap_put(&b->locs, ip, id))
        b->oom = 1;
    return id;
}

/* Leaf-first location ids of site id into out (at most max); the count. */
static size_t site_stack(builder *b, hak_trace_reader *r, uint32_t id, uint64_t depth,
                         uint64_t *out, size_t max)
{
    const hak_site *s = id ? hak_tr_site(r, id) : NULL;
    if (!s || !s->depth) {
        int k = id ? 1 : 0;
        if (!b->pseudo[k])
            b->pseudo[k] = add_location(b, 0, k ? "[no stack in the trace]"
                                                : "[no call site recorded]");
        out[0] = b->pseudo[k];
        return 1;
    }
    size_t n = s->depth;
    if (depth && depth < n)
        n = (size_t)depth;
    if (n > max)
        n = max;
    for (size_t d = 0; d < n; d++)
        out[d] = location_of(b, s->ips[d]);
    return n;
}

static int write_gz(const char *path, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    gzFile g;
    if (!strcmp(path, "-")) {
        int fd = dup(1);
        g = fd < 0 ? NULL : gzdopen(fd, "wb");
        if (!g && fd >= 0)
            close(fd);
    } else {
        g = gzopen(path, "wb");
    }
    if (!g)
        return snprintf(err, errlen, "%s: cannot create: %s", path,
                        errno ? strerror(errno) : "out of memory"), -1;
    int bad = 0;
    while (len && !bad) {
        unsigned n = len > (1u << 30) ? 1u << 30 : (unsigned)len;
        int w = gzwrite(g, buf, n);
        if (w <= 0)
            bad = 1;
        buf += w > 0 ? w : 0;
        len -= w > 0 ? (size_t)w : 0;
    }
    int e = 0;
    const char *zmsg = bad ? gzerror(g, &e) : NULL;
    char why[160];
    snprintf(why, sizeof why, "%s", zmsg ? zmsg : "");
    if (e == Z_ERRNO)
        snprintf(why, sizeof why, "%s", strerror(errno));
    int rc = gzclose(g);
    if (bad || rc != Z_OK)
        return snprintf(err, errlen, "%s: write failed: %s", path,
                        why[0] ? why : rc == Z_ERRNO ? strerror(errno) : "zlib error"), -1;
    return 0;
}

int hak_pprof_write(const char *path, const hak_siteview *v, hak_trace_reader *r,
                    hak_symbolizer *sym, const hak_pprof_info *info, char *err, size_t errlen)
{
    builder b = {.sym = sym};
    b.nmods = hak_tr_modules(r, &b.mods);
    int rc = -1;
    char *empty = strdup("");
    if (push((void ***)&b.str, &b.nstr, &b.capstr, empty)) {
        free(empty);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pb_profile p;
    perftools__profiles__profile__init(&p);
    static const char *const types[4][2] = {
        {"alloc_objects", "count"}, {"alloc_space", "bytes"},
        {"inuse_objects", "count"}, {"inuse_space", "bytes"},
    };
    pb_vtype vt[4], *vtp[4], period;
    for (int i = 0; i < 4; i++) {
        perftools__profiles__value_type__init(&vt[i]);
        vt[i].type = intern(&b, types[i][0]);
        vt[i].unit = intern(&b, types[i][1]);
        vtp[i] = &vt[i];
    }
    p.sample_type = vtp;
    p.n_sample_type = 4;
    perftools__profiles__value_type__init(&period);
    period.type = intern(&b, "space");
    period.unit = intern(&b, "bytes");
    p.period_type = &period;
    p.period = 1;                       /* every allocation is in the trace */
    p.default_sample_type = intern(&b, "inuse_space");
    p.time_nanos = info->time_nanos;
    p.duration_nanos = info->duration_nanos;

    /* Mappings: the recorded modules. */
    pb_mapping *maps = calloc(b.nmods + 1, sizeof *maps);
    pb_mapping **mapp = calloc(b.nmods + 1, sizeof *mapp);
    int64_t *comments = calloc(info->ncomments + 1, sizeof *comments);
    pb_sample *samples = calloc((size_t)v->nsites + 1, sizeof *samples);
    pb_sample **samplep = calloc((size_t)v->nsites + 1, sizeof *samplep);
    int64_t *values = calloc(4 * ((size_t)v->nsites + 1), sizeof *values);
    uint64_t **stacks = calloc((size_t)v->nsites + 1, sizeof *stacks);
    uint8_t *packed = NULL;
    if (!maps || !mapp || !comments || !samples || !samplep || !values || !stacks)
        b.oom = 1;
    for (size_t i = 0; !b.oom && i < b.nmods; i++) {
        const hak_module *m = &b.mods[i];
        perftools__profiles__mapping__init(&maps[i]);
        maps[i].id = i + 1;
        maps[i].memory_start = m->base;
        maps[i].memory_limit = m->base + m->size;
        maps[i].filename = intern(&b, m->path ? m->path : "");
        char hex[2 * sizeof m->build_id + 1] = "";
        for (unsigned k = 0; k < m->build_id_len && k < sizeof m->build_id; k++)
            snprintf(hex + 2 * k, 3, "%02x", m->build_id[k]);
        maps[i].build_id = intern(&b, hex);
        maps[i].has_functions = 1;
        maps[i].has_filenames = maps[i].has_line_numbers = maps[i].has_inline_frames =
            hak_sym_lines_on(sym);
        mapp[i] = &maps[i];
    }
    p.mapping = mapp;
    p.n_mapping = b.oom ? 0 : b.nmods;
    for (size_t i = 0; !b.oom && i < info->ncomments; i++)
        comments[i] = intern(&b, info->comments[i]);
    p.comment = comments;
    p.n_comment = b.oom ? 0 : info->ncomments;

    /* One sample per call site with something to count. */
    enum { MAXD = 1024 };
    uint64_t ids[MAXD];
    size_t ns = 0;
    for (uint32_t i = 0; !b.oom && i < v->nsites; i++) {
        const hak_sv_site *s = &v->sites[i];
        if (!s->allocs && !s->live)
            continue;
        size_t n = site_stack(&b, r, s->id, info->depth, ids, MAXD);
        if (!(stacks[ns] = malloc(n * sizeof *stacks[ns]))) {
            b.oom = 1;
            break;
        }
        memcpy(stacks[ns], ids, n * sizeof *ids);
        pb_sample *sm = &samples[ns];
        perftools__profiles__sample__init(sm);
        sm->location_id = stacks[ns];
        sm->n_location_id = n;
        int64_t *val = values + 4 * ns;
        val[0] = (int64_t)s->allocs;
        val[1] = (int64_t)s->alloc_bytes;
        val[2] = (int64_t)s->live;
        val[3] = (int64_t)s->live_bytes;
        sm->value = val;
        sm->n_value = 4;
        samplep[ns] = sm;
        ns++;
    }
    p.sample = samplep;
    p.n_sample = ns;
    p.location = b.loc;
    p.n_location = b.nloc;
    p.function = b.fn;
    p.n_function = b.nfn;
    p.string_table = b.str;
    p.n_string_table = b.nstr;
    if (b.oom) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    size_t len = perftools__profiles__profile__get_packed_size(&p);
    if (!(packed = malloc(len ? len : 1))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (perftools__profiles__profile__pack(&p, packed) != len) {
        snprintf(err, errlen, "protobuf-c packed a different size than it computed");
        goto out;
    }
    rc = write_gz(path, packed, len, err, errlen);
out:
    free(packed);
    for (size_t i = 0; stacks && i < ns; i++)
        free(stacks[i]);
    free(stacks);
    free(values);
    free(samplep);
    free(samples);
    free(comments);
    free(mapp);
    free(maps);
    for (size_t i = 0; i < b.nloc; i++) {
        if (b.loc[i]->n_line)
            free(b.loc[i]->line[0]);     /* the lines array */
        free(b.loc[i]->line);
        free(b.loc[i]);
    }
    free(b.loc);
    for (size_t i = 0; i < b.nfn; i++)
        free(b.fn[i]);
    free(b.fn);
    for (size_t i = 0; i < b.nstr; i++)
        free(b.str[i]);
    free(b.str);
    free(b.strs.key);
    free(b.strs.val);
    free(b.fns.key);
    free(b.fns.val);
    free(b.locs.key);
    free(b.locs.val);
    return rc;
}
