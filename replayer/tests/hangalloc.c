/* hangalloc.c - a malloc-replacing library that forwards to glibc for
 * HANGALLOC_AFTER calls (default 2000) and then never returns: the
 * replayer must kill the run after --timeout and store it as "timeout". */
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
        const char *e = getenv("HANGALLOC_AFTER");
        limit = e ? atol(e) : 2000;
    }
    if (++calls > limit)
        for (;;)
            pause();
}

void *malloc(size_t n) { count(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { count(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { count(); return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
