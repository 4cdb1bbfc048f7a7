/* Format version 5's token mode (FORMAT.md, "Token mode"): a chunk whose
 * events repeat a few (op byte, site, size) codes each as one byte naming
 * an entry of the chunk's table.
 * - a stream like a recorded factor run (few call sites, each with its own
 *   op and size; every op and flag the layouts have, NULL results, errnos,
 *   RAW events) round-trips in token mode, is coded in token mode when the
 *   encoder chooses, and is smaller so;
 * - a stream with more distinct codes than the table holds round-trips;
 * - the writer leaves token mode for a stream of random sizes after its
 *   first chunk, and goes back for a factor-like one;
 * - corrupt token chunks are refused with a reason (a token beyond the
 *   table, an op byte of 0, unknown directory bits, an op column of the
 *   wrong length), and a version 4 chunk has no second directory byte.
 * With HAK_WRITE_SEEDS=DIR it writes the fuzz seeds
 * traces/tests/fuzz-regressions/v5-token-*.bin into DIR instead. */
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

#include "codec_test.h"

enum { NEV = 60000 };

typedef struct gen {
    uint64_t rng, seq, ts, bump;
    uint64_t free_blk[64][16];     /* LIFO free lists by 16-byte class */
    unsigned nfree[64];
} gen;

static uint64_t rnd(gen *g)
{
    g->rng = g->rng * 6364136223846793005ull + 1442695040888963407ull;
    return g->rng >> 33;
}

static uint64_t g_alloc(gen *g, uint64_t size)
{
    unsigned c = (unsigned)((size + 15) >> 4) & 63;
    if (g->nfree[c])
        return g->free_blk[c][--g->nfree[c]];
    return g->bump += 16 * (c + 1);
}

static void g_free(gen *g, uint64_t p, uint64_t size)
{
    unsigned c = (unsigned)((size + 15) >> 4) & 63;
    if (g->nfree[c] < 16)
        g->free_blk[c][g->nfree[c]++] = p;
}

static hak_event *put(gen *g, hak_event *ev, unsigned op, uint32_t site)
{
    *ev = (hak_event){.seq = g->seq++, .ts_ns = g->ts += 40 + rnd(g) % 40, .op = (uint8_t)op,
                      .site = site};
    return ev;
}

/* A factor-like stream: rounds of a few call sites, each with its op and
 * size, sizes random only when `random_sizes`; now and then the rarer ops
 * and flags. */
static size_t stream(hak_event *ev, size_t n, int random_sizes, uint64_t seed)
{
    gen g = {.rng = seed, .seq = 1, .bump = 0x7f0000000000ull};
    static const uint64_t sz[6] = {16, 24, 16, 32, 48, 24};
    uint64_t live[6] = {0}, lsz[6] = {0};
    size_t k = 0;
    put(&g, &ev[k++], HAK_OP_THREAD_START, 0)->size = 4242;
    while (k + 8 <= n) {
        unsigned s = (unsigned)(rnd(&g) % 6), r = (unsigned)(rnd(&g) % 64);
        uint64_t size = random_sizes ? 16 + rnd(&g) % 2000 : sz[s];
        if (live[s] && r < 4) {                         /* realloc to the next size */
            hak_event *v = put(&g, &ev[k++], HAK_OP_REALLOC, 20 + s);
            v->in_ptr = live[s];
            v->size = size + 16;
            g_free(&g, live[s], lsz[s]);
            v->out_ptr = live[s] = g_alloc(&g, size + 16);
            lsz[s] = size + 16;
            continue;
        }
        if (live[s]) {
            put(&g, &ev[k++], HAK_OP_FREE, 10 + s)->in_ptr = live[s];
            g_free(&g, live[s], lsz[s]);
            live[s] = 0;
        }
        hak_event *v = put(&g, &ev[k++], r == 5 ? HAK_OP_CALLOC : r == 6 ? HAK_OP_MEMALIGN
                                                                          : HAK_OP_MALLOC, 1 + s);
        v->size = size;
        if (r == 5)
            v->nmemb = 3;
        if (r == 6)
            v->align = 64;
        if (r == 7) {                                   /* out of memory: NULL, errno */
            v->err = ENOMEM;
            continue;
        }
        if (r == 8)                                     /* NULL without errno */
            continue;
        uint64_t bytes = r == 5 ? 3 * size : size;
        v->out_ptr = live[s] = g_alloc(&g, bytes);
        lsz[s] = bytes;
        if (r == 9) {                                   /* RAW: a free that carries a size */
            hak_event *w = put(&g, &ev[k++], HAK_OP_FREE, 30);
            w->in_ptr = 0x7e0000001000ull + 4096 * (rnd(&g) % 64);
            w->size = 100;
        }
    }
    return k;
}

static void roundtrip(const hak_event *ev, size_t n, int tok, test_chunk *c)
{
    test_chunk_encode_t(ev, n, -1, -1, 0, tok, c);
    hak_event *out = calloc(n, sizeof *out);
    const char *why;
    size_t got = test_chunk_decode(c, n, ev[0].seq, out, &why);
    if (got != n)
        fail_msg("decoded %zu of %zu events: %s", got, n, why ? why : "?");
    assert_same(out, ev, n);
    for (size_t i = 0; i < n; i++)
        if (out[i].site != ev[i].site || out[i].err != ev[i].err || out[i].nmemb != ev[i].nmemb
            || out[i].align != ev[i].align)
            fail_msg("event %zu differs in site, err, nmemb or align", i);
    free(out);
}

static void factor_like(void **state)
{
    (void)state;
    hak_event *ev = calloc(NEV, sizeof *ev);
    size_t n = stream(ev, NEV, 0, 7);
    test_chunk on, off, any;
    roundtrip(ev, n, 1, &on);
    roundtrip(ev, n, 0, &off);
    roundtrip(ev, n, -1, &any);
    assert_int_equal(on.dir.tok, 1);
    assert_int_equal(off.dir.tok, 0);
    assert_int_equal(any.dir.tok, 1);                 /* a chunk with no history: tokens */
    printf("factor-like: %zu events, zstd bytes: tokens %zu, without %zu\n", n, on.zbytes,
           off.zbytes);
    assert_true(on.zbytes * 10 < off.zbytes * 9);
    /* the columns tokens replace are (nearly) empty */
    assert_true(on.dir.raw[TC_SIZE] * 10 < off.dir.raw[TC_SIZE]);
    assert_true(on.dir.raw[TC_SITE] * 10 < off.dir.raw[TC_SITE]);
    free(on.raw);
    free(off.raw);
    free(any.raw);
    free(ev);
}

static void table_full(void **state)
{
    (void)state;
    hak_event *ev = calloc(NEV, sizeof *ev);
    size_t n = stream(ev, NEV, 1, 11);                /* thousands of distinct sizes */
    test_chunk on;
    roundtrip(ev, n, 1, &on);
    assert_int_equal(on.dir.tok, 1);
    assert_true(on.dir.raw[TC_OP] > n + n / 4);        /* most events coded in full */
    free(on.raw);
    free(ev);
}

/* The second directory byte of each event chunk of the file at path. */
static size_t dir2_bytes(const char *path, uint8_t *out, size_t max)
{
    uint8_t *b;
    size_t len, ci = 0;
    uint8_t first[64];
    read_dir_bytes(path, first, 64, &b, &len);
    size_t off = TF_FILE_FIXED + tf_get32(b + 12) + 4;
    while (off + TF_CHUNK_HDR <= len && b[off] != TF_KIND_END) {
        if (b[off] == TF_KIND_EVENTS && ci < max)
            out[ci++] = b[off + TF_CHUNK_HDR + 1];
        off += TF_CHUNK_HDR + tf_get32(b + off + 24);
    }
    return ci;
}

static void writer_choice(void **state)
{
    (void)state;
    hak_event *ev = calloc(2 * NEV, sizeof *ev);
    char path[] = "/tmp/hak_tok_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    uint8_t d2[16];
    /* random sizes: the first chunk is a probe, the next ones stay out */
    size_t n = stream(ev, 2 * NEV, 1, 3);
    write_trace(path, ev, n, 20000);
    size_t nc = dir2_bytes(path, d2, 16);
    assert_true(nc >= 4);
    assert_int_equal(d2[0], TC_DIR2_TOKEN);
    for (size_t i = 1; i < nc; i++)
        assert_int_equal(d2[i], 0);
    assert_reads_back(path, ev, n);
    /* factor-like: every chunk in token mode */
    n = stream(ev, 2 * NEV, 0, 5);
    write_trace(path, ev, n, 20000);
    nc = dir2_bytes(path, d2, 16);
    assert_true(nc >= 4);
    for (size_t i = 0; i < nc; i++)
        assert_int_equal(d2[i], TC_DIR2_TOKEN);
    assert_reads_back(path, ev, n);
    /* version 4 chunks have no second byte (their second byte is OP's length) */
    write_trace_v(path, ev, n, 20000, 4);
    uint8_t *b;
    size_t len;
    read_dir_bytes(path, d2, 1, &b, &len);
    relabel_version(b, 4);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    fclose(f);
    assert_reads_back(path, ev, n);
    unlink(path);
    free(ev);
}

/* The decoder's verdict on chunk c after patch(c). */
static const char *decode_patched(test_chunk *c, size_t n, uint64_t seq0)
{
    hak_event *out = calloc(n, sizeof *out);
    const char *why;
    size_t got = test_chunk_decode(c, n, seq0, out, &why);
    free(out);
    return got == n ? NULL : why;
}

static void hostile(void **state)
{
    (void)state;
    hak_event *ev = calloc(NEV, sizeof *ev);
    size_t n = stream(ev, 4000, 0, 9);
    test_chunk c;
    test_chunk_encode_t(ev, n, -1, -1, 0, 1, &c);
    uint8_t *op = c.raw;                               /* OP is the first column */
    assert_int_equal(op[0], 0);                        /* the first event is in full */
    uint8_t save0 = op[0], save1 = op[1];
    op[0] = 1;                                         /* a token, the table still empty */
    const char *why = decode_patched(&c, n, ev[0].seq);
    assert_non_null(why);
    assert_string_equal(why, "token outside the chunk's table");
    op[0] = 0;
    op[1] = 0;                                         /* in full, op byte 0 */
    why = decode_patched(&c, n, ev[0].seq);
    assert_non_null(why);
    assert_string_equal(why, "invalid op");
    op[0] = save0;
    op[1] = save1;
    assert_null(decode_patched(&c, n, ev[0].seq));
    free(c.raw);

    /* the directory: unknown bits of the second byte, OP's length */
    uint8_t dir[TC_DIR_MAX];
    size_t raw[TC_NCOL] = {0}, stored[TC_NCOL] = {0};
    raw[TC_OP] = stored[TC_OP] = 150;
    tc_cols cols = {.shift = 4, .dir2 = 1, .tok = 1};
    memcpy(cols.len, raw, sizeof raw);
    size_t dl = tc_dir_put(dir, &cols, stored);
    tc_dir d;
    assert_null(tc_dir_parse(dir, dl + 150, 150, 100, 5, &d));
    assert_int_equal(d.tok, 1);
    assert_non_null(tc_dir_parse(dir, dl + 150, 150, 151, 5, &d));   /* < a byte per event */
    assert_non_null(tc_dir_parse(dir, dl + 150, 150, 74, 5, &d));    /* > two per event */
    dir[1] = 0x02;
    assert_non_null(tc_dir_parse(dir, dl + 150, 150, 100, 5, &d));
    dir[1] = 0;                                        /* without tokens: one byte per event */
    assert_non_null(tc_dir_parse(dir, dl + 150, 150, 100, 5, &d));
    assert_null(tc_dir_parse(dir, dl + 150, 150, 150, 5, &d));
    free(ev);
}

/* HAK_WRITE_SEEDS=DIR: the fuzz seeds (a factor-like trace, all chunks in
 * token mode; random sizes then factor-like: both kinds of chunk). */
static void write_seeds(const char *dir)
{
    hak_event *ev = calloc(2 * NEV, sizeof *ev);
    char path[512];
    size_t n = stream(ev, 3000, 0, 21);
    snprintf(path, sizeof path, "%s/v5-token-mode.bin", dir);
    write_trace(path, ev, n, 1000);
    n = stream(ev, 1500, 1, 22);
    size_t m = stream(ev + n, 1500, 0, 23);
    for (size_t i = n; i < n + m; i++)
        ev[i].seq += n;
    snprintf(path, sizeof path, "%s/v5-token-mixed.bin", dir);
    write_trace(path, ev, n + m, 500);
    free(ev);
}

int main(void)
{
    (void)test_chunk_encode;                           /* codec_test.h's, unused here */
    (void)assert_file_hash;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(factor_like),
        cmocka_unit_test(table_full),
        cmocka_unit_test(writer_choice),
        cmocka_unit_test(hostile),
    };
    if (getenv("HAK_WRITE_SEEDS")) {
        write_seeds(getenv("HAK_WRITE_SEEDS"));
        return 0;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
