/* churn [THREADS [MS [PAUSE_MS]]]: THREADS threads (default 2) each
 * allocate and free small blocks of varied sizes for MS milliseconds
 * (default 300), keeping a small window of live blocks; with PAUSE_MS, each
 * thread alternates bursts of 100k-400k events with pauses of about
 * PAUSE_MS (slow phases get partial flushes, bursts then fill the same block).  Recorded many times by recorder/tests/integrity.sh
 * and stress.sh: the mix of full-block hand-offs and partial flushes of
 * slowly and quickly filling blocks is where a job that referenced a
 * thread's block without owning it read recycled records. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long ms_total = 300, pause_ms = 0;

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *churn(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u + 1;
    void *win[64] = {0};
    long end = now_ms() + ms_total, n = 0;
    while ((n & 1023) || now_ms() < end) {
        seed = seed * 1103515245u + 12345u;
        unsigned i = (seed >> 8) & 63;
        free(win[i]);
        win[i] = malloc(16 + (seed >> 20) % 512);
        if (!win[i])
            abort();
        n++;
        /* now and then a pause, so partial flushes of a block that is
         * still being filled happen too */
        if (pause_ms && (n & 4095) == 0) {
            /* phases of PAUSE_MS shared by all threads (by the clock):
             * odd phases idle, even ones busy */
            long t = now_ms();
            if ((t / pause_ms) % 2 == 1) {
                long wake = (t / pause_ms + 1) * pause_ms;
                struct timespec ts = {(wake - t) / 1000, ((wake - t) % 1000) * 1000000};
                nanosleep(&ts, NULL);
            }
        }
    }
    for (int i = 0; i < 64; i++)
        free(win[i]);
    return NULL;
}

int main(int argc, char **argv)
{
    int nthreads = argc > 1 ? atoi(argv[1]) : 2;
    if (argc > 2)
        ms_total = atol(argv[2]);
    if (argc > 3)
        pause_ms = atol(argv[3]);
    if (nthreads < 1 || nthreads > 64)
        nthreads = 2;
    pthread_t t[64];
    for (int i = 0; i < nthreads; i++)
        pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1));
    for (int i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    puts("ok");
    return 0;
}
