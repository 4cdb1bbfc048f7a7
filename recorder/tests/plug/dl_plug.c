/* dl_plug: a plugin for progs/dl_reload, built twice (libplug_a.so with
 * FRAME 8, libplug_b.so with FRAME 100): the same code at the same
 * offsets, with a different stack frame size, so when one is unloaded and
 * the other loaded at its address, the return address into plug_alloc is
 * the same number with a different unwind rule. */
#include <stdlib.h>

__attribute__((noinline)) void *plug_alloc(size_t n)
{
    volatile char buf[FRAME];
    buf[0] = (char)n;
    void *p = malloc(n + (size_t)(buf[0] & 1));
    __asm__ volatile("" ::: "memory");
    return p;
}
