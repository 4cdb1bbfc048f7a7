/* What a thread keeps of the memory its program freed (hak_trim.c): a
 * class the program has moved away from must not keep its blocks in the
 * thread cache, nor its slab; realloc growth does not leave a block in
 * every class on the way.  Checked with hak_alloc_stats (cached bytes,
 * slabs per class), each case in a thread of its own so that its heap
 * holds nothing else; RSS itself is the bench's (bench/suite). */
#include "alloc_test.h"

#include <pthread.h>

#define STRINGS 256

static struct hak_alloc_stats st_before, st_after;

/* 256 strings grown by realloc in steps of 1..16 bytes to ~1.7 KB: each
 * passes through every class from 16 B up, and leaves each behind. */
static void *grow_strings(void *arg)
{
    (void)arg;
    uint64_t seed = 77;
    char *str[STRINGS] = {0};
    size_t len[STRINGS] = {0};
    stats_now(&st_before);
    for (int step = 0; step < 200; step++)
        for (int k = 0; k < STRINGS; k++) {
            size_t add = 1 + rng_next(&seed) % 16;
            char *p = hak_realloc(str[k], len[k] + add + 1);
            assert_non_null(p);
            memset(p + len[k], 'a' + k % 26, add);
            len[k] += add;
            p[len[k]] = 0;
            str[k] = p;
        }
    stats_now(&st_after);
    for (int k = 0; k < STRINGS; k++) {
        for (size_t i = 0; i < len[k]; i++)
            if (str[k][i] != 'a' + k % 26) fail_msg("string %d byte %zu changed", k, i);
        hak_free(str[k]);
    }
    return NULL;
}

/* Without trimming, the 256 blocks each string left in every class stayed
 * in the bins (2.5 MiB cached for 0.45 MiB of strings), and each class
 * kept a slab. */
static void classes_left_behind_are_given_back(void **state)
{
    (void)state;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, grow_strings, NULL), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    uint64_t cached = st_after.bytes_cached > st_before.bytes_cached
                          ? st_after.bytes_cached - st_before.bytes_cached : 0;
    uint64_t live = st_after.bytes_live - st_before.bytes_live;
    if (cached > live / 4)
        fail_msg("%llu bytes cached for %llu bytes of strings",
                 (unsigned long long)cached, (unsigned long long)live);
    for (unsigned c = 1; c < st_after.nclass; c++) {
        if (st_after.cls[c].block_size > 256) break;
        if (st_after.cls[c].slabs > st_before.cls[c].slabs)
            fail_msg("class %llu B: %llu slabs kept after every string left it (%llu before)",
                     (unsigned long long)st_after.cls[c].block_size,
                     (unsigned long long)st_after.cls[c].slabs,
                     (unsigned long long)st_before.cls[c].slabs);
    }
}

static uint64_t cached_of(size_t block)
{
    struct hak_alloc_stats st;
    stats_now(&st);
    for (unsigned c = 1; c < st.nclass; c++)
        if (st.cls[c].block_size == block) return st.cls[c].blocks_cached;
    fail_msg("no class of %zu B", block);
    return 0;
}

/* Blocks of 64 B until the bin is empty (each refill takes a whole
 * number of them), three freed and sent back to the slab by hak_trim:
 * the next malloc's refill takes those three and carves nothing more.
 * (It used to top the bin up from the bump area, entering a new page,
 * each time a trimmed bin came back.) */
static void *refill_after_trim(void *arg)
{
    (void)arg;
    enum { N = 1024 };
    static void *p[N];
    hak_trim(0);            /* (a heap this thread took over may hold some) */
    uint64_t before = cached_of(64);
    int k = 0;
    do p[k++] = hak_malloc(64); while (k < N && cached_of(64) > before);
    assert_true(k < N);
    for (int i = 0; i < 3; i++) hak_free(p[--k]);
    assert_int_equal(cached_of(64), before + 3);
    hak_trim(0);
    uint64_t trimmed = cached_of(64);
    p[k++] = hak_malloc(64);
    uint64_t after = cached_of(64);
    if (after > trimmed + 2)
        fail_msg("a refill with 3 freed blocks on its slab cached %llu blocks",
                 (unsigned long long)(after - trimmed));
    while (k) hak_free(p[--k]);
    return NULL;
}

static void refill_takes_freed_blocks_only(void **state)
{
    (void)state;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, refill_after_trim, NULL), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
}

/* A block grown by realloc a byte at a time to 4 KiB moves ~20 times
 * (each move takes at least a quarter more), not once per class on the
 * way (48), each move leaving a block behind in a class the string has
 * left; the content survives every move. */
static void realloc_growth_takes_a_quarter_more(void **state)
{
    (void)state;
    char *p = NULL;
    int moves = 0;
    for (size_t n = 1; n <= 4096; n++) {
        char *q = hak_realloc(p, n);
        assert_non_null(q);
        if (q != p) moves++;
        q[n - 1] = (char)n;
        p = q;
    }
    for (size_t n = 1; n <= 4096; n++)
        if (p[n - 1] != (char)n) fail_msg("byte %zu changed", n - 1);
    hak_free(p);
    if (moves > 24) fail_msg("a block grown a byte at a time to 4 KiB moved %d times", moves);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* (first: its thread must not take over a heap another test's
         * thread left with blocks of 64 B on its slabs' free lists) */
        cmocka_unit_test(refill_takes_freed_blocks_only),
        cmocka_unit_test(classes_left_behind_are_given_back),
        cmocka_unit_test(realloc_growth_takes_a_quarter_more),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
