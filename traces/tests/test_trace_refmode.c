/* Format version 2's per-chunk reference mode (FORMAT.md, "in_ptr"):
 * both modes round-trip, including frees of blocks allocated far more than
 * TC_RING allocations back; out-of-range references are refused; the
 * writer picks index mode for a stream freed in allocation order (and it
 * is smaller) and distance mode for a randomly freed one; version 1 files
 * (the corpus) still read as they always did, and a version 1 file cannot
 * carry the mode bit. */
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
#include "trace_encref.h"

static uint64_t rng_s = 99;
static uint64_t rng(void)
{
    rng_s ^= rng_s << 13; rng_s ^= rng_s >> 7; rng_s ^= rng_s << 17;
    return rng_s;
}

/* Up to n events with about `live` blocks live.  fifo: blocks are freed
 * in the order they were allocated (the oldest first), with a random
 * number of allocations in between, so the distance back to the freed
 * block varies while its index is always the next one; else each step
 * frees a random live block and allocates another.  Some reallocs and
 * frees of NULL ride along. */
static size_t workload(hak_event *ev, size_t n, size_t live, int fifo)
{
    size_t cap = 4 * live + 16;
    uint64_t *q = calloc(cap, sizeof *q), bump = 0x7f0000000000ull, seq = 1000;
    size_t head = 0, len = 0, k = 0;        /* fifo: q[head..head+len) mod cap */
#define EV(...) (ev[k] = (hak_event){.seq = seq++, .ts_ns = k * 10, __VA_ARGS__}, k++)
    while (k + 2 <= n) {
        uint64_t p = bump += 32 + 16 * (rng() % 8);
        if (fifo) {
            if (len < cap - 1 && (len < live / 2 || (len < 2 * live && rng() % 2))) {
                EV(.op = HAK_OP_MALLOC, .size = 24 + rng() % 100, .out_ptr = p);
                q[(head + len++) % cap] = p;
            } else if (rng() % 16 == 0) {       /* realloc: consumes and returns */
                EV(.op = HAK_OP_REALLOC, .size = 40, .in_ptr = q[head], .out_ptr = p);
                head = (head + 1) % cap;
                q[(head + len - 1) % cap] = p;
            } else {
                EV(.op = HAK_OP_FREE, .in_ptr = q[head]);
                head = (head + 1) % cap;
                len--;
            }
            continue;
        }
        if (len < live) {
            EV(.op = HAK_OP_MALLOC, .size = 24, .out_ptr = p);
            q[len++] = p;
            continue;
        }
        size_t s = rng() % live;
        if (rng() % 16 == 0) {
            EV(.op = HAK_OP_REALLOC, .size = 40, .in_ptr = q[s], .out_ptr = p);
        } else {
            EV(.op = HAK_OP_FREE, .in_ptr = rng() % 64 ? q[s] : 0);
            EV(.op = HAK_OP_MALLOC, .size = 24 + rng() % 100, .out_ptr = p);
        }
        q[s] = p;
    }
#undef EV
    free(q);
    return k;
}

/* Both modes round-trip a chunk whose frees reach back up to 20000
 * allocations (distance mode codes those explicitly, index mode by
 * reference), and index mode is the smaller one for it. */
static void both_modes_far_back(void **state)
{
    (void)state;
    size_t n = TF_CHUNK_EVENTS;
    hak_event *ev = calloc(n, sizeof *ev), *out = calloc(n, sizeof *out);
    n = workload(ev, n, 20000, 1);
    test_chunk c[TC_NMODE];
    for (int mode = 0; mode < TC_NMODE; mode++) {
        test_chunk_encode(ev, n, mode, -1, &c[mode]);
        assert_int_equal(c[mode].dir.mode, mode);
        const char *why;
        memset(out, 0, n * sizeof *out);
        assert_int_equal(test_chunk_decode(&c[mode], n, ev[0].seq, out, &why), n);
        assert_null(why);
        assert_same(out, ev, n);
    }
    if (getenv("HAK_PRINT_SIZES"))
        printf("far back: index %zu (refs %zu), distance %zu (refs %zu)\n",
               c[1].zbytes, c[1].zref, c[0].zbytes, c[0].zref);
    assert_true(c[TC_MODE_INDEX].zref * 4 < c[TC_MODE_DIST].zref);
    assert_true(c[TC_MODE_INDEX].zbytes < c[TC_MODE_DIST].zbytes);
    /* pair mode reaches every allocation of the chunk, as index mode */
    assert_true(c[TC_MODE_PAIR].zref * 4 < c[TC_MODE_DIST].zref);
    for (int mode = 0; mode < TC_NMODE; mode++)
        free(c[mode].raw);
    free(ev);
    free(out);
}

/* A factor-like stream (recorder/bench/factor.c): per round a few scratch
 * blocks freed in reverse (LIFO) and a result kept in a ring of `ring`
 * rounds (at most 1024), freed when its slot comes round again. */
static size_t lifo_ring_stream(hak_event *ev, size_t n, unsigned ring)
{
    uint64_t seq = 1, addr = 0x10000000, res[1024] = {0}, s[8];
    size_t k = 0;
    unsigned ri = 0;
#define EV(...) (ev[k] = (hak_event){.seq = seq++, .ts_ns = k, __VA_ARGS__}, k++)
    while (k + 24 <= n) {
        unsigned m = 2 + (unsigned)(rng() % 5);
        for (unsigned j = 0; j < m; j++)
            EV(.op = HAK_OP_MALLOC, .size = 16, .out_ptr = s[j] = (addr += 32));
        for (unsigned j = m; j-- > 0;)
            EV(.op = HAK_OP_FREE, .in_ptr = s[j]);
        if (res[ri])
            EV(.op = HAK_OP_FREE, .in_ptr = res[ri]);
        EV(.op = HAK_OP_MALLOC, .size = 40, .out_ptr = res[ri] = (addr += 64));
        ri = (ri + 1) % ring;
    }
#undef EV
    return k;
}

/* Pair mode for the factor-like stream: its LIFO frees follow one cursor
 * and its ring's frees the other, each a small repeated step, where index
 * mode's one cursor jumps between them; the ring of 1000 rounds (~5000
 * allocations) is past distance mode's reach, whose ring frees are then
 * explicit pointers. */
static void pair_mode_for_lifo_and_ring(void **state)
{
    (void)state;
    size_t n = 40000;
    hak_event *ev = calloc(n, sizeof *ev), *out = calloc(n, sizeof *out);
    size_t k = lifo_ring_stream(ev, n, 1000);
    test_chunk a, f[TC_NMODE];
    test_chunk_encode(ev, k, -1, -1, &a);
    for (int m = 0; m < TC_NMODE; m++)
        test_chunk_encode(ev, k, m, -1, &f[m]);
    if (getenv("HAK_PRINT_SIZES"))
        printf("lifo+ring: auto mode %u, refs distance %zu, index %zu, pair %zu\n", a.dir.mode,
               f[0].zref, f[1].zref, f[2].zref);
    assert_int_equal(a.dir.mode, TC_MODE_PAIR);
    assert_true(f[2].zref < f[0].zref && f[2].zref * 3 < f[1].zref * 2);
    const char *why;
    assert_int_equal(test_chunk_decode(&a, k, ev[0].seq, out, &why), k);
    assert_same(out, ev, k);
    for (int m = 0; m < TC_NMODE; m++)
        free(f[m].raw);
    free(a.raw);
    free(ev);
    free(out);
}

/* The writer's own choice, per chunk: index mode for the FIFO stream,
 * distance mode for the random one, and never bigger than another mode by
 * more than the encoder's switching margin allows. */
static void mode_chosen_per_chunk(void **state)
{
    (void)state;
    size_t n = 30000;
    hak_event *ev = calloc(n, sizeof *ev);
    for (int fifo = 0; fifo < 2; fifo++) {
        size_t k = workload(ev, n, fifo ? 2000 : 300, fifo);
        test_chunk a, f[TC_NMODE];
        test_chunk_encode(ev, k, -1, -1, &a);
        for (int m = 0; m < TC_NMODE; m++)
            test_chunk_encode(ev, k, m, -1, &f[m]);
        if (getenv("HAK_PRINT_SIZES"))
            printf("fifo %d: auto mode %u %zu, distance %zu (refs %zu), index %zu (refs %zu), "
                   "pair %zu (refs %zu)\n", fifo, a.dir.mode, a.zbytes, f[0].zbytes, f[0].zref,
                   f[1].zbytes, f[1].zref, f[2].zbytes, f[2].zref);
        assert_int_equal(a.dir.mode, fifo ? TC_MODE_INDEX : TC_MODE_DIST);
        assert_int_equal(a.zbytes, f[a.dir.mode].zbytes);
        for (int m = 0; m < TC_NMODE; m++)
            assert_true(a.zbytes <= f[m].zbytes + f[m].zbytes / 8 + 64);
        if (fifo)
            assert_true(f[1].zref * 4 < f[0].zref && f[1].zbytes < f[0].zbytes);
        else
            assert_true(f[0].zref < f[1].zref && f[0].zbytes < f[1].zbytes);
        for (int m = 0; m < TC_NMODE; m++)
            free(f[m].raw);
        free(a.raw);
    }
    free(ev);
}

/* A FIFO stream, then a random one, then FIFO again, through the writer:
 * the chunks' directory bytes follow the stream (a change is noticed at
 * the latest after QUIET_CHUNKS chunks without pricing), and the file
 * reads back. */
static void writer_follows_stream(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/hak-test-refmode-%d.hkt", (int)getpid());
    size_t chunk_ev = 4000, per = (QUIET_CHUNKS + 6) * chunk_ev, n = 3 * per;
    hak_event *ev = calloc(n, sizeof *ev);
    size_t k = 0, phase_end[3];
    for (int phase = 0; phase < 3; phase++) {
        size_t got = workload(ev + k, per, phase == 1 ? 200 : 1000, phase != 1);
        for (size_t i = 0; i < got; i++)
            ev[k + i].seq = k + i;     /* one seq sequence over the phases */
        k += got;
        phase_end[phase] = k;
    }
    write_trace(path, ev, k, chunk_ev);
    size_t nch = (k + chunk_ev - 1) / chunk_ev;

    uint8_t dirs[64], *buf;
    size_t len, ci = read_dir_bytes(path, dirs, 64, &buf, &len);
    assert_int_equal(tf_get32(buf + 8), HAK_TRACE_VERSION);
    assert_int_equal(ci, nch);
    assert_true(ci <= 64);
    size_t checked = 0;
    for (size_t i = 0; i < ci; i++) {
        size_t first = i * chunk_ev, phase = 0;
        while (first >= phase_end[phase])
            phase++;
        size_t start = phase ? phase_end[phase - 1] : 0;
        if (first >= start + (QUIET_CHUNKS + 2) * chunk_ev
            && first + chunk_ev <= phase_end[phase]) {
            unsigned m = dirs[i] & TC_DIR_MODE ? TC_MODE_INDEX
                         : dirs[i] & TC_DIR_PAIR ? TC_MODE_PAIR : TC_MODE_DIST;
            assert_int_equal(m, phase == 1 ? TC_MODE_DIST : TC_MODE_INDEX);
            checked++;
        }
    }
    assert_true(checked >= 6);

    assert_reads_back(path, ev, k);
    unlink(path);
    free(ev);
}

/* References outside the chunk's allocations are refused in every mode,
 * wherever the INREF value points: before the first allocation, at or
 * past nalloc, or negative. */
static void out_of_range_refused(void **state)
{
    (void)state;
    hak_event ev[4] = {
        {.seq = 1, .op = HAK_OP_MALLOC, .size = 16, .out_ptr = 0x1000},
        {.seq = 2, .op = HAK_OP_MALLOC, .size = 16, .out_ptr = 0x2000},
        {.seq = 3, .op = HAK_OP_FREE, .in_ptr = 0x2000},
        {.seq = 4, .op = HAK_OP_FREE, .in_ptr = 0x1000},
    };
    hak_event out[4];
    const char *why;
    for (int mode = 0; mode < TC_NMODE; mode++) {
        test_chunk c;
        test_chunk_encode(ev, 4, mode, -1, &c);
        assert_int_equal(c.dir.mode, mode);
        assert_int_equal(test_chunk_decode(&c, 4, 1, out, &why), 4);
        assert_same(out, ev, 4);
        /* the INREF column: two one-byte values */
        size_t at = 0;
        for (int k = 0; k < TC_INREF; k++)
            at += c.dir.raw[k];
        assert_int_equal(c.dir.raw[TC_INREF], 2);
        /* index mode: a = next + unzigzag(r - 2); distance: d = r - 1 */
        uint8_t good0 = c.raw[at];
        uint8_t bad_first[3] = {4, 2 + 4, 2 + 8};  /* dist: d = 3 > nalloc; index and
                                                     pair (cursor 0): a = 2 = nalloc */
        uint8_t bad_neg[3] = {127, 2 + 1, 2 + 2};  /* dist: d = 126; index and pair
                                                     (cursor 0): a = -1 */
        uint8_t bad[2] = {bad_first[mode], bad_neg[mode]};
        for (int b = 0; b < 2; b++) {
            c.raw[at] = bad[b];
            assert_int_equal(test_chunk_decode(&c, 4, 1, out, &why), 0);
            assert_non_null(why);
            assert_non_null(strstr(why, "outside the chunk's allocations"));
        }
        c.raw[at] = good0;
        /* index mode: the second free's a = next + unzigzag(r - 2), with
         * next = 2 after the first: r = 2 would be allocation 2 (none). */
        if (mode == TC_MODE_INDEX) {
            assert_int_equal(c.raw[at + 1], 2 + 3);   /* unzigzag(3) = -2: a = 0 */
            c.raw[at + 1] = 2;
            assert_int_equal(test_chunk_decode(&c, 4, 1, out, &why), 0);
            assert_non_null(why);
        }
        /* pair mode: the first free (allocation 1) from cursor 0 (a tie:
         * the first), +1: v = zigzag(1) << 1 = 4; the second (allocation
         * 0) from cursor 1, still 0: v = 0 << 1 | 1; cursor 1 + 2 would be
         * allocation 2 (none). */
        if (mode == TC_MODE_PAIR) {
            assert_int_equal(c.raw[at], 2 + 4);
            assert_int_equal(c.raw[at + 1], 2 + 1);
            c.raw[at + 1] = 2 + (4 << 1 | 1);
            assert_int_equal(test_chunk_decode(&c, 4, 1, out, &why), 0);
            assert_non_null(why);
            assert_non_null(strstr(why, "outside the chunk's allocations"));
        }
        free(c.raw);
    }
}

/* The committed corpus is version 1: it reads exactly as the version 1
 * reader read it (hashes taken with that reader, before version 2). */
static void version1_corpus_unchanged(void **state)
{
    (void)state;
    static const struct { const char *file; uint64_t nev, hash; } want[] = {
        {"traces/corpus/python3-json.hkt", 127748, 0x7a2c88d7d771c25full},
        {"traces/corpus/sqlite3-workload.hkt", 124690, 0xbb52fc05c5491e5cull},
        {"traces/corpus/mt-handoff.hkt", 206801, 0xf9f966ee176b7b5dull},
        {"traces/corpus/gcc-cc1.hkt", 21392, 0x1dfc24043a346b72ull},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        FILE *f = fopen(want[i].file, "rb");
        if (!f) {
            skip();   /* run from elsewhere than the source tree */
        }
        uint8_t hdr[12];
        assert_int_equal(fread(hdr, 1, 12, f), 12);
        fclose(f);
        assert_int_equal(tf_get32(hdr + 8), 1);
        assert_file_hash(want[i].file, want[i].nev, want[i].hash);
    }
}

/* Relabelling a version 2 file (chunks encoded as version 2's) as version 1 (header checksum repaired):
 * its distance-mode chunks read the same, an index-mode chunk is refused
 * (version 1 has no mode bit: the byte is a shift > 32). */
static void version1_has_no_mode_bit(void **state)
{
    (void)state;
    char path[64], err[256];
    snprintf(path, sizeof path, "/tmp/hak-test-refmode1-%d.hkt", (int)getpid());
    size_t n = 4000;
    hak_event *ev = calloc(n, sizeof *ev), *out = calloc(n, sizeof *out);
    for (int fifo = 0; fifo < 2; fifo++) {
        size_t k = workload(ev, n, fifo ? 1500 : 100, fifo);
        write_trace_v(path, ev, k, k, 2);   /* version 2 chunks: depth 8 */
        uint8_t dir, *buf;
        size_t len;
        assert_int_equal(read_dir_bytes(path, &dir, 1, &buf, &len), 1);
        size_t chunk_off = TF_FILE_FIXED + tf_get32(buf + 12) + 4;
        assert_int_equal(buf[chunk_off], TF_KIND_EVENTS);
        assert_int_equal(dir >> 7, fifo);
        relabel_version(buf, 1);
        hak_trace_reader *r = hak_tr_open_mem(buf, len, err, sizeof err);
        assert_non_null(r);
        assert_int_equal(hak_tr_meta(r)->version, 1);
        if (fifo) {
            const hak_tr_status *st = hak_tr_status_get(r);
            assert_int_equal(hak_tr_nevents(r), 0);
            assert_int_equal(st->valid_bytes, chunk_off);
            assert_non_null(strstr(st->reason, "pointer shift"));
        } else {
            assert_int_equal(hak_tr_read(r, out, k), k);
            assert_same(out, ev, k);
        }
        hak_tr_close(r);
        /* version 0 and the version after the newest are refused at offset 8 */
        for (uint32_t v = 0; v <= HAK_TRACE_VERSION + 1; v += HAK_TRACE_VERSION + 1) {
            relabel_version(buf, v);
            assert_null(hak_tr_open_mem(buf, len, err, sizeof err));
            assert_non_null(strstr(err, "offset 8"));
            assert_non_null(strstr(err, "version"));
        }
    }
    unlink(path);
    free(ev);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_modes_far_back),
        cmocka_unit_test(mode_chosen_per_chunk),
        cmocka_unit_test(pair_mode_for_lifo_and_ring),
        cmocka_unit_test(writer_follows_stream),
        cmocka_unit_test(out_of_range_refused),
        cmocka_unit_test(version1_corpus_unchanged),
        cmocka_unit_test(version1_has_no_mode_bit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
