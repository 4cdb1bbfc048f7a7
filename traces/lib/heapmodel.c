/* heapmodel.c - see heapmodel.h. */
#include "heapmodel.h"
#include "hak_check.h"

#include <stdlib.h>
#include <string.h>

#define HM_FREED (UINT32_MAX - 1)   /* map value: address seen, now freed */

static size_t slot_of(const hak_heap_model *m, uint64_t addr)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)((addr >> 4) * 0x9e3779b97f4a7c15ull >> 17) & mask;
    while (m->vals[i] != HAK_HM_NIL && m->keys[i] != addr)
        i = (i + 1) & mask;
    return i;
}

static int grow_map(hak_heap_model *m)
{
    uint64_t *ok = m->keys;
    uint32_t *ov = m->vals;
    size_t ocap = m->cap;
    size_t ncap = ocap ? ocap * 2 : 1024;
    uint64_t *nk = malloc(ncap * sizeof *nk);
    uint32_t *nv = malloc(ncap * sizeof *nv);
    if (!nk || !nv) {
        free(nk);
        free(nv);
        return -1;
    }
    memset(nv, 0xff, ncap * sizeof *nv);      /* HAK_HM_NIL = empty */
    m->keys = nk;
    m->vals = nv;
    m->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (ov[i] != HAK_HM_NIL) {
            size_t j = slot_of(m, ok[i]);
            m->keys[j] = ok[i];
            m->vals[j] = ov[i];
        }
    free(ok);
    free(ov);
    return 0;
}

int hak_hm_init(hak_heap_model *m, hak_hm_death_fn on_death, void *ctx)
{
    memset(m, 0, sizeof *m);
    m->on_death = on_death;
    m->ctx = ctx;
    m->free_head = HAK_HM_NIL;
    return grow_map(m);
}

void hak_hm_destroy(hak_heap_model *m)
{
    free(m->keys);
    free(m->vals);
    free(m->objs);
    memset(m, 0, sizeof *m);
}

static uint32_t new_obj(hak_heap_model *m)
{
    if (m->free_head != HAK_HM_NIL) {
        uint32_t i = m->free_head;
        m->free_head = m->objs[i].next;
        return i;
    }
    if (m->nobjs == m->capobjs) {
        uint32_t ncap = m->capobjs ? m->capobjs * 2 : 1024;
        if (ncap >= HM_FREED)
            return HAK_HM_NIL;
        hak_hm_obj *o = realloc(m->objs, (size_t)ncap * sizeof *o);
        if (!o)
            return HAK_HM_NIL;
        m->objs = o;
        m->capobjs = ncap;
    }
    return m->nobjs++;
}

uint64_t hak_hm_request_bytes(const hak_event *ev)
{
    if (ev->op == HAK_OP_CALLOC || ev->op == HAK_OP_REALLOCARRAY) {
        uint64_t b;
        return __builtin_mul_overflow(ev->nmemb, ev->size, &b) ? UINT64_MAX : b;
    }
    return ev->size;
}

static unsigned birth(hak_heap_model *m, const hak_event *ev, uint64_t bytes)
{
    unsigned found = 0;
    if ((m->used + 1) * 4 > m->cap * 3 && grow_map(m))
        return HAK_HM_OOM;
    uint32_t o = new_obj(m);
    if (o == HAK_HM_NIL)
        return HAK_HM_OOM;
    hak_hm_obj *b = &m->objs[o];
    b->addr = ev->out_ptr;
    b->size = bytes;
    b->seq = ev->seq;
    b->ts_ns = ev->ts_ns;
    b->tid = ev->tid;
    b->site = ev->site;
    b->next = HAK_HM_NIL;
    size_t s = slot_of(m, ev->out_ptr);
    if (m->vals[s] == HAK_HM_NIL) {
        m->keys[s] = ev->out_ptr;
        m->used++;
        m->vals[s] = o;
    } else if (m->vals[s] == HM_FREED) {
        m->vals[s] = o;
    } else {                              /* still live: an inversion */
        uint32_t t = m->vals[s];
        while (m->objs[t].next != HAK_HM_NIL)
            t = m->objs[t].next;
        m->objs[t].next = o;
        m->inversions++;
        found |= HAK_HM_INVERSION;
    }
    m->allocs++;
    m->alloc_bytes += bytes;
    m->live_objects++;
    m->live_bytes += bytes;
    if (m->live_bytes > m->peak_live_bytes)
        m->peak_live_bytes = m->live_bytes;
    if (m->live_objects > m->peak_live_objects)
        m->peak_live_objects = m->live_objects;
    return found;
}

/* The size a free or realloc carries for a block allocated before the
 * trace's window (FORMAT.md, "Windows"), 0 when none. */
static uint64_t pre_window_size(const hak_event *ev)
{
    return ev->op == HAK_OP_FREE ? ev->size : ev->op == HAK_OP_REALLOC ? ev->align : 0;
}

static unsigned death(hak_heap_model *m, const hak_event *ev, uint64_t addr)
{
    size_t s = slot_of(m, addr);
    if (m->vals[s] == HAK_HM_NIL) {
        uint64_t pre = pre_window_size(ev);
        if (pre) {
            m->pre_blocks++;
            m->pre_bytes += pre;
        }
        if (!m->inherited_heap && !pre) {
            m->unknown_frees++;
            return HAK_HM_UNKNOWN_FREE;
        }
        /* A block from before the fork dies: remember its address as
         * freed, so that a second free of it is a double free. */
        if (!pre)
            m->inherited_frees++;
        if ((m->used + 1) * 4 > m->cap * 3) {
            if (grow_map(m))
                return HAK_HM_INHERITED_FREE | HAK_HM_OOM;
            s = slot_of(m, addr);
        }
        m->keys[s] = addr;
        m->vals[s] = HM_FREED;
        m->used++;
        return HAK_HM_INHERITED_FREE;
    }
    if (m->vals[s] == HM_FREED) {
        m->double_frees++;
        return HAK_HM_DOUBLE_FREE;
    }
    uint32_t o = m->vals[s];
    hak_hm_obj *b = &m->objs[o];
    /* a block on a live chain was counted live at its birth */
    HAK_CHECK(m->live_objects > 0 && m->live_bytes >= b->size);
    if (m->on_death)
        m->on_death(m->ctx, b, ev);
    m->vals[s] = b->next != HAK_HM_NIL ? b->next : HM_FREED;
    m->live_objects--;
    m->live_bytes -= b->size;
    m->frees++;
    b->next = m->free_head;
    m->free_head = o;
    return 0;
}

unsigned hak_hm_apply(hak_heap_model *m, const hak_event *ev)
{
    switch (ev->op) {
    case HAK_OP_MALLOC: case HAK_OP_CALLOC: case HAK_OP_MEMALIGN:
    case HAK_OP_POSIX_MEMALIGN: case HAK_OP_ALIGNED_ALLOC:
    case HAK_OP_VALLOC: case HAK_OP_PVALLOC:
        if (!ev->out_ptr) {
            m->failed_allocs++;
            return HAK_HM_FAILED;
        }
        return birth(m, ev, hak_hm_request_bytes(ev));
    case HAK_OP_REALLOC: case HAK_OP_REALLOCARRAY: {
        uint64_t bytes = hak_hm_request_bytes(ev);
        if (!ev->out_ptr) {
            if (bytes == 0 && ev->in_ptr)
                return death(m, ev, ev->in_ptr);      /* realloc(p, 0) frees p */
            m->failed_allocs++;
            return HAK_HM_FAILED;
        }
        unsigned f = ev->in_ptr ? death(m, ev, ev->in_ptr) : 0;
        return f | birth(m, ev, bytes);
    }
    case HAK_OP_FREE:
        if (!ev->in_ptr) {
            m->null_frees++;
            return HAK_HM_FREE_NULL;
        }
        return death(m, ev, ev->in_ptr);
    default:
        return 0;
    }
}

void hak_hm_foreach_live(const hak_heap_model *m,
                         void (*fn)(void *ctx, const hak_hm_obj *obj), void *ctx)
{
    for (size_t i = 0; i < m->cap; i++) {
        uint32_t o = m->vals[i];
        if (o == HAK_HM_NIL || o == HM_FREED)
            continue;
        for (; o != HAK_HM_NIL; o = m->objs[o].next)
            fn(ctx, &m->objs[o]);
    }
}
