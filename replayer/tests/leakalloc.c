/* leakalloc.c - a malloc-replacing library that never reuses a freed block
 * until its arena wraps: a stand-in for an allocator that keeps what a
 * program frees.  replay_defaults.sh uses it to check that a repeated-pass
 * replay (--min-time) reports the first pass's peak RSS, not one that grows
 * with the number of passes.  The arena is 64 MiB and wraps around, so a
 * run of many passes stays bounded (blocks reused after a wrap may still be
 * live: fine for a replay, which only writes its blocks' first bytes and
 * frees them, never reads them back). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define ARENA (64u << 20)
#define HDR 16                       /* each block's size, 16 bytes before it */

static char *arena;
static size_t next;                  /* bump offset, atomic */

static void *take(size_t align, size_t n)
{
    if (!arena) {
        void *a = mmap(NULL, ARENA, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (a == MAP_FAILED)
            return NULL;
        char *none = NULL;
        if (!__atomic_compare_exchange_n(&arena, &none, (char *)a, 0,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            munmap(a, ARENA);
    }
    if (align < HDR)
        align = HDR;
    size_t need = (n + HDR + align + 15) & ~(size_t)15;
    if (need > ARENA / 4) {
        errno = ENOMEM;
        return NULL;
    }
    size_t off = __atomic_fetch_add(&next, need, __ATOMIC_RELAXED) % ARENA;
    if (off + need > ARENA)          /* straddles the end: take the start */
        off = 0;
    uintptr_t p = ((uintptr_t)arena + off + HDR + align - 1) & ~(uintptr_t)(align - 1);
    ((size_t *)p)[-1] = n;
    return (void *)p;
}

void *malloc(size_t n) { return take(16, n); }
void free(void *p) { (void)p; }
size_t malloc_usable_size(void *p) { return p ? ((size_t *)p)[-1] : 0; }
void *calloc(size_t a, size_t b)
{
    size_t n;
    if (__builtin_mul_overflow(a, b, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = take(16, n);
    if (p)
        memset(p, 0, n);
    return p;
}
void *realloc(void *p, size_t n)
{
    void *q = take(16, n);
    if (q && p) {
        size_t old = malloc_usable_size(p);
        memcpy(q, p, old < n ? old : n);
    }
    return q;
}
void *memalign(size_t align, size_t n) { return take(align, n); }
void *aligned_alloc(size_t align, size_t n) { return take(align, n); }
int posix_memalign(void **out, size_t align, size_t n)
{
    void *p = take(align, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}
