/* null_preload.c - the recorder bench's floor: an LD_PRELOAD interposer of
 * malloc, free, calloc and realloc that records nothing.  Each call only
 * does what any preloaded recorder must (heaptrack's, ours): enter through
 * the interposed symbol, check and set a per-thread reentrancy guard, call
 * the real function through a pointer, clear the guard.  Its slowdown is
 * the part of a recorder's cost that interposition alone costs, whatever
 * the recorder does with the events.
 *
 * glibc only: the real functions are glibc's __libc_* entry points, which
 * need no dlsym (and so no bootstrap allocator) to find.  The rest of the
 * API (memalign, posix_memalign, ...) is not interposed; glibc serves it
 * from the same heap. */
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

/* Pointers, not direct calls: a recorder finds the real functions at run
 * time, so it calls them indirectly.  volatile keeps the compiler from
 * turning them back into direct calls. */
static void *(*volatile real_malloc)(size_t) = __libc_malloc;
static void (*volatile real_free)(void *) = __libc_free;
static void *(*volatile real_calloc)(size_t, size_t) = __libc_calloc;
static void *(*volatile real_realloc)(void *, size_t) = __libc_realloc;

static __thread int busy __attribute__((tls_model("initial-exec")));

#define EXPORT __attribute__((visibility("default")))

EXPORT void *malloc(size_t n)
{
    if (busy)
        return real_malloc(n);
    busy = 1;
    void *p = real_malloc(n);
    busy = 0;
    return p;
}

EXPORT void free(void *p)
{
    if (busy) {
        real_free(p);
        return;
    }
    busy = 1;
    real_free(p);
    busy = 0;
}

EXPORT void *calloc(size_t nmemb, size_t size)
{
    if (busy)
        return real_calloc(nmemb, size);
    busy = 1;
    void *p = real_calloc(nmemb, size);
    busy = 0;
    return p;
}

EXPORT void *realloc(void *old, size_t n)
{
    if (busy)
        return real_realloc(old, n);
    busy = 1;
    void *p = real_realloc(old, n);
    busy = 0;
    return p;
}
