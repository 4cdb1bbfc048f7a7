/* The writer compresses event columns at levels 1 and 2 as level 3 with
 * small tables (trace_write.c, FAST_AS_LEVEL): zstd's own fast levels
 * miss the short repeats of columns like TS (a time delta of 0 eight
 * times, then 2: recorded factor's), which level 3's strategy codes in a
 * fraction of the bytes, no slower.  Checked on such a stream: each
 * column the writer stores at level 1 is no bigger than zstd's level 1
 * makes it, the TS column less than half, and the chunk reads back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <unistd.h>

#include "codec_test.h"

/* A factor-like stream: per round a few 16- and 24-byte blocks freed in
 * reverse, a clock tick every 9 events (TS: 0 eight times, then 2). */
static size_t stream(hak_event *ev, size_t n)
{
    uint64_t seq = 1, addr = 0x10000000, s[8];
    size_t k = 0;
    unsigned r = 0;
#define EV(...) (ev[k] = (hak_event){.seq = seq++, .ts_ns = 5000 + k / 9, __VA_ARGS__}, k++)
    while (k + 16 <= n) {
        unsigned m = 2 + (r++ * 7) % 5;
        for (unsigned j = 0; j < m; j++)
            EV(.op = HAK_OP_MALLOC, .size = j % 2 ? 24 : 16, .site = 1 + j % 3,
               .out_ptr = s[j] = addr + 32 * j);
        for (unsigned j = m; j-- > 0;)
            EV(.op = HAK_OP_FREE, .site = 9, .in_ptr = s[j]);
    }
#undef EV
    return k;
}

static void level1_beats_zstd_level1(void **state)
{
    (void)state;
    size_t n = TF_CHUNK_EVENTS;
    hak_event *ev = calloc(n, sizeof *ev);
    n = stream(ev, n);
    char path[] = "/tmp/hak-zlevel-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[256];
    hak_trace_writer *w = hak_tw_open(path, NULL, err, sizeof err);
    assert_non_null(w);
    hak_tw_enc *e = hak_tw_enc_new(w);
    assert_non_null(e);
    assert_int_equal(hak_tw_enc_set_level(e, 1), 0);
    hak_tw_array a;
    hak_tw_source src = hak_tw_array_source(&a, ev, n);
    assert_int_equal(hak_tw_enc_events(e, 0, &src), 0);
    size_t len;
    uint32_t nev;
    const uint8_t *chunk = hak_tw_enc_chunk(e, &len, &nev);
    assert_int_equal(nev, n);
    tf_chunk_hdr h;
    tf_hdr_unpack(chunk, &h);
    tc_dir d;
    assert_null(tc_dir_parse(chunk + TF_CHUNK_HDR, h.comp_size, h.raw_size, h.count,
                             HAK_TRACE_VERSION, &d));

    /* the same columns (the encoder is deterministic), through zstd's level 1 */
    tc_enc *te = tc_enc_new();
    tc_cols cols;
    size_t bad;
    assert_int_equal(tc_encode(te, ev, n, 1, &cols, &bad), 0);
    for (int k = 0; k < TC_NCOL; k++) {
        assert_int_equal(cols.len[k], d.raw[k]);
        if (cols.len[k] < 64)
            continue;
        size_t cap = ZSTD_compressBound(cols.len[k]);
        void *z = malloc(cap);
        size_t z1 = ZSTD_compress(z, cap, cols.p[k], cols.len[k], 1);
        free(z);
        assert_false(ZSTD_isError(z1));
        if (d.stored[k] > z1)
            fail_msg("column %d: %u bytes at the writer's level 1, %zu at zstd's", k,
                     d.stored[k], z1);
        if (k == TC_TS && 2 * d.stored[k] >= z1)
            fail_msg("TS: %u bytes at the writer's level 1, %zu at zstd's: not < half",
                     d.stored[k], z1);
    }
    tc_enc_free(te);

    assert_int_equal(hak_tw_enc_put(w, e), 0);
    hak_tw_enc_free(e);
    assert_int_equal(hak_tw_close(w), 0);
    assert_reads_back(path, ev, n);
    unlink(path);
    free(ev);
}

int main(void)
{
    (void)test_chunk_encode;                           /* codec_test.h's, unused here */
    (void)assert_file_hash;
    (void)read_dir_bytes;
    (void)relabel_version;
    (void)write_trace;
    (void)test_chunk_decode;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(level1_beats_zstd_level1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
