/* Replay form on hand-built traces: object ids, cross-thread dependencies,
 * realloc moves, address reuse, inversions, and what gets dropped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace.h"

#define NO HAK_NO_OBJ
static char path[256];

/* Short event constructors; seq is assigned in list order. */
#define MALLOC(t, sz, out)   {.op = HAK_OP_MALLOC, .tid = t, .size = sz, .out_ptr = out}
#define FREE(t, in)          {.op = HAK_OP_FREE, .tid = t, .in_ptr = in}
#define REALLOC(t, in, sz, out) {.op = HAK_OP_REALLOC, .tid = t, .in_ptr = in, .size = sz, .out_ptr = out}

/* Writes the events (global order = list order) grouped per thread, then
 * builds the replay form. */
static unsigned build_opts;   /* HAK_REPLAY_* for the next build() */

static void build(hak_event *ev, size_t n, hak_replay *rp)
{
    snprintf(path, sizeof path, "/tmp/hak-test-replay-%d.hkt", (int)getpid());
    char err[256];
    hak_trace_writer *w = hak_tw_open(path, NULL, err, sizeof err);
    assert_non_null(w);
    for (size_t i = 0; i < n; i++)
        ev[i].seq = i, ev[i].ts_ns = i * 10;
    hak_event *mine = malloc(n * sizeof *mine);
    for (uint32_t t = 0; t < 8; t++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (ev[i].tid == t)
                mine[k++] = ev[i];
        if (k)
            assert_int_equal(hak_tw_events(w, t, mine, k), 0);
    }
    free(mine);
    assert_int_equal(hak_tw_close(w), 0);
    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    assert_non_null(r);
    if (hak_replay_build_opts(r, rp, build_opts, err, sizeof err))
        fail_msg("hak_replay_build: %s", err);
    build_opts = 0;
    hak_tr_close(r);
    unlink(path);
}

#define ND UINT32_MAX   /* no dependency */

/* The dependency of op i (thread, index there), ND ND when it has none. */
static void dep_of(const hak_replay *rp, uint64_t i, uint32_t *dep_tid, uint32_t *dep_idx)
{
    uint32_t t = rp->ops[i].tid;
    *dep_tid = *dep_idx = ND;
    for (uint64_t k = 0; k < rp->thread_nops[t]; k++) {
        if (rp->thread_ops[t][k] != i)
            continue;
        for (uint64_t d = 0; d < rp->thread_ndeps[t]; d++)
            if (rp->thread_deps[t][d].idx == k) {
                *dep_tid = rp->thread_deps[t][d].dep_tid;
                *dep_idx = rp->thread_deps[t][d].dep_idx;
            }
        return;
    }
    fail_msg("op %llu is not in thread %u's list", (unsigned long long)i, t);
}

/* Checks op i of rp; dependencies are per thread, sorted by index. */
static void assert_op(const hak_replay *rp, uint64_t i, int op, uint32_t tid, uint32_t obj,
                         uint32_t in, uint32_t dep_tid, uint32_t dep_idx)
{
    const hak_rop *o = &rp->ops[i];
    assert_int_equal(o->op, op);
    assert_int_equal(o->tid, tid);
    assert_int_equal(o->obj, obj);
    assert_int_equal(o->in_obj, in);
    uint32_t dt, di;
    dep_of(rp, i, &dt, &di);
    assert_int_equal(dt, dep_tid);
    assert_int_equal(di, dep_idx);
    for (uint32_t t = 0; t < rp->nthreads; t++)
        for (uint64_t d = 1; d < rp->thread_ndeps[t]; d++)
            assert_true(rp->thread_deps[t][d].idx > rp->thread_deps[t][d - 1].idx);
}


static void single_thread_moves_and_reuse(void **state)
{
    (void)state;
    hak_event ev[] = {
        MALLOC(0, 100, 0x1000), MALLOC(0, 200, 0x2000), FREE(0, 0x1000),
        REALLOC(0, 0x2000, 300, 0x3000), FREE(0, 0x3000), MALLOC(0, 50, 0x1000),
        REALLOC(0, 0x1000, 60, 0x1000),   /* in place: still a new object */
    };
    hak_replay rp;
    build(ev, sizeof ev / sizeof *ev, &rp);
    assert_int_equal(rp.nops, 7);
    assert_op(&rp, 0, HAK_OP_MALLOC, 0, 0, NO, ND, ND);
    assert_op(&rp, 1, HAK_OP_MALLOC, 0, 1, NO, ND, ND);
    assert_op(&rp, 2, HAK_OP_FREE, 0, NO, 0, ND, ND);
    assert_op(&rp, 3, HAK_OP_REALLOC, 0, 2, 1, ND, ND);
    assert_int_equal(rp.ops[3].size, 300);
    assert_op(&rp, 4, HAK_OP_FREE, 0, NO, 2, ND, ND);
    assert_op(&rp, 5, HAK_OP_MALLOC, 0, 3, NO, ND, ND);
    assert_op(&rp, 6, HAK_OP_REALLOC, 0, 4, 3, ND, ND);
    assert_int_equal(rp.nobjects, 5);
    assert_int_equal(rp.leaked_objects, 1);
    assert_int_equal(rp.peak_live_bytes, 300);   /* 100+200, then the 300-byte move */
    assert_int_equal(rp.inversions + rp.unknown_frees + rp.double_frees + rp.failed_allocs, 0);
    assert_int_equal(rp.nthreads, 1);
    assert_int_equal(rp.thread_nops[0], 7);
    for (uint64_t i = 0; i < 7; i++)
        assert_int_equal(rp.thread_ops[0][i], i);
    hak_replay_free(&rp);
}

static void cross_thread_dependencies(void **state)
{
    (void)state;
    hak_event ev[] = {
        MALLOC(0, 16, 0xa0),               /* op0  T0#0 obj0 */
        MALLOC(0, 32, 0xb0),               /* op1  T0#1 obj1 */
        FREE(1, 0xa0),                     /* op2  T1#0 consumes obj0: waits T0#0 */
        REALLOC(1, 0xb0, 64, 0xc0),        /* op3  T1#1 obj2 from obj1: waits T0#1 */
        MALLOC(2, 8, 0xd0),                /* op4  T2#0 obj3 */
        FREE(0, 0xc0),                     /* op5  T0#2 consumes obj2: waits T1#1 */
        FREE(2, 0xd0),                     /* op6  T2#1 own object: no dep */
    };
    hak_replay rp;
    build(ev, sizeof ev / sizeof *ev, &rp);
    assert_int_equal(rp.nops, 7);
    assert_op(&rp, 2, HAK_OP_FREE, 1, NO, 0, 0, 0);
    assert_op(&rp, 3, HAK_OP_REALLOC, 1, 2, 1, 0, 1);
    assert_op(&rp, 5, HAK_OP_FREE, 0, NO, 2, 1, 1);
    assert_op(&rp, 6, HAK_OP_FREE, 2, NO, 3, ND, ND);
    assert_int_equal(rp.cross_thread_deps, 3);
    assert_int_equal(rp.nthreads, 3);
    assert_int_equal(rp.thread_nops[0], 3);
    assert_int_equal(rp.thread_nops[1], 2);
    assert_int_equal(rp.thread_nops[2], 2);
    assert_int_equal(rp.thread_ops[0][2], 5);
    assert_int_equal(rp.thread_ops[1][0], 2);
    assert_int_equal(rp.thread_ops[2][1], 6);
    assert_int_equal(rp.leaked_objects, 0);
    hak_replay_free(&rp);
}

static void inversions_resolve_to_oldest(void **state)
{
    (void)state;
    hak_event ev[] = {
        MALLOC(0, 10, 0x500),              /* obj0 */
        MALLOC(1, 20, 0x500),              /* obj1: reuse before the free: inversion */
        MALLOC(2, 30, 0x500),              /* obj2: second inversion */
        FREE(1, 0x500),                    /* consumes obj0 (oldest): waits T0#0 */
        FREE(0, 0x500),                    /* consumes obj1: waits T1#0 */
        FREE(2, 0x500),                    /* consumes obj2: own */
        FREE(2, 0x500),                    /* double free */
    };
    hak_replay rp;
    build(ev, sizeof ev / sizeof *ev, &rp);
    assert_int_equal(rp.inversions, 2);
    assert_int_equal(rp.nops, 6);
    assert_op(&rp, 3, HAK_OP_FREE, 1, NO, 0, 0, 0);
    assert_op(&rp, 4, HAK_OP_FREE, 0, NO, 1, 1, 0);
    assert_op(&rp, 5, HAK_OP_FREE, 2, NO, 2, ND, ND);
    assert_int_equal(rp.double_frees, 1);
    assert_int_equal(rp.unknown_frees, 0);
    assert_int_equal(rp.peak_live_bytes, 60);
    assert_int_equal(rp.leaked_objects, 0);
    hak_replay_free(&rp);
}

static void drops_and_realloc_rules(void **state)
{
    (void)state;
    hak_event ev[] = {
        FREE(0, 0x999),                              /* unknown: dropped */
        MALLOC(0, 1 << 30, 0),                       /* failed: dropped */
        FREE(0, 0),                                  /* free(NULL): dropped */
        REALLOC(0, 0, 40, 0x100),                    /* = malloc: obj0 */
        REALLOC(0, 0x100, 1 << 30, 0),               /* failed, obj0 stays live */
        REALLOC(0, 0x100, 0, 0),                     /* = free of obj0 */
        REALLOC(0, 0x100, 8, 0x200),                 /* freed input: double, = malloc obj1 */
        {.op = HAK_OP_CALLOC, .tid = 0, .nmemb = 10, .size = 12, .out_ptr = 0x300},  /* obj2 */
        {.op = HAK_OP_MMAP, .tid = 0, .size = 4096, .out_ptr = 0x7000},
        {.op = HAK_OP_MUNMAP, .tid = 0, .size = 4096, .in_ptr = 0x7000},
        {.op = HAK_OP_POSIX_MEMALIGN, .tid = 0, .align = 64, .size = 100, .out_ptr = 0x400},
        {.op = HAK_OP_POSIX_MEMALIGN, .tid = 0, .align = 64, .size = 100, .err = 12},
        {.op = HAK_OP_REALLOCARRAY, .tid = 0, .in_ptr = 0x300, .nmemb = 4, .size = 50, .out_ptr = 0x500},
    };
    hak_replay rp;
    build(ev, sizeof ev / sizeof *ev, &rp);
    assert_int_equal(rp.unknown_frees, 1);
    assert_int_equal(rp.double_frees, 1);
    assert_int_equal(rp.failed_allocs, 3);
    assert_int_equal(rp.free_nulls, 1);
    assert_int_equal(rp.mmap_ops, 2);
    assert_int_equal(rp.nops, 6);
    assert_op(&rp, 0, HAK_OP_MALLOC, 0, 0, NO, ND, ND);
    assert_int_equal(rp.ops[0].size, 40);
    assert_op(&rp, 1, HAK_OP_FREE, 0, NO, 0, ND, ND);
    assert_op(&rp, 2, HAK_OP_MALLOC, 0, 1, NO, ND, ND);
    assert_int_equal(rp.ops[2].size, 8);
    assert_op(&rp, 3, HAK_OP_CALLOC, 0, 2, NO, ND, ND);
    assert_int_equal(rp.ops[3].aux, 10);
    assert_int_equal(rp.ops[3].size, 12);
    assert_op(&rp, 4, HAK_OP_POSIX_MEMALIGN, 0, 3, NO, ND, ND);
    assert_int_equal(rp.ops[4].aux, 64);
    assert_op(&rp, 5, HAK_OP_REALLOCARRAY, 0, 4, 2, ND, ND);
    assert_int_equal(rp.ops[5].aux, 4);
    assert_int_equal(rp.nobjects, 5);
    assert_int_equal(rp.leaked_objects, 3);        /* obj1, obj3, obj4 */
    assert_int_equal(rp.peak_live_bytes, 8 + 100 + 200);
    hak_replay_free(&rp);
}

static void thread_start_waits_for_creator(void **state)
{
    (void)state;
    hak_event ev[] = {
        {.op = HAK_OP_THREAD_START, .tid = 0, .size = 100, .in_ptr = 0},
        MALLOC(0, 16, 0x10),
        {.op = HAK_OP_THREAD_START, .tid = 1, .size = 101, .in_ptr = 0},
        FREE(1, 0x10),
        {.op = HAK_OP_THREAD_EXIT, .tid = 1},
    };
    hak_replay rp;
    build(ev, sizeof ev / sizeof *ev, &rp);
    assert_int_equal(rp.nops, 5);
    assert_op(&rp, 0, HAK_OP_THREAD_START, 0, NO, NO, ND, ND);
    assert_op(&rp, 2, HAK_OP_THREAD_START, 1, NO, NO, 0, 1);
    assert_op(&rp, 3, HAK_OP_FREE, 1, NO, 0, 0, 1);
    assert_op(&rp, 4, HAK_OP_THREAD_EXIT, 1, NO, NO, ND, ND);
    assert_int_equal(rp.cross_thread_deps, 2);
    hak_replay_free(&rp);
}

/* Many objects at many addresses: exercises map growth and slot reuse. */
static void many_objects(void **state)
{
    (void)state;
    size_t n = 300000;
    hak_event *ev = calloc(n, sizeof *ev);
    for (size_t i = 0; i < n / 2; i++)
        ev[i] = (hak_event)MALLOC(0, 1, 0x10000 + 16 * i);
    for (size_t i = 0; i < n / 2; i++)
        ev[n / 2 + i] = (hak_event)FREE((uint32_t)(i & 1), 0x10000 + 16 * i);
    hak_replay rp;
    build(ev, n, &rp);
    assert_int_equal(rp.nops, n);
    assert_int_equal(rp.nobjects, n / 2);
    assert_int_equal(rp.peak_live_bytes, n / 2);
    assert_int_equal(rp.leaked_objects, 0);
    assert_int_equal(rp.cross_thread_deps, n / 4);
    for (size_t i = 0; i < n / 2; i++)
        assert_int_equal(rp.ops[n / 2 + i].in_obj, i);
    hak_replay_free(&rp);
    free(ev);
}

/* ---- The rules of trace.h, the naive way, on random traces -------------
 * A reference model with none of the builder's machinery (hash map, inline
 * objects, overflow queues, fast paths): live objects are one array in
 * creation order, searched linearly.  Random traces over a few addresses
 * and 4 threads hit every rule: address reuse, inversions, double and
 * unknown frees, realloc moves and frees, failures, folding of huge
 * nmemb/alignments, thread start/exit, mmap. */

typedef struct ref_live { uint64_t addr, bytes; uint32_t obj, tid, idx; } ref_live;

typedef struct ref_form {
    hak_rop ops[4096];
    uint32_t dep_tid[4096], dep_idx[4096];   /* of each op, ND: none */
    uint64_t nops, tn[4], tops[4][4096];
    ref_live live[4096];
    size_t nlive;
    uint64_t created[4096];          /* addresses ever created */
    size_t ncreated;
    uint64_t live_bytes;
    hak_replay c;                    /* counters only */
} ref_form;

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static int ref_consume(ref_form *f, uint64_t a, hak_rop *o, uint32_t *dep)
{
    for (size_t i = 0; i < f->nlive; i++) {
        if (f->live[i].addr != a)
            continue;
        o->in_obj = f->live[i].obj;
        if (f->live[i].tid != o->tid) {
            dep[0] = f->live[i].tid;
            dep[1] = f->live[i].idx;
            f->c.cross_thread_deps++;
        }
        f->live_bytes -= f->live[i].bytes;
        memmove(&f->live[i], &f->live[i + 1], (f->nlive - i - 1) * sizeof *f->live);
        f->nlive--;
        return 1;
    }
    int seen = 0;
    for (size_t i = 0; i < f->ncreated; i++)
        seen |= f->created[i] == a;
    if (seen)
        f->c.double_frees++;
    else
        f->c.unknown_frees++;
    return 0;
}

static void ref_create(ref_form *f, uint64_t a, uint64_t bytes, hak_rop *o)
{
    for (size_t i = 0; i < f->nlive; i++)
        if (f->live[i].addr == a) {
            f->c.inversions++;
            break;
        }
    o->obj = f->c.nobjects++;
    f->live[f->nlive++] = (ref_live){a, bytes, o->obj, o->tid, (uint32_t)f->tn[o->tid]};
    f->created[f->ncreated++] = a;
    f->live_bytes += bytes;
    if (f->live_bytes > f->c.peak_live_bytes)
        f->c.peak_live_bytes = f->live_bytes;
}

static void ref_event(ref_form *f, const hak_event *e, uint32_t nthreads)
{
    hak_rop o = {.size = e->size, .obj = NO, .in_obj = NO, .tid = (uint16_t)e->tid, .op = e->op};
    uint32_t dep[2] = {ND, ND};
    uint64_t bytes = e->size;
    int huge = e->nmemb > UINT32_MAX;
    switch (e->op) {
    case HAK_OP_CALLOC:
        bytes = sat_mul(e->nmemb, e->size);
        o.aux = huge ? 1 : (uint32_t)e->nmemb;
        o.size = huge ? bytes : e->size;
        goto alloc;
    case HAK_OP_MALLOC: case HAK_OP_VALLOC: case HAK_OP_PVALLOC:
    case HAK_OP_MEMALIGN: case HAK_OP_POSIX_MEMALIGN: case HAK_OP_ALIGNED_ALLOC:
        o.aux = e->align > UINT32_MAX ? UINT32_MAX : (uint32_t)e->align;
    alloc:
        if (!e->out_ptr) {
            f->c.failed_allocs++;
            return;
        }
        ref_create(f, e->out_ptr, bytes, &o);
        break;
    case HAK_OP_REALLOC: case HAK_OP_REALLOCARRAY:
        if (e->op == HAK_OP_REALLOCARRAY) {
            bytes = sat_mul(e->nmemb, e->size);
            o.aux = huge ? 1 : (uint32_t)e->nmemb;
            o.size = huge ? bytes : e->size;
        }
        if (e->in_ptr && !e->out_ptr && !bytes) {
            o = (hak_rop){.obj = NO, .in_obj = NO, .tid = (uint16_t)e->tid, .op = HAK_OP_FREE};
            if (!ref_consume(f, e->in_ptr, &o, dep))
                return;
            break;
        }
        if (!e->out_ptr) {
            f->c.failed_allocs++;
            return;
        }
        if (!e->in_ptr || !ref_consume(f, e->in_ptr, &o, dep)) {
            o.op = HAK_OP_MALLOC;
            o.size = bytes;
            o.aux = 0;
        }
        ref_create(f, e->out_ptr, bytes, &o);
        break;
    case HAK_OP_FREE:
        if (!e->in_ptr) {
            f->c.free_nulls++;
            return;
        }
        o.size = 0;
        if (!ref_consume(f, e->in_ptr, &o, dep))
            return;
        break;
    case HAK_OP_THREAD_START:
        if (e->in_ptr < nthreads && e->in_ptr != e->tid && f->tn[e->in_ptr]) {
            dep[0] = (uint32_t)e->in_ptr;
            dep[1] = (uint32_t)(f->tn[e->in_ptr] - 1);
            f->c.cross_thread_deps++;
        }
        break;
    case HAK_OP_THREAD_EXIT:
        o.size = 0;
        break;
    default:
        f->c.mmap_ops++;
        return;
    }
    f->tops[e->tid][f->tn[e->tid]++] = f->nops;
    f->dep_tid[f->nops] = dep[0];
    f->dep_idx[f->nops] = dep[1];
    f->ops[f->nops++] = o;
}

static hak_event random_event(uint64_t *rng, uint32_t tid)
{
    uint64_t r = *rng;
    r ^= r << 13; r ^= r >> 7; r ^= r << 17;
    *rng = r;
    uint64_t a = 0x1000 + 16 * (r % 40), a2 = 0x1000 + 16 * ((r >> 8) % 40);
    uint64_t big = (r >> 20) % 4 ? 0 : 1ull << 33, sz = (r >> 24) % 100;
    hak_event e = {.tid = tid};
    switch ((r >> 32) % 16) {
    case 0: case 1: case 2: case 3: e.op = HAK_OP_MALLOC; e.size = sz; e.out_ptr = (r >> 40) % 16 ? a : 0; break;
    case 4: case 5: case 6: case 7: e.op = HAK_OP_FREE; e.in_ptr = (r >> 40) % 16 ? a : 0; break;
    case 8: e.op = HAK_OP_REALLOC; e.in_ptr = (r >> 40) % 4 ? a : 0; e.size = (r >> 44) % 3 ? sz : 0;
        e.out_ptr = (r >> 48) % 4 ? a2 : 0; break;
    case 9: e.op = HAK_OP_REALLOCARRAY; e.in_ptr = a; e.nmemb = big + 3; e.size = sz; e.out_ptr = a2; break;
    case 10: e.op = HAK_OP_CALLOC; e.nmemb = big + 2; e.size = sz; e.out_ptr = a; break;
    case 11: e.op = HAK_OP_MEMALIGN + (uint8_t)((r >> 40) % 5); e.align = big ? big : 64; e.size = sz; e.out_ptr = a; break;
    case 12: e.op = HAK_OP_THREAD_START; e.size = 100 + tid; e.in_ptr = (r >> 40) % 5; break;
    case 13: e.op = HAK_OP_THREAD_EXIT; break;
    case 14: e.op = HAK_OP_MMAP; e.size = 4096; e.out_ptr = a; break;
    default: e.op = HAK_OP_MALLOC; e.size = sz; e.out_ptr = a2; break;
    }
    return e;
}

static void matches_reference_model(void **state)
{
    (void)state;
    enum { N = 4000 };
    for (uint64_t seed = 1; seed <= 8; seed++) {
        hak_event *ev = calloc(N, sizeof *ev);
        uint64_t rng = seed * 0x9e3779b97f4a7c15ull;
        for (size_t i = 0; i < N; i++)
            ev[i] = random_event(&rng, (uint32_t)(i < 4 ? i : (rng >> 16) % 4));
        ref_form *f = calloc(1, sizeof *f);
        for (size_t i = 0; i < N; i++)
            ref_event(f, &ev[i], 4);
        hak_replay rp;
        build(ev, N, &rp);
        assert_int_equal(rp.nops, f->nops);
        for (uint64_t i = 0; i < f->nops; i++) {
            const hak_rop *o = &rp.ops[i], *x = &f->ops[i];
            assert_op(&rp, i, x->op, x->tid, x->obj, x->in_obj, f->dep_tid[i], f->dep_idx[i]);
            assert_int_equal(o->size, x->size);
            assert_int_equal(o->aux, x->aux);
        }
        assert_int_equal(rp.nthreads, 4);
        for (uint32_t t = 0; t < 4; t++) {
            assert_int_equal(rp.thread_nops[t], f->tn[t]);
            for (uint64_t k = 0; k < f->tn[t]; k++)
                assert_int_equal(rp.thread_ops[t][k], f->tops[t][k]);
        }
        assert_int_equal(rp.nobjects, f->c.nobjects);
        assert_int_equal(rp.peak_live_bytes, f->c.peak_live_bytes);
        assert_int_equal(rp.unknown_frees, f->c.unknown_frees);
        assert_int_equal(rp.double_frees, f->c.double_frees);
        assert_int_equal(rp.failed_allocs, f->c.failed_allocs);
        assert_int_equal(rp.inversions, f->c.inversions);
        assert_int_equal(rp.leaked_objects, f->nlive);
        assert_int_equal(rp.cross_thread_deps, f->c.cross_thread_deps);
        assert_int_equal(rp.free_nulls, f->c.free_nulls);
        assert_int_equal(rp.mmap_ops, f->c.mmap_ops);
        assert_true(rp.inversions > 0 && rp.double_frees > 0 && rp.unknown_frees > 0);
        hak_replay_free(&rp);
        free(f);
        free(ev);
    }
}

/* A window's trace (FORMAT.md, "Windows"): frees and reallocs of blocks
 * allocated before it carry their sizes; they consume prologue objects
 * instead of being dropped as unknown frees. */
static void pre_existing_blocks(void **state)
{
    (void)state;
    hak_event ev[] = {
        {.op = HAK_OP_FREE, .tid = 0, .in_ptr = 0x9000, .size = 4096},        /* from before */
        MALLOC(0, 100, 0x1000),
        {.op = HAK_OP_FREE, .tid = 0, .in_ptr = 0x1000, .size = 112},          /* known: size ignored */
        {.op = HAK_OP_REALLOC, .tid = 1, .in_ptr = 0xa000, .size = 64, .out_ptr = 0xb000,
         .align = 48},                                                         /* from before */
        FREE(0, 0xc000),                                                       /* no size: unknown */
        {.op = HAK_OP_FREE, .tid = 0, .in_ptr = 0x9000, .size = 4096},        /* twice: double */
    };
    hak_replay rp;
    build(ev, sizeof ev / sizeof *ev, &rp);
    assert_int_equal(rp.npre, 2);
    assert_int_equal(rp.pre_bytes, 4096 + 48);
    assert_int_equal(rp.unknown_frees, 1);
    assert_int_equal(rp.double_frees, 1);
    assert_int_equal(rp.nops, 4);
    assert_op(&rp, 0, HAK_OP_FREE, 0, NO, rp.pre[0].obj, ND, ND);
    assert_int_equal(rp.pre[0].bytes, 4096);
    assert_op(&rp, 1, HAK_OP_MALLOC, 0, 1, NO, ND, ND);
    assert_op(&rp, 2, HAK_OP_FREE, 0, NO, 1, ND, ND);
    assert_op(&rp, 3, HAK_OP_REALLOC, 1, 3, rp.pre[1].obj, ND, ND);
    assert_int_equal(rp.pre[1].bytes, 48);
    assert_int_equal(rp.nobjects, 4);
    assert_int_equal(rp.peak_live_bytes, 100);   /* the prologue's are not counted */
    hak_replay_free(&rp);
}

/* HAK_REPLAY_MMAP (trace.h): the program's private anonymous writable
 * mappings become ops, whole munmaps and mremaps consume them, anything
 * else of the family is dropped and counted, and malloc's addresses stay
 * apart from the mappings'. */
#define PROT_RW 3ull
#define ANON_PRIV (0x20ull | 0x02ull)     /* MAP_ANONYMOUS | MAP_PRIVATE */
#define MMAP(t, len, out, prot, flags) {.op = HAK_OP_MMAP, .tid = t, .size = len, .out_ptr = out, \
                                        .align = (prot) | (flags) << 32}
static void mmap_family_kept_with_option(void **state)
{
    (void)state;
    hak_event ev[] = {
        MMAP(0, 2 << 20, 0x10000000, PROT_RW, ANON_PRIV),           /* obj0 */
        MMAP(0, 5000, 0x20000000, PROT_RW, ANON_PRIV),              /* obj1, 2 pages */
        MMAP(0, 4096, 0x30000000, PROT_RW, 0x01ull | 0x20ull),      /* shared: dropped */
        MMAP(0, 4096, 0x31000000, 1ull, ANON_PRIV),                 /* read-only: dropped */
        MMAP(0, 4096, 0x32000000, PROT_RW, 0x02ull),                /* a file: dropped */
        MMAP(0, 4096, 0x33000000, PROT_RW, ANON_PRIV | 0x10ull),    /* MAP_FIXED: dropped */
        MALLOC(0, 64, 0x20000000),            /* obj2: malloc's address, not the mapping */
        {.op = HAK_OP_MUNMAP, .tid = 1, .in_ptr = 0x50000000, .size = 4096},   /* unknown: dropped */
        {.op = HAK_OP_MUNMAP, .tid = 1, .in_ptr = 0x20000000, .size = 8192},   /* obj1, whole pages */
        {.op = HAK_OP_MREMAP, .tid = 0, .in_ptr = 0x10000000, .nmemb = 2 << 20,
         .size = 4 << 20, .out_ptr = 0x40000000},                              /* obj0 -> obj3 */
        FREE(0, 0x20000000),                  /* frees obj2, not a mapping */
        {.op = HAK_OP_MUNMAP, .tid = 0, .in_ptr = 0x10000000, .size = 2 << 20}, /* moved: dropped */
        {.op = HAK_OP_MUNMAP, .tid = 0, .in_ptr = 0x40000000, .size = 4 << 20}, /* obj3 */
    };
    size_t n = sizeof ev / sizeof *ev;
    hak_replay rp;
    build(ev, n, &rp);                        /* without the option: all dropped */
    assert_int_equal(rp.mmap_ops, 11);
    assert_int_equal(rp.mmap_kept, 0);
    assert_int_equal(rp.nops, 2);
    hak_replay_free(&rp);

    build_opts = HAK_REPLAY_MMAP;
    build(ev, n, &rp);
    assert_int_equal(rp.mmap_kept, 5);
    assert_int_equal(rp.mmap_ops, 6);
    assert_int_equal(rp.nops, 7);
    assert_int_equal(rp.unknown_frees + rp.double_frees, 0);
    assert_op(&rp, 0, HAK_OP_MMAP, 0, 0, NO, ND, ND);
    assert_int_equal(rp.ops[0].size, 2 << 20);
    assert_op(&rp, 1, HAK_OP_MMAP, 0, 1, NO, ND, ND);
    assert_int_equal(rp.ops[1].size, 5000);
    assert_op(&rp, 2, HAK_OP_MALLOC, 0, 2, NO, ND, ND);
    assert_op(&rp, 3, HAK_OP_MUNMAP, 1, NO, 1, 0, 1);      /* waits for thread 0's mmap */
    assert_op(&rp, 4, HAK_OP_MREMAP, 0, 3, 0, ND, ND);
    assert_int_equal(rp.ops[4].size, 4 << 20);
    assert_op(&rp, 5, HAK_OP_FREE, 0, NO, 2, ND, ND);
    assert_op(&rp, 6, HAK_OP_MUNMAP, 0, NO, 3, ND, ND);
    /* mappings count in the live bytes: 2 MiB + 5000 + 64, then 4 MiB + 64 */
    assert_int_equal(rp.peak_live_bytes, (4 << 20) + 64);
    assert_int_equal(rp.leaked_objects, 0);
    hak_replay_free(&rp);
}

/* Munmaps of parts of a mapping (GCC gives back runs of free pages):
 * each unmaps its pages at its offset in the mapping, the last one ends
 * the mapping, and a mapping the kernel put in the hole is the one a
 * munmap there unmaps. */
static void mmap_partial_unmaps(void **state)
{
    (void)state;
    const uint64_t M = 0x10000000, P = 4096;
    hak_event ev[] = {
        MMAP(0, 16 * P, M, PROT_RW, ANON_PRIV),                                /* obj0 */
        MMAP(0, 4 * P, M + 16 * P, PROT_RW, ANON_PRIV),                        /* obj1, next to it */
        {.op = HAK_OP_MUNMAP, .tid = 0, .in_ptr = M + 4 * P, .size = 4 * P},    /* pages 4-7 */
        MMAP(0, 2 * P, M + 4 * P, PROT_RW, ANON_PRIV),                         /* obj2, in the hole */
        {.op = HAK_OP_MUNMAP, .tid = 0, .in_ptr = M + 4 * P, .size = 2 * P},    /* = obj2, whole */
        {.op = HAK_OP_MUNMAP, .tid = 1, .in_ptr = M, .size = 3 * P + 100},      /* pages 0-3 */
        {.op = HAK_OP_MUNMAP, .tid = 0, .in_ptr = M + 12 * P, .size = 8 * P},   /* across: dropped */
        {.op = HAK_OP_MUNMAP, .tid = 0, .in_ptr = M + 100, .size = P},          /* not on a page */
        {.op = HAK_OP_MUNMAP, .tid = 0, .in_ptr = M + 8 * P, .size = 8 * P},    /* the rest of obj0 */
        {.op = HAK_OP_MREMAP, .tid = 0, .in_ptr = M, .nmemb = 16 * P, .size = 32 * P,
         .out_ptr = M + 64 * P},                                               /* obj0 is gone */
    };
    hak_replay rp;
    build_opts = HAK_REPLAY_MMAP;
    build(ev, sizeof ev / sizeof *ev, &rp);
    assert_int_equal(rp.mmap_kept, 7);
    assert_int_equal(rp.mmap_ops, 3);
    assert_op(&rp, 2, HAK_OP_MUNMAP, 0, NO, 0, ND, ND);
    assert_int_equal(rp.ops[2].size, 4 * P);
    assert_int_equal(rp.ops[2].aux, 4);
    assert_op(&rp, 3, HAK_OP_MMAP, 0, 2, NO, ND, ND);
    assert_op(&rp, 4, HAK_OP_MUNMAP, 0, NO, 2, ND, ND);
    assert_int_equal(rp.ops[4].size, 0);                  /* whole */
    assert_op(&rp, 5, HAK_OP_MUNMAP, 1, NO, 0, 0, 0);     /* waits for the mmap */
    assert_int_equal(rp.ops[5].size, 4 * P);              /* whole pages */
    assert_int_equal(rp.ops[5].aux, 0);
    assert_op(&rp, 6, HAK_OP_MUNMAP, 0, NO, 0, ND, ND);
    assert_int_equal(rp.ops[6].size, 8 * P);
    assert_int_equal(rp.ops[6].aux, 8);
    assert_int_equal(rp.peak_live_bytes, 20 * P);
    assert_int_equal(rp.leaked_objects, 1);               /* obj1 */
    hak_replay_free(&rp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_thread_moves_and_reuse),
        cmocka_unit_test(cross_thread_dependencies),
        cmocka_unit_test(inversions_resolve_to_oldest),
        cmocka_unit_test(drops_and_realloc_rules),
        cmocka_unit_test(thread_start_waits_for_creator),
        cmocka_unit_test(many_objects),
        cmocka_unit_test(matches_reference_model),
        cmocka_unit_test(pre_existing_blocks),
        cmocka_unit_test(mmap_family_kept_with_option),
        cmocka_unit_test(mmap_partial_unmaps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
