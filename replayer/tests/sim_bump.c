/* sim_bump.c - a trivial bump allocator built as a .so for the simulator's
 * tests: proves that `--alloc PATH.so` is really served by the library
 * (every block comes from its one arena) and not by the process's malloc.
 * Complete enough to be LD_PRELOADed under all of `hak` (realloc copies;
 * each block has a 16-byte header holding its size). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ARENA (1024ul << 20)
static char *arena, *top;
char *sim_bump_arena_base(void) { return arena; }

static void *bump(size_t size, size_t align)
{
    if (!arena) {
        arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (arena == MAP_FAILED) { arena = NULL; return NULL; }
        top = arena;
    }
    if (align < 16)
        align = 16;
    uintptr_t p = ((uintptr_t)top + 16 + align - 1) & ~(uintptr_t)(align - 1);
    if (size > ARENA || p + size > (uintptr_t)arena + ARENA)
        return NULL;
    top = (char *)(p + size);
    ((size_t *)p)[-1] = size;
    return (void *)p;
}

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
    return bump(size, 16);
}
void free(void *p) { (void)p; }
void *calloc(size_t n, size_t s)
{
    if (s && n > SIZE_MAX / s)
        return NULL;
    return bump(n * s, 16);   /* fresh mmap'd memory is zero */
}
void *realloc(void *old, size_t size)
{
    void *p = bump(size, 16);
    if (p && old) {
        size_t was = ((size_t *)old)[-1];
        memcpy(p, old, was < size ? was : size);
    }
    return p;
}
int posix_memalign(void **out, size_t align, size_t size)
{
    *out = bump(size, align);
    return *out ? 0 : 12;
}
void *aligned_alloc(size_t align, size_t size) { return bump(size, align); }
void *memalign(size_t align, size_t size) { return bump(size, align); }
