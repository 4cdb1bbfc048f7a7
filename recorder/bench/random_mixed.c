/* random_mixed - the recorder benchmark's allocation-heavy program: SLOTS
 * slots, each iteration picks a random slot, frees its block (if any) and
 * mallocs a new one of a size uniform in [16, 1039], writing its first byte.
 * With N iterations that is ~2N malloc/free calls.  Prints a checksum.
 *
 * WORK (default 0) stands in for the program's own work between
 * allocations, so bench/recorder.bench.sh can sweep the allocation rate:
 * after each malloc, WORK more xorshift rounds on the generator state x.
 * They are a dependent chain (a few cycles a round) the compiler cannot
 * remove, and the next iteration's slot and size come from x, so the CPU
 * cannot overlap the work with the next free/malloc either: an iteration
 * costs its two calls plus WORK rounds.  With WORK > 0 the state is also
 * folded into the checksum (so it depends on WORK); WORK = 0 is the original
 * program, byte for byte the same output for the same ITERATIONS and SLOTS.
 *
 * THREADS (default 1) > 1 runs that loop in as many threads at once, each
 * with its own slots and generator (seed 42 + thread index), ITERATIONS
 * each: a multi-threaded allocation-heavy program, where a recorder's
 * per-event cost also includes whatever the threads contend on.
 *
 * usage: random_mixed [ITERATIONS (default 10000000)] [SLOTS (default 256)]
 *                     [WORK (default 0)] [THREADS (default 1)]
 * A bad argument is a one-line error naming it, exit 2. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: random_mixed [ITERATIONS (default 10000000)] [SLOTS (default 256)] [WORK (default 0)]"
    " [THREADS (default 1)]\n";

typedef struct loop {
    uint64_t seed, iters, nslots, work;
    uint64_t sum;                    /* out */
    int failed;                      /* out: no memory for the slots */
} loop;

static void *run(void *arg)
{
    loop *l = arg;
    const uint64_t iters = l->iters, nslots = l->nslots, work = l->work;
    char **slot = calloc(nslots, sizeof *slot);
    if (!slot) {
        l->failed = 1;
        return NULL;
    }
    uint64_t x = l->seed, sum = 0;
    for (uint64_t i = 0; i < iters; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        uint64_t k = x % nslots;
        size_t n = 16 + (x >> 32) % 1024;
        free(slot[k]);
        slot[k] = malloc(n);
        slot[k][0] = (char)i;
        sum += (uint8_t)slot[k][n - 1 > 0 ? 0 : 0];
        if (work) {
            for (uint64_t w = 0; w < work; w++) {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            }
            sum += x >> 56;
        }
    }
    for (uint64_t k = 0; k < nslots; k++)
        free(slot[k]);
    free(slot);
    l->sum = sum;
    return NULL;
}

/* argv[i] as a decimal integer >= lo, dflt when absent; exit 2 naming it
 * when it is not one. */
static uint64_t arg_u64(int argc, char **argv, int i, const char *name,
                        uint64_t dflt, uint64_t lo)
{
    if (argc <= i)
        return dflt;
    const char *s = argv[i];
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || errno || *end || v < lo) {
        fprintf(stderr, "random_mixed: %s: '%s' is not an integer >= %llu\n",
                name, s, (unsigned long long)lo);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc > 5) {
        fputs(usage, stderr);
        return 2;
    }
    uint64_t iters = arg_u64(argc, argv, 1, "ITERATIONS", 10000000ull, 0);
    uint64_t nslots = arg_u64(argc, argv, 2, "SLOTS", 256, 1);
    uint64_t work = arg_u64(argc, argv, 3, "WORK", 0, 0);
    uint64_t nthreads = arg_u64(argc, argv, 4, "THREADS", 1, 1);
    if (nthreads > 1024) {
        fprintf(stderr, "random_mixed: THREADS: at most 1024\n");
        return 2;
    }
    loop *l = calloc(nthreads, sizeof *l);
    pthread_t *t = calloc(nthreads, sizeof *t);
    if (!l || !t) {
        fprintf(stderr, "random_mixed: out of memory\n");
        return 2;
    }
    for (uint64_t i = 0; i < nthreads; i++)
        l[i] = (loop){.seed = 42 + i, .iters = iters, .nslots = nslots, .work = work};
    if (nthreads == 1) {
        run(&l[0]);                  /* the original single-threaded program */
    } else {
        for (uint64_t i = 0; i < nthreads; i++)
            if (pthread_create(&t[i], NULL, run, &l[i]) != 0) {
                fprintf(stderr, "random_mixed: THREADS: cannot start thread %llu\n",
                        (unsigned long long)i);
                return 2;
            }
        for (uint64_t i = 0; i < nthreads; i++)
            pthread_join(t[i], NULL);
    }
    uint64_t sum = 0;
    for (uint64_t i = 0; i < nthreads; i++) {
        if (l[i].failed) {
            fprintf(stderr, "random_mixed: SLOTS: %llu slots do not fit in memory\n",
                    (unsigned long long)nslots);
            return 2;
        }
        sum += l[i].sum;
    }
    free(l);
    free(t);
    if (nthreads == 1)
        printf("random_mixed: %llu iterations, checksum %llu\n",
               (unsigned long long)iters, (unsigned long long)sum);
    else
        printf("random_mixed: %llu iterations x %llu threads, checksum %llu\n",
               (unsigned long long)iters, (unsigned long long)nthreads,
               (unsigned long long)sum);
    return 0;
}
