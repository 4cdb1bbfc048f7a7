/* siteview.c - see siteview.h.
 *
 * The peak without a second pass: the peak moment is only known at the end,
 * and copying every site's live bytes at each new maximum costs O(sites)
 * per new maximum (early in a trace that is nearly every allocation).
 * Instead each new maximum starts a new "peak epoch", and a site copies its
 * own live bytes (its value at the latest peak) lazily, just before its
 * first change after that peak: a site whose snap_epoch is the current
 * epoch holds its peak value in snap_*, any other site has not changed
 * since the peak, so its current value is its peak value.  O(1) per event,
 * exact, one pass; heaptrack_print reads its file twice for the same answer.
 */
#include "siteview.h"
#include "hak_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One live block; addr 0 = empty slot (a live block never has address 0). */
struct hak_sv_block {
    uint64_t addr, size, seq, ts_ns;
    uint32_t site;       /* index into sites */
    uint32_t tid;
};

#define NONE UINT64_MAX

/* heapmodel.c's hak_hm_request_bytes, inlined into the per-event loop */
static inline uint64_t request_bytes(const hak_event *ev)
{
    if (ev->op == HAK_OP_CALLOC || ev->op == HAK_OP_REALLOCARRAY) {
        uint64_t b;
        return __builtin_mul_overflow(ev->nmemb, ev->size, &b) ? UINT64_MAX : b;
    }
    return ev->size;
}
#define MAX_THREADS 65536u   /* the format's limit on thread indices */

/* Fibonacci hashing: the top bits of the product mix every address bit. */
static inline size_t blk_home(const hak_siteview *v, uint64_t addr)
{
    return (size_t)((addr * 0x9e3779b97f4a7c15ull) >> v->blk_shift);
}

/* Doubles the block table.  Blocks are reinserted starting after an empty
 * slot, so that blocks sharing an address (inversions) keep their order:
 * the oldest stays first on the probe path and is the one a free kills. */
static int blk_grow(hak_siteview *v)
{
    size_t ocap = v->blk ? v->blk_mask + 1 : 0;
    size_t ncap = ocap ? ocap * 2 : 1024;
    hak_sv_block *nb = calloc(ncap, sizeof *nb);
    if (!nb)
        return -1;
    hak_sv_block *ob = v->blk;
    v->blk = nb;
    v->blk_mask = ncap - 1;
    v->blk_shift = 64 - (unsigned)__builtin_ctzll(ncap);
    size_t start = 0;
    while (start < ocap && ob[start].addr)
        start++;
    for (size_t k = 0; k < ocap; k++) {
        hak_sv_block *b = &ob[(start + k) & (ocap - 1)];
        if (!b->addr)
            continue;
        size_t j = blk_home(v, b->addr);
        while (nb[j].addr)
            j = (j + 1) & v->blk_mask;
        nb[j] = *b;
    }
    free(ob);
    return 0;
}

static int site_grow(hak_siteview *v)
{
    uint32_t ncap = v->site_mask ? (v->site_mask + 1) * 2 : 256;
    uint32_t *ni = calloc(ncap, sizeof *ni), *nk = calloc(ncap, sizeof *nk);
    if (!ni || !nk) {
        free(ni);
        free(nk);
        return -1;
    }
    for (uint32_t i = 0; v->site_mask && i <= v->site_mask; i++)
        if (v->site_idx[i]) {
            uint32_t j = (v->site_key[i] * 2654435761u) & (ncap - 1);
            while (ni[j])
                j = (j + 1) & (ncap - 1);
            ni[j] = v->site_idx[i];
            nk[j] = v->site_key[i];
        }
    free(v->site_idx);
    free(v->site_key);
    v->site_idx = ni;
    v->site_key = nk;
    v->site_mask = ncap - 1;
    return 0;
}

/* Index of site id, created on first sight; UINT32_MAX when out of memory. */
static uint32_t site_lookup(hak_siteview *v, uint32_t id)
{
    uint32_t j = (id * 2654435761u) & v->site_mask;
    while (v->site_idx[j] && v->site_key[j] != id)
        j = (j + 1) & v->site_mask;
    if (!v->site_idx[j]) {
        if (v->nsites == v->capsites) {
            uint32_t ncap = v->capsites ? v->capsites * 2 : 64;
            hak_sv_site *ns = ncap > v->capsites ? realloc(v->sites, (size_t)ncap * sizeof *ns) : NULL;
            if (!ns)
                return UINT32_MAX;
            v->sites = ns;
            v->capsites = ncap;
        }
        if ((v->nsites + 1) * 2 > v->site_mask + 1) {
            if (site_grow(v))
                return UINT32_MAX;
            j = (id * 2654435761u) & v->site_mask;
            while (v->site_idx[j])
                j = (j + 1) & v->site_mask;
        }
        hak_sv_site *s = &v->sites[v->nsites];
        memset(s, 0, sizeof *s);
        s->id = id;
        s->snap_epoch = v->peak_epoch;   /* it had nothing at the peak so far */
        v->site_key[j] = id;
        v->site_idx[j] = ++v->nsites;
    }
    v->last_id = id;
    v->last_idx = v->site_idx[j] - 1;
    return v->last_idx;
}

uint32_t hak_sv_find(const hak_siteview *v, uint32_t id)
{
    uint32_t j = (id * 2654435761u) & v->site_mask;
    while (v->site_idx[j] && v->site_key[j] != id)
        j = (j + 1) & v->site_mask;
    return v->site_idx[j] ? v->site_idx[j] - 1 : UINT32_MAX;
}

static inline uint32_t site_of(hak_siteview *v, uint32_t id)
{
    if (id == v->last_id && v->last_idx != UINT32_MAX)
        return v->last_idx;
    return site_lookup(v, id);
}

int hak_sv_init(hak_siteview *v, const hak_sv_opts *opt,
                const hak_rss_sample *rss, size_t nrss)
{
    memset(v, 0, sizeof *v);
    if (opt)
        v->opt = *opt;
    v->last_idx = UINT32_MAX;
    v->last_alloc = NONE;
    v->rss_take_after = UINT64_MAX;
    for (size_t i = 0; i < nrss; i++)
        if (!v->have_rss || rss[i].rss_bytes > v->rss_peak) {
            v->have_rss = 1;
            v->rss_peak = rss[i].rss_bytes;
            v->rss_ns = rss[i].ts_ns;
            v->rss_take_after = rss[i].ts_ns;
        }
    if (blk_grow(v) || site_grow(v)) {
        hak_sv_destroy(v);
        return -1;
    }
    return 0;
}

void hak_sv_destroy(hak_siteview *v)
{
    free(v->sites);
    free(v->site_idx);
    free(v->site_key);
    free(v->blk);
    free(v->thr_last);
    memset(v, 0, sizeof *v);
}

/* Saves the site's value at the latest peak before it changes. */
static inline void touch(hak_siteview *v, hak_sv_site *s)
{
    if (s->snap_epoch != v->peak_epoch) {
        s->snap_epoch = v->peak_epoch;
        s->snap_live = s->live;
        s->snap_bytes = s->live_bytes;
    }
}

static uint64_t *thread_last(hak_siteview *v, uint32_t tid)
{
    if (tid >= MAX_THREADS)
        return NULL;
    if (tid >= v->nthr) {
        uint32_t n = v->nthr ? v->nthr : 8;
        while (n <= tid)
            n *= 2;
        uint64_t *t = realloc(v->thr_last, (size_t)n * sizeof *t);
        if (!t)
            return NULL;
        for (uint32_t i = v->nthr; i < n; i++)
            t[i] = NONE;
        v->thr_last = t;
        v->nthr = n;
    }
    return &v->thr_last[tid];
}

__attribute__((always_inline)) static inline int birth(hak_siteview *v, const hak_event *ev,
                                                      uint64_t bytes)
{
    if ((v->nblk + 1) * 2 > v->blk_mask + 1 && blk_grow(v))
        return -1;
    uint32_t si = site_of(v, ev->site);
    if (si == UINT32_MAX)
        return -1;
    size_t j = blk_home(v, ev->out_ptr);
    while (v->blk[j].addr) {
        if (v->blk[j].addr == ev->out_ptr)
            v->inversions++;          /* still live: a second block there */
        j = (j + 1) & v->blk_mask;
    }
    hak_sv_block *b = &v->blk[j];
    b->addr = ev->out_ptr;
    b->size = bytes;
    b->seq = ev->seq;
    b->ts_ns = ev->ts_ns;
    b->site = si;
    b->tid = ev->tid;
    v->nblk++;
    hak_sv_site *s = &v->sites[si];
    touch(v, s);
    s->allocs++;
    s->alloc_bytes += bytes;
    s->live++;
    s->live_bytes += bytes;
    if (s->live_bytes > s->max_bytes)
        s->max_bytes = s->live_bytes;
    v->allocs++;
    v->alloc_bytes += bytes;
    v->live++;
    v->live_bytes += bytes;
    if (v->opt.temp_scope == HAK_SV_TEMP_THREAD) {
        uint64_t *t = thread_last(v, ev->tid);
        if (t)
            *t = ev->seq;
    } else {
        v->last_alloc = ev->seq;
    }
    return 0;
}

__attribute__((always_inline)) static inline void death(hak_siteview *v, const hak_event *ev,
                                                       uint64_t addr)
{
    size_t j = blk_home(v, addr);
    while (v->blk[j].addr && v->blk[j].addr != addr)
        j = (j + 1) & v->blk_mask;
    if (!v->blk[j].addr) {
        v->unknown_frees++;
        return;
    }
    hak_sv_block *b = &v->blk[j];
    hak_sv_site *s = &v->sites[b->site];
    /* a block in the table was counted live, at its site and in all */
    HAK_CHECK(b->site < v->nsites && s->live > 0 && s->live_bytes >= b->size);
    HAK_CHECK(v->live > 0 && v->live_bytes >= b->size);
    touch(v, s);
    s->frees++;
    s->live--;
    s->live_bytes -= b->size;
    v->frees++;
    v->live--;
    v->live_bytes -= b->size;
    int temp;
    if (v->opt.temp_scope == HAK_SV_TEMP_THREAD) {
        uint64_t *t = thread_last(v, ev->tid);
        temp = t && b->tid == ev->tid && *t == b->seq;
        if (t)
            *t = NONE;
    } else {
        temp = v->last_alloc == b->seq;
        v->last_alloc = NONE;
    }
    if (temp) {
        s->temporary++;
        v->temporary++;
    }
    if (ev->seq >= b->seq && ev->seq - b->seq <= v->opt.short_events &&
        (!v->opt.short_ns || (ev->ts_ns >= b->ts_ns ? ev->ts_ns - b->ts_ns : 0) <= v->opt.short_ns)) {
        s->short_lived++;
        v->short_lived++;
    }
    /* backward-shift deletion: no tombstones, so the table only ever holds
     * live blocks and probe paths stay short */
    size_t i = j;
    for (;;) {
        v->blk[i].addr = 0;
        size_t k = i;
        for (;;) {
            k = (k + 1) & v->blk_mask;
            if (!v->blk[k].addr)
                goto done;
            size_t h = blk_home(v, v->blk[k].addr);
            /* k's block may move to i unless its home lies in (i, k] */
            if (i <= k ? (h <= i || h > k) : (h <= i && h > k))
                break;
        }
        v->blk[i] = v->blk[k];
        i = k;
    }
done:
    v->nblk--;
}

static void take_rss(hak_siteview *v)
{
    v->rss_taken = 1;
    v->rss_take_after = UINT64_MAX;
    v->rss_heap_bytes = v->live_bytes;
    v->rss_heap_live = v->live;
    for (uint32_t i = 0; i < v->nsites; i++) {
        v->sites[i].rss_live = v->sites[i].live;
        v->sites[i].rss_bytes = v->sites[i].live_bytes;
    }
}

int hak_sv_apply(hak_siteview *v, const hak_event *evs, size_t n)
{
    if (!n)
        return 0;
    v->events += n;
    v->last_seq = evs[n - 1].seq;
    v->last_ns = evs[n - 1].ts_ns;
    for (size_t k = 0; k < n; k++) {
        const hak_event *ev = &evs[k];
        if (ev->ts_ns > v->rss_take_after)
            take_rss(v);
        switch (ev->op) {
        case HAK_OP_MALLOC: case HAK_OP_CALLOC: case HAK_OP_MEMALIGN:
        case HAK_OP_POSIX_MEMALIGN: case HAK_OP_ALIGNED_ALLOC:
        case HAK_OP_VALLOC: case HAK_OP_PVALLOC:
            if (!ev->out_ptr) {
                v->failed_allocs++;
                continue;
            }
            if (birth(v, ev, request_bytes(ev)))
                goto oom;
            break;
        case HAK_OP_REALLOC: case HAK_OP_REALLOCARRAY: {
            uint64_t bytes = request_bytes(ev);
            if (!ev->out_ptr) {
                if (bytes == 0 && ev->in_ptr)
                    death(v, ev, ev->in_ptr);     /* realloc(p, 0) frees p */
                else
                    v->failed_allocs++;
                continue;
            }
            if (ev->in_ptr)
                death(v, ev, ev->in_ptr);
            if (birth(v, ev, bytes))
                goto oom;
            break;
        }
        case HAK_OP_FREE:
            if (!ev->in_ptr)
                v->null_frees++;
            else
                death(v, ev, ev->in_ptr);
            continue;
        default:
            continue;
        }
        /* only allocations can raise the live bytes */
        if (v->live_bytes > v->peak_bytes || !v->have_peak) {
            v->have_peak = 1;
            v->peak_bytes = v->live_bytes;
            v->peak_live = v->live;
            v->peak_seq = ev->seq;
            v->peak_ns = ev->ts_ns;
            v->peak_epoch++;
        }
    }
    return 0;
oom:
    v->oom = 1;
    return -1;
}

void hak_sv_finish(hak_siteview *v)
{
    if (v->have_rss && !v->rss_taken)
        take_rss(v);
    for (uint32_t i = 0; i < v->nsites; i++) {
        hak_sv_site *s = &v->sites[i];
        int changed = s->snap_epoch == v->peak_epoch;
        s->peak_live = changed ? s->snap_live : s->live;
        s->peak_bytes = changed ? s->snap_bytes : s->live_bytes;
        s->leak_largest = 0;
    }
    for (size_t j = 0; j <= v->blk_mask; j++) {
        const hak_sv_block *b = &v->blk[j];
        if (b->addr && b->size > v->sites[b->site].leak_largest)
            v->sites[b->site].leak_largest = b->size;
    }
}

int hak_sv_run(hak_siteview *v, hak_trace_reader *r,
               void (*progress)(void *ctx, uint64_t done), void *ctx,
               char *err, size_t errlen)
{
    enum { BATCH = 4096 };
    hak_event *ev = malloc(BATCH * sizeof *ev);
    if (!ev) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    long got;
    uint64_t next_tick = 1u << 20;
    while ((got = hak_tr_read(r, ev, BATCH)) > 0) {
        if (hak_sv_apply(v, ev, (size_t)got)) {
            snprintf(err, errlen, "out of memory after %llu events (%llu live blocks)",
                     (unsigned long long)v->events, (unsigned long long)v->live);
            free(ev);
            return -1;
        }
        if (progress && v->events >= next_tick) {
            progress(ctx, v->events);
            next_tick = v->events + (1u << 20);
        }
    }
    free(ev);
    hak_sv_finish(v);
    if (got < 0) {
        snprintf(err, errlen, "%s", hak_tr_error(r));
        return -1;
    }
    return 0;
}
