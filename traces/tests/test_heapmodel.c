/* Unit tests for the heap model (heapmodel.h): live bytes and peaks, realloc
 * rules, unknown and double frees, inversions, death callbacks, leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "heapmodel.h"

static uint64_t seq;

static hak_event ev(int op, uint32_t tid, uint64_t in, uint64_t out, uint64_t size)
{
    hak_event e;
    memset(&e, 0, sizeof e);
    e.seq = seq++;
    e.ts_ns = e.seq * 10;
    e.op = (uint8_t)op;
    e.tid = tid;
    e.in_ptr = in;
    e.out_ptr = out;
    e.size = size;
    return e;
}

typedef struct deaths { int n; uint64_t life_seq[16]; int cross; } deaths;

static void on_death(void *ctx, const hak_hm_obj *o, const hak_event *e)
{
    deaths *d = ctx;
    if (d->n < 16)
        d->life_seq[d->n] = e->seq - o->seq;
    d->n++;
    if (o->tid != e->tid)
        d->cross++;
}

#define APPLY(m, ...) ({ hak_event e_ = ev(__VA_ARGS__); hak_hm_apply(m, &e_); })

static void live_bytes_and_peak(void **state)
{
    (void)state;
    hak_heap_model m;
    deaths d = {0};
    assert_int_equal(hak_hm_init(&m, on_death, &d), 0);
    assert_int_equal(APPLY(&m, HAK_OP_MALLOC, 0, 0, 0x1000, 100), 0);
    hak_event c = ev(HAK_OP_CALLOC, 0, 0, 0x2000, 8);
    c.nmemb = 10;
    assert_int_equal(hak_hm_apply(&m, &c), 0);
    assert_int_equal(m.live_bytes, 180);
    assert_int_equal(APPLY(&m, HAK_OP_FREE, 1, 0x1000, 0, 0), 0);   /* cross-thread */
    assert_int_equal(m.live_bytes, 80);
    assert_int_equal(m.peak_live_bytes, 180);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.life_seq[0], 2);
    assert_int_equal(d.cross, 1);
    assert_int_equal(m.live_objects, 1);
    hak_hm_destroy(&m);
}

static void realloc_rules(void **state)
{
    (void)state;
    hak_heap_model m;
    assert_int_equal(hak_hm_init(&m, NULL, NULL), 0);
    APPLY(&m, HAK_OP_REALLOC, 0, 0, 0x1000, 10);                 /* realloc(NULL, 10) */
    assert_int_equal(m.live_bytes, 10);
    APPLY(&m, HAK_OP_REALLOC, 0, 0x1000, 0x1000, 50);            /* in place */
    assert_int_equal(m.live_bytes, 50);
    APPLY(&m, HAK_OP_REALLOC, 0, 0x1000, 0x3000, 70);            /* moves */
    assert_int_equal(m.live_bytes, 70);
    assert_int_equal(APPLY(&m, HAK_OP_REALLOC, 0, 0x3000, 0, 1 << 30), HAK_HM_FAILED);
    assert_int_equal(m.live_bytes, 70);                           /* failure keeps the block */
    assert_int_equal(APPLY(&m, HAK_OP_REALLOC, 0, 0x3000, 0, 0), 0);  /* realloc(p, 0) frees */
    assert_int_equal(m.live_bytes, 0);
    assert_int_equal(APPLY(&m, HAK_OP_FREE, 0, 0x1000, 0, 0), HAK_HM_DOUBLE_FREE);
    assert_int_equal(m.failed_allocs, 1);
    hak_hm_destroy(&m);
}

static void bad_frees(void **state)
{
    (void)state;
    hak_heap_model m;
    assert_int_equal(hak_hm_init(&m, NULL, NULL), 0);
    assert_int_equal(APPLY(&m, HAK_OP_FREE, 0, 0x5000, 0, 0), HAK_HM_UNKNOWN_FREE);
    assert_int_equal(APPLY(&m, HAK_OP_FREE, 0, 0, 0, 0), HAK_HM_FREE_NULL);
    APPLY(&m, HAK_OP_MALLOC, 0, 0, 0x1000, 1);
    assert_int_equal(APPLY(&m, HAK_OP_FREE, 0, 0x1000, 0, 0), 0);
    assert_int_equal(APPLY(&m, HAK_OP_FREE, 0, 0x1000, 0, 0), HAK_HM_DOUBLE_FREE);
    /* the address handed out again is live again */
    APPLY(&m, HAK_OP_MALLOC, 0, 0, 0x1000, 1);
    assert_int_equal(APPLY(&m, HAK_OP_FREE, 0, 0x1000, 0, 0), 0);
    assert_int_equal(APPLY(&m, HAK_OP_REALLOC, 0, 0x7000, 0x8000, 4), HAK_HM_UNKNOWN_FREE);
    assert_int_equal(m.live_bytes, 4);                            /* the result still counts */
    assert_int_equal(m.unknown_frees, 2);
    assert_int_equal(m.double_frees, 1);
    assert_int_equal(m.null_frees, 1);
    hak_hm_destroy(&m);
}

static void inversion_kills_oldest(void **state)
{
    (void)state;
    hak_heap_model m;
    deaths d = {0};
    assert_int_equal(hak_hm_init(&m, on_death, &d), 0);
    seq = 0;
    APPLY(&m, HAK_OP_MALLOC, 0, 0, 0x1000, 10);                  /* seq 0 */
    assert_int_equal(APPLY(&m, HAK_OP_MALLOC, 1, 0, 0x1000, 20), HAK_HM_INVERSION);
    assert_int_equal(m.live_bytes, 30);
    assert_int_equal(APPLY(&m, HAK_OP_FREE, 0, 0x1000, 0, 0), 0);  /* seq 2: kills seq 0 */
    assert_int_equal(d.life_seq[0], 2);
    assert_int_equal(m.live_bytes, 20);
    assert_int_equal(APPLY(&m, HAK_OP_FREE, 1, 0x1000, 0, 0), 0);
    assert_int_equal(m.live_bytes, 0);
    assert_int_equal(APPLY(&m, HAK_OP_FREE, 1, 0x1000, 0, 0), HAK_HM_DOUBLE_FREE);
    hak_hm_destroy(&m);
}

static void count_live(void *ctx, const hak_hm_obj *o)
{
    (void)o;
    (*(int *)ctx)++;
}

static void many_blocks_and_leaks(void **state)
{
    (void)state;
    hak_heap_model m;
    assert_int_equal(hak_hm_init(&m, NULL, NULL), 0);
    for (uint64_t i = 1; i <= 100000; i++)
        APPLY(&m, HAK_OP_MALLOC, 0, 0, i * 16, 16);
    for (uint64_t i = 1; i <= 100000; i += 2)
        assert_int_equal(APPLY(&m, HAK_OP_FREE, 0, i * 16, 0, 0), 0);
    int n = 0;
    hak_hm_foreach_live(&m, count_live, &n);
    assert_int_equal(n, 50000);
    assert_int_equal(m.live_objects, 50000);
    assert_int_equal(m.peak_live_bytes, 1600000);
    hak_hm_destroy(&m);
}

/* A forked child's trace: frees of never-seen pointers are inherited (not
 * unknown); a second free of such an address is still a double free; a
 * realloc of an inherited block creates the new one. */
static void inherited_heap(void **state)
{
    (void)state;
    hak_heap_model m;
    assert_int_equal(hak_hm_init(&m, NULL, NULL), 0);
    m.inherited_heap = 1;
    assert_int_equal(APPLY(&m, HAK_OP_FREE, 0, 0x5000, 0, 0), HAK_HM_INHERITED_FREE);
    assert_int_equal(APPLY(&m, HAK_OP_FREE, 0, 0x5000, 0, 0), HAK_HM_DOUBLE_FREE);
    assert_int_equal(APPLY(&m, HAK_OP_REALLOC, 0, 0x6000, 0x7000, 64), HAK_HM_INHERITED_FREE);
    assert_int_equal(m.live_bytes, 64);
    for (uint64_t i = 0; i < 5000; i++)       /* many: the address map grows */
        assert_int_equal(APPLY(&m, HAK_OP_FREE, 0, 0x100000 + 16 * i, 0, 0), HAK_HM_INHERITED_FREE);
    assert_int_equal(APPLY(&m, HAK_OP_FREE, 0, 0x100000, 0, 0), HAK_HM_DOUBLE_FREE);
    assert_int_equal(m.inherited_frees, 5002);
    assert_int_equal(m.unknown_frees, 0);
    assert_int_equal(m.double_frees, 2);
    hak_hm_destroy(&m);
    /* Not a fork child: the same free is an unknown free. */
    assert_int_equal(hak_hm_init(&m, NULL, NULL), 0);
    assert_int_equal(APPLY(&m, HAK_OP_FREE, 0, 0x5000, 0, 0), HAK_HM_UNKNOWN_FREE);
    assert_int_equal(m.inherited_frees, 0);
    hak_hm_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(live_bytes_and_peak),
        cmocka_unit_test(realloc_rules),
        cmocka_unit_test(bad_frees),
        cmocka_unit_test(inversion_kills_oldest),
        cmocka_unit_test(many_blocks_and_leaks),
        cmocka_unit_test(inherited_heap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
