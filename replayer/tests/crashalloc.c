/* crashalloc.c - a malloc-replacing library that works (by forwarding to
 * glibc) for CRASHALLOC_AFTER calls (default 2000) and then crashes with
 * SIGSEGV: the replayer must store the run as "crashed" and go on. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static long calls, limit = -1;

static void count(void)
{
    if (limit < 0) {
        const char *e = getenv("CRASHALLOC_AFTER");
        limit = e ? atol(e) : 2000;
    }
    if (++calls > limit)
        raise(SIGSEGV);
}

void *malloc(size_t n) { count(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { count(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { count(); return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
