/* sim_bump.c - a trivial bump allocator built as a .so for the simulator's
 * tests: proves that `--alloc PATH.so` is really served by the library
 * (every block comes from its one arena) and not by the process's malloc. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define ARENA (256u << 20)
static char *arena, *top;
char *sim_bump_arena_base(void) { return arena; }

static void *bump(size_t size, size_t align)
{
    if (!arena) {
        arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (arena == MAP_FAILED) { arena = NULL; return NULL; }
        top = arena;
    }
    uintptr_t p = ((uintptr_t)top + align - 1) & ~(uintptr_t)(align - 1);
    if (p + size + 16 > (uintptr_t)arena + ARENA)
        return NULL;
    top = (char *)(p + size + 16);
    ((size_t *)(p + size))[0] = size;   /* trailer, so realloc can copy */
    return (void *)p;
}
#include <stdlib.h>
/* SIM_BUMP_CRASH=N: the Nth malloc dereferences NULL (crash handling test). */
static long calls, crash_at = -1;
void *malloc(size_t size)
{
    if (crash_at < 0) {
        const char *c = getenv("SIM_BUMP_CRASH");
        crash_at = c ? atol(c) : 0;
    }
    if (crash_at > 0 && ++calls == crash_at)
        *(volatile int *)0 = 1;
    return bump(size ? size : 1, 16);
}
void free(void *p) { (void)p; }
void *calloc(size_t n, size_t s) { void *p = bump(n * s, 16); if (p) memset(p, 0, n * s); return p; }
void *realloc(void *old, size_t size)
{
    void *p = bump(size ? size : 1, 16);
    if (p && old)
        memcpy(p, old, size < 16 ? size : 16);   /* tests never read contents */
    return p;
}
int posix_memalign(void **out, size_t align, size_t size)
{
    *out = bump(size, align);
    return *out ? 0 : 12;
}
