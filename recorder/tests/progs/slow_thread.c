/* slow_thread - a thread that allocates rarely next to one that allocates
 * all the time: the slow thread's events must still get their own times
 * (rec_seq.c: a thread's seq batch expires with each clock sample, so it
 * cannot stamp late events with the time it took the batch).
 * The slow thread mallocs a 777-byte block every 20 ms, 10 times, while
 * the main thread churns malloc/free until it is done.  With "solo" the
 * main thread does the slow part itself and no other thread runs (one
 * recording thread: the batch must expire all the same). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_int done;

static void *slow(void *arg)
{
    (void)arg;
    void *keep[10];
    for (int i = 0; i < 10; i++) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        keep[i] = malloc(777);
    }
    for (int i = 0; i < 10; i++)
        free(keep[i]);
    atomic_store(&done, 1);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "solo")) {
        slow(NULL);
        printf("slow_thread: done (solo)\n");
        return 0;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, slow, NULL) != 0)
        return 1;
    unsigned long n = 0;
    while (!atomic_load(&done)) {
        void *p = malloc(48);
        free(p);
        n++;
    }
    pthread_join(t, NULL);
    printf("slow_thread: done (%s)\n", n > 0 ? "churned" : "idle");
    return 0;
}
