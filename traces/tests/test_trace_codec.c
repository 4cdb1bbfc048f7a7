/* The column codec's models (allocation ring, per-class free stacks,
 * per-op sites, pointer shift) on streams built to hit their edges:
 * stack overflow, stale stack entries, references just inside and outside
 * the ring, odd pointers, calloc size overflow, RAW events in between,
 * chunk boundaries.  Every stream must round-trip exactly. */
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
#include "trace_codec.h"

static char path[256];

static uint64_t rng_s = 12345;
static uint64_t rng(void)
{
    rng_s ^= rng_s << 13; rng_s ^= rng_s >> 7; rng_s ^= rng_s << 17;
    return rng_s;
}

/* Writes ev in batches of random size, reads back, compares exactly. */
static void roundtrip(const hak_event *ev, size_t n, uint32_t ts_unit)
{
    snprintf(path, sizeof path, "/tmp/hak-test-codec-%d.hkt", (int)getpid());
    char err[256];
    hak_trace_meta m = {.ts_unit_ns = ts_unit};
    hak_trace_writer *w = hak_tw_open(path, &m, err, sizeof err);
    assert_non_null(w);
    for (size_t i = 0; i < n;) {
        size_t k = 1 + rng() % 3000;
        if (k > n - i)
            k = n - i;
        assert_int_equal(hak_tw_events(w, 0, ev + i, k), 0);
        i += k;
    }
    assert_int_equal(hak_tw_close(w), 0);
    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(hak_tr_nevents(r), n);
    hak_event e;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(hak_tr_next(r, &e), 1);
        if (memcmp(&e.seq, &ev[i].seq, offsetof(hak_event, op) + 1 - offsetof(hak_event, seq))
            || e.op != ev[i].op) {
            fail_msg("event %zu differs: op %u/%u size %llu/%llu in %llx/%llx out %llx/%llx "
                     "ts %llu/%llu site %u/%u", i, e.op, ev[i].op,
                     (unsigned long long)e.size, (unsigned long long)ev[i].size,
                     (unsigned long long)e.in_ptr, (unsigned long long)ev[i].in_ptr,
                     (unsigned long long)e.out_ptr, (unsigned long long)ev[i].out_ptr,
                     (unsigned long long)e.ts_ns, (unsigned long long)ev[i].ts_ns,
                     e.site, ev[i].site);
        }
    }
    assert_int_equal(hak_tr_next(r, &e), 0);
    hak_tr_close(r);
    unlink(path);
}

/* A LIFO allocator model with a twist per `mode`, driving W slots. */
static size_t gen(hak_event *ev, size_t n, int mode)
{
    enum { W = 512 };
    uint64_t ptr[W] = {0}, bump = 0x100000, seq = 0, ts = 0;
    uint64_t freed[64];
    size_t nfreed = 0, k = 0;
    while (k + 2 < n) {
        size_t s = rng() % W;
        ts += rng() % 100;
        if (ptr[s]) {
            ev[k++] = (hak_event){.seq = seq++, .ts_ns = ts, .op = HAK_OP_FREE,
                                  .in_ptr = ptr[s], .site = (uint32_t)(rng() % 4)};
            if (nfreed < 64)
                freed[nfreed++] = ptr[s];
            ptr[s] = 0;
        }
        uint64_t sz = mode == 2 ? (rng() % 5 == 0 ? 1ull << (10 + rng() % 40) : 16 + rng() % 64)
                                : 16 + rng() % 2048;
        uint64_t p;
        switch (mode) {
        case 0:   /* exact LIFO reuse of the last frees (stack hits, overflow) */
            p = nfreed && rng() % 4 ? freed[--nfreed] : (bump += 4096);
            break;
        case 1:   /* reuse from deep in the freed list: stale stack entries */
            if (nfreed && rng() % 2) {
                size_t j = rng() % nfreed;
                p = freed[j];
                freed[j] = freed[--nfreed];
            } else {
                p = (bump += 48);
            }
            break;
        default:  /* odd pointers: shift 0, huge sizes */
            p = (bump += 1 + rng() % 7);
            break;
        }
        int op = (int)(rng() % 8);
        hak_event e = {.seq = seq++, .ts_ns = ts, .site = (uint32_t)(rng() % 3)};
        if (op == 0) {
            e.op = HAK_OP_CALLOC;
            e.nmemb = rng() % 3 == 0 ? UINT64_MAX / 3 : 1 + rng() % 10;   /* overflowing product */
            e.size = sz;
            e.out_ptr = p;
        } else if (op == 1 && ptr[(s + 1) % W]) {
            size_t t = (s + 1) % W;
            int in_place = (int)(rng() % 2);
            e.op = HAK_OP_REALLOC;
            e.in_ptr = ptr[t];
            e.size = sz;
            e.out_ptr = in_place ? ptr[t] : p;
            ev[k++] = e;
            if (!in_place) {
                ptr[t] = 0;
                ptr[s] = p;
            }
            continue;
        } else if (op == 2) {
            e.op = HAK_OP_MALLOC;   /* RAW: a field its layout lacks */
            e.size = sz;
            e.out_ptr = p;
            e.align = 8;
        } else if (op == 3) {
            e.op = HAK_OP_ALIGNED_ALLOC;
            e.align = 64;
            e.size = sz;
            e.out_ptr = p;
        } else {
            e.op = HAK_OP_MALLOC;
            e.size = sz;
            e.out_ptr = rng() % 50 ? p : 0;       /* occasional failure */
            if (!e.out_ptr)
                e.err = 12;
        }
        ev[k++] = e;
        if (e.out_ptr) {
            ptr[s] = e.out_ptr;
        }
    }
    /* A thread_start whose odd in_ptr must not change the shift. */
    ev[k++] = (hak_event){.seq = seq++, .ts_ns = ts, .op = HAK_OP_THREAD_START, .size = 77, .in_ptr = 3};
    return k;
}

static void model_edges(void **state)
{
    (void)state;
    size_t n = 300000;
    hak_event *ev = calloc(n, sizeof *ev);
    for (int mode = 0; mode < 3; mode++) {
        size_t k = gen(ev, n, mode);
        roundtrip(ev, k, 1);
        roundtrip(ev, k, 1);       /* again with other batch boundaries */
    }
    free(ev);
}

/* Timestamps with coarse units: every representable ts comes back exactly,
 * including jumps backwards and far forward. */
static void coarse_units(void **state)
{
    (void)state;
    uint32_t units[] = {1000000, 7, 1024};
    size_t n = 5000;
    hak_event *ev = calloc(n, sizeof *ev);
    for (size_t u = 0; u < 3; u++) {
        uint64_t t = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t step = rng() % 4 == 0 ? (rng() % 5) * units[u] : 0;
            if (rng() % 100 == 0)
                step = (rng() % 1000000) * units[u];
            t = rng() % 200 == 0 ? t / 2 / units[u] * units[u] : t + step;   /* backwards */
            ev[i] = (hak_event){.seq = i, .ts_ns = t, .op = HAK_OP_THREAD_EXIT};
        }
        roundtrip(ev, n, units[u]);
    }
    free(ev);
}

/* References exactly at the ring's edge: a free of the block allocated
 * TC_RING allocations ago is a ring reference, one more is explicit; both
 * round-trip. */
static void ring_edge(void **state)
{
    (void)state;
    size_t n = 2 * TC_RING + 10;
    hak_event *ev = calloc(n, sizeof *ev);
    size_t k = 0;
    for (size_t i = 0; i < TC_RING + 1; i++)
        ev[k] = (hak_event){.seq = k, .op = HAK_OP_MALLOC, .size = 16, .out_ptr = 0x1000 + 16 * i}, k++;
    ev[k] = (hak_event){.seq = k, .op = HAK_OP_FREE, .in_ptr = 0x1000 + 16}, k++;   /* d = TC_RING */
    ev[k] = (hak_event){.seq = k, .op = HAK_OP_FREE, .in_ptr = 0x1000}, k++;        /* d = TC_RING + 1 */
    ev[k] = (hak_event){.seq = k, .op = HAK_OP_MALLOC, .size = 16, .out_ptr = 0x1000 + 16}, k++;
    ev[k] = (hak_event){.seq = k, .op = HAK_OP_MALLOC, .size = 16, .out_ptr = 0x1000}, k++;
    snprintf(path, sizeof path, "/tmp/hak-test-codec-%d.hkt", (int)getpid());
    char err[256];
    hak_trace_writer *w = hak_tw_open(path, NULL, err, sizeof err);
    assert_int_equal(hak_tw_events(w, 0, ev, k), 0);   /* one chunk */
    assert_int_equal(hak_tw_close(w), 0);
    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    hak_event e;
    for (size_t i = 0; i < k; i++) {
        assert_int_equal(hak_tr_next(r, &e), 1);
        assert_int_equal(e.in_ptr, ev[i].in_ptr);
        assert_int_equal(e.out_ptr, ev[i].out_ptr);
    }
    hak_tr_close(r);
    unlink(path);
    free(ev);
}

/* Time deltas that are one byte for a stretch, then of mixed length up to
 * 9 bytes, then short again (with one jump): the encoder picks its varint
 * writer for a chunk from the previous chunk, and a wrong guess must still
 * write every value exactly.  roundtrip's chunks of 1..3000 events make
 * the guess change many times. */
static void ts_writer_switch(void **state)
{
    (void)state;
    size_t n = 3 * 65536 + 100;
    hak_event *ev = calloc(n, sizeof *ev);
    uint64_t t = 0;
    for (size_t i = 0; i < n; i++) {
        int mixed = i >= 65536 && i < 2 * 65536;
        t += mixed ? (rng() % 4 ? rng() % 300 : rng() >> (rng() % 64)) : 20 + rng() % 32;
        ev[i] = (hak_event){.seq = i, .ts_ns = t, .op = HAK_OP_THREAD_EXIT};
    }
    ev[2 * 65536 + 5].ts_ns = ev[2 * 65536 + 4].ts_ns + (1ull << 40);   /* a jump in a short chunk */
    for (size_t i = 2 * 65536 + 6; i < n; i++)
        ev[i].ts_ns += 1ull << 40;
    roundtrip(ev, n, 1);
    free(ev);
}

/* Same fields seq..op (not the padding). */
static int same_event(const hak_event *a, const hak_event *b)
{
    return !memcmp(&a->seq, &b->seq, offsetof(hak_event, op) + 1 - offsetof(hak_event, seq));
}

/* The decoder's per-batch shortcuts (consecutive seqs; one-byte time
 * deltas) on a malloc/free stream whose runs are broken right before, at
 * and after batch edges (TC_BATCH) and inside batches, in full chunks;
 * read back with hak_tr_read (which decodes straight into the caller's
 * buffer) and with hak_tr_next (through the reader's own buffer). */
static void decoder_shortcuts(void **state)
{
    (void)state;
    size_t n = 70000;
    hak_event *ev = calloc(n, sizeof *ev), *got = calloc(4096, sizeof *got);
    size_t breaks[] = {TC_BATCH - 1, TC_BATCH, 2 * TC_BATCH + 1, 1000, 1001, 4 * TC_BATCH - 1,
                       65535, 65536 + TC_BATCH};
    uint64_t seq = 0, ts = 1000000, live[64] = {0};
    for (size_t i = 0; i < n; i++) {
        int brk = 0;
        for (size_t b = 0; b < sizeof breaks / sizeof *breaks; b++)
            brk |= breaks[b] == i;
        seq += brk && i % 2 ? 1 + rng() % 1000 : 1;                 /* a seq gap */
        ts += brk && !(i % 2) ? 64 + rng() % 100000 : 20 + rng() % 32;   /* a long delta */
        if (brk && i % 3 == 0)
            ts -= 1000;                                              /* backwards */
        size_t s = rng() % 64;
        if (live[s]) {
            ev[i] = (hak_event){.seq = seq, .ts_ns = ts, .op = HAK_OP_FREE, .in_ptr = live[s]};
            live[s] = 0;
        } else {
            live[s] = 0x10000 + 16 * i;
            ev[i] = (hak_event){.seq = seq, .ts_ns = ts, .op = HAK_OP_MALLOC,
                                .size = 16 + rng() % 2000, .out_ptr = live[s]};
        }
    }
    snprintf(path, sizeof path, "/tmp/hak-test-codec-%d.hkt", (int)getpid());
    char err[256];
    hak_trace_writer *w = hak_tw_open(path, NULL, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(hak_tw_events(w, 0, ev, n), 0);
    assert_int_equal(hak_tw_close(w), 0);
    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    assert_non_null(r);
    size_t k = 0;
    long m;
    while ((m = hak_tr_read(r, got, 4096)) > 0)
        for (long i = 0; i < m; i++, k++)
            if (k >= n || !same_event(&got[i], &ev[k]))
                fail_msg("hak_tr_read: event %zu differs", k);
    assert_int_equal(m, 0);
    assert_int_equal(k, n);
    hak_tr_rewind(r);
    for (k = 0; k < n; k++) {
        assert_int_equal(hak_tr_next(r, got), 1);
        if (!same_event(got, &ev[k]))
            fail_msg("hak_tr_next: event %zu differs", k);
    }
    assert_int_equal(hak_tr_next(r, got), 0);
    hak_tr_close(r);
    unlink(path);
    free(ev);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(model_edges),
        cmocka_unit_test(coarse_units),
        cmocka_unit_test(ring_edge),
        cmocka_unit_test(ts_writer_switch),
        cmocka_unit_test(decoder_shortcuts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
