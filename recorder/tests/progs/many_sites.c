/* many_sites - many distinct call sites, to grow the recorder's call-site
 * tables past their first size (rec_stacks.c).
 *   many_sites chains: 16 functions at 3 levels call each other in all
 *     4096 orders before malloc: 4096 distinct stacks, each its own site.
 *   many_sites depth N: one function recursing to every depth 1..N and
 *     allocating at the bottom, twice (N stack depths).
 * Prints a checksum of the allocations' first bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void *(*fn)(unsigned i, int lvl);
static fn tab[16];

#define F(n) \
    static __attribute__((noinline)) void *f##n(unsigned i, int lvl) \
    { \
        void *p = lvl == 0 ? malloc(16 + n) : tab[(i >> (4 * (lvl - 1))) & 15](i, lvl - 1); \
        __asm__ volatile("" ::: "memory");  /* no tail call: keep this frame */ \
        return p; \
    }
F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9) F(10) F(11) F(12) F(13) F(14) F(15)

static __attribute__((noinline)) void *down(int d)
{
    void *p = d == 0 ? malloc(32) : down(d - 1);
    __asm__ volatile("" ::: "memory");
    return p;
}

int main(int argc, char **argv)
{
    fn init[16] = {f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15};
    memcpy(tab, init, sizeof tab);
    unsigned long sum = 0;
    if (argc > 1 && !strcmp(argv[1], "chains")) {
        for (unsigned i = 0; i < 4096; i++) {
            unsigned char *p = tab[i & 15](i >> 4, 2);
            p[0] = (unsigned char)i;
            sum += p[0];
            free(p);
        }
    } else if (argc > 2 && !strcmp(argv[1], "depth")) {
        int n = atoi(argv[2]);
        for (int round = 0; round < 2; round++)
            for (int d = 1; d <= n; d++) {
                unsigned char *p = down(d);
                p[0] = (unsigned char)d;
                sum += p[0];
                free(p);
            }
    } else {
        fprintf(stderr, "usage: many_sites chains | depth N\n");
        return 2;
    }
    printf("many_sites: checksum %lu\n", sum);
    return 0;
}
