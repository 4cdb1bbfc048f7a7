/* The large-block cache (hak_large.c): a request bigger than every cached
 * mapping grows a resident one instead of faulting in a fresh mapping, and
 * more freed mappings than the old 8 entries stay cached.  Both measured as
 * page faults (ru_minflt) in the linked build; the sanitizer build checks
 * the same sequences for content only. */
#include "alloc_test.h"

#include <stdio.h>
#include <sys/resource.h>

static long minflt(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_minflt;
}

static void touch(char *p, size_t n, char v)
{
    for (size_t i = 0; i < n; i += 4096) p[i] = v;
    p[n - 1] = v;
}

/* A 2 MiB block written and freed, then a 3 MiB one: the cached 2 MiB
 * mapping is grown by mremap, so writing the new block faults only its
 * last MiB (256 pages), not all 768. */
static void bigger_request_grows_cached_mapping(void **state)
{
    (void)state;
    hak_trim(0);
    char *a = hak_malloc(2u << 20);
    assert_non_null(a);
    touch(a, 2u << 20, 1);
    hak_free(a);
    long f0 = minflt();
    char *b = hak_malloc(3u << 20);
    assert_non_null(b);
    touch(b, 3u << 20, 2);
    long faults = minflt() - f0;
    assert_true(hak_usable_size(b) >= (3u << 20));
#ifndef HAK_INTERNAL_ONLY
    if (faults > 256 + 64)
        fail_msg("3 MiB after a freed 2 MiB: %ld faults (a fresh mapping takes 768)", faults);
#endif
    (void)faults;
    hak_free(b);
    hak_trim(0);
}

/* 24 large blocks of distinct sizes freed, then allocated again in the
 * same sizes: all of them come back from the cache without faulting (with
 * an 8-entry cache, 16 were unmapped on free and faulted in again). */
static void many_freed_mappings_stay_cached(void **state)
{
    (void)state;
    enum { N = 24 };
    size_t size[N];
    char *p[N];
    hak_trim(0);
    for (int i = 0; i < N; i++) {
        size[i] = (300u << 10) + (size_t)i * (20u << 10);   /* 300..760 KiB: 16 MiB in all */
        p[i] = hak_malloc(size[i]);
        assert_non_null(p[i]);
        touch(p[i], size[i], 3);
    }
    for (int i = 0; i < N; i++) hak_free(p[i]);
    long f0 = minflt();
    for (int i = N - 1; i >= 0; i--) {
        p[i] = hak_malloc(size[i]);
        assert_non_null(p[i]);
        touch(p[i], size[i], 4);
    }
    long faults = minflt() - f0;
#ifndef HAK_INTERNAL_ONLY
    if (faults > 200)
        fail_msg("24 large blocks reallocated after free: %ld faults (fresh: ~3000)", faults);
#endif
    (void)faults;
    for (int i = 0; i < N; i++) hak_free(p[i]);
    hak_trim(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bigger_request_grows_cached_mapping),
        cmocka_unit_test(many_freed_mappings_stay_cached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
