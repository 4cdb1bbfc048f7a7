/* nopie_mallocptr.c - built -no-pie, takes malloc's address (as Debian's
 * python3.11 does for its PyMem tables): the executable then defines a
 * canonical PLT entry for malloc, which dlsym(RTLD_DEFAULT) returns instead
 * of the preloaded recorder's malloc (recorder/tests/record.sh). */
#include <stdio.h>
#include <stdlib.h>

static void *(*volatile alloc_fn)(size_t);
static void (*volatile free_fn)(void *);

int main(void)
{
    /* taken in code, as an immediate (-fno-pie): a data initializer would
     * get a dynamic relocation instead of the canonical PLT entry */
    alloc_fn = malloc;
    free_fn = free;
    int n = 0;
    for (int i = 0; i < 1000; i++) {
        char *p = alloc_fn(64 + i);
        p[0] = (char)i;
        n += p[0] != 0;
        free_fn(p);
    }
    printf("%d\n", n);
    return 0;
}
