/* trace_replay.c - builds the replay form (trace.h, "Replay form").
 *
 * One pass over the events in global order.  Pointers become objects
 * through an open-addressing hash map from address to the oldest live
 * object at that address (object id, bytes, creating thread and its
 * per-thread op index), stored in the map entry itself: the common case
 * (one live object per address) costs one probe and no pointer chasing.
 * An entry stays in the map when its address is freed (obj == NIL,
 * "dead"), so a second free is a double free, not an unknown pointer.
 * Younger objects at a live address (inversions) wait in a circular list
 * of overflow cells: the entry's link names the youngest, whose link names
 * the oldest waiting, so appending and taking the oldest are both O(1).
 *
 * add_event applies the rules of trace.h to any event; plain malloc and
 * free, almost all of a trace, take a fast path (add_batch) that uses the
 * same object and output functions without the general rules' branches.
 *
 * Memory: the ops array and the per-thread index lists (both sized from
 * the chunk index's event counts, 24 + 4 bytes an event), 12 bytes per
 * cross-thread dependency, 64 to 128 bytes per distinct address (32-byte
 * entries at most half full; see map_full for small maps) and 24 bytes
 * per waiting object of an inversion.
 */
#include "trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define NIL UINT32_MAX

/* A live object.  `link`: in a map entry the youngest waiting cell (NIL:
 * none), in a cell the next cell of the circular list (see list_push). */
typedef struct live {
    uint64_t bytes;
    uint32_t obj;          /* NIL in a map entry: the address is dead */
    uint32_t tid, idx;     /* creating op: thread and its index there */
    uint32_t link;
} live;

typedef struct entry {
    uint64_t addr;         /* 0 = empty */
    live o;
} entry;

/* Thread t's index list: list[0..n) filled, room for lim.  The pages up
 * to list[ready] are populated (see populate); ready <= lim, so one test
 * n < ready covers both.  Its dependencies deps[0..ndeps) have room for
 * lim too (an op has at most one); pages no dependency reaches are never
 * touched, so the room costs address space only. */
typedef struct tlist {
    uint32_t *list;
    uint64_t n, ready, lim;
    hak_rdep *deps;
    uint64_t ndeps;
} tlist;

/* What the per-event loop reads and writes on every event.  It lives in a
 * local of add_batch and is only passed to inlined functions, so the
 * compiler can keep it in registers; as fields behind a pointer, every
 * store to the output arrays (which might alias them) forced reloads. */
typedef struct hot {
    hak_rop *ops;          /* room for every event */
    uint64_t nops;
    tlist *thr;            /* [nthreads] */
    uint32_t nthreads, nobjects;
    entry *map;            /* copies of ctx's map and cap - 1 */
    size_t mask;
    uint64_t live_bytes, live_objs, peak_live_bytes;
} hot;

typedef struct ctx {
    hot h;                 /* between batches */
    hak_replay *rp;        /* rare-event counters go straight there */
    uint64_t ops_ready, ops_lim;   /* ops[0..ops_ready) pages populated, of ops_lim */
    entry *map;
    size_t cap, used;      /* cap is a power of two */
    live *cells;           /* overflow cells, free ones chained by link */
    uint32_t ncells, cells_cap, free_cell;
    char *err;
    size_t errlen;
    unsigned opts;         /* HAK_REPLAY_* */
    struct mapping *maps;  /* live anonymous mappings (HAK_REPLAY_MMAP) */
    size_t nmaps, maps_cap;
} ctx;

/* ---- Address map -------------------------------------------------------- */

static inline size_t hslot(uint64_t a, size_t mask)
{
    return (size_t)((a * 0x9e3779b97f4a7c15ull) >> 20) & mask;
}

static int map_grow(ctx *c)
{
    size_t ncap = c->cap ? c->cap * 2 : 1024;
    entry *m = calloc(ncap, sizeof *m);
    if (!m)
        return -1;
    for (size_t i = 0; i < c->cap; i++) {
        if (!c->map[i].addr)
            continue;
        size_t j = hslot(c->map[i].addr, ncap - 1);
        while (m[j].addr)
            j = (j + 1) & (ncap - 1);
        m[j] = c->map[i];
    }
    free(c->map);
    c->map = m;
    c->cap = ncap;
    return 0;
}

/* The entry of address a (a != 0), NULL when absent. */
static inline entry *map_find(const hot *h, uint64_t a)
{
    for (size_t j = hslot(a, h->mask);; j = (j + 1) & h->mask) {
        entry *e = &h->map[j];
        if (e->addr == a)
            return e;
        if (!e->addr)
            return NULL;
    }
}

/* Starts loading the entry event e will look up: on big traces the map
 * outgrows the caches, and by the time the loop gets to e it is there. */
enum { PREFETCH = 8 };   /* events ahead */
static inline void map_prefetch(const hot *h, const hak_event *e)
{
    uint64_t a = e->in_ptr ? e->in_ptr : e->out_ptr;
    __builtin_prefetch(&h->map[hslot(a, h->mask)]);
}

/* Whether the map should grow before taking one more address.  Up to
 * 2 MiB (the size of L2) it is kept at most 1/4 full: a probe past the
 * first slot is a mispredicted branch, and at 1/2 those made the whole
 * build 10% slower; bigger maps go to 1/2 to bound their memory. */
static inline int map_full(const ctx *c)
{
    size_t max_load = c->cap * sizeof(entry) <= (2u << 20) ? 4 : 2;
    return (c->used + 1) * max_load > c->cap;
}

/* Adds address a (absent) as a dead entry; NULL when out of memory.  The
 * map may grow: callers refresh their hot copy of it. */
static entry *map_add(ctx *c, uint64_t a)
{
    if (map_full(c) && map_grow(c))
        return NULL;
    size_t j = hslot(a, c->cap - 1);
    while (c->map[j].addr)
        j = (j + 1) & (c->cap - 1);
    c->used++;
    c->map[j] = (entry){.addr = a, .o = {.obj = NIL, .link = NIL}};
    return &c->map[j];
}

/* ---- Inversions: the circular list of waiting objects ------------------- */

/* Queues object o behind the live object(s) of entry e.  e->o.link is the
 * list's tail (youngest), the tail's link its head (oldest).  0 or -1. */
static int list_push(ctx *c, entry *e, live o)
{
    uint32_t s = c->free_cell;
    if (s != NIL) {
        c->free_cell = c->cells[s].link;
    } else {
        if (c->ncells == c->cells_cap) {
            uint32_t nc = c->cells_cap ? c->cells_cap * 2 : 1024;
            live *p = realloc(c->cells, (size_t)nc * sizeof *p);
            if (!p)
                return -1;
            c->cells = p;
            c->cells_cap = nc;
        }
        s = c->ncells++;
    }
    uint32_t tail = e->o.link;
    o.link = tail == NIL ? s : c->cells[tail].link;
    c->cells[s] = o;
    if (tail != NIL)
        c->cells[tail].link = s;
    e->o.link = s;
    return 0;
}

/* Moves the oldest waiting object of entry e (it has one) into e. */
static void list_pop(ctx *c, entry *e)
{
    uint32_t tail = e->o.link, head = c->cells[tail].link;
    e->o = c->cells[head];
    if (head == tail) {
        e->o.link = NIL;
    } else {
        c->cells[tail].link = c->cells[head].link;
        e->o.link = tail;
    }
    c->cells[head].link = c->free_cell;
    c->free_cell = head;
}

/* ---- Objects ------------------------------------------------------------ */

static inline void bytes_add(hot *h, uint64_t bytes)
{
    h->live_bytes += bytes;
    h->live_objs++;
    if (h->live_bytes > h->peak_live_bytes)
        h->peak_live_bytes = h->live_bytes;
}

/* Records object o at address a.  0 or -1 (out of memory). */
static inline int obj_create(ctx *c, hot *h, uint64_t a, live o)
{
    entry *e = map_find(h, a);
    if (!e) {
        if (!(e = map_add(c, a)))
            return -1;
        h->map = c->map;
        h->mask = c->cap - 1;
    }
    if (e->o.obj == NIL) {
        e->o = o;
    } else {                        /* inversion: queue it, the oldest stays first */
        c->rp->inversions++;
        if (list_push(c, e, o))
            return -1;
    }
    bytes_add(h, o.bytes);
    return 0;
}

/* The op about to be appended to thread list t waits for op dep_idx of
 * thread dep_tid. */
static inline void dep_add(ctx *c, tlist *t, uint32_t dep_tid, uint32_t dep_idx)
{
    t->deps[t->ndeps++] = (hak_rdep){(uint32_t)t->n, dep_tid, dep_idx};
    c->rp->cross_thread_deps++;
}

/* Op o, about to be appended to thread list t, consumes live object l:
 * sets in_obj and the dependency. */
static inline void obj_take(ctx *c, hot *h, tlist *t, const live *l, hak_rop *o)
{
    o->in_obj = l->obj;
    if (l->tid != o->tid)
        dep_add(c, t, l->tid, l->idx);
    h->live_bytes -= l->bytes;
    h->live_objs--;
}

/* Consumes the oldest live object at address a for op o of thread list
 * t.  1 when found, 0 when unknown/already freed (counted).  When found,
 * the op must be appended (its dependency is recorded). */
static inline int obj_consume(ctx *c, hot *h, tlist *t, uint64_t a, hak_rop *o)
{
    entry *e = map_find(h, a);
    if (!e || e->o.obj == NIL) {
        if (!e)
            c->rp->unknown_frees++;
        else
            c->rp->double_frees++;
        return 0;
    }
    obj_take(c, h, t, &e->o, o);
    if (e->o.link == NIL)
        e->o.obj = NIL;
    else
        list_pop(c, e);
    return 1;
}

static int too_many(ctx *c);

/* ---- The program's own mappings (HAK_REPLAY_MMAP; rules in trace.h) ----
 * Few (cc1: 48 in 1.8M events) and looked up by range, so a plain array
 * searched from its youngest end, apart from malloc's address map: an
 * address inside a mapping is not the mapping, and a mapping's start may
 * equal a malloc block's freed address. */

typedef struct mapping {
    uint64_t addr, len;    /* len: whole pages */
    uint64_t left;         /* bytes still mapped (of o.bytes): partial munmaps */
    live o;                /* o.bytes: the length asked for */
} mapping;

static inline uint64_t page_up(uint64_t n)
{
    return n > UINT64_MAX - 4095 ? UINT64_MAX : (n + 4095) & ~4095ull;
}

/* The live mapping that starts at a and is len bytes long (rounded up to
 * pages), none of it unmapped, or NULL. */
static mapping *maps_find(ctx *c, uint64_t a, uint64_t len)
{
    for (size_t i = c->nmaps; i-- > 0;)
        if (c->maps[i].addr == a && c->maps[i].len == page_up(len) &&
            c->maps[i].left == c->maps[i].o.bytes)
            return &c->maps[i];
    return NULL;
}

/* The youngest live mapping that holds the pages [a, a + len), or NULL.
 * Youngest: a mapping the kernel placed in a hole an earlier partial
 * munmap left is the one that holds those pages now. */
static mapping *maps_holding(ctx *c, uint64_t a, uint64_t len)
{
    uint64_t n = page_up(len);
    for (size_t i = c->nmaps; i-- > 0;) {
        const mapping *m = &c->maps[i];
        if (a >= m->addr && ((a - m->addr) & 4095) == 0 && n <= m->len && a - m->addr <= m->len - n)
            return &c->maps[i];
    }
    return NULL;
}

/* Op o of thread list t unmaps len bytes (whole pages) of mapping m at
 * page offset off, not all of m: the worker unmaps them at the same
 * offset of its own mapping (op MUNMAP, size len, aux off).  When they
 * are the last of m, m is gone. */
static void map_unmap_part(ctx *c, hot *h, tlist *t, mapping *m, uint64_t off, uint64_t len,
                           hak_rop *o)
{
    o->in_obj = m->o.obj;
    o->size = len;
    o->aux = (uint32_t)(off >> 12);
    if (m->o.tid != o->tid)
        dep_add(c, t, m->o.tid, m->o.idx);
    uint64_t d = len < m->left ? len : m->left;
    m->left -= d;
    h->live_bytes -= d;
    if (!m->left) {
        h->live_objs--;
        *m = c->maps[--c->nmaps];
    }
}

/* Whether event e's mapping is heap the replay can make: private,
 * anonymous, writable, placed by the kernel. */
static int map_is_heap(const hak_event *e)
{
    uint32_t prot = (uint32_t)e->align, flags = (uint32_t)(e->align >> 32);
    return (flags & MAP_ANONYMOUS) && !(flags & MAP_SHARED) && (flags & MAP_PRIVATE) &&
           !(flags & MAP_FIXED) &&
#ifdef MAP_FIXED_NOREPLACE
           !(flags & MAP_FIXED_NOREPLACE) &&
#endif
           (prot & PROT_WRITE) && e->out_ptr && e->size;
}

/* Op o of thread list t consumes mapping m (which is then replaced or
 * removed by the caller). */
static void map_take(ctx *c, hot *h, tlist *t, mapping *m, hak_rop *o)
{
    obj_take(c, h, t, &m->o, o);
}

/* Event e of the mmap family on thread list t, as op o.  1 when it
 * becomes an op, 0 when dropped (counted), -1 out of memory. */
static int map_event(ctx *c, hot *h, tlist *t, const hak_event *e, hak_rop *o)
{
    mapping *m = NULL;
    switch (e->op) {
    case HAK_OP_MMAP:
        if (!map_is_heap(e))
            return 0;
        if (c->nmaps == c->maps_cap) {
            size_t nc = c->maps_cap ? c->maps_cap * 2 : 64;
            mapping *p = realloc(c->maps, nc * sizeof *p);
            if (!p)
                return -1;
            c->maps = p;
            c->maps_cap = nc;
        }
        m = &c->maps[c->nmaps++];
        o->aux = 0;
        break;
    case HAK_OP_MUNMAP:
        if ((m = maps_find(c, e->in_ptr, e->size))) {          /* all of it */
            map_take(c, h, t, m, o);
            o->size = 0;
            *m = c->maps[--c->nmaps];
            return 1;
        }
        /* a part (GCC gives back runs of free pages of its 1 MiB chunks);
         * at most 2^32 pages in, where aux can say it */
        if (!e->size || !(m = maps_holding(c, e->in_ptr, e->size)) ||
            (e->in_ptr - m->addr) >> 44)
            return 0;
        map_unmap_part(c, h, t, m, e->in_ptr - m->addr, page_up(e->size), o);
        return 1;
    case HAK_OP_MREMAP:       /* nmemb: the old length */
        if (!e->out_ptr || !e->size || !(m = maps_find(c, e->in_ptr, e->nmemb)))
            return 0;
        map_take(c, h, t, m, o);
        o->aux = 0;
        break;
    default:
        return 0;
    }
    if (h->nobjects >= HAK_NO_OBJ - 1)
        return too_many(c);
    o->obj = h->nobjects++;
    o->size = e->size;
    *m = (mapping){e->out_ptr, page_up(e->size), e->size,
                   {e->size, o->obj, e->tid, (uint32_t)t->n, NIL}};
    bytes_add(h, e->size);
    return 1;
}

/* ---- Pre-existing blocks (FORMAT.md, "Windows") -------------------------- */

/* Op o of thread list t frees or reallocs address a, which the form has
 * never seen, and the event says the block had `bytes` bytes: it was
 * allocated before the window.  Creates its object for the prologue and
 * consumes it.  1 when taken, 0 when the address is known (the caller's
 * rules apply), -1 out of memory. */
static int pre_take(ctx *c, hot *h, uint64_t a, uint64_t bytes, hak_rop *o)
{
    if (!bytes || map_find(h, a))
        return 0;
    if (h->nobjects >= HAK_NO_OBJ - 1)
        return too_many(c), -1;
    hak_replay *rp = c->rp;
    if ((rp->npre & (rp->npre - 1)) == 0) {       /* 0, 1, 2, 4...: double */
        hak_rpre *p = realloc(rp->pre, (rp->npre ? rp->npre * 2 : 64) * sizeof *p);
        if (!p) {
            snprintf(c->err, c->errlen, "out of memory building the replay form");
            return -1;
        }
        rp->pre = p;
    }
    uint32_t obj = h->nobjects++;
    rp->pre[rp->npre++] = (hak_rpre){.obj = obj, .bytes = bytes};
    rp->pre_bytes += bytes;
    /* a dead entry: a second free of a is a double free, as usual */
    if (!map_add(c, a)) {
        snprintf(c->err, c->errlen, "out of memory building the replay form");
        return -1;
    }
    h->map = c->map;
    h->mask = c->cap - 1;
    o->in_obj = obj;
    return 1;
}

/* ---- Output arrays -----------------------------------------------------
 * The ops array and the per-thread lists take 28 bytes an event:
 * gigabytes for long traces, and backing them with pages is a large part
 * of the build's time.  Their pages are populated a window at a time just
 * ahead of the writes: one madvise call per window instead of a page fault
 * per page, and the kernel's zeroing leaves the window in cache for the
 * stores that follow (populating all of it up front left them to miss).
 * (Transparent huge pages were measured and rejected: on this VM the
 * 2 MiB blocks come from memory the guest had handed back to the host
 * (free page reporting), and the host backing it again made the build
 * 2-4x slower.) */

enum {
    PAGE = 4096,
    OPS_AHEAD = 256 * 1024 / sizeof(hak_rop),     /* elements populated per window */
    LIST_AHEAD = 64 * 1024 / sizeof(uint32_t),
};

/* Populates the pages from the one holding `from` up to the one holding
 * `to`, excluded: consecutive calls (the next from = this to) leave no
 * gap, and the page holding the end of an array is left to fault in.  A
 * hint: on errors the pages just fault in on first touch. */
static void populate(const void *from, const void *to)
{
#ifdef MADV_POPULATE_WRITE
    uintptr_t a = (uintptr_t)from & ~(uintptr_t)(PAGE - 1);
    uintptr_t e = (uintptr_t)to & ~(uintptr_t)(PAGE - 1);
    if (e > a)
        madvise((void *)a, e - a, MADV_POPULATE_WRITE);
#else
    (void)from, (void)to;
#endif
}

/* Makes room for n more ops: ops[nops + n) is populated. */
static void ops_window(ctx *c, const hot *h, uint64_t n)
{
    if (h->nops + n <= c->ops_ready)
        return;
    uint64_t to = h->nops + n + OPS_AHEAD;
    if (to > c->ops_lim)
        to = c->ops_lim;
    populate(&h->ops[c->ops_ready], &h->ops[to]);
    c->ops_ready = to;
}

/* Thread list t has no populated room left: extends it.  0, or -1 when
 * it is full (more events than the chunk index counted). */
static int list_window(ctx *c, tlist *t)
{
    if (t->n >= t->lim) {
        snprintf(c->err, c->errlen, "more events than the chunk index counted");
        return -1;
    }
    uint64_t to = t->ready + LIST_AHEAD < t->lim ? t->ready + LIST_AHEAD : t->lim;
    populate(&t->list[t->ready], &t->list[to]);
    t->ready = to;
    return 0;
}

/* Ops are built in place in the next free slot of the array (it has room
 * for every event) and only counted when commit() appends them: building
 * them on the stack and copying stalled on store forwarding. */
static inline hak_rop *op_slot(const hot *h)
{
    return &h->ops[h->nops];
}

/* Appends the op in op_slot() as the next op of thread list t (which has
 * room). */
static inline void commit(hot *h, tlist *t)
{
    t->list[t->n++] = (uint32_t)h->nops++;
}

/* ---- Events ------------------------------------------------------------- */

static inline uint64_t mul_sat(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static int too_many(ctx *c)
{
    snprintf(c->err, c->errlen, "more than %u objects", HAK_NO_OBJ - 1);
    return -1;
}

/* Appends the replay op for event e of thread list t (or drops it).
 * 0 or -1. */
static int add_event(ctx *c, hot *h, tlist *t, const hak_event *e)
{
    hak_replay *rp = c->rp;
    hak_rop *o = op_slot(h);
    *o = (hak_rop){.size = e->size, .obj = HAK_NO_OBJ, .in_obj = HAK_NO_OBJ,
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
            int pre = pre_take(c, h, e->in_ptr, e->align, o);
            if (pre < 0)
                return -1;
            if (!pre && !obj_consume(c, h, t, e->in_ptr, o))
                return 0;
            goto append;
        }
        if (!e->out_ptr) {
            rp->failed_allocs++;
            return 0;
        }
        int pre = e->in_ptr ? pre_take(c, h, e->in_ptr, e->align, o) : 0;
        if (pre < 0)
            return -1;
        if (!pre && (!e->in_ptr || !obj_consume(c, h, t, e->in_ptr, o))) {   /* = malloc */
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
        switch (pre_take(c, h, e->in_ptr, e->size, o)) {
        case -1:
            return -1;
        case 0:
            if (!obj_consume(c, h, t, e->in_ptr, o))
                return 0;
            break;
        }
        o->size = 0;
        goto append;
    case HAK_OP_THREAD_START:
        if (e->in_ptr < h->nthreads && e->in_ptr != e->tid && h->thr[e->in_ptr].n)
            dep_add(c, t, (uint32_t)e->in_ptr, (uint32_t)(h->thr[e->in_ptr].n - 1));
        goto append;
    case HAK_OP_THREAD_EXIT:
        o->size = 0;
        goto append;
    default:                        /* mmap family */
        if (c->opts & HAK_REPLAY_MMAP) {
            int k = map_event(c, h, t, e, o);
            if (k < 0) {
                if (!c->err[0])
                    snprintf(c->err, c->errlen, "out of memory building the replay form");
                return -1;
            }
            if (k) {
                rp->mmap_kept++;
                goto append;
            }
        }
        rp->mmap_ops++;
        return 0;
    }
    /* An allocating op: create its object. */
    if (h->nobjects >= HAK_NO_OBJ - 1)
        return too_many(c);
    o->obj = h->nobjects++;
    if (obj_create(c, h, e->out_ptr, (live){bytes, o->obj, e->tid, (uint32_t)t->n, NIL})) {
        snprintf(c->err, c->errlen, "out of memory building the replay form");
        return -1;
    }
append:
    commit(h, t);
    return 0;
}

/* The fast path for malloc(size) = p with p a known dead address (what
 * add_event would do, minus its branches).  1 when done, 0 to take the
 * general path. */
static inline int fast_malloc(hot *h, tlist *t, const hak_event *e)
{
    if (e->op != HAK_OP_MALLOC || e->align || !e->out_ptr || h->nobjects >= HAK_NO_OBJ - 1)
        return 0;
    entry *en = map_find(h, e->out_ptr);
    if (!en || en->o.obj != NIL)
        return 0;
    uint32_t obj = h->nobjects++;
    en->o = (live){e->size, obj, e->tid, (uint32_t)t->n, NIL};
    bytes_add(h, e->size);
    *op_slot(h) = (hak_rop){.size = e->size, .obj = obj, .in_obj = HAK_NO_OBJ,
                            .tid = (uint16_t)e->tid, .op = HAK_OP_MALLOC};
    commit(h, t);
    return 1;
}

/* The fast path for free(p) of the only live object at p.  1 when done,
 * 0 to take the general path. */
static inline int fast_free(ctx *c, hot *h, tlist *t, const hak_event *e)
{
    if (e->op != HAK_OP_FREE || !e->in_ptr)
        return 0;
    entry *en = map_find(h, e->in_ptr);
    if (!en || en->o.obj == NIL || en->o.link != NIL)
        return 0;
    hak_rop *o = op_slot(h);
    *o = (hak_rop){.obj = HAK_NO_OBJ, .tid = (uint16_t)e->tid, .op = HAK_OP_FREE};
    obj_take(c, h, t, &en->o, o);
    en->o.obj = NIL;
    commit(h, t);
    return 1;
}

/* Runs events ev[0..n) through the fast paths or add_event.  0 or -1. */
static int add_batch(ctx *c, const hak_event *ev, long n)
{
    hot h = c->h;
    ops_window(c, &h, (uint64_t)n);
    int rc = 0;
    for (const hak_event *e = ev, *end = ev + n; e < end; e++) {
        /* The index bounds each thread's events (list_window checks);
         * a decoder bug must not write past a thread's list. */
        if (e->tid >= h.nthreads) {
            snprintf(c->err, c->errlen, "more events than the chunk index counted");
            rc = -1;
            break;
        }
        tlist *t = &h.thr[e->tid];
        if (end - e > PREFETCH)
            map_prefetch(&h, &e[PREFETCH]);
        if (t->n >= t->ready && (rc = list_window(c, t)))
            break;
        if (fast_malloc(&h, t, e) || fast_free(c, &h, t, e))
            continue;
        if ((rc = add_event(c, &h, t, e)))
            break;
    }
    c->h = h;
    return rc;
}

/* Runs all events of r through add_batch.  0 or -1 (reason in c->err). */
static int add_events(ctx *c, hak_trace_reader *r)
{
    /* 72 KiB of events: stays in L2 next to the map and the output
     * windows (~2% faster than 4096). */
    enum { BATCH = 1024 };
    hak_event *ev = malloc(BATCH * sizeof *ev);
    if (!ev) {
        snprintf(c->err, c->errlen, "out of memory");
        return -1;
    }
    int rc = -1;
    long n;
    hak_tr_rewind(r);
    while ((n = hak_tr_read(r, ev, BATCH)) > 0)
        if (add_batch(c, ev, n))
            goto done;
    if (n < 0) {
        snprintf(c->err, c->errlen, "%s", hak_tr_error(r));
        goto done;
    }
    rc = 0;
done:
    hak_tr_rewind(r);
    free(ev);
    return rc;
}

/* Allocates the form's arrays for cap events and sets up the thread
 * lists: thread t's index list and dependencies get room for all of t's
 * events (the index knows them), each kind in one allocation
 * (thread_ops[0] and thread_deps[0] are the bases, see hak_replay_free).
 * 0 or -1 (out of memory). */
static int alloc_form(hak_trace_reader *r, hak_replay *out, hot *h, uint64_t cap)
{
    size_t nt = h->nthreads;
    out->ops = h->ops = malloc((cap + 1) * sizeof *out->ops);
    out->thread_nops = calloc(nt + 1, sizeof *out->thread_nops);
    out->thread_ops = calloc(nt + 1, sizeof *out->thread_ops);
    out->thread_ndeps = calloc(nt + 1, sizeof *out->thread_ndeps);
    out->thread_deps = calloc(nt + 1, sizeof *out->thread_deps);
    h->thr = calloc(nt + 1, sizeof *h->thr);
    if (!out->ops || !out->thread_nops || !out->thread_ops || !out->thread_ndeps ||
        !out->thread_deps || !h->thr)
        return -1;
    if (!nt)
        return 0;
    uint32_t *lists = out->thread_ops[0] = malloc((cap + 1) * sizeof *lists);
    hak_rdep *deps = out->thread_deps[0] = malloc((cap + 1) * sizeof *deps);
    if (!lists || !deps)
        return -1;
    for (uint64_t t = 0, off = 0; t < nt; off += h->thr[t++].lim) {
        tlist *tl = &h->thr[t];
        tl->lim = hak_tr_thread_nevents(r, (uint32_t)t);
        tl->list = out->thread_ops[t] = lists + off;
        tl->deps = out->thread_deps[t] = deps + off;
    }
    return 0;
}

int hak_replay_build(hak_trace_reader *r, hak_replay *out, char *err, size_t errlen)
{
    return hak_replay_build_opts(r, out, 0, err, errlen);
}

int hak_replay_build_opts(hak_trace_reader *r, hak_replay *out, unsigned opts,
                          char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (errlen)
        err[0] = 0;
    ctx c = {.rp = out, .err = err, .errlen = errlen, .free_cell = NIL, .opts = opts};
    hot *h = &c.h;
    uint64_t cap = hak_tr_nevents(r);
    if (cap > UINT32_MAX) {         /* thread_ops indices are 32-bit */
        snprintf(err, errlen, "more than %u events", UINT32_MAX);
        return -1;
    }
    c.ops_lim = cap;
    h->nthreads = out->nthreads = hak_tr_nthreads(r);
    int rc = -1;
    if (!map_grow(&c)) {            /* never empty: lookups need no test */
        h->map = c.map;
        h->mask = c.cap - 1;
    }
    if (alloc_form(r, out, h, cap) || !c.map) {
        snprintf(err, errlen, "out of memory for %llu replay ops", (unsigned long long)cap);
        goto done;
    }
    if (add_events(&c, r))
        goto done;
    out->nops = h->nops;
    for (uint32_t t = 0; t < h->nthreads; t++) {
        out->thread_nops[t] = h->thr[t].n;
        out->thread_ndeps[t] = h->thr[t].ndeps;
    }
    out->nobjects = h->nobjects;
    out->peak_live_bytes = h->peak_live_bytes;
    out->leaked_objects = h->live_objs;
    rc = 0;
done:
    free(h->thr);
    free(c.map);
    free(c.cells);
    free(c.maps);
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
    if (rp->thread_deps)
        free(rp->thread_deps[0]);
    free(rp->thread_ops);
    free(rp->thread_nops);
    free(rp->thread_deps);
    free(rp->thread_ndeps);
    free(rp->pre);
    memset(rp, 0, sizeof *rp);
}
