/* Format version 3's (and 4's) 16-deep class stacks (FORMAT.md, "out_ptr"): a block
 * freed up to 16 blocks of its class ago comes back as its stack position,
 * one byte, where versions 1 and 2 (8 deep) code a pointer delta; both
 * depths round-trip; the depth follows the file's version (the same chunk
 * read as version 2 is not the same events); version 2 files read as
 * before (test_trace_coff, test_trace_refmode: their hashed corpus files). */
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

/* Bursts of `burst` allocations of one size (the first burst's blocks
 * scattered), all freed, then allocated
 * again by an allocator that hands out the oldest freed block first (a
 * FIFO free list, as glibc's fastbin-to-tcache refill and many slab
 * allocators do in effect): the returned blocks sit 1..burst deep. */
static size_t fifo_stream(hak_event *ev, size_t n, unsigned burst)
{
    uint64_t blk[64], seq = 1, bump = 0x7f0000001000ull, rng = 12345;
    size_t k = 0;
    unsigned have = 0;
    while (k + 2 * burst <= n) {
        for (unsigned i = 0; i < burst; i++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            /* fresh blocks far apart: their deltas take two bytes or more */
            uint64_t p = i < have ? blk[i] : (bump += 64 + (rng >> 40) * 16);   /* oldest freed first */
            ev[k] = (hak_event){.seq = seq++, .ts_ns = k, .op = HAK_OP_MALLOC, .size = 40,
                                .out_ptr = p, .site = 1};
            k++;
            blk[i] = p;
        }
        have = burst;
        for (unsigned i = 0; i < burst; i++) {               /* freed in allocation order */
            ev[k] = (hak_event){.seq = seq++, .ts_ns = k, .op = HAK_OP_FREE, .in_ptr = blk[i]};
            k++;
        }
    }
    return k;
}

static void depth_by_version(void **state)
{
    (void)state;
    assert_int_equal(tc_stack_depth(1), 8);
    assert_int_equal(tc_stack_depth(2), 8);
    assert_int_equal(tc_stack_depth(3), 16);
    assert_int_equal(tc_stack_depth(HAK_TRACE_VERSION), TC_STACK);
}

/* Blocks 9..16 deep: one byte each in version 3, deltas in version 2;
 * both decode to the same events. */
static void deep_reuse_round_trips(void **state)
{
    (void)state;
    size_t n = 60000;
    hak_event *ev = calloc(n, sizeof *ev), *out = calloc(n, sizeof *out);
    for (unsigned burst = 8; burst <= 16; burst += 4) {
        size_t k = fifo_stream(ev, n, burst), olen[2];
        test_chunk c[2];
        test_chunk_encode_v(ev, k, -1, -1, 2, &c[0]);
        test_chunk_encode_v(ev, k, -1, -1, 3, &c[1]);
        for (int v = 0; v < 2; v++) {
            assert_int_equal(c[v].dir.depth, v ? 16 : 8);
            olen[v] = c[v].dir.raw[TC_OUT];
        }
        for (int v = 0; v < 2; v++) {
            const char *why;
            memset(out, 0, n * sizeof *out);
            assert_int_equal(test_chunk_decode(&c[v], k, 1, out, &why), k);
            assert_null(why);
            assert_same(out, ev, k);
        }
        size_t nalloc = k / 2;
        if (getenv("HAK_PRINT_SIZES"))
            printf("burst %u: OUT %zu / %zu bytes, zstd %zu / %zu (v2 / v3)\n", burst, olen[0],
                   olen[1], c[0].zbytes, c[1].zbytes);
        /* version 3: one byte per allocation after the first burst */
        assert_true(olen[1] >= nalloc && olen[1] < nalloc + 4 * burst);
        if (burst <= 8) {
            assert_int_equal(olen[0], olen[1]);
        } else {
            assert_true(olen[0] > olen[1] + (nalloc / burst - 1) * (burst - 8));
            assert_true(c[1].zbytes < c[0].zbytes);
        }
        free(c[0].raw);
        free(c[1].raw);
    }
    free(ev);
    free(out);
}

/* The depth is the file's version's: a version 3 chunk whose blocks come
 * back 9..16 deep, read as version 2 (relabelled), is refused or differs. */
static void version_decides_depth(void **state)
{
    (void)state;
    char path[64], err[256];
    snprintf(path, sizeof path, "/tmp/hak-test-depth-%d.hkt", (int)getpid());
    size_t n = 20000;
    hak_event *ev = calloc(n, sizeof *ev), *out = calloc(n, sizeof *out);
    size_t k = fifo_stream(ev, n, 16);
    write_trace(path, ev, k, k);
    assert_reads_back(path, ev, k);
    uint8_t dir = 0, *buf;
    size_t len;
    assert_int_equal(read_dir_bytes(path, &dir, 1, &buf, &len), 1);
    assert_int_equal(tf_get32(buf + 8), HAK_TRACE_VERSION);
    assert_int_equal(dir & TC_DIR_PAIR, 0);   /* read as version 2, bit 5 would be the shift's */
    relabel_version(buf, 2);
    hak_trace_reader *r = hak_tr_open_mem(buf, len, err, sizeof err);
    assert_non_null(r);
    long got = hak_tr_read(r, out, k);
    int same = got == (long)k;
    for (size_t i = 0; same && i < k; i++)
        same = out[i].out_ptr == ev[i].out_ptr && out[i].in_ptr == ev[i].in_ptr;
    assert_false(same);
    hak_tr_close(r);
    unlink(path);
    free(ev);
    free(out);
}

int main(void)
{
    (void)assert_file_hash;        /* codec_test.h's, for other tests */
    (void)test_chunk_encode;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(depth_by_version),
        cmocka_unit_test(deep_reuse_round_trips),
        cmocka_unit_test(version_decides_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
