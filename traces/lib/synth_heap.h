/* synth_heap.h - a tiny address-space model for synthetic traces.
 *
 * The generators in synth.c need addresses that look like a real
 * allocator's: distinct while live, 16-byte aligned, reused after free the
 * way a simple size-class allocator reuses them (LIFO per class, like a
 * thread cache), small blocks packed in a brk-like heap and large ones in
 * page-aligned mmap-like regions.  The model is deterministic and its
 * memory is bounded by the peak number of live blocks (free lists hold only
 * freed addresses; fresh addresses come from bump pointers).
 *
 * Invariant: an address returned by synth_heap_alloc is never returned
 * again until it has been passed to synth_heap_free with the same size.
 * The regions never overlap: fresh blocks that would make the brk heap and
 * the mmap area meet come from a third region above 2^47, which can hold
 * SYNTH_HEAP_MAX_LIVE blocks of SYNTH_HEAP_MAX_SIZE without wrapping.
 */
#ifndef HAK_SYNTH_HEAP_H
#define HAK_SYNTH_HEAP_H

#include <stdint.h>

#define SYNTH_HEAP_MAX_SIZE (1ull << 36)   /* larger requests are rejected by synth */
#define SYNTH_HEAP_MAX_LIVE (1ull << 24)   /* most live blocks synth asks for */
#define SYNTH_HEAP_NCLASS   (65 + (36 - 10 + 1) * 4)

typedef struct synth_freelist {
    uint64_t *addr;
    uint64_t n, cap;
} synth_freelist;

typedef struct synth_heap {
    uint64_t brk;        /* next fresh small-block address (grows up) */
    uint64_t mmap_top;   /* next fresh large-region end (grows down) */
    uint64_t over;       /* when brk and mmap regions would meet: a third
                          * region above 2^47 (synthetic, not canonical) */
    synth_freelist cls[SYNTH_HEAP_NCLASS];
    int oom;             /* set when a free list could not grow */
} synth_heap;

void synth_heap_init(synth_heap *h);
void synth_heap_destroy(synth_heap *h);
/* Rounded block size and class index for a request (size 0 counts as 1). */
uint64_t synth_heap_block(uint64_t size, unsigned *cls);
uint64_t synth_heap_alloc(synth_heap *h, uint64_t size);
void synth_heap_free(synth_heap *h, uint64_t addr, uint64_t size);

#endif
