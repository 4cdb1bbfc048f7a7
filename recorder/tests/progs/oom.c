/* oom: allocations that fail (run under ulimit -v): big mallocs, callocs
 * and reallocs until they fail; counts failures and checks errno. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    int fails = 0, ok = 0;
    void *keep[64];
    int nk = 0;
    for (int i = 0; i < 64; i++) {
        void *p = malloc((size_t)64 << 20);          /* 64 MiB each */
        if (!p) {
            if (errno != ENOMEM)
                return 2;
            fails++;
        } else {
            ok++;
            keep[nk++] = p;
        }
    }
    void *c = calloc((size_t)1 << 20, 4096);         /* 4 GiB */
    if (!c)
        fails++;
    void *r = malloc(100);
    void *r2 = realloc(r, (size_t)8 << 30);
    if (!r2)
        fails++;
    else
        r = r2;
    free(r);
    free(c);
    for (int i = 0; i < nk; i++)
        free(keep[i]);
    printf("oom: failures seen: %s\n", fails > 0 ? "yes" : "no");
    return 0;
}
