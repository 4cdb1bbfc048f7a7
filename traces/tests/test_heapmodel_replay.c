/* Cross-check: the heap model behind `hak trace info/stats/validate`
 * (heapmodel.c) and the replay form (trace_replay.c, hak_replay_build) are
 * independent implementations of the same semantics (trace.h).  On a
 * deliberately messy trace (double frees, unknown frees, inversions,
 * failed calls, realloc in all its forms, several threads) they must agree
 * on every count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heapmodel.h"
#include "trace.h"

static uint64_t rng = 12345;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Writes n chaotic events over 4 threads into path. */
static void write_chaos(const char *path, int n, int clean)
{
    hak_trace_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.recorder = "test_heapmodel_replay";
    char err[256];
    hak_trace_writer *w = hak_tw_open(path, &meta, err, sizeof err);
    assert_non_null(w);
    enum { T = 4 };
    hak_event *per[T];
    size_t cnt[T] = {0};
    for (int t = 0; t < T; t++)
        per[t] = calloc((size_t)n + 2, sizeof **per);
    uint64_t live[64] = {0};      /* for the clean variant: a consistent stream */
    for (int i = 0; i < n; i++) {
        hak_event e;
        memset(&e, 0, sizeof e);
        e.seq = (uint64_t)i;
        e.ts_ns = (uint64_t)i * 10;
        e.tid = (uint32_t)(next() % T);
        uint64_t a = 16 * (1 + next() % 48);          /* a small address pool: reuse */
        int k = (int)(next() % 64);
        switch (next() % 8) {
        case 0: case 1:
            e.op = HAK_OP_MALLOC; e.size = next() % 5000; e.out_ptr = a;
            if (next() % 50 == 0) { e.out_ptr = 0; e.err = ENOMEM; }
            break;
        case 2:
            e.op = HAK_OP_CALLOC; e.nmemb = 1 + next() % 8; e.size = next() % 100; e.out_ptr = a;
            break;
        case 3:
            e.op = HAK_OP_REALLOC; e.in_ptr = next() % 4 ? 16 * (1 + next() % 48) : 0;
            e.size = next() % 6 ? next() % 3000 : 0;
            e.out_ptr = e.size || next() % 2 ? a : 0;
            break;
        case 4:
            e.op = HAK_OP_MEMALIGN; e.align = 64; e.size = next() % 300; e.out_ptr = a;
            break;
        default:
            e.op = HAK_OP_FREE; e.in_ptr = next() % 20 ? a : 0;
            break;
        }
        if (clean) {               /* rewrite into a stream without anomalies */
            uint64_t addr = 0x10000 + 0x100 * (uint64_t)k;
            memset(&e.size, 0, sizeof e - offsetof(hak_event, size));
            e.tid = (uint32_t)(next() % T);
            if (live[k]) { e.op = HAK_OP_FREE; e.in_ptr = addr; live[k] = 0; }
            else { e.op = HAK_OP_MALLOC; e.size = 1 + next() % 999; e.out_ptr = addr; live[k] = 1; }
        }
        per[e.tid][cnt[e.tid]++] = e;
    }
    for (int t = 0; t < T; t++) {
        if (cnt[t])
            assert_int_equal(hak_tw_events(w, (uint32_t)t, per[t], cnt[t]), 0);
        free(per[t]);
    }
    assert_int_equal(hak_tw_close(w), 0);
}

typedef struct counts { uint64_t unknown, dbl, inv, failed, leaked; } counts;

static counts compare(const char *path)
{
    char err[256];
    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    assert_non_null(r);
    hak_heap_model m;
    assert_int_equal(hak_hm_init(&m, NULL, NULL), 0);
    hak_event ev;
    uint64_t n = 0;
    while (hak_tr_next(r, &ev) == 1) {
        hak_hm_apply(&m, &ev);
        n++;
    }
    assert_int_equal(n, hak_tr_nevents(r));
    hak_tr_rewind(r);
    hak_replay rp;
    assert_int_equal(hak_replay_build(r, &rp, err, sizeof err), 0);
    assert_int_equal(m.unknown_frees, rp.unknown_frees);
    assert_int_equal(m.double_frees, rp.double_frees);
    assert_int_equal(m.inversions, rp.inversions);
    assert_int_equal(m.failed_allocs, rp.failed_allocs);
    assert_int_equal(m.live_objects, rp.leaked_objects);
    assert_int_equal(m.peak_live_bytes, rp.peak_live_bytes);
    assert_int_equal(m.allocs, rp.nobjects);
    counts c = {m.unknown_frees, m.double_frees, m.inversions, m.failed_allocs, m.live_objects};
    hak_replay_free(&rp);
    hak_hm_destroy(&m);
    hak_tr_close(r);
    return c;
}

static char dir[] = "/tmp/hak_hm_replay.XXXXXX";

static void messy_trace_agrees(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/chaos.hkt", dir);
    write_chaos(path, 20000, 0);
    counts c = compare(path);
    /* the agreement is not vacuous: every kind of anomaly occurs */
    assert_true(c.unknown > 10 && c.dbl > 10 && c.inv > 10 && c.failed > 10 && c.leaked > 0);
    unlink(path);
}

static void clean_trace_agrees_and_is_clean(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/clean.hkt", dir);
    write_chaos(path, 20000, 1);
    counts c = compare(path);
    assert_int_equal(c.unknown + c.dbl + c.inv + c.failed, 0);
    unlink(path);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(messy_trace_agrees),
        cmocka_unit_test(clean_trace_agrees_and_is_clean),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(dir);
    return rc;
}
