/* exit_race: THREADS threads (main included) each make 1,000 malloc/free
 * pairs, meet at a barrier and call exit(3) at the same moment.  glibc 2.36
 * does not serialise exit: a thread that finds the exit handlers taken by
 * another calls _exit at once, which used to end the process during the
 * recorder's final flush (rec_exit_serialise).  With "return", main
 * returns 3 from main at that moment instead of calling exit: glibc's
 * start code then calls its own exit, which no interposed symbol sees.
 *   usage: exit_race [THREADS [return]]   (default 3) */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static pthread_barrier_t meet;
static void *volatile sink;

static void churn(size_t n)
{
    for (int i = 0; i < 1000; i++) {
        sink = malloc(n);
        free(sink);
    }
    pthread_barrier_wait(&meet);
}

static void churn_and_exit(size_t n)
{
    churn(n);
    exit(3);
}

static void *thread_main(void *arg)
{
    churn_and_exit((size_t)(uintptr_t)arg);
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3;
    if (n < 2 || n > 64)
        return 2;
    pthread_barrier_init(&meet, NULL, (unsigned)n);
    for (int i = 1; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, thread_main, (void *)(uintptr_t)(16 * (i + 1))) != 0)
            return 2;
    }
    if (argc > 2 && !strcmp(argv[2], "return")) {
        churn(16);
        return 3;
    }
    churn_and_exit(16);
    return 0;
}
