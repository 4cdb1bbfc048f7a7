/* Format version 2's class offset (FORMAT.md, "class"; bit 6 of an event
 * chunk's directory byte): class() is byte-exact at its edges; chunks
 * round-trip with offset 0 and 8 (huge sizes included); the writer picks
 * offset 8 for a stream reused within glibc's bins ((n + 23) >> 4) and
 * stays at 0 for one reused within 16-byte classes ((n + 15) >> 4), and
 * follows a stream that changes from one to the other; a stream the
 * neighbour test misreads is put right by the probe; offset 8 makes the
 * first smaller; a version 1 file cannot carry the bit;
 * version 2 files written before the offset existed read as before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec_test.h"
#include "trace_encref.h"   /* COFF_PROBE */

static uint64_t rng_s = 7;
static uint64_t rng(void)
{
    rng_s ^= rng_s << 13; rng_s ^= rng_s >> 7; rng_s ^= rng_s << 17;
    return rng_s;
}

/* n events of a random-mixed program (free a random one of 256 slots,
 * malloc 16..1039 bytes into it) on an allocator whose LIFO bins are
 * (size + bias) >> 4: bias 23 is glibc (chunk = size + 8 rounded up to
 * 16), 15 the format's offset-0 classes.  Every `huge`-th malloc asks for
 * a size near 2^64 (a fresh block), to reach the saturating classes. */
static size_t binned_stream(hak_event *ev, size_t n, unsigned bias, size_t huge)
{
    enum { SLOTS = 256, BINS = 80, DEPTH = 4096 };
    static uint64_t bin[BINS][DEPTH];
    static unsigned bin_n[BINS];
    uint64_t slot[SLOTS] = {0}, slot_size[SLOTS] = {0}, bump = 0x55550000000ull, seq = 1;
    memset(bin_n, 0, sizeof bin_n);
    size_t k = 0;
    while (k + 2 <= n) {
        unsigned s = (unsigned)(rng() % SLOTS);
        if (slot[s]) {
            ev[k] = (hak_event){.seq = seq++, .ts_ns = k * 7, .op = HAK_OP_FREE,
                                .in_ptr = slot[s]};
            k++;
            unsigned b = (unsigned)((slot_size[s] + bias) >> 4);
            if (b < BINS && bin_n[b] < DEPTH)
                bin[b][bin_n[b]++] = slot[s];
        }
        uint64_t size = 16 + rng() % 1024, p;
        unsigned b = (unsigned)((size + bias) >> 4);
        if (huge && rng() % huge == 0) {
            size = UINT64_MAX - rng() % 16;
            b = BINS;
        }
        if (b < BINS && bin_n[b])
            p = bin[b][--bin_n[b]];
        else
            p = bump += 2048;
        ev[k] = (hak_event){.seq = seq++, .ts_ns = k * 7, .op = HAK_OP_MALLOC,
                            .size = size, .out_ptr = p};
        k++;
        slot[s] = p;
        slot_size[s] = size;
    }
    return k;
}

static void class_edges(void **state)
{
    (void)state;
    static const struct { uint64_t b; unsigned off, c; } t[] = {
        {0, 0, 0},       {1, 0, 1},         {16, 0, 1},         {17, 0, 2},
        {1024, 0, 64},   {1025, 0, 65},     {2048, 0, 65},      {2049, 0, 66},
        {UINT64_MAX, 0, 118},
        {0, 8, 1},       {8, 8, 1},         {9, 8, 2},          {24, 8, 2},  {25, 8, 3},
        {1016, 8, 64},   {1017, 8, 65},     {2040, 8, 65},      {2041, 8, 66},
        {UINT64_MAX - 8, 8, 118}, {UINT64_MAX - 7, 8, 118}, {UINT64_MAX, 8, 118},
        {(1ull << 63) - 8, 8, 117}, {(1ull << 63) - 7, 8, 118},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        unsigned c = tc_class_off(t[i].b, t[i].off);
        if (c != t[i].c)
            fail_msg("class(%llu + %u) = %u, want %u", (unsigned long long)t[i].b, t[i].off, c,
                     t[i].c);
        assert_true(c < TC_NCLASS);
    }
    /* offset 8 is glibc's bin index for every small size */
    for (uint64_t b = 0; b <= 1016; b++)
        assert_int_equal(tc_class_off(b, TC_COFF), (b + 23) >> 4);
}

/* One chunk through the codec with the offset forced (-1: chosen);
 * checks it decodes back and returns its zstd (level 3) size. */
static size_t codec_round_trip(const hak_event *ev, size_t n, int coff, unsigned *got_coff)
{
    test_chunk c;
    test_chunk_encode(ev, n, -1, coff, &c);
    *got_coff = c.dir.coff;
    hak_event *out = calloc(n, sizeof *out);
    const char *why;
    size_t got = test_chunk_decode(&c, n, ev[0].seq, out, &why);
    if (why)
        fail_msg("decode failed: %s", why);
    assert_int_equal(got, n);
    assert_same(out, ev, n);
    free(out);
    free(c.raw);
    return c.zbytes;
}

/* Both offsets round-trip both streams (with huge sizes in them); each
 * stream is smaller with its own allocator's offset. */
static void round_trip_both_offsets(void **state)
{
    (void)state;
    size_t n = 60000;
    hak_event *ev = calloc(n, sizeof *ev);
    for (unsigned glibc = 0; glibc < 2; glibc++) {
        size_t k = binned_stream(ev, n, glibc ? 23 : 15, 997);
        size_t z[2];
        for (unsigned o = 0; o < 2; o++) {
            unsigned got;
            z[o] = codec_round_trip(ev, k, o ? TC_COFF : 0, &got);
            assert_int_equal(got, o ? TC_COFF : 0);
        }
        if (getenv("HAK_PRINT_SIZES"))
            printf("glibc %u: offset 0 %zu bytes, offset 8 %zu\n", glibc, z[0], z[1]);
        if (glibc)
            assert_true(z[1] < z[0]);
        else
            assert_true(z[0] < z[1]);
    }
    free(ev);
}

/* Through the writer: a glibc-binned stream's chunks after the first use
 * offset 8 (the first is coded with 0, the writer's start guess), a
 * 16-byte-binned stream's none; the files read back. */
static void writer_picks_offset(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/hak-test-coff-%d.hkt", (int)getpid());
    size_t n = 6 * 30000, per = 30000;
    hak_event *ev = calloc(n, sizeof *ev);
    for (unsigned glibc = 0; glibc < 2; glibc++) {
        size_t k = binned_stream(ev, n, glibc ? 23 : 15, 0);
        write_trace(path, ev, k, per);
        uint8_t dirs[16], *buf;
        size_t len, nc = read_dir_bytes(path, dirs, 16, &buf, &len);
        assert_int_equal(nc, (k + per - 1) / per);
        assert_int_equal(dirs[0] & TC_DIR_COFF, 0);
        for (size_t i = 1; i < nc; i++)
            assert_int_equal(dirs[i] & TC_DIR_COFF, glibc ? TC_DIR_COFF : 0);
        assert_reads_back(path, ev, k);
    }
    unlink(path);
    free(ev);
}

/* A glibc-binned phase, then a 16-byte-binned one, in one file: the
 * offset follows the stream both ways (one chunk late), and the file
 * reads back. */
static void writer_follows_stream(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/hak-test-coff2-%d.hkt", (int)getpid());
    size_t per = 30000, phase = 4 * per;
    hak_event *ev = calloc(2 * phase, sizeof *ev);
    size_t k = binned_stream(ev, phase, 23, 0);
    assert_int_equal(k, phase);
    k += binned_stream(ev + k, phase, 15, 0);
    for (size_t i = 0; i < k; i++)
        ev[i].seq = i + 1;         /* one seq sequence over the phases */
    write_trace(path, ev, k, per);
    uint8_t dirs[16], *buf;
    size_t len, nc = read_dir_bytes(path, dirs, 16, &buf, &len);
    assert_int_equal(nc, 8);
    for (size_t i = 0; i < nc; i++) {
        /* chunk 0: the start guess; 4: the first of the second phase,
         * still coded with the first phase's offset */
        unsigned want = i >= 1 && i <= 4 ? TC_DIR_COFF : 0;
        assert_int_equal(dirs[i] & TC_DIR_COFF, want);
    }
    assert_reads_back(path, ev, k);
    unlink(path);
    free(ev);
}

/* A factor-like program (recorder/bench/factor.c) on glibc-like LIFO bins
 * ((size + 23) >> 4): per round two small records of 24 and 16 bytes, a
 * few scratch blocks of 8..16 bytes freed in reverse, a vector grown to
 * 32..39 bytes and a string to 33..38, the last four results kept in a
 * ring.  With offset 0 the 24- and 16-byte blocks fall in two classes
 * and a seventh of the allocations miss their class's top, but only a
 * tenth of those are on a neighbour's top: too few for the neighbour
 * test, which leaves every chunk at offset 0. */
static size_t factor_stream(hak_event *ev, size_t n)
{
    enum { BINS = 80, DEPTH = 4096 };
    static uint64_t bin[BINS][DEPTH], bsize[1 << 16];
    static unsigned bin_n[BINS];
    memset(bin_n, 0, sizeof bin_n);
    uint64_t bump = 0x55550000000ull, seq = 1, ring[4] = {0}, ring2[4] = {0};
    size_t k = 0;
    unsigned ri = 0;
#define FS_ALLOC(var, sz) do { uint64_t s_ = (sz); unsigned b_ = (unsigned)((s_ + 23) >> 4); \
        var = bin_n[b_] ? bin[b_][--bin_n[b_]] : (bump += 64 * ((s_ + 63) / 64)); \
        ev[k] = (hak_event){.seq = seq++, .ts_ns = k, .op = HAK_OP_MALLOC, .size = s_, \
                            .out_ptr = var, .site = 1 + b_}; \
        k++; bsize[(var >> 4) & 0xffff] = s_; } while (0)
#define FS_FREE(p) do { uint64_t p_ = (p); unsigned b_ = (unsigned)((bsize[(p_ >> 4) & 0xffff] + 23) >> 4); \
        if (bin_n[b_] < DEPTH) bin[b_][bin_n[b_]++] = p_; \
        ev[k] = (hak_event){.seq = seq++, .ts_ns = k, .op = HAK_OP_FREE, .in_ptr = p_}; \
        k++; } while (0)
    while (k + 40 < n) {
        uint64_t a, v, str, s[8];
        FS_ALLOC(a, 24);
        FS_ALLOC(v, 16);
        unsigned m = 1 + (unsigned)(rng() % 4);
        for (unsigned j = 0; j < m; j++)
            FS_ALLOC(s[j], 8 + rng() % 9);
        for (unsigned j = m; j-- > 0;)
            FS_FREE(s[j]);
        FS_FREE(v);
        FS_ALLOC(v, 32 + rng() % 8);
        FS_ALLOC(str, 16);
        FS_FREE(str);
        FS_ALLOC(str, 33 + rng() % 6);
        if (ring[ri]) {
            FS_FREE(ring[ri]);
            FS_FREE(ring2[ri]);
        }
        ring[ri] = str;
        ring2[ri] = a;
        ri = (ri + 1) % 4;
        FS_FREE(v);
    }
#undef FS_ALLOC
#undef FS_FREE
    return k;
}

/* factor_stream through the writer: the neighbour test keeps offset 0,
 * the probe (COFF_PROBE chunks in, trace_encref.h) finds offset 8 better
 * and every chunk after it keeps 8; the file is smaller than with offset
 * 0 throughout and reads back. */
static void writer_probes_offset(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/hak-test-coff3-%d.hkt", (int)getpid());
    size_t per = 20000, n = 24 * per;
    hak_event *ev = calloc(n, sizeof *ev);
    size_t k = factor_stream(ev, n);
    write_trace(path, ev, k, per);
    uint8_t dirs[32], *buf;
    size_t len, nc = read_dir_bytes(path, dirs, 32, &buf, &len);
    assert_int_equal(nc, (k + per - 1) / per);
    size_t first8 = nc;
    for (size_t i = 0; i < nc; i++)
        if (dirs[i] & TC_DIR_COFF) {
            first8 = i;
            break;
        }
    if (first8 != COFF_PROBE)
        fail_msg("first chunk with offset 8: %zu, want %u (the first probe)", first8, COFF_PROBE);
    for (size_t i = first8; i < nc; i++)
        assert_int_equal(dirs[i] & TC_DIR_COFF, TC_DIR_COFF);
    assert_reads_back(path, ev, k);
    /* the chunks from the probe on, each through the codec with offset 0
     * and with 8 (as the writer cut and coded them) */
    size_t z0 = 0, z = 0;
    for (size_t i = first8 * per; i < k; i += per) {
        unsigned got;
        size_t m = k - i < per ? k - i : per;
        z0 += codec_round_trip(ev + i, m, 0, &got);
        z += codec_round_trip(ev + i, m, TC_COFF, &got);
    }
    if (getenv("HAK_PRINT_SIZES"))
        printf("factor-like, chunks after the probe: offset 0 %zu bytes, 8 %zu\n", z0, z);
    assert_true(z * 10 < z0 * 9);
    unlink(path);
    free(ev);
}

/* A version 2 file (chunks encoded as version 2's) whose second chunk has offset 8, relabelled as version
 * 1 (header checksum repaired): the first chunk reads, the second is
 * refused (in version 1 the directory byte is a shift, and 0x40 | shift
 * is > 32). */
static void version1_has_no_offset_bit(void **state)
{
    (void)state;
    char path[64], err[256];
    snprintf(path, sizeof path, "/tmp/hak-test-coff1-%d.hkt", (int)getpid());
    size_t n = 40000, per = 20000;
    hak_event *ev = calloc(n, sizeof *ev), *out = calloc(n, sizeof *out);
    size_t k = binned_stream(ev, n, 23, 0);
    assert_true(k > per);
    write_trace_v(path, ev, k, per, 2);   /* version 2 chunks: depth 8 */
    uint8_t dirs[4], *buf;
    size_t len;
    assert_int_equal(read_dir_bytes(path, dirs, 4, &buf, &len), 2);
    assert_int_equal(dirs[0] & TC_DIR_COFF, 0);
    assert_int_equal(dirs[1] & TC_DIR_COFF, TC_DIR_COFF);
    size_t c0 = TF_FILE_FIXED + tf_get32(buf + 12) + 4;
    size_t c1 = c0 + TF_CHUNK_HDR + tf_get32(buf + c0 + 24);
    relabel_version(buf, 1);
    hak_trace_reader *r = hak_tr_open_mem(buf, len, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(hak_tr_meta(r)->version, 1);
    const hak_tr_status *st = hak_tr_status_get(r);
    assert_int_equal(hak_tr_nevents(r), per);
    assert_int_equal(st->valid_bytes, c1);
    assert_non_null(strstr(st->reason, "pointer shift"));
    assert_int_equal(hak_tr_read(r, out, per), per);
    assert_same(out, ev, per);
    hak_tr_close(r);
    unlink(path);
    free(ev);
    free(out);
}

/* Version 2 files written before the class offset existed (bit 6 = 0, the
 * fuzz seeds) read exactly as before (hashes taken with that reader). */
static void version2_without_offset_unchanged(void **state)
{
    (void)state;
    static const struct { const char *file; uint64_t nev, hash; } want[] = {
        {"traces/tests/fuzz-regressions/v2-distance-mode.bin", 800, 0x70fb26dbbd7ebfe7ull},
        {"traces/tests/fuzz-regressions/v2-index-mode.bin", 800, 0x2933445048403d21ull},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        if (access(want[i].file, R_OK))
            skip();   /* run from elsewhere than the source tree */
        assert_file_hash(want[i].file, want[i].nev, want[i].hash);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(class_edges),
        cmocka_unit_test(round_trip_both_offsets),
        cmocka_unit_test(writer_picks_offset),
        cmocka_unit_test(writer_follows_stream),
        cmocka_unit_test(writer_probes_offset),
        cmocka_unit_test(version1_has_no_offset_bit),
        cmocka_unit_test(version2_without_offset_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
