/* worker_loop.c - the measured replay loops.
 *
 * The loop body is one always-inline function specialised at compile time
 * for the allocator kind (malloc family vs the built-in bump ring) and for
 * pacing, so the common case (malloc, asap) carries no per-op branches
 * beyond the op switch and one "is something due at this op" compare that
 * covers latency sampling, timeline samples and dependencies.
 *
 * Serial mode digests every returned address (FNV-1a style mix), so two
 * runs with address randomisation off can be compared.  Recorded mode runs
 * each thread's ops in order and, before an op that consumes another
 * thread's object, waits until that thread's progress counter has reached
 * the creating op: spin briefly, then yield, then futex-sleep until that
 * thread gets there (rp_wait.h), with a short timeout (the timeout
 * makes a missed wake-up cost 1 ms, never a hang).
 */
#include "worker.h"
#include "hak_util.h"

#include <limits.h>
#include <linux/futex.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "rss.h"
#include "rp_wait.h"
#include "trace.h"
#include "hak_check.h"


#define LIKELY(x)   __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define ALWAYS_INLINE inline __attribute__((always_inline))

rp_wctx *rp_wctx_global;

void rp_take_sample(rp_wctx *w, int64_t live, int64_t op)
{
    rp_wresult *r = w->res;
    if (r->nsamples >= RP_MAX_SAMPLES)
        return;
    uint64_t rss = 0, shared = 0;
    if (rp_rss_read(w->statm_fd, &rss, &shared) != 0)
        return;
    rp_tsample *s = &r->samples[r->nsamples++];
    s->t_ns = (int64_t)(hak_mono_ns() - w->t0_ns);
    /* The harness's own mappings are shared memory; leave them out. */
    s->rss_bytes = (int64_t)(rss > w->harness_shared ? rss - w->harness_shared : 0);
    s->live_bytes = live;
    s->op = op;
}

static ALWAYS_INLINE void *bump_alloc(rp_bump *b, uint64_t sz, uint64_t align)
{
    uint64_t off = (b->off + align - 1) & ~(align - 1);
    if (UNLIKELY(off + sz > b->cap))
        off = 0;                 /* wrap: free is a no-op, the ring reuses memory */
    b->off = off + ((sz + 15) & ~15ull);
    return b->base + off;
}

/* part (touch.h): with HAK_TOUCH_PAGES, only the block's first
 * sz * part / 65536 bytes get their byte per page (the first byte always). */
static ALWAYS_INLINE void touch_block(char *p, uint64_t sz, int mode, unsigned part)
{
    if (UNLIKELY(!p || !sz))
        return;
    switch (mode) {
    case HAK_TOUCH_NONE:
        return;
    case HAK_TOUCH_FIRST:
        *(volatile char *)p = 1;
        return;
    case HAK_TOUCH_PAGES: {
        if (part != HAK_TOUCH_WHOLE && sz < (1ull << 47))
            sz = (sz * part) >> 16;
        uintptr_t a = (uintptr_t)p, end = a + sz;
        *(volatile char *)a = 1;
        for (a = (a | 4095) + 1; a < end; a += 4096)
            *(volatile char *)a = 1;
        return;
    }
    default:
        memset(p, 1, sz);
        return;
    }
}

void rp_prologue(rp_wctx *w)
{
    const uint32_t *pre = RP_AT(w->img, w->img->pre_off, const uint32_t);
    for (uint64_t i = 0; i < w->img->npre; i++) {
        HAK_CHECK(pre[i] < w->img->nobjects);   /* image_build.c wrote the list */
        uint64_t sz = w->obj_size[pre[i]];
        char *p = malloc(sz ? sz : 1);
        touch_block(p, sz, w->touch, w->touch_part);
        w->tbl[pre[i]] = p;
    }
}

/* Gap to the next timed op: uniform in [K/2, 3K/2), so the sampled ops do
 * not alias with a periodic workload (a fixed even K on a strictly
 * alternating free/malloc stream would time only one of the two). */
static ALWAYS_INLINE uint64_t lat_gap(uint64_t *rng, uint64_t K)
{
    uint64_t x = *rng;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    *rng = x;
    return K / 2 + 1 + x % K;
}

/* The value at op position pos of a table sorted by position (big[],
 * moff[]), 0 when absent. */
static uint64_t at_pos(const rp_wbig *tab, uint64_t n, uint64_t pos)
{
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = (lo + hi) / 2;
        if (tab[mid].pos < pos) lo = mid + 1; else hi = mid;
    }
    return lo < n && tab[lo].pos == pos ? tab[lo].size : 0;
}

static uint64_t big_size(const rp_wctx *w, uint64_t pos)
{
    return at_pos(w->big, w->img->nbig, pos);
}

/* What the loop body reads and writes on every op, copied into a local of
 * the loop so the compiler keeps it in registers: the byte stores of
 * touch_block may alias anything in memory, which would otherwise force a
 * reload of every field after each block is touched. */
typedef struct rp_lenv {
    void **tbl;
    const uint64_t *obj_size;
    rp_bump bump;
    uint64_t digest;
    int touch;
    unsigned touch_part;
    int calloc_first;
} rp_lenv;

static ALWAYS_INLINE rp_lenv lenv_of(const rp_wctx *w, const rp_tstate *t)
{
    rp_lenv e = {w->tbl, w->obj_size, t->bump, t->digest, w->touch, w->touch_part,
                 w->calloc_first};
    return e;
}

static ALWAYS_INLINE void lenv_done(const rp_lenv *e, rp_tstate *t)
{
    t->bump = e->bump;
    t->digest = e->digest;
}

/* Runs one op.  Returns the live-byte delta (only computed when track_live). */
static ALWAYS_INLINE int64_t exec_op(rp_wctx *w, rp_lenv *e, const rp_wop *o,
                                     uint64_t pos, const int bump, const int track_live)
{
    uint64_t sz = o->size;
    if (UNLIKELY(sz == RP_SIZE_BIG))
        sz = big_size(w, pos);
    void **tbl = e->tbl;
    void *p, *old;
    int64_t delta = 0;
    switch (o->op) {
    case HAK_OP_MALLOC:
        p = bump ? bump_alloc(&e->bump, sz, 16) : malloc(sz);
        break;
    case HAK_OP_CALLOC:
        if (bump) {
            p = bump_alloc(&e->bump, sz, 16);
            memset(p, 0, sz);
        } else {
            p = calloc(1, sz);
        }
        break;
    case HAK_OP_REALLOC:
    case HAK_OP_REALLOCARRAY:
        old = o->in_obj != RP_NO_OBJ ? tbl[o->in_obj] : NULL;
        if (track_live && o->in_obj != RP_NO_OBJ)
            delta -= (int64_t)e->obj_size[o->in_obj];
        if (bump) {
            p = bump_alloc(&e->bump, sz, 16);
            if (old) {
                uint64_t os = e->obj_size[o->in_obj];
                memmove(p, old, os < sz ? os : sz);
            }
        } else {
            p = realloc(old, sz);
        }
        break;
    case HAK_OP_FREE:
        if (o->in_obj == RP_NO_OBJ) {
            if (!bump)
                free(NULL);
            return 0;
        }
        if (!bump)
            free(tbl[o->in_obj]);
        return track_live ? -(int64_t)e->obj_size[o->in_obj] : 0;
    case HAK_OP_MEMALIGN:
    case HAK_OP_POSIX_MEMALIGN:
    case HAK_OP_ALIGNED_ALLOC: {
        uint64_t al = 1ull << o->align_log2;
        if (bump) {
            p = bump_alloc(&e->bump, sz, al < 16 ? 16 : al);
        } else if (o->op == HAK_OP_MEMALIGN) {
            p = memalign(al, sz);
        } else if (o->op == HAK_OP_ALIGNED_ALLOC) {
            p = aligned_alloc(al, sz);
        } else if (posix_memalign(&p, al < sizeof(void *) ? sizeof(void *) : al, sz) != 0) {
            p = NULL;
        }
        break;
    }
    case HAK_OP_VALLOC:
        p = bump ? bump_alloc(&e->bump, sz, 4096) : valloc(sz);
        break;
    case HAK_OP_PVALLOC:
        p = bump ? bump_alloc(&e->bump, (sz + 4095) & ~4095ull, 4096) : pvalloc(sz);
        break;
    case HAK_OP_MMAP:
        p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            p = NULL;
        break;
    case HAK_OP_MUNMAP:
        if (o->in_obj == RP_NO_OBJ || !tbl[o->in_obj])
            return 0;
        if (sz) {             /* a part of the mapping (image.h, moff[]) */
            uint64_t off = at_pos(RP_AT(w->img, w->img->moff_off, const rp_wbig), w->img->nmoff, pos);
            munmap((char *)tbl[o->in_obj] + off, sz);
            return track_live ? -(int64_t)sz : 0;
        }
        munmap(tbl[o->in_obj], e->obj_size[o->in_obj]);
        return track_live ? -(int64_t)e->obj_size[o->in_obj] : 0;
    case HAK_OP_MREMAP:
        old = o->in_obj != RP_NO_OBJ ? tbl[o->in_obj] : NULL;
        p = old ? mremap(old, e->obj_size[o->in_obj], sz, MREMAP_MAYMOVE) : NULL;
        if (p == MAP_FAILED)
            p = NULL;
        if (track_live && o->in_obj != RP_NO_OBJ)
            delta -= (int64_t)e->obj_size[o->in_obj];
        break;
    default:        /* thread start/exit: nothing to replay */
        return 0;
    }
    if (LIKELY(o->obj != RP_NO_OBJ)) {
        tbl[o->obj] = p;
        if (track_live)
            delta += (int64_t)sz;
    }
    /* --calloc-touch first: the allocator's own zeroing is replayed by its
     * calloc; what the program wrote of the zeroed block is not known, and
     * a table it writes sparsely (git) stays mostly untouched */
    touch_block(p, sz, o->op == HAK_OP_CALLOC && e->calloc_first ? HAK_TOUCH_FIRST : e->touch,
                e->touch_part);
    e->digest = (e->digest ^ (uint64_t)(uintptr_t)p) * 0x100000001b3ull;
    return delta;
}

static void pace_wait(const rp_wctx *w, uint64_t pos)
{
    uint64_t due = w->t0_ns + (uint64_t)((double)w->ts[pos] * w->pace_scale);   /* ts rebased to the first op */
    for (;;) {
        uint64_t now = hak_mono_ns();
        if (now >= due)
            return;
        uint64_t gap = due - now;
        if (gap > 200000) {           /* long gaps sleep; short ones spin */
            struct timespec d = {0, (long)(gap - 100000)};
            nanosleep(&d, NULL);
        }
    }
}

static ALWAYS_INLINE void serial_impl(rp_wctx *w, const int bump, const int pace)
{
    rp_tstate *t = &w->ts_arr[0];
    const rp_wop *ops = w->ops;
    const uint64_t n = w->img->nops, K = w->lat_every;
    const rp_wsched *sched = w->sched;
    uint64_t nsched = w->no_samples ? 0 : w->img->nsched, j = 0;
    uint64_t next_smp = nsched ? sched[0].op : UINT64_MAX;
    uint64_t lat_rng = 0x9e3779b97f4a7c15ull ^ t->tid;
    uint64_t next_lat = K ? K - 1 : UINT64_MAX;
    uint64_t next = next_smp < next_lat ? next_smp : next_lat;
    const uint64_t ovh = w->timer_overhead;
    rp_lenv e = lenv_of(w, t);

    for (uint64_t i = 0; i < n; i++) {
        if (pace)
            pace_wait(w, i);
        if (UNLIKELY(i == next)) {
            while (i == next_smp) {
                rp_take_sample(w, (int64_t)sched[j].live_bytes, (int64_t)sched[j].op);
                j++;
                next_smp = j < nsched ? sched[j].op : UINT64_MAX;
            }
            if (i == next_lat) {
                uint64_t a = rp_ticks();
                exec_op(w, &e, &ops[i], i, bump, 0);
                uint64_t d = rp_ticks() - a;
                t->lat[rp_lat_bucket(d > ovh ? d - ovh : 0)]++;
                t->lat_n++;
                next_lat += lat_gap(&lat_rng, K);
            } else {
                exec_op(w, &e, &ops[i], i, bump, 0);
            }
            next = next_smp < next_lat ? next_smp : next_lat;
            continue;
        }
        exec_op(w, &e, &ops[i], i, bump, 0);
    }
    while (j < nsched && sched[j].op >= n) {      /* the closing sample */
        rp_take_sample(w, (int64_t)sched[j].live_bytes, (int64_t)sched[j].op);
        j++;
    }
    lenv_done(&e, t);
    t->ops_done += n;
}

void rp_run_serial(rp_wctx *w)
{
    if (w->bump) {
        if (w->pace) serial_impl(w, 1, 1); else serial_impl(w, 1, 0);
    } else {
        if (w->pace) serial_impl(w, 0, 1); else serial_impl(w, 0, 0);
    }
}

/* ---- recorded threads ---------------------------------------------------- */

static ALWAYS_INLINE void thread_impl(rp_wctx *w, rp_tstate *t, const int bump, const int pace)
{
    const rp_wthread *th = &RP_AT(w->img, w->img->thread_off, rp_wthread)[t->tid];
    const rp_wop *ops = w->ops + th->op_off;
    const rp_wdep *deps = w->deps + th->dep_off;
    const uint64_t n = th->nops, nd = th->ndeps, K = w->lat_every;
    const uint64_t ovh = w->timer_overhead;
    const int sampler = t->tid == w->sampler_tid && !w->no_samples;   /* first pass only */
    const uint64_t severy = w->sample_every;
    uint64_t d = 0;
    uint64_t next_dep = nd ? deps[0].idx : UINT64_MAX;
    uint64_t lat_rng = 0x9e3779b97f4a7c15ull ^ t->tid;
    uint64_t next_lat = K ? K - 1 : UINT64_MAX;
    uint64_t next_smp = sampler ? 0 : UINT64_MAX;
    uint64_t next = next_dep;
    if (next_lat < next) next = next_lat;
    if (next_smp < next) next = next_smp;
    int64_t live = 0;
    const uint32_t nthreads = w->img->nthreads;
    rp_lenv e = lenv_of(w, t);

    for (uint64_t i = 0; i < n; i++) {
        const uint64_t pos = th->op_off + i;
        if (pace)
            pace_wait(w, pos);
        int timed = 0;
        if (UNLIKELY(i == next)) {
            while (i == next_dep) {
                const rp_wdep *dp = &deps[d];
                rp_tstate *o = &w->ts_arr[dp->dep_tid];
                if (__atomic_load_n(&o->progress, __ATOMIC_ACQUIRE) < dp->dep_count)
                    rp_wait_progress(t, o, dp->dep_count);
                d++;
                next_dep = d < nd ? deps[d].idx : UINT64_MAX;
            }
            if (i == next_smp) {
                int64_t sum = 0;
                int64_t done = 0;
                for (uint32_t k = 0; k < nthreads; k++) {
                    sum += k == t->tid ? live : w->ts_arr[k].live;
                    done += k == t->tid ? (int64_t)i : (int64_t)w->ts_arr[k].progress;
                }
                rp_take_sample(w, sum + (int64_t)w->pre_bytes, done);
                next_smp += severy;
            }
            if (i == next_lat) {
                timed = 1;
                next_lat += lat_gap(&lat_rng, K);
            }
            next = next_dep;
            if (next_lat < next) next = next_lat;
            if (next_smp < next) next = next_smp;
        }
        if (UNLIKELY(timed)) {
            uint64_t a = rp_ticks();
            live += exec_op(w, &e, &ops[i], pos, bump, 1);
            uint64_t dt = rp_ticks() - a;
            t->lat[rp_lat_bucket(dt > ovh ? dt - ovh : 0)]++;
            t->lat_n++;
        } else {
            live += exec_op(w, &e, &ops[i], pos, bump, 1);
        }
        t->live = live;
        __atomic_store_n(&t->progress, (uint32_t)(i + 1), __ATOMIC_RELEASE);
        rp_wake_sleepers(t, (uint32_t)(i + 1));
    }
    if (sampler) {
        int64_t sum = 0;
        int64_t done = 0;
        for (uint32_t k = 0; k < nthreads; k++) {
            sum += k == t->tid ? live : w->ts_arr[k].live;
            done += k == t->tid ? (int64_t)n : (int64_t)w->ts_arr[k].progress;
        }
        rp_take_sample(w, sum + (int64_t)w->pre_bytes, done);
    }
    lenv_done(&e, t);
    t->ops_done += n;
}

void *rp_run_thread(void *arg)
{
    rp_tstate *t = arg;
    rp_wctx *w = rp_wctx_global;
    while (__atomic_load_n(&w->start, __ATOMIC_ACQUIRE) == 0)
        rp_futex(&w->start, FUTEX_WAIT_PRIVATE, 0, NULL);
    if (w->bump) {
        if (w->pace) thread_impl(w, t, 1, 1); else thread_impl(w, t, 1, 0);
    } else {
        if (w->pace) thread_impl(w, t, 0, 1); else thread_impl(w, t, 0, 0);
    }
    if (__atomic_add_fetch(&w->done, 1, __ATOMIC_ACQ_REL) == w->img->nthreads)
        rp_futex(&w->done, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
    return NULL;
}
