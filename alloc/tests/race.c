/* race.c - a many-thread allocation race with full content checks, run
 * under LD_PRELOAD of an allocator (alloc/tests/race.sh a few dozen times
 * in make check, tests/stress/alloc_race.sh thousands of times in make
 * stress).
 *
 * Every block carries its own description (a 16-byte header: a tag derived
 * from a per-block seed, and the size) followed by a pattern derived from
 * the same seed.  Blocks are passed between threads through a table of
 * atomic slots: a thread swaps its new block into a random slot and takes
 * out whatever was there, which it checks and then frees, reallocs or
 * keeps.  So frees are mostly cross-thread, in random order, racing with
 * allocation on the owning thread; and worker threads exit after a few
 * rounds while their blocks are still in the slots (heap hand-over at
 * exit, adoption by the next thread).  Any block handed out twice, freed
 * memory reused while live, a realloc losing its prefix, a misaligned
 * aligned block or non-zero calloc memory shows up as a content mismatch:
 * the program prints one line naming it and exits 1.
 *
 * usage: race SEED [THREADS [OPS_PER_THREAD_ROUND [ROUNDS]]]
 *   THREADS running at once (default 4); each thread does OPS (default
 *   4000) operations and exits; ROUNDS (default 6) generations of threads
 *   are started in all, a new one as soon as one exits. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SLOTS = 1024, HDR = 16, MAX_BLOCK = (4 << 20) + 65536 };   /* pick_size's largest */

typedef struct block_hdr {
    uint64_t tag;       /* tag_of(seed): says the block is intact */
    uint32_t size;      /* bytes requested (>= HDR) */
    uint32_t seed;
} block_hdr;

static _Atomic(void *) slot[SLOTS];
static atomic_int failures;
static uint64_t run_seed;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static uint64_t next_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return *s = x;
}

static void fail(const char *what, const void *p, size_t n)
{
    /* One line per failure; stop at the fifth: a corrupted heap produces
     * thousands, and soon corrupts the C library's own blocks too. */
    int k = atomic_fetch_add(&failures, 1);
    if (k < 5)
        fprintf(stderr, "race: %s: block %p (%zu bytes)\n", what, p, n);
    if (k == 4) {
        fprintf(stderr, "race: seed %llu: stopped at 5 failures\n", (unsigned long long)run_seed);
        _exit(1);
    }
}

/* The pattern byte at offset i of a block with this seed. */
static inline uint8_t pat(uint32_t seed, size_t i)
{
    return (uint8_t)(mix(seed + (i >> 3)) >> ((i & 7) * 8));
}

/* Writes header and pattern; large blocks are patterned at the start, the
 * end and every 4 KiB in between (enough to see reuse, cheap enough for
 * thousands of runs). */
static void fill(void *p, size_t n, uint32_t seed)
{
    block_hdr *h = p;
    h->tag = mix((uint64_t)seed << 1 | 1);
    h->size = (uint32_t)n;
    h->seed = seed;
    uint8_t *b = p;
    if (n <= 8192) {
        for (size_t i = HDR; i < n; i++) b[i] = pat(seed, i);
        return;
    }
    for (size_t i = HDR; i < 4096; i++) b[i] = pat(seed, i);
    for (size_t i = 4096; i < n - 64; i += 4096) b[i] = pat(seed, i);
    for (size_t i = n - 64; i < n; i++) b[i] = pat(seed, i);
}

/* Checks a block filled by fill() up to `n` bytes (a realloc may have
 * shrunk what is valid); returns its recorded size, 0 if it is damaged. */
static size_t check(const void *p, size_t limit)
{
    const block_hdr *h = p;
    if (h->tag != mix((uint64_t)h->seed << 1 | 1) || h->size < HDR || h->size > MAX_BLOCK) {
        fail("header overwritten (block handed out twice, or reused while live)", p, 0);
        return 0;
    }
    size_t n = h->size < limit ? h->size : limit;
    const uint8_t *b = p;
    /* how fill() patterned it depends on its recorded size, not on n */
    int dense = h->size <= 8192;
    size_t step = dense ? 1 : 4096;
    size_t head = dense || n < 4096 ? n : 4096;
    for (size_t i = HDR; i < head; i++)
        if (b[i] != pat(h->seed, i)) { fail("content overwritten", p, n); return 0; }
    for (size_t i = head; step > 1 && i < n && i < h->size - 64; i += step)
        if (b[i] != pat(h->seed, i)) { fail("content overwritten (large)", p, n); return 0; }
    if (!dense && n == h->size)        /* a truncated block has no patterned tail */
        for (size_t i = n - 64; i < n; i++)
            if (b[i] != pat(h->seed, i)) { fail("content overwritten (tail)", p, n); return 0; }
    if (malloc_usable_size((void *)p) < n)
        fail("malloc_usable_size below the requested size", p, n);
    return h->size;
}

static size_t pick_size(uint64_t *r)
{
    uint64_t x = next_rand(r);
    if (x % 97 == 0) return (size_t)(1 << 20) + next_rand(r) % (3u << 20);  /* large */
    if (x % 13 == 0) return 4096 + next_rand(r) % 60000;                     /* medium */
    unsigned shift = (unsigned)(next_rand(r) % 9);                           /* small */
    return HDR + next_rand(r) % ((size_t)16 << shift);
}

/* A new block of a random kind: malloc, calloc (checked zero), aligned. */
static void *new_block(uint64_t *r, uint32_t seed)
{
    size_t n = pick_size(r);
    void *p = NULL;
    switch (next_rand(r) % 8) {
    case 0: {
        p = calloc(1, n);
        const uint8_t *b = p;
        for (size_t i = 0; p && i < n; i += (n > 8192 ? 509 : 1))
            if (b[i]) { fail("calloc memory not zero", p, n); break; }
        break;
    }
    case 1: {
        size_t align = (size_t)64 << (next_rand(r) % 10);     /* 64 B .. 32 KiB */
        if (posix_memalign(&p, align, n)) p = NULL;
        if (p && ((uintptr_t)p & (align - 1))) fail("posix_memalign misaligned", p, n);
        break;
    }
    case 2: {
        size_t align = (size_t)16 << (next_rand(r) % 6);
        p = aligned_alloc(align, (n + align - 1) / align * align);
        if (p && ((uintptr_t)p & (align - 1))) fail("aligned_alloc misaligned", p, n);
        break;
    }
    default:
        p = malloc(n);
    }
    if (!p) {
        fail("allocation failed", NULL, n);
        return NULL;
    }
    fill(p, n, seed);
    return p;
}

/* What a thread does with a block it took out of a slot. */
static void *dispose(void *old, uint64_t *r, uint32_t seed)
{
    size_t n = check(old, SIZE_MAX);
    switch (next_rand(r) % 4) {
    case 0: {                          /* realloc: the prefix must survive */
        size_t m = pick_size(r);
        void *q = realloc(old, m);
        if (!q) { fail("realloc failed", old, m); free(old); return NULL; }
        if (n && !check(q, m)) return NULL;                /* leaked: it failed */
        fill(q, m, seed);
        return q;                      /* goes back into a slot */
    }
    case 1:
        return old;                    /* back into a slot, unchanged */
    default:
        free(old);
        return NULL;
    }
}

typedef struct worker_arg { uint64_t seed; long ops; } worker_arg;

static void *worker(void *vp)
{
    worker_arg *a = vp;
    uint64_t r = mix(a->seed) | 1;
    /* a few small blocks of its own, freed on this thread (the local path) */
    void *local[32] = {0};
    for (long i = 0; i < a->ops; i++) {
        uint32_t seed = (uint32_t)next_rand(&r);
        if (next_rand(&r) % 4 == 0) {
            unsigned k = (unsigned)(next_rand(&r) % 32);
            if (local[k]) { check(local[k], SIZE_MAX); free(local[k]); }
            size_t n = HDR + next_rand(&r) % 100;
            local[k] = malloc(n);
            if (local[k]) fill(local[k], n, seed);
            continue;
        }
        void *p = new_block(&r, seed);
        while (p) {
            void *old = atomic_exchange(&slot[next_rand(&r) % SLOTS], p);
            p = old ? dispose(old, &r, (uint32_t)next_rand(&r)) : NULL;
        }
    }
    for (unsigned k = 0; k < 32; k++)
        if (local[k]) { check(local[k], SIZE_MAX); free(local[k]); }
    return NULL;                       /* its slot blocks outlive it */
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 5 || !strcmp(argv[1], "--help")) {
        fprintf(stderr, "usage: race SEED [THREADS [OPS_PER_THREAD_ROUND [ROUNDS]]]\n");
        return 2;
    }
    uint64_t seed = strtoull(argv[1], NULL, 0);
    run_seed = seed;
    int nth = argc > 2 ? atoi(argv[2]) : 4;
    long ops = argc > 3 ? atol(argv[3]) : 4000;
    int rounds = argc > 4 ? atoi(argv[4]) : 6;
    if (nth < 1 || nth > 64 || ops < 1 || rounds < 1) {
        fprintf(stderr, "race: THREADS 1..64, OPS and ROUNDS >= 1\n");
        return 2;
    }
    pthread_t t[64];
    worker_arg arg[64];
    int started = 0;
    for (int i = 0; i < nth; i++, started++) {
        arg[i] = (worker_arg){seed * 1000 + (uint64_t)started, ops};
        if (pthread_create(&t[i], NULL, worker, &arg[i])) { perror("race: pthread_create"); return 1; }
    }
    /* Thread churn: whenever the oldest thread is done, start a new one in
     * its place, until ROUNDS generations have run. */
    for (int gen = 1; gen < rounds; gen++)
        for (int i = 0; i < nth; i++, started++) {
            pthread_join(t[i], NULL);
            arg[i] = (worker_arg){seed * 1000 + (uint64_t)started, ops};
            if (pthread_create(&t[i], NULL, worker, &arg[i])) { perror("race: pthread_create"); return 1; }
        }
    for (int i = 0; i < nth; i++)
        pthread_join(t[i], NULL);
    /* Main thread frees what is left: blocks of exited threads. */
    size_t left = 0;
    for (int s = 0; s < SLOTS; s++) {
        void *p = atomic_exchange(&slot[s], NULL);
        if (p) { check(p, SIZE_MAX); free(p); left++; }
    }
    int f = atomic_load(&failures);
    if (f) {
        fprintf(stderr, "race: seed %llu: %d failure%s\n", (unsigned long long)seed, f, f == 1 ? "" : "s");
        return 1;
    }
    printf("race: seed %llu: %d threads in all, %zu blocks left to the main thread, ok\n",
           (unsigned long long)seed, started, left);
    return 0;
}
