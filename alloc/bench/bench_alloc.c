/* bench_alloc - allocator micro-benchmarks run under LD_PRELOAD of each
 * allocator by bench/alloc.bench.sh (linked against nothing special, so
 * malloc is whatever is preloaded, glibc otherwise).  Each mode prints
 * "key value" lines on stdout.  The speed modes print ops_per_s (wall
 * clock) and cpu_ops_per_s (ops per second of the process's CPU time, all
 * threads): on a shared machine a run's wall time includes the time it
 * waited for a CPU, which says nothing about the allocator.
 *
 *   random_mixed ITERS    256 slots; each iteration frees a random slot and
 *                         allocates 16..1039 bytes into it, touching one
 *                         byte.  op = one iteration (one free + one malloc).
 *   tiny_hot SIZE ITERS   batches of 100 mallocs of SIZE bytes (one byte
 *                         touched each) then 100 frees.  op = one malloc+free.
 *   larson ITERS          2 threads, 1000 slots each, random free+malloc of
 *                         16..1023 bytes; every 20000 iterations the threads
 *                         swap slot arrays, so every 20000 iterations a
 *                         thread frees the ~1000 blocks the other thread
 *                         allocated (and wrote).  op = one iteration of
 *                         one thread.  The threads are pinned to two
 *                         different CPUs (the first two the process may
 *                         use; prints larson_cpus_apart 1), for every
 *                         allocator alike: left to the scheduler, the two
 *                         threads (which sleep at every swap's barriers)
 *                         were woken on one CPU in some runs and windows
 *                         and on two in others.  On one CPU they take
 *                         turns and no line ever moves between cores (~135M
 *                         ops per CPU s for hakmem and tcmalloc alike); on
 *                         two, each free of the other thread's block waits
 *                         for a line the other core wrote, and each swap's
 *                         barrier wakes a thread on the other CPU (~85M):
 *                         the mix of the two decided a run's figure (1.5x
 *                         spread, session 10), not the allocator.
 *   faults ITERS          random_mixed, reporting the minor faults taken
 *                         inside the measured window (slots filled before).
 *   frag                  allocate 100k blocks of 16..2048 bytes, free 90%
 *                         in random order, allocate 60k blocks of 16..4096;
 *                         reports peak RSS (VmHWM) in KiB.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void print_rates(double ops, uint64_t t0, uint64_t t1, uint64_t c0, uint64_t c1)
{
    printf("ops_per_s %.0f\nns_per_op %.3f\ncpu_ops_per_s %.0f\n", ops * 1e9 / (double)(t1 - t0),
           (double)(t1 - t0) / ops, ops * 1e9 / (double)(c1 - c0));
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t xs(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return *s = x;
}

static long minflt(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

/* Keeps the compiler from dropping a malloc/free pair. */
#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")

static void *slots[256];

static void random_mixed_loop(long iters, uint64_t seed)
{
    uint64_t r = seed;
    for (long i = 0; i < iters; i++) {
        uint64_t x = xs(&r);
        unsigned k = (unsigned)(x & 255);
        size_t n = 16 + ((x >> 8) & 1023);
        free(slots[k]);
        char *p = malloc(n);
        p[0] = (char)i;
        slots[k] = p;
    }
}

static void fill_slots(void)
{
    uint64_t r = 12345;
    for (int k = 0; k < 256; k++) {
        char *p = malloc(16 + (xs(&r) & 1023));
        p[0] = 1;
        slots[k] = p;
    }
}

static void free_slots(void)
{
    for (int k = 0; k < 256; k++) { free(slots[k]); slots[k] = NULL; }
}

static int random_mixed(long iters)
{
    fill_slots();
    uint64_t t0 = now_ns(), c0 = cpu_ns();
    random_mixed_loop(iters, 88172645463325252ull);
    uint64_t t1 = now_ns(), c1 = cpu_ns();
    free_slots();
    print_rates((double)iters, t0, t1, c0, c1);
    return 0;
}

static int faults(long iters)
{
    fill_slots();
    long f0 = minflt();
    random_mixed_loop(iters, 88172645463325252ull);
    long f1 = minflt();
    free_slots();
    printf("minor_faults %ld\n", f1 - f0);
    return 0;
}

static int tiny_hot(size_t size, long iters)
{
    void *b[100];
    long batches = iters / 100;
    /* warm-up batch outside the window */
    for (int i = 0; i < 100; i++) b[i] = malloc(size);
    for (int i = 0; i < 100; i++) free(b[i]);
    uint64_t t0 = now_ns(), c0 = cpu_ns();
    for (long j = 0; j < batches; j++) {
        for (int i = 0; i < 100; i++) {
            char *p = malloc(size);
            p[0] = (char)i;
            b[i] = p;
        }
        KEEP(b);
        for (int i = 0; i < 100; i++) free(b[i]);
    }
    uint64_t t1 = now_ns(), c1 = cpu_ns();
    print_rates((double)batches * 100, t0, t1, c0, c1);
    return 0;
}

/* ---- larson-like ---- */
enum { LSLOTS = 1000, LSWAP = 20000 };
static void **larr[2];
static pthread_barrier_t lbar;
static long liters;

static int lcpu[2] = {-1, -1};   /* CPU of each thread, -1: not pinned */

/* The first two CPUs the process may run on, or -1s when it may use one. */
static int larson_pick_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set)) return 0;
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
        if (CPU_ISSET(c, &set)) lcpu[n++] = c;
    if (n < 2) lcpu[0] = lcpu[1] = -1;
    return n >= 2;
}

static void *larson_thread(void *arg)
{
    int id = (int)(intptr_t)arg;
    if (lcpu[id] >= 0) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(lcpu[id], &one);
        pthread_setaffinity_np(pthread_self(), sizeof one, &one);
    }
    uint64_t r = 0x9E3779B97F4A7C15ull * (uint64_t)(id + 1);
    void **mine = larr[id];
    for (long i = 0; i < liters; i++) {
        if (i % LSWAP == 0 && i) {
            pthread_barrier_wait(&lbar);      /* both reach here, then swap */
            mine = larr[1 - id];
            pthread_barrier_wait(&lbar);
            larr[id] = mine;
            pthread_barrier_wait(&lbar);
        }
        uint64_t x = xs(&r);
        unsigned k = (unsigned)(x % LSLOTS);
        free(mine[k]);
        char *p = malloc(16 + ((x >> 20) & 1007));
        p[0] = 1;
        mine[k] = p;
    }
    return NULL;
}

static int larson(long iters)
{
    liters = iters;
    int apart = larson_pick_cpus();
    pthread_barrier_init(&lbar, NULL, 2);
    for (int t = 0; t < 2; t++) {
        larr[t] = calloc(LSLOTS, sizeof(void *));
        for (int k = 0; k < LSLOTS; k++) larr[t][k] = malloc(16 + (size_t)(k * 7) % 1008);
    }
    pthread_t th[2];
    uint64_t t0 = now_ns(), c0 = cpu_ns();
    for (int t = 0; t < 2; t++) pthread_create(&th[t], NULL, larson_thread, (void *)(intptr_t)t);
    for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);
    uint64_t t1 = now_ns(), c1 = cpu_ns();
    for (int t = 0; t < 2; t++) {
        for (int k = 0; k < LSLOTS; k++) free(larr[t][k]);
        free(larr[t]);
    }
    print_rates(2.0 * (double)iters, t0, t1, c0, c1);
    printf("larson_cpus_apart %d\n", apart);
    return 0;
}

static long status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':') { v = atol(line + n + 1); break; }
    if (f) fclose(f);
    return v;
}

static int frag(void)
{
    enum { N1 = 100000, N3 = 60000 };
    static void *a[N1], *c[N3];
    static int order[N1];
    uint64_t r = 42;
    for (int i = 0; i < N1; i++) {
        size_t n = 16 + xs(&r) % 2033;
        char *p = malloc(n);
        memset(p, 1, n);
        a[i] = p;
        order[i] = i;
    }
    for (int i = N1 - 1; i > 0; i--) {        /* random order */
        int j = (int)(xs(&r) % (uint64_t)(i + 1));
        int t = order[i]; order[i] = order[j]; order[j] = t;
    }
    for (int i = 0; i < N1 * 9 / 10; i++) { free(a[order[i]]); a[order[i]] = NULL; }
    for (int i = 0; i < N3; i++) {
        size_t n = 16 + xs(&r) % 4081;
        char *p = malloc(n);
        memset(p, 2, n);
        c[i] = p;
    }
    long hwm = status_kb("VmHWM"), rss = status_kb("VmRSS");
    for (int i = 0; i < N1; i++) free(a[i]);
    for (int i = 0; i < N3; i++) free(c[i]);
    printf("peak_rss_kb %ld\nfinal_rss_kb %ld\n", hwm, rss);
    return 0;
}

int main(int argc, char **argv)
{
    const char *m = argc > 1 ? argv[1] : "";
    long n = argc > 2 ? atol(argv[2]) : 0;
    if (!strcmp(m, "random_mixed") && n > 0) return random_mixed(n);
    if (!strcmp(m, "faults") && n > 0) return faults(n);
    if (!strcmp(m, "tiny_hot") && n > 0 && argc > 3) return tiny_hot((size_t)n, atol(argv[3]));
    if (!strcmp(m, "larson") && n > 0) return larson(n);
    if (!strcmp(m, "frag")) return frag();
    fprintf(stderr, "usage: bench_alloc random_mixed ITERS | tiny_hot SIZE ITERS | larson ITERS |"
                    " faults ITERS | frag\n");
    return 2;
}
