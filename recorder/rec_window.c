/* rec_window.c - which frees and reallocs of a window need their block's
 * size: those of blocks allocated before the window began.
 *
 * A window (a recording switched on while the process runs, a rotated
 * file, an attached process) starts with a heap it did not see built.
 * For the replay form to allocate those blocks in its prologue
 * (traces/FORMAT.md, "Windows"), the free or realloc that ends one must
 * carry its size.  The hot path cannot tell such a block from one the
 * window allocated, so in window mode every free and realloc records the
 * block's usable size (malloc_usable_size, taken before the real call),
 * and the writer drops it again here, before the records are encoded, for
 * blocks the window did allocate: kept, it would cost the trace a
 * full-width free instead of a one-byte back reference.
 *
 * The writer sees each thread's records in order but threads in no
 * particular order, so it keeps, per address, the smallest seq of an
 * allocation of it seen in this window.  A free with a larger seq ends a
 * block the window allocated: the address was handed out inside the
 * window, so a block from before the window can no longer live there.  A
 * free with a smaller seq, or of an address not in the table, keeps its
 * size (a block from before, or one whose allocation the writer has not
 * reached yet: readers ignore the size of a free whose block they know).
 * The table is the writer thread's own, mmap'd, linear probing with
 * backward-shift deletion; it holds about the window's live blocks. */
#include "rec_internal.h"

#include <string.h>
#include <sys/mman.h>

typedef struct ent { uint64_t addr, seq; } ent;   /* addr 0: empty */

static ent *tab;
static size_t cap, used;              /* cap: a power of two, or 0 */

static ent *tab_new(size_t n)
{
    void *p = rec_os_mmap(n * sizeof(ent), 0);
    return p == MAP_FAILED ? NULL : p;
}

void rec_window_reset(void)
{
    if (tab)
        rec_os_munmap(tab, cap * sizeof(ent));
    tab = NULL;
    cap = used = 0;
}

static inline size_t slot(uint64_t a, size_t mask) { return rec_hash_bits(a, 32) & mask; }

static int grow(void)
{
    size_t ncap = cap ? cap * 2 : 1u << 16;
    ent *t = tab_new(ncap);
    if (!t)
        return -1;
    for (size_t i = 0; i < cap; i++) {
        if (!tab[i].addr)
            continue;
        size_t j = slot(tab[i].addr, ncap - 1);
        while (t[j].addr)
            j = (j + 1) & (ncap - 1);
        t[j] = tab[i];
    }
    if (tab)
        rec_os_munmap(tab, cap * sizeof(ent));
    tab = t;
    cap = ncap;
    return 0;
}

static ent *find(uint64_t a)
{
    if (!cap)
        return NULL;
    for (size_t j = slot(a, cap - 1);; j = (j + 1) & (cap - 1)) {
        if (tab[j].addr == a)
            return &tab[j];
        if (!tab[j].addr)
            return NULL;
    }
}

/* Out of memory: the address is not remembered, so its free keeps its
 * size (a bigger trace, never a wrong one). */
static void allocated(uint64_t a, uint64_t seq)
{
    ent *e = find(a);
    if (e) {
        if (seq < e->seq)
            e->seq = seq;
        return;
    }
    if ((used + 1) * 2 > cap && grow() != 0)
        return;
    size_t j = slot(a, cap - 1);
    while (tab[j].addr)
        j = (j + 1) & (cap - 1);
    tab[j] = (ent){a, seq};
    used++;
}

static void erase(ent *e)
{
    size_t i = (size_t)(e - tab), mask = cap - 1;
    for (size_t j = (i + 1) & mask; tab[j].addr; j = (j + 1) & mask) {
        size_t home = slot(tab[j].addr, mask);
        /* move j back to the hole at i unless its home lies in (i, j] */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            tab[i] = tab[j];
            i = j;
        }
    }
    tab[i].addr = 0;
    used--;
}

/* A free or realloc (seq) of address a: 1 when the window allocated the
 * block (its size is dropped), 0 when it keeps it. */
static int ended(uint64_t a, uint64_t seq)
{
    ent *e = find(a);
    if (!e || e->seq > seq)
        return 0;
    erase(e);
    return 1;
}

void rec_window_filter(rec_slot *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        rec_rec *r = &s[i].r;
        rec_ext *x = r->ext ? &s[i + 1].x : NULL;
        i += r->ext;
        switch (r->op) {
        case HAK_OP_FREE:
            if (r->ptr && r->size && ended(r->ptr, r->seq))
                r->size = 0;
            break;
        case HAK_OP_REALLOC:
            REC_ASSERT(x);
            if (x && x->in_ptr && x->aux && ended(x->in_ptr, r->seq))
                x->aux = 0;
            if (r->ptr)
                allocated(r->ptr, r->seq);
            break;
        case HAK_OP_MMAP: case HAK_OP_MUNMAP: case HAK_OP_MREMAP:
        case HAK_OP_THREAD_START: case HAK_OP_THREAD_EXIT:
            break;                    /* munmap and mremap carry their sizes */
        default:                      /* the allocating ops */
            if (r->ptr)
                allocated(r->ptr, r->seq);
            break;
        }
    }
}
