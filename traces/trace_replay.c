/* trace_replay.c - builds the replay form (trace.h, "Replay form").
 *
 * One pass over the events in global order with two structures:
 *  - an open-addressing hash map address -> head of a chain of live
 *    objects at that address (oldest first; a chain longer than one is an
 *    inversion), or DEAD when the address was freed and not handed out
 *    again (so a second free is a double free, not an unknown pointer);
 *  - a pool of live-object slots (object id, creating thread and its
 *    per-thread op index, bytes) recycled through a free list.
 * Memory: the ops array and the per-thread index lists (both sized from
 * the chunk index's event counts), 12 bytes per distinct address and 24
 * bytes per live object.
 */
#include "trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define NIL  UINT32_MAX
#define DEAD (UINT32_MAX - 1)

typedef struct slot {
    uint64_t bytes;
    uint32_t obj, tid, idx, next;
} slot;

typedef struct builder {
    uint64_t *keys;        /* address, 0 = empty */
    uint32_t *heads;       /* first slot, NIL never stored, DEAD = freed */
    size_t cap, used;      /* cap is a power of two */
    /* live_bytes and live_objs are kept apart on purpose: next to each
     * other the compiler updates them with one 16-byte load, which stalls
     * on the two 8-byte stores just before it (store forwarding). */
    uint64_t live_bytes;
    slot *slots;
    uint32_t nslots, slots_cap, free_slot;
    uint64_t live_objs;
} builder;

static inline size_t hslot(uint64_t a, size_t cap)
{
    return (size_t)((a * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

static int map_grow(builder *b)
{
    size_t ncap = b->cap ? b->cap * 2 : 1024;
    uint64_t *k = calloc(ncap, sizeof *k);
    uint32_t *h = malloc(ncap * sizeof *h);
    if (!k || !h) {
        free(k);
        free(h);
        return -1;
    }
    for (size_t i = 0; i < b->cap; i++) {
        if (!b->keys[i])
            continue;
        size_t j = hslot(b->keys[i], ncap);
        while (k[j])
            j = (j + 1) & (ncap - 1);
        k[j] = b->keys[i];
        h[j] = b->heads[i];
    }
    free(b->keys);
    free(b->heads);
    b->keys = k;
    b->heads = h;
    b->cap = ncap;
    return 0;
}

/* Position of address a in the map (inserted as DEAD when absent and
 * insert is set); SIZE_MAX when absent (or out of memory). */
static size_t map_find(builder *b, uint64_t a, int insert)
{
    if (insert && (b->used + 1) * 2 > b->cap && map_grow(b))
        return SIZE_MAX;
    if (!b->cap)
        return SIZE_MAX;
    size_t j = hslot(a, b->cap);
    while (b->keys[j]) {
        if (b->keys[j] == a)
            return j;
        j = (j + 1) & (b->cap - 1);
    }
    if (!insert)
        return SIZE_MAX;
    b->keys[j] = a;
    b->heads[j] = DEAD;
    b->used++;
    return j;
}

static uint32_t slot_new(builder *b)
{
    if (b->free_slot != NIL) {
        uint32_t s = b->free_slot;
        b->free_slot = b->slots[s].next;
        return s;
    }
    if (b->nslots == b->slots_cap) {
        uint32_t nc = b->slots_cap ? b->slots_cap * 2 : 1024;
        slot *p = realloc(b->slots, (size_t)nc * sizeof *p);
        if (!p)
            return NIL;
        b->slots = p;
        b->slots_cap = nc;
    }
    return b->nslots++;
}

static inline uint64_t mul_sat(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

typedef struct ctx {
    builder b;
    hak_replay *rp;
    uint32_t nthreads;
    char *err;
    size_t errlen;
} ctx;

/* Records a new live object at address a created by the op about to be
 * appended on thread tid.  0 or -1 (out of memory). */
static int obj_create(ctx *c, uint64_t a, uint64_t bytes, uint32_t tid, uint32_t obj)
{
    builder *b = &c->b;
    size_t j = map_find(b, a, 1);
    uint32_t s = slot_new(b);
    if (j == SIZE_MAX || s == NIL)
        return -1;
    b->slots[s] = (slot){bytes, obj, tid, (uint32_t)c->rp->thread_nops[tid], NIL};
    uint32_t h = b->heads[j];
    if (h == DEAD) {
        b->heads[j] = s;
    } else {                        /* inversion: append, the oldest stays first */
        c->rp->inversions++;
        while (b->slots[h].next != NIL)
            h = b->slots[h].next;
        b->slots[h].next = s;
    }
    b->live_bytes += bytes;
    b->live_objs++;
    if (b->live_bytes > c->rp->peak_live_bytes)
        c->rp->peak_live_bytes = b->live_bytes;
    return 0;
}

/* Consumes the oldest live object at address a for op o (sets in_obj and
 * the dependency).  1 when found, 0 when unknown/already freed (counted). */
static int obj_consume(ctx *c, uint64_t a, hak_rop *o)
{
    builder *b = &c->b;
    size_t j = map_find(b, a, 0);
    if (j == SIZE_MAX || b->heads[j] == DEAD) {
        if (j == SIZE_MAX)
            c->rp->unknown_frees++;
        else
            c->rp->double_frees++;
        return 0;
    }
    uint32_t s = b->heads[j];
    slot *sl = &b->slots[s];
    o->in_obj = sl->obj;
    if (sl->tid != o->tid) {
        o->dep_tid = sl->tid;
        o->dep_idx = sl->idx;
        c->rp->cross_thread_deps++;
    }
    b->heads[j] = sl->next == NIL ? DEAD : sl->next;
    b->live_bytes -= sl->bytes;
    b->live_objs--;
    sl->next = b->free_slot;
    b->free_slot = s;
    return 1;
}

static int too_many(ctx *c)
{
    snprintf(c->err, c->errlen, "more than %u objects", HAK_NO_OBJ - 1);
    return -1;
}

/* Appends the replay op for event e (or drops it).  0 or -1. */
static int add_event(ctx *c, const hak_event *e)
{
    hak_replay *rp = c->rp;
    if (e->tid >= c->nthreads)
        return 0;   /* cannot happen with the reader's index; be safe */
    /* Built in place in the next free slot (the array has room for every
     * event) and only counted when appended: building it on the stack and
     * copying it stalled on store forwarding. */
    hak_rop *o = &rp->ops[rp->nops];
    *o = (hak_rop){.size = e->size, .obj = HAK_NO_OBJ, .in_obj = HAK_NO_OBJ,
                   .dep_tid = HAK_NO_DEP, .dep_idx = HAK_NO_DEP,
                   .tid = (uint16_t)e->tid, .op = e->op};
    uint64_t bytes = e->size;
    switch (e->op) {
    case HAK_OP_CALLOC:
        bytes = mul_sat(e->nmemb, e->size);
        if (e->nmemb > UINT32_MAX) {   /* fold into one element */
            o->size = bytes;
            o->aux = 1;
        } else {
            o->aux = (uint32_t)e->nmemb;
        }
        /* fall through */
    case HAK_OP_MALLOC: case HAK_OP_VALLOC: case HAK_OP_PVALLOC:
    case HAK_OP_MEMALIGN: case HAK_OP_POSIX_MEMALIGN: case HAK_OP_ALIGNED_ALLOC:
        if (e->op != HAK_OP_CALLOC && e->align)
            o->aux = e->align > UINT32_MAX ? UINT32_MAX : (uint32_t)e->align;
        if (!e->out_ptr) {
            rp->failed_allocs++;
            return 0;
        }
        break;
    case HAK_OP_REALLOC: case HAK_OP_REALLOCARRAY:
        if (e->op == HAK_OP_REALLOCARRAY) {
            bytes = mul_sat(e->nmemb, e->size);
            o->aux = e->nmemb > UINT32_MAX ? 1 : (uint32_t)e->nmemb;
            if (e->nmemb > UINT32_MAX)
                o->size = bytes;
        }
        if (e->in_ptr && !e->out_ptr && bytes == 0) {   /* realloc(p, 0) = free */
            o->op = HAK_OP_FREE;
            o->size = 0;
            o->aux = 0;
            if (!obj_consume(c, e->in_ptr, o))
                return 0;
            goto append;
        }
        if (!e->out_ptr) {
            rp->failed_allocs++;
            return 0;
        }
        if (!e->in_ptr || !obj_consume(c, e->in_ptr, o)) {   /* = malloc */
            o->op = HAK_OP_MALLOC;
            o->size = bytes;
            o->aux = 0;
        }
        break;
    case HAK_OP_FREE:
        if (!e->in_ptr) {
            rp->free_nulls++;
            return 0;
        }
        if (!obj_consume(c, e->in_ptr, o))
            return 0;
        o->size = 0;
        goto append;
    case HAK_OP_THREAD_START:
        if (e->in_ptr < c->nthreads && e->in_ptr != e->tid && rp->thread_nops[e->in_ptr]) {
            o->dep_tid = (uint32_t)e->in_ptr;
            o->dep_idx = (uint32_t)(rp->thread_nops[e->in_ptr] - 1);
            rp->cross_thread_deps++;
        }
        goto append;
    case HAK_OP_THREAD_EXIT:
        o->size = 0;
        goto append;
    default:                        /* mmap family */
        rp->mmap_ops++;
        return 0;
    }
    /* An allocating op: create its object. */
    if (rp->nobjects >= HAK_NO_OBJ - 1)
        return too_many(c);
    o->obj = rp->nobjects++;
    if (obj_create(c, e->out_ptr, bytes, e->tid, o->obj))
        goto oom;
append:
    rp->thread_ops[e->tid][rp->thread_nops[e->tid]++] = rp->nops;
    rp->nops++;
    return 0;
oom:
    snprintf(c->err, c->errlen, "out of memory building the replay form");
    return -1;
}

/* malloc for the big per-event arrays (40 bytes an event: gigabytes for
 * long traces).  Their first touch, one page fault per 4 KiB page, was
 * most of the build's kernel time; populating the pages with one madvise
 * call costs a fraction of that.  (Transparent huge pages were tried: on a
 * busy machine the compaction they trigger made it slower.)  Still freed
 * by free(): madvise only changes when the pages get backed. */
static void *big_alloc(size_t bytes)
{
    void *p = malloc(bytes);
#ifdef MADV_POPULATE_WRITE
    enum { PAGE = 4096 };
    if (p && bytes >= (1u << 20)) {
        uintptr_t a = ((uintptr_t)p + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
        uintptr_t e = ((uintptr_t)p + bytes) & ~(uintptr_t)(PAGE - 1);
        if (e > a)
            madvise((void *)a, e - a, MADV_POPULATE_WRITE);   /* a hint: errors are harmless */
    }
#endif
    return p;
}

int hak_replay_build(hak_trace_reader *r, hak_replay *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    ctx c = {.rp = out, .nthreads = hak_tr_nthreads(r), .err = err, .errlen = errlen};
    c.b.free_slot = NIL;
    uint64_t cap = hak_tr_nevents(r);
    out->nthreads = c.nthreads;
    out->ops = big_alloc((cap + 1) * sizeof *out->ops);
    out->thread_nops = calloc((size_t)c.nthreads + 1, sizeof *out->thread_nops);
    /* Per-thread index lists, filled in the same pass: thread t's list gets
     * room for all of t's events (the index knows them), in one allocation
     * (thread_ops[0] is its base, see hak_replay_free). */
    out->thread_ops = calloc((size_t)c.nthreads + 1, sizeof *out->thread_ops);
    uint64_t *base = big_alloc((cap + 1) * sizeof *base);
    enum { BATCH = 4096 };
    hak_event *ev = malloc(BATCH * sizeof *ev);
    uint64_t *lim = malloc(((size_t)c.nthreads + 1) * sizeof *lim);   /* events per thread */
    int rc = -1;
    if (!out->ops || !out->thread_nops || !out->thread_ops || !base || !ev || !lim) {
        free(base);
        snprintf(err, errlen, "out of memory for %llu replay ops", (unsigned long long)cap);
        goto done;
    }
    for (uint64_t t = 0, off = 0; t < c.nthreads; off += lim[t++]) {
        lim[t] = hak_tr_thread_nevents(r, (uint32_t)t);
        out->thread_ops[t] = base + off;
    }
    if (!c.nthreads)
        free(base);
    hak_tr_rewind(r);
    long n;
    while ((n = hak_tr_read(r, ev, BATCH)) > 0) {
        for (long i = 0; i < n; i++) {
            /* The index bounds each thread's events; a decoder bug must
             * not write past a thread's list. */
            uint32_t t = ev[i].tid;
            if (t >= c.nthreads || out->thread_nops[t] >= lim[t]) {
                snprintf(err, errlen, "more events than the chunk index counted");
                goto done;
            }
            if (add_event(&c, &ev[i]))
                goto done;
        }
    }
    if (n < 0) {
        snprintf(err, errlen, "%s", hak_tr_error(r));
        goto done;
    }
    hak_tr_rewind(r);
    out->leaked_objects = c.b.live_objs;
    rc = 0;
done:
    free(ev);
    free(lim);
    free(c.b.keys);
    free(c.b.heads);
    free(c.b.slots);
    if (rc)
        hak_replay_free(out);
    return rc;
}

void hak_replay_free(hak_replay *rp)
{
    if (!rp)
        return;
    free(rp->ops);
    if (rp->thread_ops)
        free(rp->thread_ops[0]);
    free(rp->thread_ops);
    free(rp->thread_nops);
    memset(rp, 0, sizeof *rp);
}
