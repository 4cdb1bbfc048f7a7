/* image_build.c - turns a trace's replay form (traces/lib/trace.h) into the flat
 * replay image a worker maps (layout in image.h).  Built once per trace and
 * threads mode, in a memfd that every run of the matrix inherits. */
#include "replay.h"

/* Messages are cut to their buffers on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image.h"
#include "trace.h"

#define SCHED_POINTS 512     /* serial timeline samples per run, at most */
/* A sample reads /proc/self/statm (~1 us): at least this many ops apart,
 * so sampling stays a small fraction of even the bump allocator's window. */
#define SCHED_MIN_GAP 4096

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static uint64_t align64(uint64_t x) { return (x + 63) & ~63ull; }

/* Total bytes an op asks for: calloc/reallocarray multiply. */
static uint64_t op_bytes(const hak_rop *o)
{
    if (o->op == HAK_OP_CALLOC || o->op == HAK_OP_REALLOCARRAY) {
        uint64_t n = o->aux, t;
        if (__builtin_mul_overflow(n, o->size, &t))
            return UINT64_MAX;
        return t;
    }
    return o->size;
}

static int is_aligned_op(int op)
{
    return op == HAK_OP_MEMALIGN || op == HAK_OP_POSIX_MEMALIGN || op == HAK_OP_ALIGNED_ALLOC;
}

static uint8_t align_log2(uint64_t a)
{
    if (a <= 1)
        return 0;
    unsigned l = 63u - (unsigned)__builtin_clzll(a);
    if ((1ull << l) < a)
        l++;                    /* not a power of two: round up */
    return (uint8_t)(l > 40 ? 40 : l);
}

/* A munmap of a part of a mapping (trace.h): its offset goes to moff[]. */
static int is_part_unmap(const hak_rop *o)
{
    return o->op == HAK_OP_MUNMAP && o->size;
}

static void fill_wop(rp_wop *w, const hak_rop *o, uint64_t pos, rp_wbig *big, uint64_t *nbig,
                     rp_wbig *moff, uint64_t *nmoff)
{
    uint64_t b = op_bytes(o);
    if (is_part_unmap(o)) {
        moff[*nmoff].pos = pos;
        moff[*nmoff].size = (uint64_t)o->aux << 12;
        (*nmoff)++;
    }
    w->obj = o->obj;
    w->in_obj = o->in_obj;
    w->op = o->op;
    w->align_log2 = is_aligned_op(o->op) ? align_log2(o->aux) : 0;
    w->pad_ = 0;
    if (b >= RP_SIZE_BIG) {
        w->size = RP_SIZE_BIG;
        big[*nbig].pos = pos;
        big[*nbig].size = b;
        (*nbig)++;
    } else {
        w->size = (uint32_t)b;
    }
}

void rp_image_close(rp_image *im)
{
    if (im->fd >= 0)
        close(im->fd);
    im->fd = -1;
}

/* Sync points for recorded mode (see replay.h): per thread, a sorted list
 * of (local index, other thread, ops of it that precede this op). */
typedef struct syncv { rp_wdep *d; uint64_t n, cap; } syncv;

static void free_sync(syncv *sv, uint32_t nth)
{
    for (uint32_t t = 0; sv && t < nth; t++)
        free(sv[t].d);
    free(sv);
}


static int sync_points(const hak_replay *rp, uint32_t every, syncv *sv)
{
    const uint32_t nth = rp->nthreads;
    uint64_t *seen = calloc(nth, sizeof *seen), *k = calloc(nth, sizeof *k);
    uint32_t *last = calloc((size_t)nth * nth, sizeof *last);
    if (!seen || !k || !last) {
        free(seen); free(k); free(last);
        return -1;
    }
    for (uint64_t g = 0; g < rp->nops; g++) {
        uint32_t t = rp->ops[g].tid;
        if (t >= nth)
            continue;
        uint64_t idx = k[t]++;
        if (idx > 0 && idx % every == 0) {
            for (uint32_t u = 0; u < nth; u++) {
                if (u == t || seen[u] <= last[(size_t)t * nth + u])
                    continue;
                last[(size_t)t * nth + u] = (uint32_t)seen[u];
                syncv *v = &sv[t];
                if (v->n == v->cap) {
                    v->cap = v->cap ? v->cap * 2 : 64;
                    rp_wdep *nd = realloc(v->d, v->cap * sizeof *nd);
                    if (!nd) { free(seen); free(k); free(last); return -1; }
                    v->d = nd;
                }
                v->d[v->n++] = (rp_wdep){(uint32_t)idx, u, (uint32_t)seen[u], 0};
            }
        }
        seen[t]++;
    }
    free(seen); free(k); free(last);
    return 0;
}

int rp_image_build(const hak_replay *rp, int recorded, const uint64_t *op_ts,
                   uint32_t sync_every, rp_image *out, char *err, size_t errlen)
{
    return rp_image_build_at(rp, recorded, op_ts, sync_every, NULL, 0, out, err, errlen);
}

int rp_image_build_at(const hak_replay *rp, int recorded, const uint64_t *op_ts,
                      uint32_t sync_every, const uint64_t *at, size_t nat,
                      rp_image *out, char *err, size_t errlen)
{
    if (recorded || nat > RP_IMG_MAX_AT)
        nat = recorded ? 0 : RP_IMG_MAX_AT;
    memset(out, 0, sizeof *out);
    out->fd = -1;
    const uint64_t n = rp->nops;
    const uint32_t nth = rp->nthreads ? rp->nthreads : 1;
    uint64_t nbig = 0, ndeps = 0, max_size = 0, nmoff = 0;
    for (uint64_t i = 0; i < n; i++) {
        const hak_rop *o = &rp->ops[i];
        uint64_t b = op_bytes(o);
        if (b >= RP_SIZE_BIG)
            nbig++;
        nmoff += is_part_unmap(o);
        if (b > max_size && b != UINT64_MAX)
            max_size = b;
        if (o->obj != HAK_NO_OBJ && o->obj >= rp->nobjects)
            return fail(err, errlen, "replay form: op %llu creates object %u of %u",
                        (unsigned long long)i, o->obj, rp->nobjects);
        if (o->in_obj != HAK_NO_OBJ && o->in_obj >= rp->nobjects)
            return fail(err, errlen, "replay form: op %llu consumes object %u of %u",
                        (unsigned long long)i, o->in_obj, rp->nobjects);
    }
    for (uint32_t t = 0; recorded && t < rp->nthreads; t++) {
        for (uint64_t k = 0; k < rp->thread_ndeps[t]; k++) {
            const hak_rdep *dp = &rp->thread_deps[t][k];
            if (dp->dep_tid == t)
                continue;
            if (dp->dep_tid >= nth || dp->dep_idx >= rp->thread_nops[dp->dep_tid] ||
                dp->idx >= rp->thread_nops[t] || (k && dp->idx <= rp->thread_deps[t][k - 1].idx))
                return fail(err, errlen, "replay form: op %u of thread %u depends on op %u of thread %u, which does not exist",
                            dp->idx, t, dp->dep_idx, dp->dep_tid);
            ndeps++;
        }
    }
    const uint64_t nsched = recorded ? 0 : (n < SCHED_POINTS ? n : SCHED_POINTS) + nat + 1;
    syncv *sv = NULL;
    if (recorded && sync_every && rp->nthreads > 1 && rp->nthreads <= RP_SYNC_MAX_THREADS) {
        sv = calloc(rp->nthreads, sizeof *sv);
        if (!sv || sync_points(rp, sync_every, sv) != 0) {
            free(sv);
            return fail(err, errlen, "out of memory for sync points");
        }
        for (uint32_t t = 0; t < rp->nthreads; t++)
            ndeps += sv[t].n;
    }

    rp_image_hdr h;
    memset(&h, 0, sizeof h);
    h.magic = RP_IMG_MAGIC;
    h.flags = (recorded ? 0 : RP_IMG_SERIAL) | (op_ts ? RP_IMG_HAS_TS : 0);
    h.nthreads = recorded ? nth : 1;
    h.nops = n;
    h.nobjects = rp->nobjects;
    h.ndeps = ndeps;
    h.nbig = nbig;
    h.nsched = nsched;
    h.max_size = max_size;
    h.peak_live_bytes = rp->peak_live_bytes;
    uint64_t off = align64(sizeof h);
    h.thread_off = off;   off = align64(off + (uint64_t)h.nthreads * sizeof(rp_wthread));
    h.ops_off = off;      off = align64(off + n * sizeof(rp_wop));
    h.deps_off = off;     off = align64(off + ndeps * sizeof(rp_wdep));
    h.obj_size_off = off; off = align64(off + (uint64_t)rp->nobjects * 8);
    h.big_off = off;      off = align64(off + nbig * sizeof(rp_wbig));
    h.sched_off = off;    off = align64(off + nsched * sizeof(rp_wsched));
    h.ts_off = off;       off = align64(off + (op_ts ? n * 8 : 0));
    h.npre = rp->npre;
    h.pre_off = off;      off = align64(off + rp->npre * 4);
    h.nmoff = nmoff;
    h.moff_off = off;     off = align64(off + nmoff * sizeof(rp_wbig));
    h.total_bytes = off;

    int fd = memfd_create("hak-replay-image", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)off) != 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        free_sync(sv, rp->nthreads);
        return fail(err, errlen, "replay image of %llu bytes: %s",
                    (unsigned long long)off, strerror(e));
    }
    char *m = mmap(NULL, off, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        int e = errno;
        close(fd);
        free_sync(sv, rp->nthreads);
        return fail(err, errlen, "mmap replay image: %s", strerror(e));
    }
    memcpy(m, &h, sizeof h);
    rp_wthread *th = (rp_wthread *)(m + h.thread_off);
    rp_wop *wops = (rp_wop *)(m + h.ops_off);
    rp_wdep *deps = (rp_wdep *)(m + h.deps_off);
    uint64_t *osz = (uint64_t *)(m + h.obj_size_off);
    rp_wbig *big = (rp_wbig *)(m + h.big_off);
    rp_wsched *sched = (rp_wsched *)(m + h.sched_off);
    uint64_t *ts = (uint64_t *)(m + h.ts_off);
    rp_wbig *moff = (rp_wbig *)(m + h.moff_off);
    uint64_t mi = 0;

    for (uint64_t i = 0; i < n; i++)
        if (rp->ops[i].obj != HAK_NO_OBJ)
            osz[rp->ops[i].obj] = op_bytes(&rp->ops[i]);
    uint32_t *pre = (uint32_t *)(m + h.pre_off);
    for (uint64_t i = 0; i < rp->npre; i++) {
        pre[i] = rp->pre[i].obj;
        osz[rp->pre[i].obj] = rp->pre[i].bytes;
    }

    uint64_t ts_base = UINT64_MAX;
    for (uint64_t i = 0; op_ts && i < n; i++)
        if (op_ts[i] < ts_base) ts_base = op_ts[i];

    uint64_t bi = 0;
    if (!recorded) {
        th[0].op_off = 0;
        th[0].nops = n;
        uint64_t every = n / SCHED_POINTS > SCHED_MIN_GAP ? n / SCHED_POINTS : SCHED_MIN_GAP, s = 0;
        int64_t live = (int64_t)rp->pre_bytes;      /* the prologue's */
        size_t ai = 0;
        for (uint64_t i = 0; i < n; i++) {
            const hak_rop *o = &rp->ops[i];
            int here = 0;                   /* a point the caller asked for */
            while (ai < nat && at[ai] <= i)
                here |= at[ai++] == i;
            if ((i % every == 0 || here) && s + 1 < nsched) {
                sched[s].op = i;
                sched[s].live_bytes = live > 0 ? (uint64_t)live : 0;
                s++;
            }
            fill_wop(&wops[i], o, i, big, &bi, moff, &mi);
            if (op_ts)
                ts[i] = op_ts[i] - ts_base;
            if (o->in_obj != HAK_NO_OBJ)     /* a part of a mapping: that part */
                live -= (int64_t)(is_part_unmap(o) ? o->size : osz[o->in_obj]);
            if (o->obj != HAK_NO_OBJ)
                live += (int64_t)osz[o->obj];
        }
        sched[s].op = n;                  /* closing sample after the last op */
        sched[s].live_bytes = live > 0 ? (uint64_t)live : 0;
        h.nsched = s + 1;
        ((rp_image_hdr *)m)->nsched = h.nsched;
    } else {
        uint64_t pos = 0, d = 0;
        for (uint32_t t = 0; t < nth; t++) {
            uint64_t tn = rp->nthreads ? rp->thread_nops[t] : 0;
            th[t].op_off = pos;
            th[t].nops = tn;
            th[t].dep_off = d;
            uint64_t si = 0, sn = sv ? sv[t].n : 0;
            uint64_t di = 0, dn = rp->nthreads ? rp->thread_ndeps[t] : 0;
            for (uint64_t k = 0; k < tn; k++) {
                uint64_t gi = rp->thread_ops[t][k];
                const hak_rop *o = &rp->ops[gi];
                fill_wop(&wops[pos], o, pos, big, &bi, moff, &mi);
                while (si < sn && sv[t].d[si].idx == k)     /* sync points of this op */
                    deps[d++] = sv[t].d[si++];
                if (op_ts)
                    ts[pos] = op_ts[gi] - ts_base;
                if (di < dn && rp->thread_deps[t][di].idx == k) {   /* its own dependency */
                    const hak_rdep *dp = &rp->thread_deps[t][di++];
                    if (dp->dep_tid != t) {
                        deps[d].idx = (uint32_t)k;
                        deps[d].dep_tid = dp->dep_tid;
                        deps[d].dep_count = dp->dep_idx + 1;
                        deps[d].pad_ = 0;
                        d++;
                    }
                }
                pos++;
            }
            th[t].ndeps = d - th[t].dep_off;
        }
        /* big[] and moff[] must be sorted by position: they are, positions
         * only grow. */
    }
    free_sync(sv, rp->nthreads);
    munmap(m, off);
    out->fd = fd;
    out->bytes = off;
    out->nops = n;
    out->nthreads = h.nthreads;
    out->recorded = recorded;
    out->has_ts = op_ts != NULL;
    return 0;
}
