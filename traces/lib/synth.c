/* synth.c - see synth.h.  Each workload is a step function that pushes one
 * or two events into a small queue; hak_synth_next drains it. */
#include "synth.h"
#include "synth_heap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_OS_TID 20000          /* THREAD_START.size = FAKE_OS_TID + tid */
#define MAX_THREADS 1024

typedef struct slot { uint64_t addr, size; } slot;

enum { PH_START, PH_RUN, PH_EXIT, PH_DONE };

struct hak_synth {
    hak_synth_params p;
    synth_heap heap;
    uint64_t rng, trng;        /* workload choices / timing: independent streams */
    uint64_t seq, ts;
    hak_event q[8];            /* pending events; a step pushes at most 3 */
    unsigned qh, qn;
    int phase;
    uint32_t nthreads, started, exited;
    uint64_t allocs;           /* mallocs emitted so far */
    slot *slots;               /* random-mixed [W], larson [T*W], tiny-hot [batch], pc [queue] */
    uint64_t nslots;
    uint64_t qhead, qlen;      /* producer-consumer FIFO in slots[] */
    uint64_t bn, bfill, bfree; /* tiny-hot: current batch length, mallocs and frees done */
    uint64_t steps, rot;       /* larson */
};

static const char *const kind_names[HAK_SYNTH_KIND_COUNT_] = {
    "random-mixed", "tiny-hot", "larson", "producer-consumer",
};


int hak_synth_kind_from_name(const char *name)
{
    for (int i = 0; i < HAK_SYNTH_KIND_COUNT_; i++)
        if (!strcmp(name, kind_names[i]))
            return i;
    return -1;
}

void hak_synth_defaults(hak_synth_kind k, hak_synth_params *p)
{
    memset(p, 0, sizeof *p);
    p->kind = k;
    p->iters = 1000000;
    p->slots = 256;
    p->seed = 42;
    p->min_size = 16;
    p->max_size = 1039;
    p->size = 16;
    p->batch = 100;
    p->threads = 4;
    p->round = 0;
    p->queue = 64;
}

int hak_synth_check(const hak_synth_params *p, char *err, size_t errlen)
{
#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)
    if ((unsigned)p->kind >= HAK_SYNTH_KIND_COUNT_)
        BAD("unknown workload");
    if (p->min_size > p->max_size)
        BAD("--min %" PRIu64 " is larger than --max %" PRIu64, p->min_size, p->max_size);
    if (p->max_size > SYNTH_HEAP_MAX_SIZE)
        BAD("--max %" PRIu64 " is larger than the limit %" PRIu64, p->max_size,
            (uint64_t)SYNTH_HEAP_MAX_SIZE);
    if (p->size > SYNTH_HEAP_MAX_SIZE)
        BAD("--size %" PRIu64 " is larger than the limit %" PRIu64, p->size,
            (uint64_t)SYNTH_HEAP_MAX_SIZE);
    switch (p->kind) {
    case HAK_SYNTH_RANDOM_MIXED:
        if (p->slots == 0 || p->slots > SYNTH_HEAP_MAX_LIVE)
            BAD("--slots must be between 1 and %llu", SYNTH_HEAP_MAX_LIVE);
        break;
    case HAK_SYNTH_TINY_HOT:
        if (p->batch == 0 || p->batch > SYNTH_HEAP_MAX_LIVE)
            BAD("--batch must be between 1 and %llu", SYNTH_HEAP_MAX_LIVE);
        break;
    case HAK_SYNTH_LARSON:
        if (p->threads == 0 || p->threads > MAX_THREADS)
            BAD("--threads must be between 1 and %d", MAX_THREADS);
        if (p->slots == 0 || p->slots > SYNTH_HEAP_MAX_LIVE ||
            p->slots * p->threads > SYNTH_HEAP_MAX_LIVE)
            BAD("--slots times --threads must be between 1 and %llu", SYNTH_HEAP_MAX_LIVE);
        break;
    case HAK_SYNTH_PRODUCER_CONSUMER:
        if (p->queue == 0 || p->queue > SYNTH_HEAP_MAX_LIVE)
            BAD("--queue must be between 1 and %llu", SYNTH_HEAP_MAX_LIVE);
        break;
    default:
        break;
    }
    return 0;
#undef BAD
}

void hak_synth_describe(const hak_synth_params *p, char *buf, size_t len)
{
    switch (p->kind) {
    case HAK_SYNTH_RANDOM_MIXED:
        snprintf(buf, len, "random-mixed --iters %" PRIu64 " --slots %" PRIu64
                 " --seed %" PRIu64 " --min %" PRIu64 " --max %" PRIu64,
                 p->iters, p->slots, p->seed, p->min_size, p->max_size);
        break;
    case HAK_SYNTH_TINY_HOT:
        snprintf(buf, len, "tiny-hot --iters %" PRIu64 " --size %" PRIu64
                 " --batch %" PRIu64 " --seed %" PRIu64,
                 p->iters, p->size, p->batch, p->seed);
        break;
    case HAK_SYNTH_LARSON:
        snprintf(buf, len, "larson --threads %" PRIu64 " --iters %" PRIu64
                 " --slots %" PRIu64 " --seed %" PRIu64 " --min %" PRIu64
                 " --max %" PRIu64 " --round %" PRIu64,
                 p->threads, p->iters, p->slots, p->seed, p->min_size, p->max_size,
                 p->round ? p->round : p->slots * p->threads);
        break;
    case HAK_SYNTH_PRODUCER_CONSUMER:
        snprintf(buf, len, "producer-consumer --items %" PRIu64 " --queue %" PRIu64
                 " --seed %" PRIu64 " --min %" PRIu64 " --max %" PRIu64,
                 p->iters, p->queue, p->seed, p->min_size, p->max_size);
        break;
    default:
        snprintf(buf, len, "?");
    }
}

/* splitmix64: tiny, fast, and good enough for workload choices. */
static uint64_t rnd64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) (multiply-shift; bias is negligible for our n). */
static uint64_t rnd(uint64_t *s, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rnd64(s) * n) >> 64);
}

static uint64_t rand_size(hak_synth *g)
{
    return g->p.min_size + rnd(&g->rng, g->p.max_size - g->p.min_size + 1);
}

/* Pushes one event, advancing the simulated clock by a plausible cost. */
static hak_event *push(hak_synth *g, uint8_t op, uint32_t tid)
{
    uint64_t cost;
    switch (op) {
    case HAK_OP_THREAD_START: case HAK_OP_THREAD_EXIT:
        cost = 20000 + rnd(&g->trng, 30000); break;
    case HAK_OP_FREE:
        cost = 12 + rnd(&g->trng, 30); break;
    default:
        cost = 20 + rnd(&g->trng, 60); break;
    }
    g->ts += cost;
    hak_event *e = &g->q[(g->qh + g->qn++) % 8];
    memset(e, 0, sizeof *e);
    e->seq = g->seq++;
    e->ts_ns = g->ts;
    e->tid = tid;
    e->op = op;
    return e;
}

static void do_malloc(hak_synth *g, uint32_t tid, slot *s, uint64_t size)
{
    s->size = size;
    s->addr = synth_heap_alloc(&g->heap, size);
    hak_event *e = push(g, HAK_OP_MALLOC, tid);
    e->size = size;
    e->out_ptr = s->addr;
    e->site = HAK_SYNTH_SITE_MALLOC;
    g->allocs++;
}

static void do_free(hak_synth *g, uint32_t tid, slot *s)
{
    hak_event *e = push(g, HAK_OP_FREE, tid);
    e->in_ptr = s->addr;
    e->site = HAK_SYNTH_SITE_FREE;
    synth_heap_free(&g->heap, s->addr, s->size);
    s->addr = s->size = 0;
}

/* One step of the running phase; returns 0 when the workload is done. */
static int step_run(hak_synth *g)
{
    const hak_synth_params *p = &g->p;
    switch (p->kind) {
    case HAK_SYNTH_RANDOM_MIXED: {
        if (g->allocs >= p->iters)
            return 0;
        slot *s = &g->slots[rnd(&g->rng, p->slots)];
        if (s->addr)
            do_free(g, 0, s);
        do_malloc(g, 0, s, rand_size(g));
        return 1;
    }
    case HAK_SYNTH_TINY_HOT: {
        /* fill a batch (the last one may be short), then free it in order */
        if (g->bfill < g->bn) {
            do_malloc(g, 0, &g->slots[g->bfill++], p->size);
            return 1;
        }
        if (g->bfree < g->bn) {
            do_free(g, 0, &g->slots[g->bfree++]);
            return 1;
        }
        if (g->allocs >= p->iters)
            return 0;
        g->bn = p->iters - g->allocs < p->batch ? p->iters - g->allocs : p->batch;
        g->bfill = g->bfree = 0;
        do_malloc(g, 0, &g->slots[g->bfill++], p->size);
        return 1;
    }
    case HAK_SYNTH_LARSON: {
        if (g->allocs >= p->iters)
            return 0;
        uint32_t t = (uint32_t)rnd(&g->rng, p->threads);
        uint64_t arr = (t + g->rot) % p->threads;
        slot *s = &g->slots[arr * p->slots + rnd(&g->rng, p->slots)];
        if (s->addr)
            do_free(g, t, s);
        do_malloc(g, t, s, rand_size(g));
        uint64_t round = p->round ? p->round : p->slots * p->threads;
        if (++g->steps % round == 0)
            g->rot++;
        return 1;
    }
    case HAK_SYNTH_PRODUCER_CONSUMER: {
        if (g->allocs >= p->iters && g->qlen == 0)
            return 0;
        int produce = g->allocs < p->iters && g->qlen < p->queue &&
                      (g->qlen == 0 || rnd(&g->rng, 2) == 0);
        if (produce) {
            slot *s = &g->slots[(g->qhead + g->qlen++) % p->queue];
            do_malloc(g, 0, s, rand_size(g));
        } else {
            do_free(g, 1, &g->slots[g->qhead]);
            g->qhead = (g->qhead + 1) % p->queue;
            g->qlen--;
        }
        return 1;
    }
    default:
        return 0;
    }
}

static void refill(hak_synth *g)
{
    while (g->qn == 0 && g->phase != PH_DONE) {
        switch (g->phase) {
        case PH_START: {
            hak_event *e = push(g, HAK_OP_THREAD_START, g->started);
            e->size = FAKE_OS_TID + g->started;
            e->in_ptr = 0;              /* every thread is created by the main thread */
            if (++g->started == g->nthreads)
                g->phase = PH_RUN;
            break;
        }
        case PH_RUN:
            if (!step_run(g))
                g->phase = PH_EXIT;
            break;
        case PH_EXIT: {
            /* workers exit first, the main thread last */
            uint32_t t = g->nthreads - 1 - g->exited;
            push(g, HAK_OP_THREAD_EXIT, t);
            if (++g->exited == g->nthreads)
                g->phase = PH_DONE;
            break;
        }
        }
    }
}

hak_synth *hak_synth_new(const hak_synth_params *p, char *err, size_t errlen)
{
    if (hak_synth_check(p, err, errlen))
        return NULL;
    hak_synth *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    g->p = *p;
    synth_heap_init(&g->heap);
    g->rng = p->seed;
    g->trng = p->seed ^ 0x5851f42d4c957f2dull;
    g->nthreads = 1;
    switch (p->kind) {
    case HAK_SYNTH_RANDOM_MIXED: g->nslots = p->slots; break;
    case HAK_SYNTH_TINY_HOT: g->nslots = p->batch; break;
    case HAK_SYNTH_LARSON: g->nslots = p->slots * p->threads;
                           g->nthreads = (uint32_t)p->threads; break;
    case HAK_SYNTH_PRODUCER_CONSUMER: g->nslots = p->queue; g->nthreads = 2; break;
    default: break;
    }
    g->slots = calloc(g->nslots, sizeof *g->slots);
    if (!g->slots) {
        snprintf(err, errlen, "out of memory for %" PRIu64 " slots", g->nslots);
        hak_synth_free(g);
        return NULL;
    }
    return g;
}

int hak_synth_next(hak_synth *g, hak_event *ev)
{
    refill(g);
    if (g->qn == 0)
        return 0;
    *ev = g->q[g->qh];
    g->qh = (g->qh + 1) % 8;
    g->qn--;
    return 1;
}

uint32_t hak_synth_nthreads(const hak_synth *g)
{
    return g->nthreads;
}

void hak_synth_free(hak_synth *g)
{
    if (!g)
        return;
    synth_heap_destroy(&g->heap);
    free(g->slots);
    free(g);
}
