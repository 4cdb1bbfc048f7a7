/* Model-coded INREF and OUT columns (format version 6, trace_colmodel.h):
 * - the coder gives back exactly the column's bytes, in token mode and
 *   not, for values of every length (escapes up to 2^64 - 1);
 * - a cut, lengthened or damaged stream is an error, never a crash or a
 *   column of another length;
 * - the writer codes a factor-like stream's columns so, the file reads
 *   back as the same events, and a version 5 reader refuses such a chunk;
 * - the directory flags exist from version 6 only, and only on columns
 *   with values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <unistd.h>

#include "codec_test.h"
#include "trace_colmodel.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A value as the columns hold them: mostly small, sometimes of any length. */
static uint64_t some_value(void)
{
    uint64_t r = rnd() % 100;
    if (r < 60)
        return rnd() % 4;
    if (r < 85)
        return rnd() % 70;
    if (r < 97)
        return rnd() % 5000;
    return r == 99 ? UINT64_MAX - rnd() % 3 : rnd() >> (rnd() % 64);
}

/* A chunk's OP, INREF and OUT columns for n events: ops with and without
 * values (free, malloc, realloc, NULL results, RAW, thread start), in
 * token mode (tokens and events in full) or not. */
typedef struct cols3 {
    uint8_t op[2 * 4096], in[10 * 4096], out[10 * 4096];
    tc_cols c;
} cols3;

static void make_cols(cols3 *s, size_t n, int tok)
{
    static const uint8_t ops[] = {HAK_OP_MALLOC, HAK_OP_FREE, HAK_OP_REALLOC,
                                  HAK_OP_CALLOC | TC_F_NULL, HAK_OP_FREE | TC_F_RAW,
                                  HAK_OP_THREAD_START, HAK_OP_MALLOC | TC_F_SITE,
                                  HAK_OP_MALLOC | TC_F_ERR, HAK_OP_MUNMAP};
    uint8_t *o = s->op, *in = s->in, *out = s->out, tf[TC_NTOKEN];
    unsigned ntok = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned f;
        if (tok && ntok && rnd() % 4) {
            unsigned t = 1 + (unsigned)(rnd() % ntok);
            *o++ = (uint8_t)t;
            f = tf[t - 1];
        } else {
            f = ops[rnd() % sizeof ops];
            if (tok) {
                *o++ = 0;
                if (ntok < TC_NTOKEN && !(f & (TC_F_ERR | TC_F_RAW)))
                    tf[ntok++] = (uint8_t)(f & ~TC_F_SITE);
            }
            *o++ = (uint8_t)f;
        }
        unsigned op = f & 15;
        int raw = f & TC_F_RAW;
        if (!raw && (op == HAK_OP_FREE || op == HAK_OP_REALLOC || op == HAK_OP_MUNMAP))
            in = tc_put(in, some_value());
        if (!raw && !(f & TC_F_NULL) && (op == HAK_OP_MALLOC || op == HAK_OP_REALLOC || op == HAK_OP_CALLOC))
            out = tc_put(out, some_value());
    }
    memset(&s->c, 0, sizeof s->c);
    s->c.p[TC_OP] = s->op;
    s->c.len[TC_OP] = (size_t)(o - s->op);
    s->c.p[TC_INREF] = s->in;
    s->c.len[TC_INREF] = (size_t)(in - s->in);
    s->c.p[TC_OUT] = s->out;
    s->c.len[TC_OUT] = (size_t)(out - s->out);
    s->c.tok = (unsigned)tok;
    s->c.n = n;
}

static void roundtrip_exact(void **state)
{
    (void)state;
    static cols3 s;
    static tc_mc m;
    static uint8_t z[16 * 4096], back[10 * 4096 + 16];
    for (int round = 0; round < 40; round++) {
        int tok = round % 2;
        size_t n = 1 + (size_t)(rnd() % 4096);
        make_cols(&s, n, tok);
        for (unsigned col = TC_INREF; col <= TC_OUT; col += TC_OUT - TC_INREF) {
            if (!s.c.len[col])
                continue;
            size_t zl = tc_mc_encode(&m, col, &s.c, z, sizeof z, 0);
            assert_true(zl > 0);
            memset(back, 0xa5, sizeof back);
            const char *why = tc_mc_decode(&m, col, s.op, s.c.len[TC_OP], tok, (uint32_t)n, z,
                                           zl, back, s.c.len[col]);
            if (why)
                fail_msg("round %d col %u: %s", round, col, why);
            assert_memory_equal(back, s.c.p[col], s.c.len[col]);
            assert_int_equal(back[s.c.len[col]], 0xa5);    /* nothing written past it */
            /* too little room: the encoder says so rather than cut it */
            assert_int_equal(tc_mc_encode(&m, col, &s.c, z, zl - 1, 0), 0);
        }
    }
}

static void damage_is_an_error(void **state)
{
    (void)state;
    static cols3 s;
    static tc_mc m;
    static uint8_t z[16 * 4096 + 1], back[10 * 4096];
    make_cols(&s, 3000, 1);
    size_t zl = tc_mc_encode(&m, TC_OUT, &s.c, z, sizeof z - 1, 0);
    assert_true(zl > 8);
    size_t raw = s.c.len[TC_OUT];
    /* cut short, one byte more, a wrong length, a wrong event count */
    assert_non_null(tc_mc_decode(&m, TC_OUT, s.op, s.c.len[TC_OP], 1, 3000, z, zl - 1, back, raw));
    z[zl] = 0;
    assert_non_null(tc_mc_decode(&m, TC_OUT, s.op, s.c.len[TC_OP], 1, 3000, z, zl + 1, back, raw));
    assert_non_null(tc_mc_decode(&m, TC_OUT, s.op, s.c.len[TC_OP], 1, 3000, z, zl, back, raw - 1));
    assert_non_null(tc_mc_decode(&m, TC_OUT, s.op, s.c.len[TC_OP], 1, 2999, z, zl, back, raw));
    assert_null(tc_mc_decode(&m, TC_OUT, s.op, s.c.len[TC_OP], 1, 3000, z, zl, back, raw));
    /* any damaged byte: an error or a column of exactly its length */
    for (size_t i = 0; i < zl; i += 1 + zl / 200) {
        uint8_t keep = z[i];
        z[i] ^= (uint8_t)(1 + rnd() % 255);
        const char *why = tc_mc_decode(&m, TC_OUT, s.op, s.c.len[TC_OP], 1, 3000, z, zl, back, raw);
        (void)why;
        z[i] = keep;
    }
    /* an OP column naming a token its table does not have */
    uint8_t bad_op[2] = {0, HAK_OP_MALLOC};
    uint8_t one = 0;
    assert_non_null(tc_mc_decode(&m, TC_OUT, (const uint8_t[]){7}, 1, 1, 1, z, zl, &one, 1));
    assert_non_null(tc_mc_decode(&m, TC_OUT, bad_op, 1, 1, 1, z, zl, &one, 1)); /* op byte missing */
}

/* factor-like events: per round a result kept in a ring of 64 (the
 * oldest freed), a random number of nested scratch blocks freed in
 * reverse, from an allocator with LIFO free lists per size, which is
 * where the model beats zstd. */
typedef struct lifo {
    uint64_t top, fl[4][4096];
    unsigned n[4];
} lifo;

static uint64_t lifo_get(lifo *l, unsigned c)
{
    return l->n[c] ? l->fl[c][--l->n[c]] : (l->top += 64);
}

static void lifo_put(lifo *l, unsigned c, uint64_t p)
{
    if (l->n[c] < 4096)
        l->fl[c][l->n[c]++] = p;
}

static size_t stream(hak_event *ev, size_t n)
{
    static lifo l = {.top = 0x10000000};
    uint64_t seq = 1, s[8], ring[64] = {0};
    unsigned rc[64] = {0}, sc[8];
    size_t k = 0;
    unsigned r = 0;
#define EV(...) (ev[k] = (hak_event){.seq = seq++, .ts_ns = 5000 + k / 9, __VA_ARGS__}, k++)
    while (k + 40 <= n) {
        unsigned m = 1 + (unsigned)(rnd() % 6), c = (unsigned)(rnd() % 2);
        if (ring[r % 64]) {
            EV(.op = HAK_OP_FREE, .site = 12, .in_ptr = ring[r % 64]);
            lifo_put(&l, rc[r % 64], ring[r % 64]);
        }
        ring[r % 64] = lifo_get(&l, rc[r % 64] = 2 + c);
        EV(.op = HAK_OP_MALLOC, .size = 40 + 16 * c, .site = 11, .out_ptr = ring[r % 64]);
        for (unsigned j = 0; j < m; j++) {
            sc[j] = j % 2;
            s[j] = lifo_get(&l, sc[j]);
            EV(.op = HAK_OP_MALLOC, .size = j % 2 ? 24 : 16, .site = 1 + j % 3, .out_ptr = s[j]);
        }
        for (unsigned j = m; j-- > 0;) {
            EV(.op = HAK_OP_FREE, .site = 9, .in_ptr = s[j]);
            lifo_put(&l, sc[j], s[j]);
        }
        r++;
    }
#undef EV
    return k;
}

static void writer_codes_and_reads_back(void **state)
{
    (void)state;
    size_t n = 4 * TF_CHUNK_EVENTS;
    hak_event *ev = calloc(n, sizeof *ev);
    n = stream(ev, n);
    char path[] = "/tmp/hak-colmodel-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_trace(path, ev, n, TF_CHUNK_EVENTS);
    assert_reads_back(path, ev, n);
    /* the chunks' second directory byte: model-coded columns */
    uint8_t *file;
    size_t len, off, mc = 0, chunks = 0;
    uint8_t d[8];
    read_dir_bytes(path, d, 8, &file, &len);
    off = TF_FILE_FIXED + tf_get32(file + 12) + 4;
    while (off + TF_CHUNK_HDR <= len && file[off] != TF_KIND_END) {
        if (file[off] == TF_KIND_EVENTS) {
            tc_dir dir;
            assert_null(tc_dir_parse(file + off + TF_CHUNK_HDR, tf_get32(file + off + 24),
                                     tf_get32(file + off + 20), tf_get32(file + off + 16),
                                     HAK_TRACE_VERSION, &dir));
            mc += dir.mc == (TC_DIR2_MINREF | TC_DIR2_MOUT);
            chunks++;
            /* a version 5 reader does not know the flags */
            if (dir.mc)
                assert_non_null(tc_dir_parse(file + off + TF_CHUNK_HDR, tf_get32(file + off + 24),
                                         tf_get32(file + off + 20), tf_get32(file + off + 16),
                                         5, &dir));
        }
        off += TF_CHUNK_HDR + tf_get32(file + off + 24);
    }
    assert_true(chunks >= 4);
    assert_int_equal(mc, chunks);
    unlink(path);
    free(ev);
}

static void dir_flags(void **state)
{
    (void)state;
    uint8_t dir[TC_DIR_MAX];
    size_t stored[TC_NCOL] = {0};
    tc_cols c = {.shift = 4, .dir2 = 1, .mc = TC_DIR2_MOUT};
    c.len[TC_OP] = 10;
    c.len[TC_OUT] = 5;
    stored[TC_OP] = 10;
    stored[TC_OUT] = 3;
    size_t dl = tc_dir_put(dir, &c, stored);
    tc_dir d;
    assert_null(tc_dir_parse(dir, dl + 13, 15, 10, 6, &d));
    assert_int_equal(d.mc, TC_DIR2_MOUT);
    assert_non_null(tc_dir_parse(dir, dl + 13, 15, 10, 5, &d));
    /* a model-coded column without values */
    c.mc = TC_DIR2_MINREF;
    dl = tc_dir_put(dir, &c, stored);
    assert_non_null(tc_dir_parse(dir, dl + 13, 15, 10, 6, &d));
    /* a bit no version has */
    c.mc = 0x08;
    dl = tc_dir_put(dir, &c, stored);
    assert_non_null(tc_dir_parse(dir, dl + 13, 15, 10, 6, &d));
}

int main(void)
{
    (void)test_chunk_encode;                           /* codec_test.h's, unused here */
    (void)assert_file_hash;
    (void)relabel_version;
    (void)test_chunk_decode;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip_exact),
        cmocka_unit_test(damage_is_an_error),
        cmocka_unit_test(writer_codes_and_reads_back),
        cmocka_unit_test(dir_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
