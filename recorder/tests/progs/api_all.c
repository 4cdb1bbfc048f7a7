/* api_all - calls every interposed allocation function once with known
 * arguments (and mmap/mremap/munmap), printing what each returned, so the
 * test can check that the trace holds exactly those fields: op, size,
 * nmemb, alignment, input and output pointers, errno of a failed call.
 * Each output line is an extended regex that one line of `hak trace dump`
 * of the recording must match. */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define P(p) ((unsigned long)(uintptr_t)(p))

int main(void)
{
    void *a = malloc(100);
    printf("malloc size=100 -> 0x%lx site=\n", P(a));
    void *b = calloc(7, 24);
    printf("calloc nmemb=7 size=24 -> 0x%lx site=\n", P(b));
    void *c = realloc(a, 5000);
    printf("realloc 0x%lx size=5000 -> 0x%lx site=\n", P(a), P(c));
    void *d = reallocarray(b, 9, 40);
    printf("reallocarray 0x%lx nmemb=9 size=40 -> 0x%lx site=\n", P(b), P(d));
    void *e = memalign(256, 300);
    printf("memalign align=256 size=300 -> 0x%lx site=\n", P(e));
    void *f = NULL;
    int rc = posix_memalign(&f, 128, 70);
    printf("posix_memalign align=128 size=70 -> 0x%lx site=%s\n", P(f), rc ? "FAILED" : "");
    void *g = aligned_alloc(64, 640);
    printf("aligned_alloc align=64 size=640 -> 0x%lx site=\n", P(g));
    void *h = valloc(10);
    printf("valloc size=10 -> 0x%lx site=\n", P(h));
    void *i = pvalloc(10);
    printf("pvalloc size=10 -> 0x%lx site=\n", P(i));
    errno = 0;
    void *j = malloc(SIZE_MAX / 2);      /* fails with ENOMEM */
    printf("malloc size=%lu -> 0x0 site=[0-9]+ err=%d$\n", (unsigned long)(SIZE_MAX / 2), j ? -1 : errno);
    void *m = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap len=65536 prot=0x%x flags=0x%x -> 0x%lx site=\n", PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, P(m));
    void *m2 = mremap(m, 65536, 131072, MREMAP_MAYMOVE);
    printf("mremap 0x%lx old=65536 new=131072 -> 0x%lx site=\n", P(m), P(m2));
    munmap(m2, 131072);
    printf("munmap 0x%lx len=131072$\n", P(m2));
    free(c); free(d); free(e); free(f); free(g); free(h); free(i);
    printf("free 0x%lx$\n", P(c));
    return 0;
}
