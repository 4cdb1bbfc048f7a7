/* spinner: allocates and frees forever (until killed), printing "ready"
 * once it has run for a while, so a test can SIGKILL it mid-recording. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(void)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int said = 0;
    void *ring[256] = {0};
    for (unsigned long i = 0;; i++) {
        unsigned k = (unsigned)(i * 2654435761u) % 256;
        free(ring[k]);
        ring[k] = malloc(16 + i % 512);
        if (!said && (i & 0xffff) == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) > 400000000L) {
                printf("ready\n");
                fflush(stdout);
                said = 1;
            }
        }
    }
}
