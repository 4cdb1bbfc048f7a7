/* seq_switch - races the recorder's switch from single-thread sequence
 * numbers (plain increment by the only recording thread) to the shared
 * atomic counter: the main thread allocates in a tight loop while a second
 * thread starts and allocates at once, so the second thread's registration
 * lands in the middle of the first thread's plain increments.  The trace
 * checker then requires every seq to be unique (rec_seq.c).
 * usage: seq_switch [ROUNDS (default 200000)] */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static atomic_int go, running;
static long rounds = 200000;

static void churn(long n, long salt)
{
    void *keep[16] = {0};
    for (long i = 0; i < n; i++) {
        if (i == 1000 && salt == 0)
            atomic_store(&go, 1);   /* release the second thread mid-loop */
        long k = (i * 7 + salt) & 15;
        free(keep[k]);
        keep[k] = malloc(16 + (size_t)((i + salt) & 255));
    }
    for (int k = 0; k < 16; k++)
        free(keep[k]);
}

static void *second(void *arg)
{
    (void)arg;
    atomic_store(&running, 1);
    while (!atomic_load(&go))
        ;
    churn(rounds, 1);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        rounds = atol(argv[1]);
    free(malloc(1));               /* the main thread records first: it owns seq */
    pthread_t t;
    if (pthread_create(&t, NULL, second, NULL) != 0)
        return 1;
    while (!atomic_load(&running))
        ;
    churn(rounds, 0);
    pthread_join(t, NULL);
    puts("seq_switch: done");
    return 0;
}
