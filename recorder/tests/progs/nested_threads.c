/* nested_threads: main starts a thread which starts another; each
 * allocates.  The trace must name each thread's creator. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void *volatile sink;

static void *leaf(void *a)
{
    sink = malloc(10);
    free(sink);
    return a;
}

static void *mid(void *a)
{
    sink = malloc(20);
    free(sink);
    pthread_t t;
    pthread_create(&t, NULL, leaf, NULL);
    pthread_join(t, NULL);
    return a;
}

int main(void)
{
    sink = malloc(5);
    free(sink);
    pthread_t t;
    pthread_create(&t, NULL, mid, NULL);
    pthread_join(t, NULL);
    puts("nested_threads: ok");
    return 0;
}
