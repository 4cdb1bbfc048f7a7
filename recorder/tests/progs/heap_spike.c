/* heap_spike.c - a heap peak shorter than the recorder's timed heap
 * samples are apart (20 ms at least), for tests/heap_samples.sh: the heap
 * grows by a written 1 MiB block every millisecond to 64 MiB, is held for
 * 2 ms and given back at once (glibc maps blocks this big apart and unmaps
 * them on free), then the program idles 150 ms on a small heap.  Timed
 * samples alone see the last 10% of the growth in about a third of the
 * recordings; the samples taken at each new RSS high (rec_heap.c) see it
 * in all of them. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { N = 64, SZ = 1 << 20 };

int main(void)
{
    static char *blk[N];
    for (int i = 0; i < N; i++) {
        if (!(blk[i] = malloc(SZ)))
            return 1;
        memset(blk[i], i + 1, SZ);
        usleep(1000);
    }
    usleep(2000);
    int sum = 0;
    for (int i = 0; i < N; i++) {
        sum += blk[i][SZ - 1];
        free(blk[i]);
    }
    for (int i = 0; i < 150; i++) {              /* idle, a little churn */
        free(malloc(64 + (size_t)i));
        usleep(1000);
    }
    return sum == -1;
}
