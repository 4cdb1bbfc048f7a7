/* synth_heap.c - see synth_heap.h. */
#include "synth_heap.h"

#include <stdlib.h>
#include <string.h>

#define HEAP_BASE   0x000055d4a0000000ull   /* where a PIE's brk heap typically sits */
#define MMAP_TOP    0x00007f3c00000000ull   /* below the usual shared-library area */
#define MMAP_THRESH (128u * 1024)           /* glibc's default mmap threshold */
#define PAGE        4096u
#define OVER_BASE   0x0000800000000000ull   /* 2^47 */

void synth_heap_init(synth_heap *h)
{
    memset(h, 0, sizeof *h);
    h->brk = HEAP_BASE + 16;       /* first chunk after a malloc-style header */
    h->mmap_top = MMAP_TOP;
    h->over = OVER_BASE;
}

void synth_heap_destroy(synth_heap *h)
{
    for (unsigned i = 0; i < SYNTH_HEAP_NCLASS; i++)
        free(h->cls[i].addr);
    memset(h, 0, sizeof *h);
}

/* Classes: 16-byte steps up to 1024 (classes 1..64), then four classes per
 * power of two (65...).  Large blocks are rounded to pages on top. */
uint64_t synth_heap_block(uint64_t size, unsigned *cls)
{
    if (size == 0)
        size = 1;
    if (size > SYNTH_HEAP_MAX_SIZE)
        size = SYNTH_HEAP_MAX_SIZE;
    if (size <= 1024) {
        *cls = (unsigned)((size + 15) / 16);
        return (uint64_t)*cls * 16;
    }
    unsigned e = 63 - (unsigned)__builtin_clzll(size - 1);  /* 2^e < size <= 2^(e+1) */
    uint64_t step = 1ull << (e - 2);
    uint64_t block = (size + step - 1) / step * step;      /* 5..8 steps */
    unsigned sub = (unsigned)(block / step) - 5;
    *cls = 65 + (e - 10) * 4 + sub;
    if (block > MMAP_THRESH)
        block = (block + PAGE - 1) / PAGE * PAGE;
    return block;
}

uint64_t synth_heap_alloc(synth_heap *h, uint64_t size)
{
    unsigned c;
    uint64_t block = synth_heap_block(size, &c);
    synth_freelist *fl = &h->cls[c];
    if (fl->n)
        return fl->addr[--fl->n];
    if (block > MMAP_THRESH) {
        /* a fresh mapping: header page offset like glibc's mmapped chunks */
        if (h->mmap_top - h->brk > block + PAGE) {
            h->mmap_top -= block + PAGE;
            return h->mmap_top + 16;
        }
    } else if (h->mmap_top - h->brk > block + 16) {
        uint64_t a = h->brk;
        h->brk += block + 16;      /* 16 bytes of chunk header between blocks */
        return a;
    }
    uint64_t a = h->over + 16;     /* the regions would meet: use the third one */
    h->over += block + PAGE;
    return a;
}

void synth_heap_free(synth_heap *h, uint64_t addr, uint64_t size)
{
    unsigned c;
    synth_heap_block(size, &c);
    synth_freelist *fl = &h->cls[c];
    if (fl->n == fl->cap) {
        uint64_t cap = fl->cap ? fl->cap * 2 : 64;
        uint64_t *a = realloc(fl->addr, cap * sizeof *a);
        if (!a) {                  /* forget the address: still never reused while live */
            h->oom = 1;
            return;
        }
        fl->addr = a;
        fl->cap = cap;
    }
    fl->addr[fl->n++] = addr;
}
