/* many_idle_threads N [ROUNDS]: N threads each make 2 x 100 x ROUNDS
 * allocation events, then all meet at a barrier with main (so every
 * thread holds a partly filled recorder block while others still start),
 * then ROUNDS more batches of N short-lived threads (thread churn).
 * Prints "events E" with the malloc+free count it made. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_barrier_t bar;
static int rounds = 20;

static void *worker(void *meet)
{
    void *v[100];
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 100; i++) v[i] = malloc(32 + (size_t)i);
        for (int i = 0; i < 100; i++) free(v[i]);
    }
    if (meet) pthread_barrier_wait(&bar);
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 0;
    if (argc > 2) rounds = atoi(argv[2]);
    if (n < 1 || n > 4096 || rounds < 1) {
        fprintf(stderr, "usage: many_idle_threads N(1..4096) [ROUNDS]\n");
        return 2;
    }
    pthread_t *t = calloc((size_t)n, sizeof *t);
    if (!t || pthread_barrier_init(&bar, NULL, (unsigned)n + 1)) return 1;
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, worker, &bar)) { perror("pthread_create"); return 1; }
    pthread_barrier_wait(&bar);
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    for (int b = 0; b < rounds; b++) {       /* churn: N threads at a time, no meeting */
        for (int i = 0; i < n; i++)
            if (pthread_create(&t[i], NULL, worker, NULL)) { perror("pthread_create"); return 1; }
        for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    }
    printf("events %ld\n", 2L * 100 * rounds * n * (rounds + 1));
    free(t);
    return 0;
}
