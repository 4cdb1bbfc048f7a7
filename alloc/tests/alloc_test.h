/* alloc_test.h - shared helpers for the allocator tests.  The same test
 * sources build twice: against libhakmem.a (whole archive: malloc itself is
 * ours) and, with HAK_INTERNAL_ONLY, against the allocator sources built
 * with ASan+UBSan and no libc overrides; tests therefore call hak_* names. */
#ifndef ALLOC_TEST_H
#define ALLOC_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hakmem.h"

/* Deterministic fill pattern of a block, checked on free. */
static inline void pat_fill(void *p, size_t n, uint64_t seed)
{
    unsigned char *c = p;
    for (size_t i = 0; i < n; i++) c[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 8));
}

static inline int pat_check(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != (unsigned char)(seed * 131 + i * 7 + (i >> 8))) return 0;
    return 1;
}

static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return *s = x;
}

static inline struct hak_alloc_stats *stats_now(struct hak_alloc_stats *st)
{
    memset(st, 0, sizeof *st);
    st->struct_size = sizeof *st;
    hak_alloc_stats(st);
    return st;
}

#ifdef HAK_INTERNAL_ONLY
#define SCALE 4      /* sanitizer builds run a quarter of the iterations */
#else
#define SCALE 1
#endif

#endif
