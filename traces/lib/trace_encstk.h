/* trace_encstk.h - the encoder's copy of the per-class stacks of freed
 * blocks (FORMAT.md, "out_ptr"; the decoder's is tc_model in
 * trace_codec.h).  Its only user is trace_encode.c.
 *
 * A stack holds the `depth` (<= TC_STACK) most recently freed blocks of a
 * size class; an allocation that gets one of them back is coded as its
 * position (0 = most recently freed), which removes it; a push onto a full
 * stack drops the deepest.  Every event that allocates or frees does one
 * of these, and in real streams the position is random (a quarter of a
 * recorded random_mixed's allocations are found on top, a third not at
 * all, the rest anywhere).  Keeping the blocks in order by position made
 * each push and removal move the whole stack (16 entries: 1.5-2 ns per
 * event of the encoder's 11-13).  So the blocks stay where they were put,
 * in TC_STACK slots, and the order is a permutation of slot numbers packed
 * in one 64-bit word, 4 bits per position (nibble i = the slot at
 * position i).  Pushing shifts the word left by a nibble and reuses the
 * slot that fell off the deepest position; removing deletes a nibble and
 * parks its slot at the deepest position.  Both are a few register
 * operations, whatever the position.  An empty slot holds 0 (never a coded
 * pointer: NULL results and frees of NULL never reach the stacks), the
 * slots at positions >= the stack's count are the empty ones, so a search
 * compares all slots and needs no count.
 */
#ifndef HAK_TRACE_ENCSTK_H
#define HAK_TRACE_ENCSTK_H

#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "trace_codec.h"

_Static_assert(TC_STACK == 16, "a stack's order is 16 nibbles of one word");
#define STK_ORDER0 0xfedcba9876543210ull   /* position i holds slot i */
#define STK_NIB1 0x1111111111111111ull

typedef struct enc_stacks {
    uint64_t ptr[TC_NCLASS][TC_STACK];     /* by slot; 0 = empty */
    uint64_t order[TC_NCLASS];             /* slot at each position < depth (the
                                              nibbles above are never read) */
    unsigned top;                          /* 4 * (depth - 1): the deepest position */
} enc_stacks;

/* Empties every stack; depth <= TC_STACK. */
static inline void estk_reset(enc_stacks *s, unsigned depth)
{
    memset(s->ptr, 0, sizeof s->ptr);
    for (unsigned c = 0; c < TC_NCLASS; c++)
        s->order[c] = STK_ORDER0;
    s->top = 4 * (depth - 1);
}

/* Pushes p on stack c. */
static inline void estk_push(enc_stacks *s, unsigned c, uint64_t p)
{
    uint64_t o = s->order[c];
    unsigned slot = (unsigned)(o >> s->top) & 15;  /* the deepest: empty, or dropped */
    s->order[c] = o << 4 | slot;
    s->ptr[c][slot] = p;
}

/* Position of slot `slot` in order o: the nibble equal to it.  Positions
 * below the depth hold distinct slots, those of the nonzero ones among
 * them (pushes take the slot at the deepest position, removals put theirs
 * back there), so a slot that holds a block is found there; nibbles above
 * the depth may repeat slots (with depth 8: pushes shift them up there),
 * but the lowest zero nibble of the xor is exact, and comes first. */
static inline unsigned estk_pos(uint64_t o, unsigned slot)
{
    uint64_t x = o ^ (slot * STK_NIB1);
    uint64_t z = (x - STK_NIB1) & ~x & (8 * STK_NIB1);
    return (unsigned)__builtin_ctzll(z) >> 2;
}

/* Slot j of stack c holds p: bits 2j and 2j + 1 set (either alone means
 * nothing).  With SSE2, 16 compares of 32-bit halves and a few packs
 * instead of 16 64-bit compares, shifts and ors (44 of the encoder's ~250
 * instructions per event on a recorded factor trace). */
static inline __attribute__((always_inline)) uint32_t estk_match2(const enc_stacks *s, unsigned c, uint64_t p)
{
    const uint64_t *r = s->ptr[c];
#ifdef __SSE2__
    __m128i pv = _mm_set1_epi64x((long long)p);
    const __m128i *v = (const __m128i *)r;
#define EQ4(j) _mm_packs_epi32(_mm_cmpeq_epi32(_mm_loadu_si128(v + 2 * (j)), pv), \
                               _mm_cmpeq_epi32(_mm_loadu_si128(v + 2 * (j) + 1), pv))
    /* a 16-bit lane per 32-bit half, then a byte */
    uint32_t lo = (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(EQ4(0), EQ4(1)));
    uint32_t hi = (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(EQ4(2), EQ4(3)));
#undef EQ4
    uint32_t m = lo | hi << 16;                  /* bit 2j: low half of slot j equal */
    return m & m >> 1 & 0x55555555u;
#else
    uint32_t hit = 0;
    for (unsigned j = 0; j < TC_STACK; j++)
        hit |= (uint32_t)(r[j] == p) << 2 * j;
    return hit;
#endif
}

/* Position of p in stack c (the most recently pushed when it is there more
 * than once, as the decoder numbers them), TC_STACK when absent. */
static inline __attribute__((always_inline)) unsigned estk_find(const enc_stacks *s, unsigned c, uint64_t p)
{
    /* The top first, with a load of the width the last push stored: a
     * 16-byte load over a slot just written 8 bytes wide waits for the
     * store to complete (no store forwarding), which is the usual case,
     * a free then an allocation of the same size. */
    if (s->ptr[c][s->order[c] & 15] == p)
        return 0;
    uint32_t hit = estk_match2(s, c, p);
    if (__builtin_expect(!hit, 0))
        return TC_STACK;
    unsigned pos = estk_pos(s->order[c], (unsigned)__builtin_ctz(hit) >> 1);
    if (__builtin_expect(hit & (hit - 1), 0))      /* a block freed twice */
        for (hit &= hit - 1; hit; hit &= hit - 1) {
            unsigned q = estk_pos(s->order[c], (unsigned)__builtin_ctz(hit) >> 1);
            pos = q < pos ? q : pos;
        }
    return pos;
}

/* Removes position i (< depth) of stack c: the deeper ones move up. */
static inline __attribute__((always_inline)) void estk_remove(enc_stacks *s, unsigned c, unsigned i)
{
    uint64_t o = s->order[c], below = (1ull << 4 * i) - 1;   /* positions < i */
    unsigned slot = (unsigned)(o >> 4 * i) & 15;
    s->order[c] = (o & below) | ((o >> 4) & ~below & ~(15ull << s->top)) |
                  (uint64_t)slot << s->top;
    s->ptr[c][slot] = 0;
}

/* The block on top of stack c (0 when empty). */
static inline uint64_t estk_top(const enc_stacks *s, unsigned c)
{
    return s->ptr[c][s->order[c] & 15];
}

#endif /* HAK_TRACE_ENCSTK_H */
