/* The large-block cache (hak_large.c): a request bigger than every cached
 * mapping grows a resident one instead of faulting in a fresh mapping, and
 * more freed mappings than the old 8 entries stay cached.  Both measured as
 * page faults (ru_minflt) in the linked build; the sanitizer build checks
 * the same sequences for content only. */
#include "alloc_test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

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

/* 48 MiB of 4 MiB blocks written, freed, allocated and written again:
 * all of them stay resident (the default HAKMEM_LARGE_CACHE is 64 MiB, the
 * bytes the cache holds at most), so the second round does not fault.
 * With a 32 MiB budget 5 of the 12 (4 MiB and a header page each) were
 * purged: 5,120 faults.  (A program
 * keeping ~26 MiB of 1..4 MiB blocks live, alloc/tests/race, took 4x
 * tcmalloc's faults for no lower peak RSS.) */
static void freed_large_blocks_up_to_64mib_stay_resident(void **state)
{
    (void)state;
    enum { N = 12 };
    const size_t four = 4u << 20;
    char *p[N];
    hak_trim(0);
    for (int i = 0; i < N; i++) {
        p[i] = hak_malloc(four);
        assert_non_null(p[i]);
        touch(p[i], four, 6);
    }
    for (int i = 0; i < N; i++) hak_free(p[i]);
    long f0 = minflt();
    for (int i = 0; i < N; i++) {
        p[i] = hak_malloc(four);
        assert_non_null(p[i]);
        touch(p[i], four, 7);
    }
    long faults = minflt() - f0;
#ifndef HAK_INTERNAL_ONLY
    if (faults > 300)
        fail_msg("12 x 4 MiB reallocated after free: %ld faults (32 MiB budget: 5120)", faults);
#endif
    (void)faults;
    for (int i = 0; i < N; i++) hak_free(p[i]);
    hak_trim(0);
}

#ifndef __SANITIZE_ADDRESS__     /* its shadow memory rules out an address-space limit */
/* The process's address space in bytes (VmSize), read with plain
 * syscalls: stdio would allocate. */
static size_t vm_size(void)
{
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    char *v = strstr(buf, "VmSize:");
    return v ? strtoull(v + 7, NULL, 10) << 10 : 0;
}

/* When the cached mapping cannot grow (the pages after it are taken, and
 * no room is left for a moved copy), it is unmapped and the request mapped
 * afresh: with an address-space limit that fits the new mapping only once
 * the old one is gone, malloc still succeeds.  Without the unmap, the old
 * mapping would stay (leaked) and the fresh one not fit: NULL. */
static void cached_mapping_that_cannot_grow_is_replaced(void **state)
{
    (void)state;
    hak_trim(0);
    const size_t four = 4u << 20, six = 6u << 20, page = 4096;
    char *a = hak_malloc(four);
    assert_non_null(a);
    touch(a, four, 5);
    /* The mapping is the block plus a header page (hak_large.c); take the
     * page after it, so that mremap cannot grow it in place. */
    char *end = a + four;
    void *wall = mmap(end, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (wall == MAP_FAILED && errno != EEXIST) fail_msg("mmap of the wall page: %s", strerror(errno));
    assert_true(wall == MAP_FAILED || wall == (void *)end);
    hak_free(a);                    /* resident in the cache */
    /* Room for 5 MiB more: growing needs a 6 MiB mapping (moved copy), a
     * fresh one at most 8 MiB (6 + SuperSlab alignment) of which the 4 MiB
     * of the old mapping are given back first. */
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_AS, &old), 0);
    size_t vm = vm_size();
    assert_true(vm > 0);
    struct rlimit lim = {vm + (5u << 20), old.rlim_max};
    if (old.rlim_max != RLIM_INFINITY && lim.rlim_cur > old.rlim_max)
        fail_msg("RLIMIT_AS hard limit %llu leaves no room for the test", (unsigned long long)old.rlim_max);
    assert_int_equal(setrlimit(RLIMIT_AS, &lim), 0);
    char *b = hak_malloc(six);
    size_t vm_after = vm_size();
    assert_int_equal(setrlimit(RLIMIT_AS, &old), 0);
    if (!b) fail_msg("6 MiB after a cached 4 MiB that cannot grow: NULL (the old mapping was kept)");
    assert_true(hak_usable_size(b) >= six);
    pat_fill(b, six, 11);
    assert_true(pat_check(b, six, 11));
    assert_true(vm_after <= vm + (5u << 20));
    hak_free(b);
    if (wall != MAP_FAILED) munmap(wall, page);
    hak_trim(0);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bigger_request_grows_cached_mapping),
        cmocka_unit_test(many_freed_mappings_stay_cached),
        cmocka_unit_test(freed_large_blocks_up_to_64mib_stay_resident),
#ifndef __SANITIZE_ADDRESS__
        cmocka_unit_test(cached_mapping_that_cannot_grow_is_replaced),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
