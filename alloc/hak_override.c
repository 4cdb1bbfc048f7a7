/* hak_override.c - the libc allocation names, so that libhakmem.so replaces
 * malloc when preloaded (and libhakmem.a when linked whole into a program).
 * Kept apart from the allocator so the internals can be built without these
 * overrides (the sanitizer test build links everything except this file).
 *
 * malloc and free inline the fast paths; everything else forwards to the
 * hak_* implementation.  mallopt/mallinfo/malloc_trim answer in the spirit
 * of glibc: mallopt accepts the M_* parameters (and ignores them: layout is
 * set by HAKMEM_* knobs), mallinfo, malloc_stats and malloc_info report our
 * own counters (hak_report.c).
 */
#include "hak_fast.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#define EXPORT HAK_API

EXPORT void *malloc(size_t n) { return hak_malloc_fast(n); }
EXPORT void free(void *p) { hak_free_fast(p); }
EXPORT void cfree(void *p) { hak_free_fast(p); }
EXPORT void *calloc(size_t a, size_t b) { return hak_calloc(a, b); }
EXPORT void *realloc(void *p, size_t n) { return hak_realloc(p, n); }
EXPORT void *reallocarray(void *p, size_t a, size_t b) { return hak_reallocarray(p, a, b); }
EXPORT void *memalign(size_t al, size_t n) { return hak_memalign(al, n); }
EXPORT void *aligned_alloc(size_t al, size_t n) { return hak_aligned_alloc(al, n); }
EXPORT int posix_memalign(void **out, size_t al, size_t n) { return hak_posix_memalign(out, al, n); }
EXPORT void *valloc(size_t n) { return hak_memalign(HAK_PAGE, n); }
EXPORT void *pvalloc(size_t n)
{
    size_t r = (n + HAK_PAGE - 1) & ~(size_t)(HAK_PAGE - 1);
    if (r < n) { errno = ENOMEM; return NULL; }
    return hak_memalign(HAK_PAGE, r ? r : HAK_PAGE);
}
EXPORT size_t malloc_usable_size(void *p) { return hak_usable_size(p); }
EXPORT int malloc_trim(size_t pad) { return hak_trim(pad); }
EXPORT void malloc_stats(void) { hak_report_stats(2); }
EXPORT int malloc_info(int options, FILE *fp) { return hak_report_info(options, fp); }

EXPORT int mallopt(int param, int value)
{
    (void)value;
    switch (param) {
    case M_MXFAST: case M_TRIM_THRESHOLD: case M_TOP_PAD: case M_MMAP_THRESHOLD:
    case M_MMAP_MAX: case M_CHECK_ACTION: case M_PERTURB: case M_ARENA_TEST:
    case M_ARENA_MAX:
        return 1;
    default:
        return 0;
    }
}

EXPORT struct mallinfo2 mallinfo2(void)
{
    struct hak_alloc_stats st = {.struct_size = sizeof st};
    hak_alloc_stats(&st);
    struct mallinfo2 mi = {0};
    mi.arena = st.bytes_mapped - st.large_bytes;
    mi.ordblks = st.superslabs;
    mi.hblks = st.large_blocks;
    mi.hblkhd = st.large_bytes;
    mi.uordblks = st.bytes_live;
    mi.fordblks = st.bytes_mapped > st.bytes_live ? st.bytes_mapped - st.bytes_live : 0;
    return mi;
}

EXPORT struct mallinfo mallinfo(void)
{
    struct mallinfo2 m2 = mallinfo2();
    struct mallinfo mi = {0};
    mi.arena = (int)m2.arena;
    mi.ordblks = (int)m2.ordblks;
    mi.hblks = (int)m2.hblks;
    mi.hblkhd = (int)m2.hblkhd;
    mi.uordblks = (int)m2.uordblks;
    mi.fordblks = (int)m2.fordblks;
    return mi;
}
