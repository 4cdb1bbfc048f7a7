/* trace_model.h - the per-chunk pointer model and op layouts shared by the
 * event-chunk encoder (trace_encode.c) and decoder (trace_decode.c).
 *
 * Which fields an op stores (op_mask) is part of the format: an event whose
 * unused fields are not all zero is stored with TC_F_RAW instead, so every
 * event round-trips exactly whatever it contains.
 *
 * Encoder and decoder run the same small model (tc_model) over the chunk:
 * a ring of the chunk's allocation results (frees refer to them by
 * distance or by index, per the chunk's mode: ref_slot) and, per size
 * class, a stack of recently freed blocks (allocations that return one of
 * them are coded by its stack position).  Both sides update the model
 * identically, event by event; it starts empty in every chunk.  The
 * decoder keeps it as tc_model; the encoder, which looks blocks up by
 * pointer rather than by position, keeps an equivalent form of its own
 * (trace_encode.c, trace_encref.h).
 */
#ifndef HAK_TRACE_MODEL_H
#define HAK_TRACE_MODEL_H

#include <string.h>

#include "trace_codec.h"

enum { M_SIZE = 1, M_AUX = 2, M_IN = 4, M_OUT = 8, M_MUL = 16 /* bytes = nmemb * size */ };
enum { AUX_NONE, AUX_NMEMB, AUX_ALIGN, AUX_IN };   /* what AUX carries */

static const uint8_t op_mask[16] = {
    [HAK_OP_MALLOC] = M_SIZE | M_OUT,
    [HAK_OP_CALLOC] = M_SIZE | M_AUX | M_OUT | M_MUL,
    [HAK_OP_REALLOC] = M_IN | M_SIZE | M_OUT,
    [HAK_OP_REALLOCARRAY] = M_IN | M_SIZE | M_AUX | M_OUT | M_MUL,
    [HAK_OP_FREE] = M_IN,
    [HAK_OP_MEMALIGN] = M_SIZE | M_AUX | M_OUT,
    [HAK_OP_POSIX_MEMALIGN] = M_SIZE | M_AUX | M_OUT,
    [HAK_OP_ALIGNED_ALLOC] = M_SIZE | M_AUX | M_OUT,
    [HAK_OP_VALLOC] = M_SIZE | M_OUT,
    [HAK_OP_PVALLOC] = M_SIZE | M_OUT,
    [HAK_OP_THREAD_START] = M_SIZE | M_AUX,
    [HAK_OP_THREAD_EXIT] = 0,
    [HAK_OP_MMAP] = M_SIZE | M_AUX | M_OUT,
    [HAK_OP_MUNMAP] = M_IN | M_SIZE,
    [HAK_OP_MREMAP] = M_IN | M_SIZE | M_AUX | M_OUT,
};
static const uint8_t op_aux[16] = {
    [HAK_OP_CALLOC] = AUX_NMEMB, [HAK_OP_REALLOCARRAY] = AUX_NMEMB,
    [HAK_OP_MREMAP] = AUX_NMEMB, [HAK_OP_MEMALIGN] = AUX_ALIGN,
    [HAK_OP_POSIX_MEMALIGN] = AUX_ALIGN, [HAK_OP_ALIGNED_ALLOC] = AUX_ALIGN,
    [HAK_OP_MMAP] = AUX_ALIGN, [HAK_OP_THREAD_START] = AUX_IN,
};
/* Bytes an event may add to each column, worst case. */

static inline uint64_t alloc_bytes(unsigned m, uint64_t nmemb, uint64_t size)
{
    uint64_t r;
    if (!(m & M_MUL))
        return size;
    return __builtin_mul_overflow(nmemb, size, &r) ? UINT64_MAX : r;
}

/* ---- the shared model ---- */

/* The ring slot of the allocation that INREF value r >= 2 refers to, or -1
 * when r points outside the chunk's allocations so far (a corrupt chunk).
 * Distance mode: r - 1 allocations back, at most TC_RING (the ring is used
 * modulo TC_RING).  Index mode: allocation number a = *inext +
 * unzigzag(r - 2), which must be < nalloc; *inext becomes a + 1, so frees
 * in allocation order are runs of r = 2. */
static inline __attribute__((always_inline)) int64_t
ref_slot(unsigned mode, uint64_t r, uint32_t nalloc, uint32_t *inext)
{
    if (mode == TC_MODE_INDEX) {
        uint64_t a = (uint64_t)*inext + (uint64_t)tc_unzz(r - 2);
        if (__builtin_expect(a >= nalloc, 0))
            return -1;
        *inext = (uint32_t)a + 1;
        return (int64_t)(a & (TC_IRING - 1));
    }
    uint64_t back = r - 1;
    /* Two tests, not back > min(nalloc, TC_RING): cheaper, and both are
     * predictable. */
    if (__builtin_expect(back > TC_RING, 0))
        return -1;
    if (__builtin_expect(back > nalloc, 0))
        return -1;
    return (nalloc - (uint32_t)back) & (TC_RING - 1);
}

/* Pair mode (version 4): index mode with two cursors, the first *inext,
 * the second m->inext2.  INREF value r >= 2: v = r - 2; the low bit of v
 * picks the cursor c, a = c + unzigzag(v >> 1), which must be < nalloc;
 * that cursor becomes a + 1.  Streams that free along two runs at once
 * (a program's LIFO scratch blocks and, every so often, the oldest of a
 * ring of results) cost one small repeated value per run, where one
 * cursor jumps back and forth.  The ring slot, or -1 (corrupt chunk). */
static inline __attribute__((always_inline)) int64_t
pair_slot(tc_model *m, uint64_t r, uint32_t nalloc, uint32_t *inext)
{
    uint64_t v = r - 2;
    uint32_t *cur = v & 1 ? &m->inext2 : inext;
    uint64_t a = (uint64_t)*cur + (uint64_t)tc_unzz(v >> 1);
    if (__builtin_expect(a >= nalloc, 0))
        return -1;
    *cur = (uint32_t)a + 1;
    return (int64_t)a;
}

/* The ring's index mask: distance mode keeps the last TC_RING allocations,
 * index and pair mode all of the chunk's. */
static inline uint32_t ring_mask(unsigned mode)
{
    return mode == TC_MODE_DIST ? TC_RING - 1 : TC_IRING - 1;
}
static inline void model_reset(tc_model *m)
{
    memset(m->stk_n, 0, sizeof m->stk_n);
}

/* Pushes p on class c's stack of depth entries (<= TC_STACK: the ring
 * has room for the deepest version's; a shallower one drops its oldest
 * entry by not counting it). */
static inline void stk_push(tc_model *m, unsigned c, uint64_t p, unsigned depth)
{
    unsigned h = (m->stk_head[c] + 1) & (TC_STACK - 1);
    m->stk_head[c] = (uint8_t)h;
    m->stk[c][h] = p;
    m->stk_n[c] += m->stk_n[c] < depth;        /* no branch: full or not is random */
}

/* Removes stack position v (0 = most recent) of class c; returns it. */
static inline uint64_t stk_take(tc_model *m, unsigned c, unsigned v)
{
    unsigned h = m->stk_head[c];
    uint64_t *s = m->stk[c];
    uint64_t p = s[(h - v) & (TC_STACK - 1)];
    for (unsigned i = v; i > 0; i--)
        s[(h - i) & (TC_STACK - 1)] = s[(h - i + 1) & (TC_STACK - 1)];
    m->stk_head[c] = (uint8_t)((h - 1) & (TC_STACK - 1));
    m->stk_n[c]--;
    return p;
}

#endif /* HAK_TRACE_MODEL_H */
