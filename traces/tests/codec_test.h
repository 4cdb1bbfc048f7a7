/* codec_test.h - helpers shared by the event-codec tests (test_trace_refmode.c,
 * test_trace_coff.c): one chunk straight through the encoder and decoder,
 * whole files through the writer, the directory byte of each event chunk,
 * a hash of every event of a file, and relabelling a file's version.
 * Include after cmocka.h; every function is static (each test is one
 * translation unit). */
#ifndef HAK_CODEC_TEST_H
#define HAK_CODEC_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "trace.h"
#include "trace_codec.h"
#include "trace_fmt.h"

/* The fields the codec tests compare: fail at the first event that differs. */
static void assert_same(const hak_event *a, const hak_event *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].seq != b[i].seq || a[i].ts_ns != b[i].ts_ns || a[i].op != b[i].op
            || a[i].size != b[i].size || a[i].in_ptr != b[i].in_ptr
            || a[i].out_ptr != b[i].out_ptr)
            fail_msg("event %zu differs: op %u/%u size %llu/%llu in %llx/%llx out %llx/%llx", i,
                     a[i].op, b[i].op, (unsigned long long)a[i].size,
                     (unsigned long long)b[i].size, (unsigned long long)a[i].in_ptr,
                     (unsigned long long)b[i].in_ptr, (unsigned long long)a[i].out_ptr,
                     (unsigned long long)b[i].out_ptr);
}

/* One chunk through the codec directly: the columns laid out as a reader
 * lays them out (plus TC_PAD zero bytes). */
typedef struct test_chunk {
    uint8_t *raw;                  /* free() it */
    tc_dir dir;
    size_t zbytes;                 /* the columns zstd-compressed (level 3) */
    size_t zref;                   /* ...of them INREF and PTR */
} test_chunk;

/* Encodes ev[0, n) as one chunk, reference mode, class offset and token
 * mode forced (-1: chosen by the encoder), as format version `version`'s
 * (0: the newest). */
static void test_chunk_encode_t(const hak_event *ev, size_t n, int mode, int coff,
                                uint32_t version, int tok, test_chunk *c)
{
    tc_enc *e = tc_enc_new();
    assert_non_null(e);
    if (version)
        tc_enc_set_version(e, version);
    tc_enc_force_mode(e, mode);
    tc_enc_force_coff(e, coff);
    tc_enc_force_tokens(e, tok);
    tc_cols cols;
    size_t bad, total = 0;
    assert_int_equal(tc_encode(e, ev, n, 1, &cols, &bad), 0);
    for (int k = 0; k < TC_NCOL; k++)
        total += cols.len[k];
    c->raw = calloc(total + TC_PAD, 1);
    c->dir = (tc_dir){.shift = cols.shift, .mode = cols.mode, .coff = cols.coff,
                      .depth = cols.depth, .tok = cols.tok};
    c->zbytes = c->zref = 0;
    uint8_t *o = c->raw;
    for (int k = 0; k < TC_NCOL; k++) {
        memcpy(o, cols.p[k], cols.len[k]);
        o += cols.len[k];
        c->dir.raw[k] = c->dir.stored[k] = (uint32_t)cols.len[k];
        if (cols.len[k]) {
            size_t cap = ZSTD_compressBound(cols.len[k]);
            void *z = malloc(cap);
            size_t zn = ZSTD_compress(z, cap, cols.p[k], cols.len[k], 3);
            assert_false(ZSTD_isError(zn));
            c->zbytes += zn;
            if (k == TC_INREF || k == TC_PTR)
                c->zref += zn;
            free(z);
        }
    }
    tc_enc_free(e);
}

static void test_chunk_encode_v(const hak_event *ev, size_t n, int mode, int coff,
                                uint32_t version, test_chunk *c)
{
    test_chunk_encode_t(ev, n, mode, coff, version, -1, c);
}

static void test_chunk_encode(const hak_event *ev, size_t n, int mode, int coff, test_chunk *c)
{
    test_chunk_encode_v(ev, n, mode, coff, 0, c);
}

/* Decodes c (n events, the first with seq first_seq); returns the events
 * decoded before a failure (n when all went well), *why the reason. */
static size_t test_chunk_decode(const test_chunk *c, size_t n, uint64_t first_seq,
                                hak_event *out, const char **why)
{
    tc_dec *d = malloc(sizeof *d);
    const uint8_t *col[TC_NCOL], *p = c->raw;
    for (int k = 0; k < TC_NCOL; k++) {
        col[k] = p;
        p += c->dir.raw[k];
    }
    tc_dec_init(d, col, &c->dir, (uint32_t)n, first_seq, 0, 1);
    size_t got = 0;
    long r;
    *why = NULL;
    while ((r = tc_dec_run(d, out + got, n - got)) > 0)
        got += (size_t)r;
    if (r < 0)
        *why = d->err;
    free(d);
    return got;
}

/* ev[0, n) through the trace writer, per_chunk events per call (so per
 * chunk); chunk_version: encode the chunks as that version's (0: the
 * newest), for files a test relabels as an older version. */
static void write_trace_v(const char *path, const hak_event *ev, size_t n, size_t per_chunk,
                          uint32_t chunk_version)
{
    char err[256];
    hak_trace_writer *w = hak_tw_open(path, NULL, err, sizeof err);
    assert_non_null(w);
    if (chunk_version)
        tc_tw_set_chunk_version(w, chunk_version);
    for (size_t i = 0; i < n; i += per_chunk)
        assert_int_equal(hak_tw_events(w, 0, ev + i, n - i < per_chunk ? n - i : per_chunk), 0);
    assert_int_equal(hak_tw_close(w), 0);
}

static void write_trace(const char *path, const hak_event *ev, size_t n, size_t per_chunk)
{
    write_trace_v(path, ev, n, per_chunk, 0);
}

/* The file at path reads back as exactly ev[0, n). */
static void assert_reads_back(const char *path, const hak_event *ev, size_t n)
{
    char err[256];
    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    if (!r)
        fail_msg("%s: %s", path, err);
    hak_event *out = calloc(n, sizeof *out);
    assert_non_null(out);
    assert_int_equal(hak_tr_read(r, out, n), n);
    assert_same(out, ev, n);
    free(out);
    hak_tr_close(r);
}

/* Reads the file at path (at most 8 MiB) into a static buffer (*file,
 * *len) and returns how many event chunks it has; dirs[] gets the first
 * byte of each one's column directory (mode, class offset, shift), up to
 * max of them. */
static size_t read_dir_bytes(const char *path, uint8_t *dirs, size_t max, uint8_t **file,
                             size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[8 << 20];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    *file = buf;
    size_t off = TF_FILE_FIXED + tf_get32(buf + 12) + 4, ci = 0;
    while (off + TF_CHUNK_HDR <= *len && buf[off] != TF_KIND_END) {
        if (buf[off] == TF_KIND_EVENTS) {
            if (ci < max)
                dirs[ci] = buf[off + TF_CHUNK_HDR];
            ci++;
        }
        off += TF_CHUNK_HDR + tf_get32(buf + off + 24);
    }
    return ci;
}

/* Rewrites the format version of the file image buf, with its header
 * checksum. */
static void relabel_version(uint8_t *buf, uint32_t version)
{
    uint32_t mlen = tf_get32(buf + 12);
    tf_put32(buf + 8, version);
    tf_put32(buf + TF_FILE_FIXED + mlen, tf_header_csum(buf, TF_FILE_FIXED + mlen));
}

/* Every event of a file, hashed (FNV-1a over the fields). */
static uint64_t trace_file_hash(const char *path, uint64_t *nev)
{
    char err[256];
    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    if (!r)
        fail_msg("%s: %s", path, err);
    uint64_t h = 0xcbf29ce484222325ull;
    hak_event e;
    *nev = 0;
    while (hak_tr_next(r, &e) == 1) {
        uint64_t f[10] = {e.seq, e.ts_ns, e.size, e.nmemb, e.align, e.in_ptr, e.out_ptr,
                          e.tid, e.site, (uint64_t)(uint32_t)e.err << 8 | e.op};
        for (int i = 0; i < 10; i++)
            h = (h ^ f[i]) * 0x100000001b3ull;
        ++*nev;
    }
    hak_tr_close(r);
    return h;
}

/* The file reads as nev events hashing to hash (trace_file_hash); with
 * HAK_PRINT_HASHES set, prints the values it found (to record new ones). */
static void assert_file_hash(const char *path, uint64_t want_nev, uint64_t want_hash)
{
    uint64_t nev, h = trace_file_hash(path, &nev);
    if (getenv("HAK_PRINT_HASHES"))
        printf("%s %llu 0x%016llxull\n", path, (unsigned long long)nev, (unsigned long long)h);
    assert_int_equal(nev, want_nev);
    assert_int_equal(h, want_hash);
}

#endif /* HAK_CODEC_TEST_H */
