/* The encoder's pointer map is sized to what each chunk needs
 * (trace_encref.h): it starts small, doubles in the middle of a chunk
 * (rehashing that chunk's entries), starts the next map chunk at the size
 * the previous one needed and gives back a map much bigger than that.
 * Its contract is exactness: every free of a pointer that an allocation
 * of the chunk returned finds the latest such allocation.  These tests
 * compare the INREF column of chunks forced into index mode, byte for
 * byte, with a plain model of that contract (a linear search), across
 * growth in the middle of a chunk, shrinking after a small chunk and
 * growing again, pointers returned twice in one chunk, and frees of
 * pointers the chunk never returned; and check every chunk round-trips.
 * A map that loses entries when it grows, or keeps an older allocation's
 * number, codes different bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <unistd.h>

#include "codec_test.h"

static uint64_t rng_s = 0x2545f4914f6cdd1dull;
static uint64_t rng(void)
{
    rng_s ^= rng_s << 13; rng_s ^= rng_s >> 7; rng_s ^= rng_s << 17;
    return rng_s;
}

/* The INREF bytes index mode writes for ev[0, n) by FORMAT.md's rules,
 * with the latest allocation of each pointer found by a linear search
 * (mallocs and frees only).  Returns their length. */
static size_t model_inref(const hak_event *ev, size_t n, uint8_t *out)
{
    uint64_t *ptr = malloc((n + 1) * sizeof *ptr);
    uint32_t nalloc = 0, inext = 0;
    uint8_t *o = out;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].op == HAK_OP_MALLOC) {
            ptr[nalloc++] = ev[i].out_ptr;
            continue;
        }
        uint64_t p = ev[i].in_ptr;
        if (!p) {
            *o++ = 0;
            continue;
        }
        int64_t num = -1;
        for (uint32_t a = nalloc; a-- > 0;)
            if (ptr[a] == p) {
                num = a;
                break;
            }
        if (num < 0) {
            *o++ = 1;                      /* explicit: a PTR delta follows */
            continue;
        }
        o = tc_put(o, tc_zz(num - (int64_t)inext) + 2);
        inext = (uint32_t)num + 1;
    }
    free(ptr);
    return (size_t)(o - out);
}

/* A chunk of about n events: `live` distinct blocks allocated, then freed
 * in random order with new allocations in between, a few pointers
 * returned again after their free (reuse), a few frees of NULL and of
 * pointers the chunk never returned.  Pointers are 16-byte aligned and
 * unique to this call unless reused. */
static size_t churn(hak_event *ev, size_t n, size_t live, uint64_t *seq, uint64_t *bump)
{
    uint64_t *q = calloc(live, sizeof *q), old = 0;
    size_t k = 0;
#define EV(...) (ev[k] = (hak_event){.seq = (*seq)++, .ts_ns = *seq * 10, __VA_ARGS__}, k++)
    for (size_t j = 0; j < live && k + 1 < n; j++)
        EV(.op = HAK_OP_MALLOC, .size = 16 + 16 * (rng() % 40), .out_ptr = q[j] = (*bump += 16 * (1 + rng() % 4)));
    while (k + 3 <= n) {
        size_t s = rng() % live;
        unsigned r = (unsigned)(rng() % 64);
        if (r == 0) {
            EV(.op = HAK_OP_FREE, .in_ptr = 0);
            continue;
        }
        if (r == 1) {
            EV(.op = HAK_OP_FREE, .in_ptr = 0x10000000ull + 16 * (rng() % 4096));  /* not ours */
            continue;
        }
        EV(.op = HAK_OP_FREE, .in_ptr = q[s]);
        old = q[s];
        /* mostly a new block; sometimes the one just freed again (a
         * pointer returned twice in the chunk) */
        q[s] = r < 8 ? old : (*bump += 16 * (1 + rng() % 4));
        EV(.op = HAK_OP_MALLOC, .size = 16 + 16 * (rng() % 40), .out_ptr = q[s]);
    }
#undef EV
    free(q);
    return k;
}

/* Encodes ev[0, n) with e (index mode forced); checks INREF against the
 * model, that the chunk round-trips, and that no pointer the chunk
 * returned was coded explicitly. */
static void check_chunk(tc_enc *e, const hak_event *ev, size_t n, const char *what)
{
    tc_cols cols;
    size_t bad;
    assert_int_equal(tc_encode(e, ev, n, 1, &cols, &bad), 0);
    assert_int_equal(cols.mode, TC_MODE_INDEX);
    uint8_t *want = malloc(3 * n + 16);
    size_t wlen = model_inref(ev, n, want);
    if (cols.len[TC_INREF] != wlen || memcmp(cols.p[TC_INREF], want, wlen))
        fail_msg("%s: INREF differs from the model (%zu vs %zu bytes)", what,
                 cols.len[TC_INREF], wlen);
    free(want);

    size_t total = 0;
    for (int k = 0; k < TC_NCOL; k++)
        total += cols.len[k];
    test_chunk c = {.raw = calloc(total + TC_PAD, 1)};
    c.dir = (tc_dir){.shift = cols.shift, .mode = cols.mode, .coff = cols.coff,
                     .depth = cols.depth, .tok = cols.tok};
    uint8_t *o = c.raw;
    for (int k = 0; k < TC_NCOL; k++) {
        memcpy(o, cols.p[k], cols.len[k]);
        o += cols.len[k];
        c.dir.raw[k] = c.dir.stored[k] = (uint32_t)cols.len[k];
    }
    hak_event *out = calloc(n, sizeof *out);
    const char *why;
    assert_int_equal(test_chunk_decode(&c, n, ev[0].seq, out, &why), n);
    assert_null(why);
    assert_same(out, ev, n);
    free(out);
    free(c.raw);
}

/* One encoder through chunks whose pointer counts go up and down: from
 * 10 to 60000 distinct pointers (growth from the smallest map to the
 * largest in one chunk), a small chunk after a big one (the map given
 * back), big again (growth from a small start), then medium ones. */
static void map_follows_chunks(void **state)
{
    (void)state;
    static const size_t live[] = {10, 60000, 200, 30000, 5, 40000, 3000, 65000, 1};
    hak_event *ev = calloc(TF_CHUNK_EVENTS, sizeof *ev);
    uint64_t seq = 1, bump = 0x7f0000000000ull;
    tc_enc *e = tc_enc_new();
    assert_non_null(e);
    tc_enc_force_mode(e, TC_MODE_INDEX);
    for (size_t i = 0; i < sizeof live / sizeof *live; i++) {
        size_t want = live[i] + 2 * (live[i] / 4) + 64;   /* the allocations, then churn */
        size_t n = churn(ev, want < TF_CHUNK_EVENTS ? want : TF_CHUNK_EVENTS, live[i], &seq,
                         &bump);
        char what[64];
        snprintf(what, sizeof what, "chunk %zu (%zu live)", i, live[i]);
        check_chunk(e, ev, n, what);
    }
    tc_enc_free(e);
    free(ev);
}

/* A big chunk, then enough small ones for the map to be given back
 * (MAP_SHRINK_PASSES in trace_encref.h: 16), then big again (growth from
 * a small map in the middle of a chunk), twice. */
static void map_shrinks_and_grows(void **state)
{
    (void)state;
    hak_event *ev = calloc(TF_CHUNK_EVENTS, sizeof *ev);
    uint64_t seq = 1, bump = 0x600000000000ull;
    tc_enc *e = tc_enc_new();
    tc_enc_force_mode(e, TC_MODE_INDEX);
    for (int i = 0; i < 2 * 22; i++) {
        size_t live = i % 22 == 0 ? 50000 : i % 22 == 21 ? 64000 : 20;
        size_t n = churn(ev, live > 1000 ? TF_CHUNK_EVENTS : 200, live, &seq, &bump);
        char what[64];
        snprintf(what, sizeof what, "chunk %d (%zu live)", i, live);
        check_chunk(e, ev, n, what);
    }
    tc_enc_free(e);
    free(ev);
}

/* The same pointers in every chunk (a program reusing its blocks): entries
 * of earlier chunks must count as empty, never as this chunk's, whatever
 * the map's size did in between. */
static void map_forgets_earlier_chunks(void **state)
{
    (void)state;
    hak_event *ev = calloc(TF_CHUNK_EVENTS, sizeof *ev);
    uint64_t seq = 1;
    tc_enc *e = tc_enc_new();
    tc_enc_force_mode(e, TC_MODE_INDEX);
    for (int round = 0; round < 6; round++) {
        size_t live = round % 2 ? 20000 : 100, k = 0;
        /* frees first: of pointers the previous chunk returned */
        for (size_t j = 0; j < live; j++)
            ev[k] = (hak_event){.seq = seq++, .op = HAK_OP_FREE, .in_ptr = 0x5000000 + 32 * j}, k++;
        for (size_t j = 0; j < live; j++)
            ev[k] = (hak_event){.seq = seq++, .op = HAK_OP_MALLOC, .size = 24,
                                .out_ptr = 0x5000000 + 32 * j}, k++;
        for (size_t j = 0; j < live; j += 2)
            ev[k] = (hak_event){.seq = seq++, .op = HAK_OP_FREE, .in_ptr = 0x5000000 + 32 * j}, k++;
        char what[64];
        snprintf(what, sizeof what, "round %d", round);
        check_chunk(e, ev, k, what);
    }
    tc_enc_free(e);
    free(ev);
}

/* The same growth through the writer's own encoder (made for the first
 * events it is given), the file read back whole. */
static void through_writer(void **state)
{
    (void)state;
    size_t n = 4 * TF_CHUNK_EVENTS, k = 0;
    hak_event *ev = calloc(n, sizeof *ev);
    uint64_t seq = 1, bump = 0x7f0000000000ull;
    static const size_t live[] = {50000, 300, 20000, 60000};
    for (size_t i = 0; i < 4; i++)
        k += churn(ev + k, TF_CHUNK_EVENTS, live[i], &seq, &bump);
    char path[] = "/tmp/hak-encmap-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_trace(path, ev, k, TF_CHUNK_EVENTS / 2);
    assert_reads_back(path, ev, k);
    unlink(path);
    free(ev);
}

/* Map entries hold allocation numbers in 25 bits, which wrap every 32M
 * allocations (refs_begin clears the tables then): the same chunk
 * encoded 700 times, 49152 allocations each (34M in all), gives the same
 * INREF bytes, the model's, every time, before and after the wrap. */
static void numbers_wrap(void **state)
{
    (void)state;
    size_t n = TF_CHUNK_EVENTS, k = 0;
    hak_event *ev = calloc(n, sizeof *ev);
    for (size_t i = 0; i < 49152; i++, k++)
        ev[k] = (hak_event){.seq = k + 1, .op = HAK_OP_MALLOC, .size = 16,
                            .out_ptr = 0x100000 + 16 * i};
    for (size_t i = 0; i < 16384; i++, k++)
        ev[k] = (hak_event){.seq = k + 1, .op = HAK_OP_FREE, .in_ptr = 0x100000 + 16 * (i * 3)};
    uint8_t *want = malloc(3 * n + 16);
    size_t wlen = model_inref(ev, n, want);
    tc_enc *e = tc_enc_new();
    tc_enc_force_mode(e, TC_MODE_INDEX);
    for (int i = 0; i < 700; i++) {
        tc_cols cols;
        size_t bad;
        assert_int_equal(tc_encode(e, ev, n, 1, &cols, &bad), 0);
        if (cols.len[TC_INREF] != wlen || memcmp(cols.p[TC_INREF], want, wlen))
            fail_msg("chunk %d: INREF differs from the model", i);
    }
    tc_enc_free(e);
    free(want);
    free(ev);
}

int main(void)
{
    (void)test_chunk_encode;                           /* codec_test.h's, unused here */
    (void)assert_file_hash;
    (void)read_dir_bytes;
    (void)relabel_version;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(through_writer),
        cmocka_unit_test(map_follows_chunks),
        cmocka_unit_test(map_shrinks_and_grows),
        cmocka_unit_test(map_forgets_earlier_chunks),
        cmocka_unit_test(numbers_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
