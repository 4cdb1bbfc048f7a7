/* Unit tests for the per-site pass of the memory-profiler views
 * (siteview.h): the exact definitions of the peak and its per-site
 * snapshot, temporaries in global and per-thread order, short-lived
 * thresholds, leaks, inversions; a random stream checked against the heap
 * model; and the same events written with the trace writer and read back
 * through hak_sv_run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heapmodel.h"
#include "siteview.h"

static uint64_t seq;

static hak_event ev(int op, uint32_t tid, uint32_t site, uint64_t in, uint64_t out, uint64_t size)
{
    hak_event e;
    memset(&e, 0, sizeof e);
    e.seq = seq++;
    e.ts_ns = e.seq * 10;
    e.op = (uint8_t)op;
    e.tid = tid;
    e.site = site;
    e.in_ptr = in;
    e.out_ptr = out;
    e.size = size;
    return e;
}

static const hak_sv_site *site(const hak_siteview *v, uint32_t id)
{
    for (uint32_t i = 0; i < v->nsites; i++)
        if (v->sites[i].id == id)
            return &v->sites[i];
    fail_msg("site %u not found", id);
    return NULL;
}

/* The peak stream: sites 1 (A), 2 (B), 3 (C, first seen after the peak). */
static size_t peak_events(hak_event *e)
{
    size_t n = 0;
    seq = 0;
    e[n++] = ev(HAK_OP_MALLOC, 0, 1, 0, 0x100, 100);   /* 100 */
    e[n++] = ev(HAK_OP_MALLOC, 0, 2, 0, 0x200, 50);    /* 150 */
    e[n++] = ev(HAK_OP_FREE, 0, 0, 0x100, 0, 0);       /* 50 */
    e[n++] = ev(HAK_OP_MALLOC, 0, 2, 0, 0x300, 70);    /* 120 */
    e[n++] = ev(HAK_OP_MALLOC, 0, 1, 0, 0x400, 200);   /* 320: the peak, seq 4 */
    e[n++] = ev(HAK_OP_FREE, 0, 0, 0x200, 0, 0);       /* 270 */
    e[n++] = ev(HAK_OP_MALLOC, 0, 2, 0, 0x500, 10);    /* 280 */
    e[n++] = ev(HAK_OP_MALLOC, 0, 1, 0, 0x600, 40);    /* 320 again: a tie, not the peak */
    e[n++] = ev(HAK_OP_FREE, 0, 0, 0x400, 0, 0);       /* 120 */
    e[n++] = ev(HAK_OP_MALLOC, 0, 3, 0, 0x700, 5);     /* 125 */
    return n;
}

static void check_peak(const hak_siteview *v)
{
    assert_int_equal(v->peak_bytes, 320);
    assert_int_equal(v->peak_live, 3);
    assert_int_equal(v->peak_seq, 4);       /* the first event reaching the maximum */
    assert_int_equal(v->peak_ns, 40);
    const hak_sv_site *a = site(v, 1), *b = site(v, 2), *c = site(v, 3);
    assert_int_equal(a->peak_bytes, 200);
    assert_int_equal(a->peak_live, 1);
    assert_int_equal(b->peak_bytes, 120);
    assert_int_equal(b->peak_live, 2);
    assert_int_equal(c->peak_bytes, 0);
    assert_int_equal(c->peak_live, 0);
    /* leaks: what is live at the end */
    assert_int_equal(a->live_bytes, 40);
    assert_int_equal(b->live_bytes, 80);
    assert_int_equal(b->live, 2);
    assert_int_equal(b->leak_largest, 70);
    assert_int_equal(c->live_bytes, 5);
    assert_int_equal(a->max_bytes, 240);    /* the site's own maximum (200 + 40) */
    assert_int_equal(v->live_bytes, 125);
    assert_int_equal(v->allocs, 7);
    assert_int_equal(v->frees, 3);
}

static void peak_is_first_maximum_with_sites_then(void **state)
{
    (void)state;
    hak_event e[16];
    size_t n = peak_events(e);
    hak_siteview v;
    assert_int_equal(hak_sv_init(&v, NULL, NULL, 0), 0);
    assert_int_equal(hak_sv_apply(&v, e, n), 0);
    hak_sv_finish(&v);
    check_peak(&v);
    hak_sv_destroy(&v);
}

static void peak_after_realloc_and_rss_snapshot(void **state)
{
    (void)state;
    seq = 0;
    hak_event e[8];
    size_t n = 0;
    e[n++] = ev(HAK_OP_MALLOC, 0, 1, 0, 0x100, 100);          /* ts 0 */
    e[n++] = ev(HAK_OP_MALLOC, 0, 2, 0, 0x200, 30);           /* ts 10 */
    e[n++] = ev(HAK_OP_REALLOC, 0, 3, 0x100, 0x300, 150);     /* ts 20: 100 -> 150, peak 180 */
    e[n++] = ev(HAK_OP_FREE, 0, 0, 0x300, 0, 0);              /* ts 30 */
    e[n++] = ev(HAK_OP_REALLOC, 0, 3, 0x200, 0, 0);           /* ts 40: realloc(p, 0) frees */
    /* RSS samples: the largest (first of two equal) at ts 25, between the
     * realloc and the free; a smaller one later */
    hak_rss_sample rss[3] = {{5, 1000}, {25, 9000}, {35, 9000}};
    hak_siteview v;
    assert_int_equal(hak_sv_init(&v, NULL, rss, 3), 0);
    assert_int_equal(hak_sv_apply(&v, e, n), 0);
    hak_sv_finish(&v);
    assert_int_equal(v.peak_bytes, 180);
    assert_int_equal(v.peak_seq, 2);
    assert_int_equal(site(&v, 3)->peak_bytes, 150);     /* the realloc's block */
    assert_int_equal(site(&v, 1)->peak_bytes, 0);       /* freed by the realloc */
    assert_int_equal(site(&v, 2)->peak_bytes, 30);
    assert_int_equal(v.rss_peak, 9000);
    assert_int_equal(v.rss_ns, 25);
    assert_int_equal(v.rss_heap_bytes, 180);
    assert_int_equal(site(&v, 3)->rss_bytes, 150);
    assert_int_equal(site(&v, 2)->rss_bytes, 30);
    assert_int_equal(v.live_bytes, 0);
    assert_int_equal(v.frees, 3);                       /* the realloc's old block counts */
    hak_sv_destroy(&v);
}

/* Two threads; see each event's comment for the definitions. */
static size_t temp_events(hak_event *e)
{
    size_t n = 0;
    seq = 0;
    e[n++] = ev(HAK_OP_MALLOC, 0, 1, 0, 0x10, 8);     /* X */
    e[n++] = ev(HAK_OP_FREE, 0, 0, 0x10, 0, 0);       /* X: temporary in both scopes */
    e[n++] = ev(HAK_OP_MALLOC, 0, 2, 0, 0x20, 8);     /* Y */
    e[n++] = ev(HAK_OP_MALLOC, 1, 3, 0, 0x30, 8);     /* Z, on thread 1 */
    e[n++] = ev(HAK_OP_FREE, 0, 0, 0x20, 0, 0);       /* Y: global no (Z between), thread yes */
    e[n++] = ev(HAK_OP_FREE, 1, 0, 0x30, 0, 0);       /* Z: global no (Y freed between), thread yes */
    e[n++] = ev(HAK_OP_MALLOC, 0, 4, 0, 0x40, 8);     /* W */
    e[n++] = ev(HAK_OP_FREE, 1, 0, 0x40, 0, 0);       /* W: global yes, thread no (another thread) */
    e[n++] = ev(HAK_OP_MALLOC, 0, 5, 0, 0x50, 8);     /* V */
    e[n++] = ev(HAK_OP_REALLOC, 0, 6, 0x50, 0x60, 16);/* V dies: yes in both; V2 born */
    e[n++] = ev(HAK_OP_FREE, 0, 0, 0, 0, 0);          /* free(NULL): not an operation here */
    e[n++] = ev(HAK_OP_FREE, 0, 0, 0x60, 0, 0);       /* V2: yes in both */
    e[n++] = ev(HAK_OP_MALLOC, 0, 7, 0, 0x70, 8);     /* U: leaked */
    e[n++] = ev(HAK_OP_FREE, 0, 0, 0x999, 0, 0);      /* unknown: does not end U's chance */
    return n;
}

static void temporaries_global_and_per_thread(void **state)
{
    (void)state;
    hak_event e[16];
    size_t n = temp_events(e);
    hak_sv_opts o = {HAK_SV_TEMP_GLOBAL, 1, 0};
    hak_siteview v;
    assert_int_equal(hak_sv_init(&v, &o, NULL, 0), 0);
    assert_int_equal(hak_sv_apply(&v, e, n), 0);
    hak_sv_finish(&v);
    assert_int_equal(v.temporary, 4);
    assert_int_equal(site(&v, 1)->temporary, 1);
    assert_int_equal(site(&v, 2)->temporary, 0);
    assert_int_equal(site(&v, 3)->temporary, 0);
    assert_int_equal(site(&v, 4)->temporary, 1);
    assert_int_equal(site(&v, 5)->temporary, 1);
    assert_int_equal(site(&v, 6)->temporary, 1);
    /* lifetimes in events: X 1, Y 2, Z 2, W 1, V 1, V2 2 (free(NULL) between) */
    assert_int_equal(v.short_lived, 3);
    assert_int_equal(v.unknown_frees, 1);
    assert_int_equal(v.null_frees, 1);
    assert_int_equal(site(&v, 7)->live, 1);
    hak_sv_destroy(&v);

    o.temp_scope = HAK_SV_TEMP_THREAD;
    o.short_events = 2;
    assert_int_equal(hak_sv_init(&v, &o, NULL, 0), 0);
    assert_int_equal(hak_sv_apply(&v, e, n), 0);
    hak_sv_finish(&v);
    assert_int_equal(v.temporary, 5);
    assert_int_equal(site(&v, 2)->temporary, 1);
    assert_int_equal(site(&v, 3)->temporary, 1);
    assert_int_equal(site(&v, 4)->temporary, 0);
    assert_int_equal(v.short_lived, 6);
    hak_sv_destroy(&v);

    /* a time limit on top: ts = 10 * seq, so <= 10 ns is a lifetime of 1 */
    o.short_events = 100;
    o.short_ns = 10;
    assert_int_equal(hak_sv_init(&v, &o, NULL, 0), 0);
    assert_int_equal(hak_sv_apply(&v, e, n), 0);
    assert_int_equal(v.short_lived, 3);
    hak_sv_destroy(&v);
}

static void inversions_free_the_oldest(void **state)
{
    (void)state;
    seq = 0;
    hak_event e[5];
    e[0] = ev(HAK_OP_MALLOC, 0, 1, 0, 0x10, 1);
    e[1] = ev(HAK_OP_MALLOC, 0, 2, 0, 0x10, 2);        /* still live: a second block */
    e[2] = ev(HAK_OP_FREE, 0, 0, 0x10, 0, 0);          /* kills site 1's */
    e[3] = ev(HAK_OP_FREE, 0, 0, 0x10, 0, 0);          /* kills site 2's */
    e[4] = ev(HAK_OP_FREE, 0, 0, 0x10, 0, 0);          /* nothing live there */
    hak_siteview v;
    assert_int_equal(hak_sv_init(&v, NULL, NULL, 0), 0);
    assert_int_equal(hak_sv_apply(&v, e, 3), 0);
    assert_int_equal(v.inversions, 1);
    assert_int_equal(v.live_bytes, 2);
    assert_int_equal(site(&v, 1)->live, 0);
    assert_int_equal(hak_sv_apply(&v, e + 3, 2), 0);
    assert_int_equal(v.live_bytes, 0);
    assert_int_equal(v.unknown_frees, 1);
    hak_sv_destroy(&v);
}

/* A long random stream with many blocks (the table grows, frees shift
 * blocks back) against the heap model: same live bytes and peak after
 * every event, same leaks per site at the end. */
typedef struct leak_sum { uint64_t bytes[64], count[64]; } leak_sum;

static void add_leak(void *ctx, const hak_hm_obj *o)
{
    leak_sum *l = ctx;
    l->bytes[o->site] += o->size;
    l->count[o->site]++;
}

static void random_stream_matches_heap_model(void **state)
{
    (void)state;
    enum { SLOTS = 5000, N = 400000 };
    uint64_t *slot = calloc(SLOTS, sizeof *slot);
    assert_non_null(slot);
    hak_siteview v;
    hak_heap_model m;
    assert_int_equal(hak_sv_init(&v, NULL, NULL, 0), 0);
    assert_int_equal(hak_hm_init(&m, NULL, NULL), 0);
    uint64_t x = 12345, next_addr = 0x1000;
    seq = 0;
    for (int i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t k = (uint32_t)(x >> 33) % SLOTS;
        uint32_t s = 1 + (uint32_t)(x >> 20) % 63;
        hak_event e;
        if (slot[k]) {
            if ((x >> 10) % 4 == 0) {
                e = ev(HAK_OP_REALLOC, 0, s, slot[k], next_addr, (x >> 40) % 4096);
                slot[k] = next_addr;
                next_addr += 16 * (1 + (x >> 50) % 8);
            } else {
                e = ev(HAK_OP_FREE, 0, 0, slot[k], 0, 0);
                slot[k] = 0;
            }
        } else {
            /* addresses are reused once freed: in the low range, by slot */
            uint64_t a = (x >> 8) % 3 ? 0x100000000ull + (uint64_t)k * 64 : next_addr;
            if (a == next_addr)
                next_addr += 16 * (1 + (x >> 50) % 8);
            e = ev(HAK_OP_MALLOC, 0, s, 0, a, (x >> 40) % 2048);
            slot[k] = a;
        }
        assert_int_equal(hak_sv_apply(&v, &e, 1), 0);
        hak_hm_apply(&m, &e);
        if (v.live_bytes != m.live_bytes || v.peak_bytes != m.peak_live_bytes)
            fail_msg("event %d: live %llu/%llu peak %llu/%llu", i, (unsigned long long)v.live_bytes,
                     (unsigned long long)m.live_bytes, (unsigned long long)v.peak_bytes,
                     (unsigned long long)m.peak_live_bytes);
    }
    hak_sv_finish(&v);
    leak_sum l;
    memset(&l, 0, sizeof l);
    hak_hm_foreach_live(&m, add_leak, &l);
    for (uint32_t i = 0; i < v.nsites; i++) {
        assert_int_equal(v.sites[i].live_bytes, l.bytes[v.sites[i].id]);
        assert_int_equal(v.sites[i].live, l.count[v.sites[i].id]);
    }
    assert_int_equal(v.live, m.live_objects);
    assert_true(v.nblk > 1000);             /* the table did grow */
    assert_int_equal(v.unknown_frees, m.unknown_frees + m.double_frees);
    hak_hm_destroy(&m);
    hak_sv_destroy(&v);
    free(slot);
}

/* Writes events (any threads, in global order) with the trace writer,
 * one batch per thread, and runs the pass over the file read back. */
static void run_through_file(const hak_event *e, size_t n, const hak_sv_opts *o, hak_siteview *v)
{
    char path[] = "/tmp/test_siteview_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    hak_trace_meta meta;
    memset(&meta, 0, sizeof meta);
    char err[256];
    hak_trace_writer *w = hak_tw_open_fd(fd, &meta, err, sizeof err);
    assert_non_null(w);
    hak_event per[2][32];
    size_t np[2] = {0, 0};
    for (size_t i = 0; i < n; i++)
        per[e[i].tid][np[e[i].tid]++] = e[i];
    for (int t = 0; t < 2; t++)
        if (np[t])
            assert_int_equal(hak_tw_events(w, (uint32_t)t, per[t], np[t]), 0);
    assert_int_equal(hak_tw_close(w), 0);
    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(hak_sv_init(v, o, NULL, 0), 0);
    assert_int_equal(hak_sv_run(v, r, NULL, NULL, err, sizeof err), 0);
    hak_tr_close(r);
    unlink(path);
}

static void through_the_writer_and_reader(void **state)
{
    (void)state;
    hak_event e[16];
    size_t n = peak_events(e);
    hak_siteview v;
    run_through_file(e, n, NULL, &v);
    check_peak(&v);
    assert_int_equal(v.events, n);
    hak_sv_destroy(&v);

    n = temp_events(e);
    hak_sv_opts o = {HAK_SV_TEMP_GLOBAL, 1, 0};
    run_through_file(e, n, &o, &v);
    assert_int_equal(v.temporary, 4);           /* threads merged back in seq order */
    hak_sv_destroy(&v);
    o.temp_scope = HAK_SV_TEMP_THREAD;
    run_through_file(e, n, &o, &v);
    assert_int_equal(v.temporary, 5);
    hak_sv_destroy(&v);

    run_through_file(e, 0, NULL, &v);           /* no events at all */
    assert_int_equal(v.events, 0);
    assert_int_equal(v.have_peak, 0);
    assert_int_equal(v.nsites, 0);
    hak_sv_destroy(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(peak_is_first_maximum_with_sites_then),
        cmocka_unit_test(peak_after_realloc_and_rss_snapshot),
        cmocka_unit_test(temporaries_global_and_per_thread),
        cmocka_unit_test(inversions_free_the_oldest),
        cmocka_unit_test(random_stream_matches_heap_model),
        cmocka_unit_test(through_the_writer_and_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
