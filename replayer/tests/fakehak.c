/* fakehak.c - a malloc-replacing library (forwarding to glibc) that offers
 * HAKMEM's introspection entry points, so the tests can check that the
 * replayer stores an allocator's version and effective configuration. */
#include <stdlib.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

void *malloc(size_t n) { return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }

const char *hak_alloc_version(void) { return "fakehak 9.9 build test"; }
const char *hak_alloc_config(void)
{
    const char *k = getenv("HAKMEM_FAKE_KNOB");
    return k && *k == '1' ? "HAKMEM_FAKE_KNOB=1" : "HAKMEM_FAKE_KNOB=0";
}
