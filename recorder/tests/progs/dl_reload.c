/* dl_reload: unloading an object and loading another at its addresses
 * (recorder/tests/stacks.sh).  Loads PLUGIN_A, allocates through its
 * plug_alloc, unloads it, then the same with PLUGIN_B, twice.  The two
 * plugins (tests/plug/dl_plug.c) have plug_alloc at the same offset with
 * different frame sizes, so a call-site walker that kept the first one's
 * unwind rules would step wrongly through the second.  Prints whether
 * the loader put both at the same address (the case this exercises).
 * usage: dl_reload PLUGIN_A PLUGIN_B */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef void *(*plug_fn)(size_t);

/* Fills the stack below the caller with a pattern, so plug_alloc's frame
 * holds no return address left over from an earlier call (a walker with
 * the wrong frame size must not find the right word by chance). */
static __attribute__((noinline)) void scribble(void)
{
    volatile unsigned char buf[4096];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = 0x5a;
}

static __attribute__((noinline)) void *via(plug_fn f, size_t n)
{
    scribble();
    void *p = f(n);
    __asm__ volatile("" ::: "memory");
    return p;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: dl_reload PLUGIN_A PLUGIN_B\n");
        return 2;
    }
    void *addr[2] = {0, 0};
    for (int round = 0; round < 4; round++) {
        const char *path = argv[1 + round % 2];
        void *h = dlopen(path, RTLD_NOW);
        if (!h) {
            fprintf(stderr, "dl_reload: %s\n", dlerror());
            return 1;
        }
        plug_fn f = (plug_fn)dlsym(h, "plug_alloc");
        if (!f) {
            fprintf(stderr, "dl_reload: %s: no plug_alloc\n", path);
            return 1;
        }
        for (int i = 0; i < 100; i++)
            free(via(f, 32 + (size_t)i));
        addr[round % 2] = (void *)f;
        dlclose(h);
    }
    printf("dl_reload: plugins at the same address: %s\n", addr[0] == addr[1] ? "yes" : "no");
    return 0;
}
