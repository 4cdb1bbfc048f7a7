/* test_unwritten.c - programs that never write the blocks they allocate
 * (sh6bench-style loops, glibc's bench-malloc-thread, an error path that
 * frees a buffer it never filled) and small aligned requests.
 *
 * free() marks a block's first word (hak_guard.h) and sends a free of a
 * marked block to the exact double-free search.  When malloc's fast path
 * left the mark in place, a block freed, reallocated and freed again
 * without a write in between looked freed: every such free searched the
 * thread caches under the global lock, and those loops ran at 2-10x
 * mimalloc's CPU time (slower than glibc).  malloc now clears the mark;
 * these tests state that, and that aligned requests up to 1 KiB (served
 * by malloc's fast path) are aligned for every size. */
#include <stdlib.h>

#include "alloc_test.h"
#include "hak_guard.h"

/* Every block malloc hands out has a first word that is not the mark, on
 * the fast path (a block just freed by this thread) as on refills. */
static void malloc_clears_the_freed_mark(void **state)
{
    (void)state;
    enum { N = 2000 };
    static void *b[N];
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < N; i++) {
            b[i] = hak_malloc(1 + (size_t)(i * 37 + round) % 1000);
            assert_non_null(b[i]);
            assert_true(*(uintptr_t *)b[i] != HAK_FREE_MARK);
        }
        for (int i = 0; i < N; i += 2) hak_free(b[i]);
        for (int i = N - 1; i > 0; i -= 2) hak_free(b[i]);
    }
}

/* The first word of a block in a thread cache still carries the mark (the
 * double-free filter depends on it). */
static void a_freed_block_carries_the_mark(void **state)
{
    (void)state;
    void *p = hak_malloc(48);
    assert_non_null(p);
    hak_free(p);
    assert_true(*(uintptr_t *)p == HAK_FREE_MARK);
    void *q = hak_malloc(48);      /* the same block back from the cache */
    assert_ptr_equal(p, q);
    assert_true(*(uintptr_t *)q != HAK_FREE_MARK);
    hak_free(q);
}

static void aligned_small_requests_are_aligned(void **state)
{
    (void)state;
    for (size_t al = 32; al <= 2048; al <<= 1) {
        for (size_t n = 0; n <= 1100; n++) {
            void *p = NULL;
            assert_int_equal(hak_posix_memalign(&p, al, n), 0);
            assert_int_equal((uintptr_t)p % al, 0);
            assert_true(hak_usable_size(p) >= n);
            void *q = hak_memalign(al, n);
            assert_non_null(q);
            assert_int_equal((uintptr_t)q % al, 0);
            memset(q, 0x5a, n);
            hak_free(p);
            hak_free(q);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(malloc_clears_the_freed_mark),
        cmocka_unit_test(a_freed_block_carries_the_mark),
        cmocka_unit_test(aligned_small_requests_are_aligned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
