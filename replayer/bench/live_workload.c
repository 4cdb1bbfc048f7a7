/* live_workload.c - `hak-live-workload`: the live programs the replay
 * benchmarks compare against, and a trace maker for the tests.
 *
 *   hak-live-workload random-mixed|producer-consumer [options] [-o TRACE]
 *     Runs the workload calling malloc/free directly and prints
 *       ops=N wall_ns=T ops_per_s=R
 *     for the loop alone.  With -o it instead records every call into TRACE
 *     (the exact sequence a later `hak replay` runs; timings of a recording
 *     run mean nothing).  random-mixed: W slots, each iteration picks a
 *     random slot, frees its block if any and mallocs a new one of a size
 *     uniform in [min,max].  producer-consumer: thread 0 mallocs items into
 *     a bounded single-producer/single-consumer ring, thread 1 frees them.
 *     New blocks get one byte written per 4 KiB page, like the replayer's
 *     default --touch pages.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "trace.h"

typedef struct opts {
    const char *kind, *out;
    uint64_t iters, slots, min, max, queue, seed;
} opts;

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() __asm__ __volatile__("" ::: "memory")
#endif

static uint64_t cpu_ns(void)       /* user + system time of the process */
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return *s = x;
}

static inline void touch_pages(char *p, size_t n)
{
    if (!p || !n) return;
    uintptr_t a = (uintptr_t)p, end = a + n;
    *(volatile char *)a = 1;
    for (a = (a | 4095) + 1; a < end; a += 4096)
        *(volatile char *)a = 1;
}

/* ---- recording (only with -o) ---- */
static uint64_t seq_counter, t_start;
typedef struct evbuf { hak_event *ev; size_t n, cap; } evbuf;

/* RSS samples for the trace (what the recorder would take), so replays of
 * these traces get a fidelity figure. */
static hak_rss_sample rss_samples[4096];
static size_t nrss;
static evbuf *rec_bufs;     /* their bytes are the recording's, not the program's */
static int rec_nbufs;

static void rss_sample(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size, res;
    if (!f)
        return;
    if (fscanf(f, "%llu %llu", &size, &res) == 2 && nrss < sizeof rss_samples / sizeof *rss_samples) {
        rss_samples[nrss].ts_ns = now_ns() - t_start;
        uint64_t own = 0;
        for (int i = 0; i < rec_nbufs; i++)
            own += (uint64_t)rec_bufs[i].n * sizeof(hak_event);
        rss_samples[nrss].rss_bytes = res * 4096 > own ? res * 4096 - own : 0;
        nrss++;
    }
    fclose(f);
}

static void rec(evbuf *b, uint32_t tid, int op, uint64_t size, uint64_t in, uint64_t out)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 1 << 16;
        b->ev = realloc(b->ev, b->cap * sizeof *b->ev);
        if (!b->ev) { fprintf(stderr, "hak-live-workload: out of memory\n"); exit(1); }
    }
    hak_event *e = &b->ev[b->n++];
    memset(e, 0, sizeof *e);
    e->seq = __atomic_fetch_add(&seq_counter, 1, __ATOMIC_SEQ_CST);
    e->ts_ns = now_ns() - t_start;
    e->tid = tid;
    e->op = (uint8_t)op;
    e->size = size;
    e->in_ptr = in;
    e->out_ptr = out;
    e->site = op == HAK_OP_FREE ? 2 : op == HAK_OP_MALLOC ? 1 : 0;
}

/* ---- random-mixed ---- */
static uint64_t random_mixed(const opts *o, evbuf *b)
{
    char **slot = calloc(o->slots, sizeof *slot);
    uint64_t s = o->seed * 2654435761u + 1, ops = 0, span = o->max - o->min + 1;
    for (uint64_t i = 0; i < o->iters; i++) {
        uint64_t k = xorshift(&s) % o->slots;
        if (slot[k]) {
            if (b) rec(b, 0, HAK_OP_FREE, 0, (uintptr_t)slot[k], 0);
            free(slot[k]);
            ops++;
        }
        size_t n = o->min + xorshift(&s) % span;
        char *p = malloc(n);
        if (b) rec(b, 0, HAK_OP_MALLOC, n, 0, (uintptr_t)p);
        touch_pages(p, n);
        slot[k] = p;
        ops++;
        if (b && (i & 1023) == 0)
            rss_sample();
    }
    free(slot);          /* outside the timed loop's ops: leaks stay live */
    return ops;
}

/* ---- producer-consumer ---- */
typedef struct ring {
    char **items;
    uint64_t cap;
    char pad0[48];
    volatile uint64_t head;   /* written by the producer */
    char pad1[56];
    volatile uint64_t tail;   /* written by the consumer */
    char pad2[56];
    const opts *o;
    evbuf *bufs;
} ring;

static void *consumer(void *arg)
{
    ring *r = arg;
    evbuf *b = r->bufs ? &r->bufs[1] : NULL;
    if (b) rec(b, 1, HAK_OP_THREAD_START, 0, 0, 0);
    for (uint64_t i = 0; i < r->o->iters; i++) {
        unsigned spins = 0;
        while (__atomic_load_n(&r->head, __ATOMIC_ACQUIRE) == i)
            if (++spins > 2048) { sched_yield(); spins = 0; } else cpu_relax();
        char *p = r->items[i % r->cap];
        if (b) rec(b, 1, HAK_OP_FREE, 0, (uintptr_t)p, 0);
        free(p);
        __atomic_store_n(&r->tail, i + 1, __ATOMIC_RELEASE);
    }
    if (b) rec(b, 1, HAK_OP_THREAD_EXIT, 0, 0, 0);
    return NULL;
}

static uint64_t producer_consumer(const opts *o, evbuf *bufs, pthread_t *th, ring *r)
{
    evbuf *b = bufs ? &bufs[0] : NULL;
    uint64_t s = o->seed * 2654435761u + 1, span = o->max - o->min + 1;
    for (uint64_t i = 0; i < o->iters; i++) {
        unsigned spins = 0;
        while (i - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) >= r->cap)
            if (++spins > 2048) { sched_yield(); spins = 0; } else cpu_relax();
        size_t n = o->min + xorshift(&s) % span;
        char *p = malloc(n);
        if (b) rec(b, 0, HAK_OP_MALLOC, n, 0, (uintptr_t)p);
        touch_pages(p, n);
        r->items[i % r->cap] = p;
        if (b && (i & 1023) == 0)
            rss_sample();
        __atomic_store_n(&r->head, i + 1, __ATOMIC_RELEASE);
    }
    pthread_join(*th, NULL);
    return 2 * o->iters;
}

static int write_trace(const opts *o, evbuf *bufs, uint32_t nth, int argc, char **argv)
{
    char err[256];
    hak_trace_meta m;
    memset(&m, 0, sizeof m);
    m.pid = 0;
    m.page_size = 4096;
    m.argc = (uint32_t)argc;
    m.argv = argv;
    m.recorder = "hak-live-workload";
    hak_trace_writer *w = hak_tw_open(o->out, &m, err, sizeof err);
    if (!w) {
        fprintf(stderr, "hak-live-workload: %s\n", err);
        return 1;
    }
    if (nrss && hak_tw_rss(w, rss_samples, nrss) != 0) {
        fprintf(stderr, "hak-live-workload: %s: %s\n", o->out, hak_tw_error(w));
        return 1;
    }
    for (uint32_t t = 0; t < nth; t++)
        if (hak_tw_events(w, t, bufs[t].ev, bufs[t].n) != 0) {
            fprintf(stderr, "hak-live-workload: %s: %s\n", o->out, hak_tw_error(w));
            return 1;
        }
    if (hak_tw_close(w) != 0) {
        fprintf(stderr, "hak-live-workload: %s: close failed\n", o->out);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    opts o = {NULL, NULL, 1000000, 256, 16, 1039, 64, 42};
    const int first = 1;
    if (argc <= first || !strcmp(argv[first], "--help") || !strcmp(argv[first], "-h")) {
        printf("usage: hak-live-workload random-mixed|producer-consumer [--iters N] [--slots W]\n"
               "         [--min B] [--max B] [--queue Q] [--seed S] [-o TRACE]\n");
        return argc <= first ? 2 : 0;
    }
    o.kind = argv[first];
    for (int i = first + 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) { fprintf(stderr, "hak-live-workload: %s needs a value\n", a); return 2; }
        const char *v = argv[++i];
        char *end;
        uint64_t x = strtoull(v, &end, 10);
        int num = *v && !*end;
        if (!strcmp(a, "-o")) o.out = v;
        else if (num && !strcmp(a, "--iters")) o.iters = x;
        else if (num && !strcmp(a, "--slots")) o.slots = x;
        else if (num && !strcmp(a, "--min")) o.min = x;
        else if (num && !strcmp(a, "--max")) o.max = x;
        else if (num && !strcmp(a, "--queue")) o.queue = x;
        else if (num && !strcmp(a, "--seed")) o.seed = x;
        else { fprintf(stderr, "hak-live-workload: bad option %s %s\n", a, v); return 2; }
    }
    int pc = !strcmp(o.kind, "producer-consumer");
    if ((!pc && strcmp(o.kind, "random-mixed")) || !o.slots || !o.queue || o.min > o.max || !o.iters) {
        fprintf(stderr, "hak-live-workload: bad workload or parameters\n");
        return 2;
    }
    evbuf bufs[2];
    memset(bufs, 0, sizeof bufs);
    evbuf *b = o.out ? bufs : NULL;
    rec_bufs = bufs;
    rec_nbufs = 2;
    t_start = now_ns();
    if (b) rec(&bufs[0], 0, HAK_OP_THREAD_START, 0, 0, 0);
    uint64_t ops, t0, t1, c0 = cpu_ns();
    if (!pc) {
        t0 = now_ns();
        ops = random_mixed(&o, b);
        t1 = now_ns();
    } else {
        static ring r;
        r.cap = o.queue;
        r.items = calloc(r.cap, sizeof *r.items);
        r.o = &o;
        r.bufs = b;
        pthread_t th;
        if (pthread_create(&th, NULL, consumer, &r) != 0) {
            fprintf(stderr, "hak-live-workload: pthread_create: %s\n", strerror(errno));
            return 1;
        }
        t0 = now_ns();
        ops = producer_consumer(&o, b, &th, &r);
        t1 = now_ns();
    }
    if (b) {
        rec(&bufs[0], 0, HAK_OP_THREAD_EXIT, 0, 0, 0);
        return write_trace(&o, bufs, pc ? 2 : 1, argc, argv);
    }
    uint64_t cpu = cpu_ns() - c0;
    printf("ops=%llu wall_ns=%llu ops_per_s=%.0f cpu_ns=%llu ops_per_cpu_s=%.0f\n",
           (unsigned long long)ops, (unsigned long long)(t1 - t0),
           (double)ops * 1e9 / (double)(t1 - t0), (unsigned long long)cpu,
           cpu ? (double)ops * 1e9 / (double)cpu : 0.0);
    return 0;
}
