/* heap_known.c - a program whose heap is known, for tests/heap_samples.sh:
 * it churns (so the recorder's encoders, zstd contexts and tables are all
 * at work), then holds 24 MiB of written blocks for 400 ms, long enough
 * for several heap samples.  "measure": at the plateau it prints its own
 * heap-only RSS (traces/common/heap_rss.h, as the recorder samples it),
 * which a run without the recorder gives as the truth the trace's heap
 * samples must match. */
#include "heap_rss.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { BIG = 64, BIG_SZ = 256 << 10, SMALL = 32768, SMALL_SZ = 256 };

int main(int argc, char **argv)
{
    int measure = argc > 1 && !strcmp(argv[1], "measure");
    static void *ring[4096];
    for (unsigned i = 0; i < 600000; i++) {          /* churn: 1.2M events */
        unsigned k = (i * 2654435761u) % 4096;
        free(ring[k]);
        ring[k] = malloc(16 + (i * 7919u) % 2000);
    }
    for (unsigned k = 0; k < 4096; k++) {
        free(ring[k]);
        ring[k] = NULL;
    }
    static char *big[BIG], *small[SMALL];
    for (int i = 0; i < BIG; i++)
        if (!(big[i] = malloc(BIG_SZ)) || !memset(big[i], i, BIG_SZ))
            return 1;
    for (int i = 0; i < SMALL; i++)
        if (!(small[i] = malloc(SMALL_SZ)) || !memset(small[i], i, SMALL_SZ))
            return 1;
    usleep(200000);
    hak_heap_rss h;
    if (measure) {
        if (hak_heap_rss_read(0, &h) != 0)
            return 1;
        printf("%llu\n", (unsigned long long)hak_heap_rss_bytes(&h));
    }
    usleep(200000);
    int sum = 0;
    for (int i = 0; i < BIG; i++)
        sum += big[i][i];
    return sum == -1;
}
