/* exit_busy: main returns after 100 ms while another thread allocates and
 * frees in a loop: that thread's calls after the recorder's final flush at
 * exit cannot be recorded, and the trace must say so ("unflushed threads",
 * recorder/tests/loss.sh). */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static void *spin(void *arg)
{
    (void)arg;
    for (;;) {
        void *volatile p = malloc(64);   /* volatile: kept by the compiler */
        free(p);
    }
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, spin, NULL);
    usleep(100000);
    return 0;
}
