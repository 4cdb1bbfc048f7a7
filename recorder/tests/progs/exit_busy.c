/* exit_busy [MODE]: main returns after 100 ms while another thread
 * - (no MODE) allocates and frees in a loop: that thread's calls after the
 *   recorder's final flush at exit cannot be recorded, and the trace must
 *   say so ("unflushed threads", recorder/tests/loss.sh);
 * - "idle": sleeps in pause() after one allocation: it loses nothing, and
 *   the trace must be complete;
 * - "compute": spins without allocating after one allocation: it loses
 *   nothing either (the recorder's exit waits only until it has seen the
 *   thread run without allocating, rec_exit.c), and the trace is complete. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
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

static void *idle(void *arg)
{
    (void)arg;
    free(malloc(64));                    /* a recorded thread */
    for (;;)
        pause();
    return NULL;
}

static void *compute(void *arg)
{
    (void)arg;
    free(malloc(64));
    for (volatile unsigned long x = 0;; x++) { }
    return NULL;
}

int main(int argc, char **argv)
{
    void *(*fn)(void *) = spin;
    if (argc > 1)
        fn = !strcmp(argv[1], "idle") ? idle : !strcmp(argv[1], "compute") ? compute : NULL;
    if (!fn)
        return 2;
    pthread_t t;
    pthread_create(&t, NULL, fn, NULL);
    usleep(100000);
    return 0;
}
