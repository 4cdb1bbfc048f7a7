/* sim_model.c - see sim_model.h. */
#include "sim_model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_tlb_default(sim_tlb_geom *g)
{
    g->l1 = (sim_level_geom){64, 4};
    g->l1_2m = (sim_level_geom){32, 4};
    g->l2 = (sim_level_geom){1536, 12};
}

static int fmt_level(char *buf, size_t len, const char *key, const sim_level_geom *l)
{
    if (!l->entries)
        return snprintf(buf, len, "%s=0", key);
    return snprintf(buf, len, "%s=%u:%u", key, l->entries, l->ways);
}

void sim_tlb_format(const sim_tlb_geom *g, char *buf, size_t len)
{
    char a[48], b[48], c[48];
    fmt_level(a, sizeof a, "l1", &g->l1);
    fmt_level(b, sizeof b, "l1_2m", &g->l1_2m);
    fmt_level(c, sizeof c, "l2", &g->l2);
    snprintf(buf, len, "%s,%s,%s", a, b, c);
}

static int is_pow2(uint32_t x) { return x && !(x & (x - 1)); }

/* Parses "ENTRIES[:WAYS]" for one level; "0" switches it off. */
static int parse_level(const char *key, const char *val, sim_level_geom *lv,
                       int may_be_off, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    unsigned long e = strtoul(val, &end, 10);
    if (end == val || errno || e > (1u << 20) || *val == '-' || *val == '+') {
        snprintf(err, errlen, "tlb spec: %s=%s: expected ENTRIES:WAYS (e.g. %s=64:4)",
                 key, val, key);
        return -1;
    }
    if (e == 0 && *end == '\0') {
        if (!may_be_off) {
            snprintf(err, errlen, "tlb spec: %s=%s: the L1 dTLB cannot be switched off", key, val);
            return -1;
        }
        *lv = (sim_level_geom){0, 0};
        return 0;
    }
    if (*end != ':') {
        snprintf(err, errlen, "tlb spec: %s=%s: expected ENTRIES:WAYS (e.g. %s=64:4)",
                 key, val, key);
        return -1;
    }
    const char *w = end + 1;
    errno = 0;
    unsigned long ways = strtoul(w, &end, 10);
    if (end == w || *end || errno || *w == '-' || *w == '+') {
        snprintf(err, errlen, "tlb spec: %s=%s: ways '%s' is not a number", key, val, w);
        return -1;
    }
    if (e == 0 || ways == 0) {
        snprintf(err, errlen, "tlb spec: %s=%s: entries and ways must be > 0 (use %s=0 to switch the level off)",
                 key, val, key);
        return -1;
    }
    if (ways > 256 || ways > e) {
        snprintf(err, errlen, "tlb spec: %s=%s: %lu ways must be <= entries and <= 256",
                 key, val, ways);
        return -1;
    }
    if (e % ways) {
        snprintf(err, errlen, "tlb spec: %s=%s: %lu entries are not a multiple of %lu ways",
                 key, val, e, ways);
        return -1;
    }
    if (!is_pow2((uint32_t)(e / ways))) {
        snprintf(err, errlen, "tlb spec: %s=%s: %lu sets (entries/ways) is not a power of two",
                 key, val, e / ways);
        return -1;
    }
    *lv = (sim_level_geom){(uint32_t)e, (uint32_t)ways};
    return 0;
}

int sim_tlb_parse(const char *spec, sim_tlb_geom *g, char *err, size_t errlen)
{
    if (!spec || !*spec) {
        snprintf(err, errlen, "tlb spec: empty (expected e.g. 'l1=64:4,l2=1536:12,l1_2m=32:4')");
        return -1;
    }
    sim_tlb_geom t = *g;
    char buf[256];
    if (strlen(spec) >= sizeof buf) {
        snprintf(err, errlen, "tlb spec: too long");
        return -1;
    }
    strcpy(buf, spec);
    char *save = NULL;
    for (char *part = strtok_r(buf, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
        if (!strcmp(part, "default")) {
            sim_tlb_default(&t);
            continue;
        }
        char *eq = strchr(part, '=');
        if (!eq) {
            snprintf(err, errlen, "tlb spec: '%s': expected LEVEL=ENTRIES:WAYS", part);
            return -1;
        }
        *eq = '\0';
        const char *key = part, *val = eq + 1;
        int rc;
        if (!strcmp(key, "l1"))
            rc = parse_level(key, val, &t.l1, 0, err, errlen);
        else if (!strcmp(key, "l1_2m"))
            rc = parse_level(key, val, &t.l1_2m, 1, err, errlen);
        else if (!strcmp(key, "l2") || !strcmp(key, "stlb"))
            rc = parse_level(key, val, &t.l2, 1, err, errlen);
        else {
            snprintf(err, errlen, "tlb spec: unknown level '%s' (expected l1, l1_2m or l2)", key);
            return -1;
        }
        if (rc)
            return -1;
    }
    *g = t;
    return 0;
}

int sim_page_mode_parse(const char *s, sim_page_mode *out)
{
    if (!strcasecmp(s, "4k")) *out = SIM_PAGES_4K;
    else if (!strcasecmp(s, "2m")) *out = SIM_PAGES_2M;
    else if (!strcasecmp(s, "thp")) *out = SIM_PAGES_THP;
    else return -1;
    return 0;
}

const char *sim_page_mode_name(sim_page_mode m)
{
    return m == SIM_PAGES_2M ? "2m" : m == SIM_PAGES_THP ? "thp" : "4k";
}

static int level_init(sim_tlb_level *lv, const sim_level_geom *g)
{
    memset(lv, 0, sizeof *lv);
    if (!g->entries)
        return 0;
    lv->ways = g->ways;
    lv->sets = g->entries / g->ways;
    lv->set_mask = lv->sets - 1;
    lv->bytes = (size_t)g->entries * sizeof *lv->tags;
    lv->tags = sim_mem_alloc(lv->bytes);
    return lv->tags ? 0 : -1;
}

int sim_model_init(sim_model *m, const sim_tlb_geom *g, sim_page_mode mode,
                   uint64_t expect_pages, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    m->geom = *g;
    m->mode = mode;
    char tmp[256];
    /* Re-validate: geometry may have been filled in by hand. */
    sim_tlb_geom chk;
    sim_tlb_default(&chk);
    char spec[160];
    sim_tlb_format(g, spec, sizeof spec);
    if (sim_tlb_parse(spec, &chk, tmp, sizeof tmp)) {
        snprintf(err, errlen, "%s", tmp);
        return -1;
    }
    m->has_l1_2m = g->l1_2m.entries > 0;
    m->has_l2 = g->l2.entries > 0;
    if (level_init(&m->l1, &g->l1) || level_init(&m->l1_2m, &g->l1_2m) ||
        level_init(&m->l2, &g->l2) || sim_map_init(&m->touched, expect_pages / 512 + 64) ||
        sim_map_init(&m->regions, 64)) {
        snprintf(err, errlen, "simulator: out of memory");
        sim_model_destroy(m);
        return -1;
    }
    m->last_lo = 1;   /* empty range: no address matches */
    m->last_hi = 1;
    return 0;
}

void sim_model_destroy(sim_model *m)
{
    sim_mem_free(m->l1.tags, m->l1.bytes);
    sim_mem_free(m->l1_2m.tags, m->l1_2m.bytes);
    sim_mem_free(m->l2.tags, m->l2.bytes);
    if (m->touched.keys)
        sim_map_destroy(&m->touched);
    sim_mem_free(m->slots, m->cap_slots * sizeof *m->slots);
    if (m->regions.keys)
        sim_map_destroy(&m->regions);
    memset(m, 0, sizeof *m);
}


void sim_model_set_huge_fn(sim_model *m, sim_huge_fn fn, void *ctx)
{
    m->huge_fn = fn;
    m->huge_ctx = ctx;
}

int sim_model_set_region(sim_model *m, uint64_t addr, int huge)
{
    uint64_t region = addr >> SIM_HUGE_SHIFT;
    int ins;
    uint32_t *v = sim_map_upsert(&m->regions, region, &ins);
    if (!v)
        return -1;
    if (!ins)
        (*v == 2 ? &m->st.huge_regions : &m->st.small_regions)[0]--;
    *v = huge ? 2 : 1;
    (huge ? &m->st.huge_regions : &m->st.small_regions)[0]++;
    unsigned c = region & 1023;
    m->rcache_tag[c] = region + 1;
    m->rcache_huge[c] = (uint8_t)(huge != 0);
    return 0;
}

/* thp mode: is addr's region backed by a huge page?  Asks the callback the
 * first time a region is seen. */
static int region_is_huge(sim_model *m, uint64_t addr)
{
    uint64_t region = addr >> SIM_HUGE_SHIFT;
    unsigned c = region & 1023;
    if (m->rcache_tag[c] == region + 1)
        return m->rcache_huge[c];
    uint32_t *v = sim_map_find(&m->regions, region);
    int huge;
    if (v) {
        huge = *v == 2;
        m->rcache_tag[c] = region + 1;
        m->rcache_huge[c] = (uint8_t)huge;
    } else {
        huge = m->huge_fn ? m->huge_fn(m->huge_ctx, addr) > 0 : 0;
        sim_model_set_region(m, addr, huge);
    }
    return huge;
}

/* Looks key up in one LRU level (MRU at way 0); returns 1 on a hit.  On a
 * miss the key is inserted as MRU and the LRU way is evicted. */
static inline int level_access(sim_tlb_level *lv, uint64_t key, uint64_t index)
{
    uint64_t *row = lv->tags + (size_t)(index & lv->set_mask) * lv->ways;
    uint64_t tag = key + 1;
    if (row[0] == tag)
        return 1;
    uint32_t w = lv->ways;
    uint64_t prev = row[0];
    for (uint32_t i = 1; i < w; i++) {
        uint64_t cur = row[i];
        row[i] = prev;          /* shift down as we go */
        if (cur == tag) {
            row[0] = tag;
            return 1;
        }
        prev = cur;
    }
    row[0] = tag;               /* prev (the LRU way) falls off */
    return 0;
}

/* The first-touch slot of a region, created on first use. */
static sim_touch_slot *touch_slot(sim_model *m, uint64_t region)
{
    unsigned c = region & 1023;
    if (m->scache_tag[c] == region + 1)
        return &m->slots[m->scache_idx[c]];
    int ins;
    uint32_t *v = sim_map_upsert(&m->touched, region, &ins);
    if (!v)
        return NULL;
    if (ins) {
        if (m->nslots == m->cap_slots) {
            uint64_t cap = m->cap_slots ? 2 * m->cap_slots : 256;
            if (m->touched.grow_hook)
                m->touched.grow_hook(m->touched.grow_ctx, 1);
            sim_touch_slot *ns = sim_mem_alloc(cap * sizeof *ns);
            if (ns && m->slots)
                memcpy(ns, m->slots, m->nslots * sizeof *ns);
            if (m->touched.grow_hook)
                m->touched.grow_hook(m->touched.grow_ctx, 0);
            if (!ns)
                return NULL;
            sim_mem_free(m->slots, m->cap_slots * sizeof *m->slots);
            m->slots = ns;
            m->cap_slots = cap;
        }
        *v = (uint32_t)(++m->nslots);
    }
    m->scache_tag[c] = region + 1;
    m->scache_idx[c] = *v - 1;
    return &m->slots[*v - 1];
}

void sim_access_slow(sim_model *m, uint64_t addr)
{
    int huge = m->mode == SIM_PAGES_2M ||
               (m->mode == SIM_PAGES_THP && region_is_huge(m, addr));
    unsigned shift = huge ? SIM_HUGE_SHIFT : SIM_PAGE_SHIFT;
    uint64_t pn = addr >> shift;
    uint64_t key = pn << 1 | (uint64_t)huge;   /* page sizes never alias */
    m->last_lo = pn << shift;
    m->last_hi = m->last_lo + (1ull << shift);

    sim_tlb_level *l1 = huge && m->has_l1_2m ? &m->l1_2m : &m->l1;
    if (level_access(l1, key, pn))
        return;
    m->st.l1_misses++;
    if (m->has_l2 && level_access(&m->l2, key, pn))
        return;
    m->st.stlb_misses++;
    /* A page walk: the first one for a page is its first touch. */
    sim_touch_slot *sl = touch_slot(m, addr >> SIM_HUGE_SHIFT);
    if (!sl)
        return;   /* out of memory growing: count nothing rather than crash */
    int first;
    if (huge) {
        first = !sl->huge;
        sl->huge = 1;
    } else {
        unsigned b = (unsigned)(addr >> SIM_PAGE_SHIFT) & 511;
        uint64_t bit = 1ull << (b & 63);
        first = !(sl->bits[b >> 6] & bit);
        sl->bits[b >> 6] |= bit;
    }
    if (first) {
        m->st.faults++;
        (huge ? &m->st.faults_2m : &m->st.faults_4k)[0]++;
    }
}
