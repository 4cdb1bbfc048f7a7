/* workloads - allocator workloads of the kinds hakmem was not tuned on,
 * run under LD_PRELOAD of each allocator by bench/suite.bench.sh.  Linked
 * against nothing special: malloc is whatever is preloaded.  Each mode
 * prints "key value" lines: secs (wall), ops_per_s (mode's op, see below),
 * cpu_secs, peak_rss_kb (VmHWM).
 *
 *   xthread N        producer thread mallocs 64 B blocks and passes them
 *                    through a ring to a consumer thread that frees them;
 *                    op = one block (malloc in one thread, free in the other)
 *   churn ROUNDS     each round 2 threads start, each inherits 2000 blocks
 *                    from the previous round's other thread, replaces random
 *                    ones 40000 times with mixed sizes (16 B .. 40 KiB), and
 *                    exits; op = one free+malloc
 *   rxfree N         2 threads swap blocks of 8 B .. 16 KiB (random) into a
 *                    shared table of 4096 slots and free what they take out,
 *                    so about half the frees are of the other thread's
 *                    blocks; ops_per_s is per CPU second (user + sys)
 *   fs_passive N     the main thread allocates one 8 B object per worker
 *                    (adjacent), each of 2 workers frees its object, then
 *                    allocates 8 B objects and writes each 100 times;
 *                    op = one malloc/100 writes/free
 *   fs_active N      the same without the hand-over: 2 threads allocate 8 B
 *                    objects and write each 100 times
 *   large N          one thread: malloc 2..8 MiB, write every byte, free;
 *                    op = one block; ops_per_s is per CPU second
 *   small_loop N     one thread: malloc of 8..512 B mixed sizes, write,
 *                    free; one in 8 is kept in a ring of 1024 (replacing
 *                    the oldest); op = one malloc+free; per CPU second
 *                    (single-threaded modes are compared on CPU time: on a
 *                    shared machine their wall time is mostly waiting)
 *   larson ROUNDS    server churn: 2 threads each own 1000 slots of 8..1000 B
 *                    blocks and replace random ones 20000 times per round;
 *                    then each thread starts a successor that inherits its
 *                    slots and exits; op = one free+malloc
 *   exec OUT CMD...  runs CMD (its stdout to file OUT), reports its wall
 *                    time, exit status and peak RSS (the child's maxrss)
 */
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hakmem.h"   /* (only the stats struct: hak_stats_report) */

#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_secs(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static long peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = atol(line + 6);
    if (f) fclose(f);
    return kb;
}

static inline uint64_t xs(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return *s = x;
}

/* WL_STATS=1 under LD_PRELOAD of hakmem: its own figures too (looked up
 * at run time, so the driver still runs under any allocator). */
static void hak_stats_report(void)
{
    if (!getenv("WL_STATS")) return;
    int (*fn)(struct hak_alloc_stats *) = (int (*)(struct hak_alloc_stats *))dlsym(RTLD_DEFAULT, "hak_alloc_stats");
    if (!fn) return;
    static struct hak_alloc_stats st;
    st.struct_size = sizeof st;
    fn(&st);
    uint64_t cached = 0, total = 0, used = 0;
    for (unsigned c = 0; c < st.nclass; c++) {
        cached += st.cls[c].blocks_cached * st.cls[c].block_size;
        total += st.cls[c].blocks_total * st.cls[c].block_size;
        used += st.cls[c].blocks_used * st.cls[c].block_size;
    }
    printf("hak_heaps_adopted %llu\n", (unsigned long long)st.heaps_adopted);
    printf("hak_mapped_kb %llu\nhak_superslabs %llu\nhak_ss_cached %llu\nhak_ss_abandoned %llu\n"
           "hak_adopted %llu\nhak_slab_kb %llu\nhak_used_kb %llu\nhak_tcache_kb %llu\nhak_purges %llu\n",
           (unsigned long long)st.bytes_mapped >> 10, (unsigned long long)st.superslabs,
           (unsigned long long)st.superslabs_cached, (unsigned long long)st.superslabs_abandoned,
           (unsigned long long)st.adopted, (unsigned long long)total >> 10,
           (unsigned long long)used >> 10, (unsigned long long)cached >> 10,
           (unsigned long long)st.purges);
}

static void report(double ops, double secs, double cpu, int per_cpu)
{
    printf("secs %.6f\ncpu_secs %.6f\nops_per_s %.0f\npeak_rss_kb %ld\n",
           secs, cpu, ops / (per_cpu ? cpu : secs), peak_rss_kb());
    hak_stats_report();
}

static void spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
    if (pthread_create(t, NULL, fn, arg)) { perror("pthread_create"); exit(1); }
}

/* ---- xthread: producer/consumer through a single-producer ring ---- */
#define RING 4096
static void *ring[RING];
static _Atomic uint64_t ring_head, ring_tail;
static long xt_n;

static void *xt_consumer(void *arg)
{
    (void)arg;
    uint64_t tail = 0;
    for (long i = 0; i < xt_n; i++) {
        for (int spin = 0; atomic_load_explicit(&ring_head, memory_order_acquire) == tail; spin++)
            if (spin > 64) sched_yield();
        void *p = ring[tail % RING];
        if (*(long *)p != i) { fprintf(stderr, "xthread: block %ld corrupted\n", i); exit(1); }
        free(p);
        atomic_store_explicit(&ring_tail, ++tail, memory_order_release);
    }
    return NULL;
}

static void run_xthread(long n)
{
    xt_n = n;
    pthread_t c;
    double t0 = now(), c0 = cpu_secs();
    spawn(&c, xt_consumer, NULL);
    uint64_t head = 0;
    for (long i = 0; i < n; i++) {
        long *p = malloc(64);
        p[0] = i;
        for (int spin = 0; head - atomic_load_explicit(&ring_tail, memory_order_acquire) >= RING; spin++)
            if (spin > 64) sched_yield();
        ring[head % RING] = p;
        atomic_store_explicit(&ring_head, ++head, memory_order_release);
    }
    pthread_join(c, NULL);
    report((double)n, now() - t0, cpu_secs() - c0, 0);
}

/* ---- churn: threads exit and restart, blocks handed between them ---- */
#define CH_SLOTS 2000
#define CH_OPS 40000
typedef struct { void **slots; uint64_t seed; } ch_arg;

static size_t mixed_size(uint64_t r)
{
    unsigned k = (unsigned)(r % 100);
    if (k < 70) return 16 + (r >> 8) % 241;            /* 16..256 */
    if (k < 95) return 256 + (r >> 8) % 3841;          /* 256..4096 */
    return 4096 + (r >> 8) % 36865;                    /* 4 KiB..40 KiB */
}

static void *ch_thread(void *arg)
{
    ch_arg *a = arg;
    uint64_t r = a->seed;
    for (int i = 0; i < CH_OPS; i++) {
        uint64_t x = xs(&r);
        unsigned k = (unsigned)(x % CH_SLOTS);
        free(a->slots[k]);
        size_t n = mixed_size(xs(&r));
        char *p = malloc(n);
        p[0] = (char)i; p[n - 1] = (char)i;
        a->slots[k] = p;
    }
    return NULL;
}

static void run_churn(long rounds)
{
    static void *slots[2][CH_SLOTS];
    double t0 = now(), c0 = cpu_secs();
    for (long r = 0; r < rounds; r++) {
        pthread_t t[2];
        ch_arg a[2];
        for (int i = 0; i < 2; i++) {
            /* round r's thread i takes the blocks of round r-1's thread 1-i */
            a[i].slots = slots[(i + r) & 1];
            a[i].seed = 0x9e3779b97f4a7c15ull * (uint64_t)(r * 2 + i + 1);
            spawn(&t[i], ch_thread, &a[i]);
        }
        for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    }
    double secs = now() - t0, cpu = cpu_secs() - c0;
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < CH_SLOTS; k++) free(slots[i][k]);
    report((double)rounds * 2 * CH_OPS, secs, cpu, 0);
}

/* ---- rxfree: random sizes, random cross-thread frees ---- */
#define RX_SLOTS 4096
static _Atomic(void *) rx_tab[RX_SLOTS];
static long rx_n;

static void *rx_thread(void *arg)
{
    uint64_t r = (uint64_t)(uintptr_t)arg;
    for (long i = 0; i < rx_n; i++) {
        uint64_t x = xs(&r);
        size_t n = 8 + (x >> 20) % (16384 - 8 + 1);
        char *p = malloc(n);
        p[0] = 1; p[n - 1] = 2;
        void *old = atomic_exchange_explicit(&rx_tab[x % RX_SLOTS], p, memory_order_acq_rel);
        free(old);
    }
    return NULL;
}

static void run_rxfree(long n)
{
    rx_n = n;
    pthread_t t[2];
    double t0 = now(), c0 = cpu_secs();
    for (int i = 0; i < 2; i++) spawn(&t[i], rx_thread, (void *)(uintptr_t)(0x1234567 + i * 7919));
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    double secs = now() - t0, cpu = cpu_secs() - c0;
    for (int k = 0; k < RX_SLOTS; k++) free(rx_tab[k]);
    report((double)n * 2, secs, cpu, 1);
}

/* ---- false sharing ---- */
static long fs_n;
typedef struct { char *handed; } fs_arg;

static void *fs_thread(void *arg)
{
    fs_arg *a = arg;
    if (a->handed) free(a->handed);
    for (long i = 0; i < fs_n; i++) {
        volatile char *p = malloc(8);
        for (int w = 0; w < 100; w++) p[w & 7] = (char)(p[w & 7] + 1);
        free((void *)p);
    }
    return NULL;
}

static void run_fs(long n, int passive)
{
    fs_n = n;
    pthread_t t[2];
    fs_arg a[2];
    char *obj[2];
    for (int i = 0; i < 2; i++) obj[i] = malloc(8);
    double t0 = now(), c0 = cpu_secs();
    for (int i = 0; i < 2; i++) {
        a[i].handed = passive ? obj[i] : NULL;
        spawn(&t[i], fs_thread, &a[i]);
    }
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    double secs = now() - t0, cpu = cpu_secs() - c0;
    if (!passive) for (int i = 0; i < 2; i++) free(obj[i]);
    report((double)n * 2, secs, cpu, 0);
}

/* ---- large blocks ---- */
static void run_large(long n)
{
    double t0 = now(), c0 = cpu_secs();
    unsigned long sum = 0;
    for (long i = 0; i < n; i++) {
        size_t sz = ((size_t)2 << 20) + (size_t)(i % 4) * ((size_t)2 << 20) - (size_t)(i % 3) * 4096;
        char *p = malloc(sz);
        memset(p, (int)(i & 0x7f), sz);
        sum += (unsigned char)p[sz / 2];
        free(p);
    }
    KEEP(sum);
    report((double)n, now() - t0, cpu_secs() - c0, 1);
}

/* ---- single-thread mixed small loop ---- */
static void run_small_loop(long n)
{
    static const unsigned short sizes[16] = {8, 16, 24, 32, 48, 64, 96, 128, 160, 192, 256, 320, 384, 448, 512, 40};
    static void *keep[1024];
    unsigned kp = 0;
    double t0 = now(), c0 = cpu_secs();
    for (long i = 0; i < n; i++) {
        size_t sz = sizes[(i * 7) & 15];
        char *p = malloc(sz);
        p[0] = (char)i;
        if ((i & 7) == 0) {
            free(keep[kp]);
            keep[kp] = p;
            kp = (kp + 1) & 1023;
        } else {
            KEEP(p);
            free(p);
        }
    }
    double secs = now() - t0, cpu = cpu_secs() - c0;
    for (int k = 0; k < 1024; k++) free(keep[k]);
    report((double)n, secs, cpu, 1);
}

/* ---- larson-like server churn with thread hand-over ---- */
#define LA_SLOTS 1000
#define LA_OPS 20000
typedef struct { void **slots; uint64_t seed; long rounds_left; _Atomic long *ops; } la_arg;

static void *la_thread(void *arg)
{
    la_arg *a = arg;
    uint64_t r = a->seed;
    for (int i = 0; i < LA_OPS; i++) {
        uint64_t x = xs(&r);
        unsigned k = (unsigned)(x % LA_SLOTS);
        free(a->slots[k]);
        size_t n = 8 + (x >> 24) % 993;
        char *p = malloc(n);
        p[0] = (char)i;
        a->slots[k] = p;
    }
    a->seed = r;
    int more = --a->rounds_left > 0;
    atomic_fetch_add(a->ops, LA_OPS);
    if (more) {    /* hand the slots to a successor and exit */
        pthread_t t;
        spawn(&t, la_thread, a);
        pthread_detach(t);
    }
    return NULL;
}

static void run_larson(long rounds)
{
    static void *slots[2][LA_SLOTS];
    static _Atomic long ops;
    la_arg a[2];
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < LA_SLOTS; k++) slots[i][k] = malloc(8 + (size_t)(k * 37) % 993);
    double t0 = now(), c0 = cpu_secs();
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        a[i] = (la_arg){slots[i], 0xabcdefull + (uint64_t)i * 977, rounds, &ops};
        spawn(&t[i], la_thread, &a[i]);
        pthread_detach(t[i]);
    }
    while (atomic_load(&ops) < rounds * 2 * LA_OPS) usleep(200);
    double secs = now() - t0, cpu = cpu_secs() - c0;
    usleep(2000);   /* let the last threads finish exiting */
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < LA_SLOTS; k++) free(slots[i][k]);
    report((double)rounds * 2 * LA_OPS, secs, cpu, 0);
}

/* ---- a real program ---- */
static int run_exec(const char *out, char **argv)
{
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) { perror(out); _exit(126); }
        dup2(fd, 1);
        close(fd);
        execvp(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) < 0) { perror("wait4"); return 1; }
    double secs = now() - t0;
    printf("secs %.6f\ncpu_secs %.6f\nops_per_s %.6f\npeak_rss_kb %ld\nexit %d\n", secs,
           (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6,
           1.0 / secs, ru.ru_maxrss, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "--help")) {
        printf("usage: workloads MODE ARG   (modes: xthread churn rxfree fs_passive fs_active large\n"
               "                             small_loop larson; exec OUT CMD...)\n");
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "exec")) return run_exec(argv[2], argv + 3);
    if (argc != 3) { fprintf(stderr, "usage: workloads MODE ARG (workloads --help)\n"); return 2; }
    char *end;
    long n = strtol(argv[2], &end, 10);
    if (*end || n <= 0) { fprintf(stderr, "workloads: bad count '%s'\n", argv[2]); return 2; }
    const char *m = argv[1];
    if (!strcmp(m, "xthread")) run_xthread(n);
    else if (!strcmp(m, "churn")) run_churn(n);
    else if (!strcmp(m, "rxfree")) run_rxfree(n);
    else if (!strcmp(m, "fs_passive")) run_fs(n, 1);
    else if (!strcmp(m, "fs_active")) run_fs(n, 0);
    else if (!strcmp(m, "large")) run_large(n);
    else if (!strcmp(m, "small_loop")) run_small_loop(n);
    else if (!strcmp(m, "larson")) run_larson(n);
    else { fprintf(stderr, "workloads: unknown mode '%s'\n", m); return 2; }
    return 0;
}
