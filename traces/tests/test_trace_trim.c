/* hak_tw_enc_trim, the source's done hook and one-pass sources (trace.h):
 * - an encoder trimmed after every chunk writes the same bytes, chunk for
 *   chunk, as one that never is, over a stream whose character changes
 *   (interpreter-like chunks with many pointers freed in allocation order,
 *   allocator-reuse chunks, a chunk with pointers that are not 16-byte
 *   aligned, a change of zstd level between chunks), and the file it
 *   writes reads back as the events given;
 * - done is called once per chunk, after the last read of the source and
 *   before nothing else reads it (no rewind or next after it);
 * - a source without rewind is read once, also when the encoder's guesses
 *   were wrong: a chunk whose pointers the guessed shift cannot express
 *   (8-byte aligned after 16-byte aligned ones) writes them in RAW form,
 *   and every chunk reads back as the events given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

static void assert_same(const hak_event *a, const hak_event *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].seq != b[i].seq || a[i].ts_ns != b[i].ts_ns || a[i].op != b[i].op
            || a[i].size != b[i].size || a[i].nmemb != b[i].nmemb || a[i].in_ptr != b[i].in_ptr
            || a[i].out_ptr != b[i].out_ptr || a[i].site != b[i].site)
            fail_msg("event %zu differs", i);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

#define NCHUNK 12
#define CHUNK_EV 20000

/* Chunk k's events: kind k % 4 (0, 1: interpreter-like, 2: reuse, 3:
 * pointers 8-byte aligned), seqs following the previous chunk's. */
static void make_chunk(hak_event *ev, size_t n, int k, uint64_t *seq)
{
    static uint64_t live[4096];
    size_t nl = 0;
    uint64_t next = 0x7f0000100000ull + (uint64_t)k * 0x10000000ull;
    int kind = k % 4;
    for (size_t i = 0; i < n; i++) {
        hak_event *v = &ev[i];
        memset(v, 0, sizeof *v);
        v->seq = ++*seq;
        v->ts_ns = *seq * 700;
        int do_free = nl && (nl == 4096 || rnd() % 2);
        if (do_free) {
            /* interpreter: oldest first mostly; reuse: newest first */
            size_t at = kind == 2 ? nl - 1 : (rnd() % 8 ? 0 : rnd() % nl);
            v->op = HAK_OP_FREE;
            v->in_ptr = live[at];
            memmove(&live[at], &live[at + 1], (nl - at - 1) * sizeof *live);
            nl--;
            continue;
        }
        v->op = rnd() % 9 ? HAK_OP_MALLOC : HAK_OP_CALLOC;
        v->size = kind == 2 ? 32u << (rnd() % 3) : 16 + rnd() % 5000;
        if (v->op == HAK_OP_CALLOC)
            v->nmemb = 1;
        v->site = 1 + (uint32_t)(rnd() % (kind == 2 ? 6 : 400));
        if (kind == 2 && nl < 4096 && rnd() % 4 == 0 && i > 0 && ev[i - 1].op == HAK_OP_FREE)
            v->out_ptr = ev[i - 1].in_ptr;    /* LIFO reuse */
        else {
            v->out_ptr = next;
            next += kind == 3 ? 24 : 16 * (1 + rnd() % 200);
        }
        live[nl++] = v->out_ptr;
    }
}

typedef struct counted {
    hak_tw_array a;
    hak_tw_source inner;
    int dones, after_done;
} counted;

static const hak_event *counted_next(void *ctx, size_t *n)
{
    counted *c = ctx;
    c->after_done += c->dones;
    return c->inner.next(c->inner.ctx, n);
}

static void counted_rewind(void *ctx)
{
    counted *c = ctx;
    c->after_done += c->dones;
    c->inner.rewind(c->inner.ctx);
}

static void counted_done(void *ctx)
{
    ((counted *)ctx)->dones++;
}

/* Reads the trace at path back: its events are exactly the NCHUNK chunks of
 * ev, then the end.  Removes the file. */
static void read_back_all(const char *path, hak_event ev[NCHUNK][CHUNK_EV])
{
    char err[256];
    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    assert_non_null(r);
    static hak_event back[CHUNK_EV];
    for (int k = 0; k < NCHUNK; k++) {
        size_t got = 0;
        while (got < CHUNK_EV) {
            long m = hak_tr_read(r, back + got, CHUNK_EV - got);
            assert_true(m > 0);
            got += (size_t)m;
        }
        assert_same(ev[k], back, CHUNK_EV);
    }
    assert_int_equal(hak_tr_read(r, back, 1), 0);
    hak_tr_close(r);
    unlink(path);
}

static void trim_same_bytes(void **state)
{
    (void)state;
    char path[] = "/tmp/hak_trim_XXXXXX", err[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    hak_trace_writer *w = hak_tw_open_fd(fd, NULL, err, sizeof err);
    assert_non_null(w);
    hak_tw_enc *a = hak_tw_enc_new(w), *b = hak_tw_enc_new(w);
    assert_non_null(a);
    assert_non_null(b);
    static hak_event ev[NCHUNK][CHUNK_EV];
    uint64_t seq = 0;
    for (int k = 0; k < NCHUNK; k++) {
        make_chunk(ev[k], CHUNK_EV, k, &seq);
        if (k == 6) {              /* the writer's level ladder moves */
            assert_int_equal(hak_tw_enc_set_level(a, 9), 0);
            assert_int_equal(hak_tw_enc_set_level(b, 9), 0);
        }
        hak_tw_array aa;
        hak_tw_source sa = hak_tw_array_source(&aa, ev[k], CHUNK_EV);
        assert_int_equal(hak_tw_enc_events(a, 0, &sa), 0);
        counted c = {.dones = 0};
        c.inner = hak_tw_array_source(&c.a, ev[k], CHUNK_EV);
        hak_tw_source sb = {counted_next, counted_rewind, &c, counted_done};
        assert_int_equal(hak_tw_enc_events(b, 0, &sb), 0);
        assert_int_equal(c.dones, 1);
        assert_int_equal(c.after_done, 0);
        size_t la, lb;
        uint32_t na, nb;
        const void *ca = hak_tw_enc_chunk(a, &la, &na), *cb = hak_tw_enc_chunk(b, &lb, &nb);
        assert_non_null(ca);
        assert_non_null(cb);
        assert_int_equal(la, lb);
        assert_int_equal(na, nb);
        if (memcmp(ca, cb, la))
            fail_msg("chunk %d: a trimmed encoder wrote other bytes", k);
        assert_int_equal(hak_tw_enc_put(w, b), 0);
        hak_tw_enc_trim(b);
        if (k == 3)
            hak_tw_enc_trim(b);    /* twice in a row: nothing left to free */
    }
    hak_tw_enc_free(a);
    hak_tw_enc_free(b);
    assert_int_equal(hak_tw_close(w), 0);
    read_back_all(path, ev);
}

static void one_pass_source(void **state)
{
    (void)state;
    char path[] = "/tmp/hak_onepass_XXXXXX", err[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    hak_trace_writer *w = hak_tw_open_fd(fd, NULL, err, sizeof err);
    assert_non_null(w);
    hak_tw_enc *b = hak_tw_enc_new(w);
    assert_non_null(b);
    static hak_event ev[NCHUNK][CHUNK_EV];
    uint64_t seq = 0;
    for (int k = 0; k < NCHUNK; k++) {
        make_chunk(ev[k], CHUNK_EV, k, &seq);
        counted c = {.dones = 0};
        c.inner = hak_tw_array_source(&c.a, ev[k], CHUNK_EV);
        hak_tw_source sb = {counted_next, NULL, &c, counted_done};
        assert_int_equal(hak_tw_enc_events(b, 0, &sb), 0);
        assert_int_equal(c.dones, 1);
        assert_int_equal(c.after_done, 0);
        assert_int_equal(hak_tw_enc_put(w, b), 0);
    }
    hak_tw_enc_free(b);
    assert_int_equal(hak_tw_close(w), 0);
    read_back_all(path, ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trim_same_bytes),
        cmocka_unit_test(one_pass_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
