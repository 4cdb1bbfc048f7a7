/* sim_run.c - see sim_run.h. */
#include "sim_run.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "hak_util.h"
#include "sim_thp.h"

int sim_access_parse(const char *s, sim_access_mode *out)
{
    if (!strcmp(s, "touch")) *out = SIM_ACCESS_TOUCH;
    else if (!strcmp(s, "full")) *out = SIM_ACCESS_FULL;
    else return -1;
    return 0;
}

const char *sim_access_name(sim_access_mode a)
{
    return a == SIM_ACCESS_FULL ? "full" : "touch";
}

uint64_t sim_expect_pages(const hak_replay *rp)
{
    uint64_t pages = 1024;
    for (uint64_t i = 0; i < rp->nops && pages < (1u << 22); i++)
        if (rp->ops[i].obj != HAK_NO_OBJ)
            pages += rp->ops[i].size / 4096 + 1;
    return pages < (1u << 22) ? pages : (1u << 22);
}

/* ---- minor-fault bookkeeping of the model's own growth ----------------- */

typedef struct own_faults {
    int64_t at_start;
    int64_t total;
} own_faults;

static int64_t minflt_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

static void grow_hook(void *ctx, int before)
{
    own_faults *o = ctx;
    if (before)
        o->at_start = minflt_now();
    else
        o->total += minflt_now() - o->at_start;
}

/* ---- touching ----------------------------------------------------------- */

static void touch_lines_write(sim_model *m, char *p, uint64_t size)
{
    memset(p, 0x5a, size);
    uint64_t a = (uint64_t)(uintptr_t)p;
    for (uint64_t l = a & ~(uint64_t)(SIM_LINE - 1); l < a + size; l += SIM_LINE)
        sim_access(m, l < a ? a : l);
}

static void touch_lines_read(sim_model *m, const char *p, uint64_t size)
{
    uint64_t a = (uint64_t)(uintptr_t)p;
    volatile const char *vp = p;
    char sink = 0;
    for (uint64_t l = a & ~(uint64_t)(SIM_LINE - 1); l < a + size; l += SIM_LINE) {
        uint64_t x = l < a ? a : l;
        sink ^= vp[x - a];
        sim_access(m, x);
    }
    (void)sink;
}

static void touch_new(sim_model *m, const sim_run_opts *o, char *p, uint64_t size)
{
    if (!p || !size)
        return;
    if (o->access == SIM_ACCESS_FULL || o->touch == HAK_TOUCH_ALL) {
        touch_lines_write(m, p, size);
        return;
    }
    if (o->touch == HAK_TOUCH_NONE)
        return;
    volatile char *vp = p;
    uint64_t a = (uint64_t)(uintptr_t)p;
    vp[0] = 1;
    sim_access(m, a);
    if (o->touch == HAK_TOUCH_FIRST)
        return;
    for (uint64_t pg = (a | 4095) + 1; pg < a + size; pg += 4096) {
        vp[pg - a] = 1;
        sim_access(m, pg);
    }
}

/* ---- the replay loop ---------------------------------------------------- */

/* Operations that return a new block (as hak_op_allocates, kept local so the
 * model library does not depend on the trace reader). */
static int op_allocates(int op)
{
    return (op >= HAK_OP_MALLOC && op <= HAK_OP_REALLOCARRAY) ||
           (op >= HAK_OP_MEMALIGN && op <= HAK_OP_PVALLOC);
}

static uint64_t tv_ns(struct timeval tv)
{
    return (uint64_t)tv.tv_sec * 1000000000ull + (uint64_t)tv.tv_usec * 1000ull;
}

static void *do_alloc(const sim_alloc *a, const hak_rop *op, char **oldp, uint64_t *bytes)
{
    uint64_t n;
    switch (op->op) {
    case HAK_OP_MALLOC:
        *bytes = op->size;
        return a->malloc_(op->size);
    case HAK_OP_CALLOC:
        *bytes = __builtin_mul_overflow(op->size, (uint64_t)op->aux, &n) ? 0 : n;
        return sim_alloc_calloc(a, op->aux, op->size);
    case HAK_OP_REALLOC:
        *bytes = op->size;
        return a->realloc_(*oldp, op->size);
    case HAK_OP_REALLOCARRAY:
        if (__builtin_mul_overflow(op->size, (uint64_t)op->aux, &n))
            return NULL;
        *bytes = n;
        return a->realloc_(*oldp, n);
    case HAK_OP_MEMALIGN:
    case HAK_OP_POSIX_MEMALIGN:
    case HAK_OP_ALIGNED_ALLOC:
        *bytes = op->size;
        if (op->op == HAK_OP_MEMALIGN && a->memalign_ && op->aux)
            return a->memalign_(op->aux, op->size);
        return sim_alloc_aligned(a, op->aux ? op->aux : 16, op->size);
    case HAK_OP_VALLOC:
        *bytes = op->size;
        return a->valloc_ ? a->valloc_(op->size) : sim_alloc_aligned(a, 4096, op->size);
    case HAK_OP_PVALLOC:
        *bytes = (op->size + 4095) & ~4095ull;
        return a->pvalloc_ ? a->pvalloc_(op->size) : sim_alloc_aligned(a, 4096, *bytes);
    }
    return NULL;
}

/* ---- the program's own mappings ----------------------------------------- */

/* A trace recorded with --mmap has the program's anonymous mappings in its
 * replay form (trace.h, HAK_REPLAY_MMAP): heap it holds outside malloc
 * (cc1: 22 of its ~30 MiB).  They are mapped, touched and unmapped as the
 * replay worker does (worker_loop.c) and counted in the layout like blocks;
 * mlen[obj] is a mapping's length, sizes[obj] what of it is still mapped
 * (a munmap of pages inside it: op->size bytes at op->aux pages). */
typedef struct maps {
    char **ptrs;
    uint64_t *sizes, *mlen;
} maps;

static void map_op(const hak_rop *op, const maps *mp, size_t nobj, sim_layout *L, sim_model *m,
                   const sim_run_opts *o, sim_result *res)
{
    char *old = op->in_obj != HAK_NO_OBJ && op->in_obj < nobj ? mp->ptrs[op->in_obj] : NULL;
    char *p = NULL;
    if (op->op == HAK_OP_MUNMAP) {
        if (!old)
            return;
        uint64_t len = mp->mlen[op->in_obj], off = (uint64_t)op->aux * 4096;
        if (op->size && off < len) {               /* pages inside it */
            uint64_t n = op->size < len - off ? op->size : len - off;
            munmap(old + off, n);
            uint64_t *left = &mp->sizes[op->in_obj];
            sim_layout_unmap(L, (uint64_t)(uintptr_t)old + off, n, n < *left ? n : *left, 0);
            *left -= n < *left ? n : *left;
        } else {
            munmap(old, len);
            sim_layout_unmap(L, (uint64_t)(uintptr_t)old, len, mp->sizes[op->in_obj], 1);
            mp->ptrs[op->in_obj] = NULL;
        }
        res->frees++;
        return;
    }
    if (op->obj == HAK_NO_OBJ || op->obj >= nobj)
        return;
    if (op->op == HAK_OP_MMAP) {
        p = mmap(NULL, op->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    } else if (old) {                              /* mremap */
        uint64_t len = mp->mlen[op->in_obj], live = mp->sizes[op->in_obj];
        p = mremap(old, len, op->size, MREMAP_MAYMOVE);
        if (p != MAP_FAILED) {
            sim_layout_unmap(L, (uint64_t)(uintptr_t)old, len, live, 1);
            mp->ptrs[op->in_obj] = NULL;
        }
    } else {
        p = MAP_FAILED;
    }
    if (p == MAP_FAILED) {
        res->failed_allocs++;
        return;
    }
    mp->ptrs[op->obj] = p;
    mp->sizes[op->obj] = mp->mlen[op->obj] = op->size;
    sim_layout_alloc(L, (uint64_t)(uintptr_t)p, op->size);
    touch_new(m, o, p, op->size);
    res->allocs++;
    res->maps++;
}

static int is_map_op(int op)
{
    return op == HAK_OP_MMAP || op == HAK_OP_MUNMAP || op == HAK_OP_MREMAP;
}

int sim_run(const hak_replay *rp, const sim_alloc *a, const sim_run_opts *o,
            sim_result *res)
{
    char load[sizeof res->load];
    memcpy(load, res->load, sizeof load);   /* the caller's, kept */
    memset(res, 0, sizeof *res);
    memcpy(res->load, load, sizeof load);
    char err[256];
    sim_model m;
    sim_layout L;
    sim_thp thp;
    int have_thp = 0, rc = -1;
    own_faults own = {0, 0};
    uint64_t expect = sim_expect_pages(rp);
    size_t nobj = rp->nobjects ? rp->nobjects : 1;
    char **ptrs = sim_mem_alloc(nobj * sizeof *ptrs);
    uint64_t *sizes = sim_mem_alloc(nobj * sizeof *sizes);
    int has_maps = 0;
    for (uint64_t i = 0; i < rp->nops && !has_maps; i++)
        has_maps = is_map_op(rp->ops[i].op);
    uint64_t *mlen = has_maps ? sim_mem_alloc(nobj * sizeof *mlen) : NULL;
    maps mp = {ptrs, sizes, mlen};

    if (!ptrs || !sizes || (has_maps && !mlen)) {
        snprintf(res->error, sizeof res->error, "simulator: out of memory for %zu objects", nobj);
        goto out_mem;
    }
    if (sim_model_init(&m, &o->geom, o->pages, expect, err, sizeof err)) {
        snprintf(res->error, sizeof res->error, "%s", err);
        goto out_mem;
    }
    if (sim_layout_init(&L, expect)) {
        snprintf(res->error, sizeof res->error, "simulator: out of memory for layout tables");
        sim_model_destroy(&m);
        goto out_mem;
    }
    m.touched.grow_hook = m.regions.grow_hook = grow_hook;
    m.touched.grow_ctx = m.regions.grow_ctx = &own;
    L.regions.grow_hook = grow_hook;
    L.regions.grow_ctx = &own;
    if (o->pages == SIM_PAGES_THP) {
        if (sim_thp_init(&thp) == 0) {
            have_thp = 1;
            sim_model_set_huge_fn(&m, sim_thp_is_huge, &thp);
            snprintf(res->thp_method, sizeof res->thp_method, "%s", thp.method);
            thp.vma_huge_kb.grow_hook = grow_hook;
            thp.vma_huge_kb.grow_ctx = &own;
        }
    }
    /* Fault in everything the loop writes before the window opens. */
    memset(ptrs, 0, nobj * sizeof *ptrs);
    memset(sizes, 0, nobj * sizeof *sizes);
    if (mlen)
        memset(mlen, 0, nobj * sizeof *mlen);
    memset(res->samples, 0, sizeof res->samples);

    uint64_t every = rp->nops / (SIM_MAX_SAMPLES - 1) + 1;
    uint64_t next_sample = every;
    uint64_t digest = 0x9e3779b97f4a7c15ull;
    double occ_sum = 0;
    uint64_t occ_n = 0;

    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    uint64_t t0 = hak_mono_ns();

    for (uint64_t i = 0; i < rp->nops; i++) {
        const hak_rop *op = &rp->ops[i];
        char *old = op->in_obj != HAK_NO_OBJ && op->in_obj < nobj ? ptrs[op->in_obj] : NULL;
        uint64_t oldsz = old ? sizes[op->in_obj] : 0;
        if (op->op == HAK_OP_FREE || (op->obj == HAK_NO_OBJ && old &&
                                      (op->op == HAK_OP_REALLOC || op->op == HAK_OP_REALLOCARRAY))) {
            /* free, or realloc(p, 0) that freed */
            if (old) {
                if (o->access == SIM_ACCESS_FULL)
                    touch_lines_read(&m, old, oldsz);
                sim_layout_free(&L, (uint64_t)(uintptr_t)old, oldsz);
                a->free_(old);
                ptrs[op->in_obj] = NULL;
                res->frees++;
            }
        } else if (op->obj != HAK_NO_OBJ && op->obj < nobj && op_allocates(op->op)) {
            uint64_t bytes = 0;
            if (old && o->access == SIM_ACCESS_FULL)
                touch_lines_read(&m, old, oldsz);
            char *p = do_alloc(a, op, &old, &bytes);
            if (old && (p || bytes == 0)) {      /* the old block is gone */
                sim_layout_free(&L, (uint64_t)(uintptr_t)old, oldsz);
                ptrs[op->in_obj] = NULL;
            }
            if (!p) {
                res->failed_allocs++;
            } else {
                uint64_t addr = (uint64_t)(uintptr_t)p;
                digest = hak_hash64(&addr, sizeof addr, digest);
                ptrs[op->obj] = p;
                sizes[op->obj] = bytes;
                sim_layout_alloc(&L, addr, bytes);
                touch_new(&m, o, p, bytes);
                res->allocs++;
            }
        } else if (mlen && is_map_op(op->op)) {
            map_op(op, &mp, nobj, &L, &m, o, res);
        } else {
            res->skipped_ops++;
        }
        if (i + 1 == next_sample || i + 1 == rp->nops) {
            next_sample += every;
            res->progress_ops = i + 1;
            if (res->nsamples < SIM_MAX_SAMPLES)
                res->samples[res->nsamples++] = (sim_sample){
                    i + 1, hak_mono_ns() - t0, L.live_bytes, L.pages_spanned, L.regions_spanned};
            if (L.live_bytes) {
                occ_sum += sim_layout_occupancy(&L);
                occ_n++;
            }
        }
    }

    uint64_t t1 = hak_mono_ns();
    getrusage(RUSAGE_SELF, &r1);
    res->ops = rp->nops;
    res->wall_ns = t1 - t0;
    res->user_ns = tv_ns(r1.ru_utime) - tv_ns(r0.ru_utime);
    res->sys_ns = tv_ns(r1.ru_stime) - tv_ns(r0.ru_stime);
    res->window_minflt = r1.ru_minflt - r0.ru_minflt;
    res->window_majflt = r1.ru_majflt - r0.ru_majflt;
    res->own_minflt = own.total;
    res->st = m.st;
    res->peak_live_bytes = L.peak_live_bytes;
    res->peak_pages = L.peak_pages;
    res->peak_regions = L.peak_regions;
    res->pages_ever = L.pages_ever;
    res->occ_at_peak = L.occ_at_peak;
    res->occ_mean = occ_n ? occ_sum / (double)occ_n : 0.0;
    res->final_live_bytes = L.live_bytes;
    res->final_pages = L.pages_spanned;
    res->final_regions = L.regions_spanned;
    res->addr_digest = digest;
    res->ok = 1;
    rc = 0;

    if (have_thp)
        sim_thp_destroy(&thp);
    sim_layout_destroy(&L);
    sim_model_destroy(&m);
out_mem:
    sim_mem_free(ptrs, nobj * sizeof *ptrs);
    sim_mem_free(sizes, nobj * sizeof *sizes);
    if (mlen)
        sim_mem_free(mlen, nobj * sizeof *mlen);
    return rc;
}

int sim_opt_parse(const char *name, const char *value, sim_run_opts *o, uint64_t *timeout_ns,
                  char *err, size_t errlen)
{
    char why[256];
    if (!strcmp(name, "tlb")) {
        if (sim_tlb_parse(value, &o->geom, why, sizeof why))
            return snprintf(err, errlen, "--tlb: %s", why), -1;
    } else if (!strcmp(name, "pages")) {
        if (sim_page_mode_parse(value, &o->pages))
            return snprintf(err, errlen, "--pages %s: expected 4k, 2m or thp", value), -1;
    } else if (!strcmp(name, "access")) {
        if (sim_access_parse(value, &o->access))
            return snprintf(err, errlen, "--access %s: expected touch or full", value), -1;
    } else if (!strcmp(name, "touch")) {
        if (hak_touch_parse(value, &o->touch))
            return snprintf(err, errlen, "--touch '%s': expected " HAK_TOUCH_CHOICES, value), -1;
    } else if (!strcmp(name, "timeout")) {
        if (hak_parse_duration_ns(value, timeout_ns) || *timeout_ns == 0)
            return snprintf(err, errlen, "--timeout %s: expected a duration such as 30s", value), -1;
    } else {
        return 1;
    }
    return 0;
}
