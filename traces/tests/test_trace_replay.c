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
    if (hak_replay_build(r, rp, err, sizeof err))
        fail_msg("hak_replay_build: %s", err);
    hak_tr_close(r);
    unlink(path);
}

static void assert_op(const hak_rop *o, int op, uint32_t tid, uint32_t obj, uint32_t in,
                      uint32_t dep_tid, uint32_t dep_idx)
{
    assert_int_equal(o->op, op);
    assert_int_equal(o->tid, tid);
    assert_int_equal(o->obj, obj);
    assert_int_equal(o->in_obj, in);
    assert_int_equal(o->dep_tid, dep_tid);
    assert_int_equal(o->dep_idx, dep_idx);
}
#define ND HAK_NO_DEP

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
    assert_op(&rp.ops[0], HAK_OP_MALLOC, 0, 0, NO, ND, ND);
    assert_op(&rp.ops[1], HAK_OP_MALLOC, 0, 1, NO, ND, ND);
    assert_op(&rp.ops[2], HAK_OP_FREE, 0, NO, 0, ND, ND);
    assert_op(&rp.ops[3], HAK_OP_REALLOC, 0, 2, 1, ND, ND);
    assert_int_equal(rp.ops[3].size, 300);
    assert_op(&rp.ops[4], HAK_OP_FREE, 0, NO, 2, ND, ND);
    assert_op(&rp.ops[5], HAK_OP_MALLOC, 0, 3, NO, ND, ND);
    assert_op(&rp.ops[6], HAK_OP_REALLOC, 0, 4, 3, ND, ND);
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
    assert_op(&rp.ops[2], HAK_OP_FREE, 1, NO, 0, 0, 0);
    assert_op(&rp.ops[3], HAK_OP_REALLOC, 1, 2, 1, 0, 1);
    assert_op(&rp.ops[5], HAK_OP_FREE, 0, NO, 2, 1, 1);
    assert_op(&rp.ops[6], HAK_OP_FREE, 2, NO, 3, ND, ND);
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
    assert_op(&rp.ops[3], HAK_OP_FREE, 1, NO, 0, 0, 0);
    assert_op(&rp.ops[4], HAK_OP_FREE, 0, NO, 1, 1, 0);
    assert_op(&rp.ops[5], HAK_OP_FREE, 2, NO, 2, ND, ND);
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
    assert_op(&rp.ops[0], HAK_OP_MALLOC, 0, 0, NO, ND, ND);
    assert_int_equal(rp.ops[0].size, 40);
    assert_op(&rp.ops[1], HAK_OP_FREE, 0, NO, 0, ND, ND);
    assert_op(&rp.ops[2], HAK_OP_MALLOC, 0, 1, NO, ND, ND);
    assert_int_equal(rp.ops[2].size, 8);
    assert_op(&rp.ops[3], HAK_OP_CALLOC, 0, 2, NO, ND, ND);
    assert_int_equal(rp.ops[3].aux, 10);
    assert_int_equal(rp.ops[3].size, 12);
    assert_op(&rp.ops[4], HAK_OP_POSIX_MEMALIGN, 0, 3, NO, ND, ND);
    assert_int_equal(rp.ops[4].aux, 64);
    assert_op(&rp.ops[5], HAK_OP_REALLOCARRAY, 0, 4, 2, ND, ND);
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
    assert_op(&rp.ops[0], HAK_OP_THREAD_START, 0, NO, NO, ND, ND);
    assert_op(&rp.ops[2], HAK_OP_THREAD_START, 1, NO, NO, 0, 1);
    assert_op(&rp.ops[3], HAK_OP_FREE, 1, NO, 0, 0, 1);
    assert_op(&rp.ops[4], HAK_OP_THREAD_EXIT, 1, NO, NO, ND, ND);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_thread_moves_and_reuse),
        cmocka_unit_test(cross_thread_dependencies),
        cmocka_unit_test(inversions_resolve_to_oldest),
        cmocka_unit_test(drops_and_realloc_rules),
        cmocka_unit_test(thread_start_waits_for_creator),
        cmocka_unit_test(many_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
