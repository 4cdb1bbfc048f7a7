/* trace_encode.c - the event-chunk encoder: events -> columns (before zstd).
 * The model it shares with the decoder is in trace_model.h. */
#include "trace_codec.h"
#include "trace_fmt.h"
#include "trace_model.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t col_max[TC_NCOL] = {
    [TC_OP] = 1, [TC_SEQ] = 10, [TC_TS] = 10, [TC_SIZE] = 10, [TC_AUX] = 10,
    [TC_INREF] = 3 /* index mode: zigzag(+-65535) + 2 */, [TC_PTR] = 10, [TC_OUT] = 10, [TC_SITE] = 5, [TC_ERR] = 5,
    [TC_RAW] = 50,
};


/* ---- encoder ----
 *
 * The encoder runs the model of trace_model.h (ring of the chunk's
 * allocations, per-class stacks of freed blocks) in a form suited to its
 * own questions, which are lookups by pointer rather than by position:
 * - a hash map gives, for every pointer an allocation of the chunk
 *   returned, the number and size class of the latest such allocation
 *   (its ring entry), so a free finds its reference in either mode however
 *   old the block is, and the stack its block goes to;
 * - each class's stack is a ring of TC_STACK slots in which every slot
 *   beyond the stack's depth holds 0 (never a coded pointer: NULL results
 *   and frees of NULL never reach the stacks), so a search needs no depth
 *   and a hit is always a valid position.
 * Both answer exactly what the decoder's tc_model would, event by event. */
#define COL_SLACK 16u              /* put_var may write one byte past a column's end */
typedef struct enc_model {
    uint64_t stk[TC_NCLASS][TC_STACK];   /* freed blocks per class, 0 = empty */
    uint8_t stk_head[TC_NCLASS];         /* slot of the most recent entry */
    uint32_t site[16];                   /* previous site per op */
} enc_model;

/* The pointer map: open addressing with linear probing over twice as many
 * slots as a chunk has events, so the load stays <= 1/2 and every probe
 * ends at the pointer's slot or an empty one.  Slots written by earlier
 * passes count as empty (their generation differs), so a pass starts
 * without clearing 2 MiB. */
#define MAP_BITS 17
#define MAP_SIZE (1u << MAP_BITS)
_Static_assert(MAP_SIZE >= 2 * TF_CHUNK_EVENTS, "pointer map load <= 1/2");
typedef struct map_slot {          /* latest allocation that returned ptr: */
    uint64_t ptr;
    uint32_t gen;                  /* the pass that wrote the slot */
    uint32_t num_cls;              /* its number in the chunk << 8 | size class */
} map_slot;

/* Estimated size of the chunk's references to its allocations in each
 * mode, in units of half an Elias-gamma code (a value v >= 1 counts its
 * bit length; gamma takes twice that, minus one): zstd's entropy coder
 * makes frequent small values nearly free and spreads long random ones
 * over more bits, which the gamma length ranks the same way.  A reference
 * that distance mode cannot make counts as its explicit pointer delta. */
typedef struct mode_cost {
    uint64_t bits[2];              /* [enum tc_mode] */
} mode_cost;

struct tc_enc {
    uint8_t *col[TC_NCOL];
    map_slot *map;                 /* [MAP_SIZE] */
    uint32_t gen;                  /* the current pass, never 0 */
    enc_model m;
    unsigned shift;                /* guess for the next chunk's ptr_shift */
    unsigned mode;                 /* guess for the next chunk's mode */
    int force_mode;                /* -1, or the mode of every chunk (tests) */
};

/* p's slot: the one holding it in pass gen, or the empty one it goes to. */
static inline map_slot *map_probe(map_slot *map, uint32_t gen, uint64_t p)
{
    unsigned s = (unsigned)(((p >> 4) * 0x9e3779b97f4a7c15ull) >> (64 - MAP_BITS));
    for (;;) {
        map_slot *x = &map[s];
        if (x->gen != gen || x->ptr == p)
            return x;
        s = (s + 1) & (MAP_SIZE - 1);
    }
}

static inline unsigned bitlen(uint64_t v)   /* v >= 1 */
{
    return 64 - (unsigned)__builtin_clzll(v);
}

tc_enc *tc_enc_new(void)
{
    tc_enc *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->shift = 4;   /* malloc results are 16-byte aligned */
    e->mode = TC_MODE_DIST;
    e->force_mode = -1;
    if (!(e->map = calloc(MAP_SIZE, sizeof *e->map))) {
        free(e);
        return NULL;
    }
    for (int c = 0; c < TC_NCOL; c++) {
        e->col[c] = malloc((size_t)col_max[c] * TF_CHUNK_EVENTS + COL_SLACK);
        if (!e->col[c]) {
            tc_enc_free(e);
            return NULL;
        }
    }
    return e;
}

void tc_enc_free(tc_enc *e)
{
    if (!e)
        return;
    for (int c = 0; c < TC_NCOL; c++)
        free(e->col[c]);
    free(e->map);
    free(e);
}

/* Does the event store only what its op's mask covers? */
static inline int fits(const hak_event *v)
{
    unsigned m = op_mask[v->op & 15], a = op_aux[v->op & 15];
    if (!(m & M_SIZE) && v->size) return 0;
    if (a != AUX_NMEMB && v->nmemb) return 0;
    if (a != AUX_ALIGN && v->align) return 0;
    if (!(m & M_IN) && a != AUX_IN && v->in_ptr) return 0;
    if (!(m & M_OUT) && v->out_ptr) return 0;
    return v->op < 16;
}

/* A varint, like tc_put, for values that are usually below 2^14 and often
 * above 2^7 (sizes, distances, pointer deltas): both bytes are written and
 * the second kept only when needed, so the length costs no branch that
 * random values would mispredict.  Columns have COL_SLACK bytes of room. */
static inline uint8_t *put_var(uint8_t *p, uint64_t v)
{
    if (__builtin_expect(v < 0x4000, 1)) {
        unsigned two = v >= 0x80;
        p[0] = (uint8_t)(v | (uint64_t)two << 7);
        p[1] = (uint8_t)(v >> 7);
        return p + 1 + two;
    }
    return tc_put(p, v);
}

void tc_enc_force_mode(tc_enc *e, int mode)
{
    e->force_mode = mode;
}

static long encode_pass(tc_enc *e, const hak_event *ev, size_t n, uint32_t ts_unit,
                        unsigned shift, unsigned mode, tc_cols *out, uint64_t *any_out,
                        mode_cost *cost);

/* The mode to encode a chunk in after a pass in `mode` estimated `c`: the
 * other one only when it saves at least 1/8 of the estimate (and a few
 * bytes), so chunks near break-even do not cost a second pass. */
static unsigned better_mode(const mode_cost *c, unsigned mode)
{
    uint64_t cur = c->bits[mode], alt = c->bits[mode ^ 1];
    return alt + cur / 8 + 256 < cur ? mode ^ 1 : mode;
}

int tc_encode(tc_enc *e, const hak_event *ev, size_t n, uint32_t ts_unit, tc_cols *out,
              size_t *bad)
{
    /* ptr_shift is the common trailing zeros of the coded pointers, and
     * the mode the cheaper coding of references by mode_cost's estimate.
     * Guess both from the previous chunk and check them in the same pass
     * (the events are read once); encode again only when a guess was
     * wrong, which in a steady stream is rare. */
    uint64_t any = 0;
    mode_cost cost;
    unsigned mode = e->force_mode >= 0 ? (unsigned)e->force_mode : e->mode;
    long r = encode_pass(e, ev, n, ts_unit, e->shift, mode, out, &any, &cost);
    if (r == -1) {
        unsigned shift = any ? (unsigned)__builtin_ctzll(any) : 0;
        e->shift = shift > 32 ? 32 : shift;
        if (e->force_mode < 0)
            mode = better_mode(&cost, mode);
        r = encode_pass(e, ev, n, ts_unit, e->shift, mode, out, &any, &cost);
    } else if (r == -2 && e->force_mode < 0 && better_mode(&cost, mode) != mode) {
        mode ^= 1;
        r = encode_pass(e, ev, n, ts_unit, e->shift, mode, out, &any, &cost);
    }
    if (r >= 0) {
        *bad = (size_t)r;
        return -1;
    }
    e->mode = cost.bits[TC_MODE_INDEX] < cost.bits[TC_MODE_DIST] ? TC_MODE_INDEX
                                                                 : TC_MODE_DIST;
    return 0;
}

/* The running state of one pass: column cursors, the delta bases and the
 * reference-mode state. */
typedef struct cursor {
    uint8_t *c[TC_NCOL];
    uint64_t ptr;                  /* previous coded pointer >> shift */
    uint32_t nalloc;               /* allocations so far in the chunk */
    uint32_t inext;                /* index mode: number after the last reference */
    uint32_t gen;                  /* = e->gen */
    unsigned shift, mode;
    mode_cost cost;                /* both modes' estimates so far */
} cursor;

/* A consumed pointer (free, realloc input): a reference to the chunk's
 * allocation that returned it (ref_slot in trace_model.h, per mode) when
 * the map knows it and the mode can reach it (its block then goes on its
 * class's stack), else a delta; NULL is 0.  Every reference is priced in
 * both modes, which is how tc_encode picks the mode. */
static inline __attribute__((always_inline)) void
put_in_ptr(tc_enc *e, cursor *k, uint64_t p)
{
    if (!p) {
        *k->c[TC_INREF]++ = 0;
        return;
    }
    const map_slot *x = map_probe(e->map, k->gen, p);
    uint64_t prev = k->ptr;
    k->ptr = p >> k->shift;
    if (x->gen == k->gen) {
        uint32_t num = x->num_cls >> 8, d = k->nalloc - num;
        uint64_t iref = tc_zz((int64_t)num - (int64_t)k->inext);
        k->inext = num + 1;
        k->cost.bits[TC_MODE_INDEX] += bitlen(iref + 1);
        if (d <= TC_RING)
            k->cost.bits[TC_MODE_DIST] += bitlen(d);
        else
            k->cost.bits[TC_MODE_DIST] += 1 + bitlen(tc_zz((int64_t)(k->ptr - prev)) + 1);
        if (k->mode == TC_MODE_INDEX || d <= TC_RING) {
            enc_model *md = &e->m;
            unsigned c = x->num_cls & 0xff;
            unsigned h = (md->stk_head[c] + 1) & (TC_STACK - 1);
            md->stk_head[c] = (uint8_t)h;          /* overwrites the oldest when full */
            md->stk[c][h] = p;
            k->c[TC_INREF] = put_var(k->c[TC_INREF],
                                     k->mode == TC_MODE_INDEX ? iref + 2 : (uint64_t)d + 1);
            return;
        }
    }
    *k->c[TC_INREF]++ = 1;
    k->c[TC_PTR] = put_var(k->c[TC_PTR], tc_zz((int64_t)(k->ptr - prev)));
}

/* Position of p in class stack s with top slot h, 0 = top; TC_STACK when
 * absent.  The first (most recent) match, as the decoder numbers them. */
static inline unsigned stk_find(const uint64_t *s, unsigned h, uint64_t p)
{
    for (unsigned i = 0; i < TC_STACK; i++)
        if (s[(h - i) & (TC_STACK - 1)] == p)
            return i;
    return TC_STACK;
}

/* Removes position i of class c's stack: the newer entries move down one
 * slot and the top slot is emptied (it becomes the deepest position). */
static inline void stk_remove(enc_model *md, unsigned c, unsigned i)
{
    uint64_t *s = md->stk[c];
    unsigned h = md->stk_head[c];
    for (; i > 0; i--)
        s[(h - i) & (TC_STACK - 1)] = s[(h - i + 1) & (TC_STACK - 1)];
    s[h] = 0;
    md->stk_head[c] = (uint8_t)((h - 1) & (TC_STACK - 1));
}

/* A returned pointer: its position on its size class's stack of recently
 * freed blocks when found there, else a delta offset by TC_STACK.  It then
 * enters the ring as allocation number nalloc. */
static inline __attribute__((always_inline)) void
put_out_ptr(tc_enc *e, cursor *k, uint64_t p, unsigned c)
{
    enc_model *md = &e->m;
    unsigned i = stk_find(md->stk[c], md->stk_head[c], p);
    if (i < TC_STACK) {
        stk_remove(md, c, i);
        *k->c[TC_OUT]++ = (uint8_t)i;
    } else {
        k->c[TC_OUT] = put_var(k->c[TC_OUT], tc_zz((int64_t)((p >> k->shift) - k->ptr)) + TC_STACK);
    }
    k->ptr = p >> k->shift;
    map_slot *x = map_probe(e->map, k->gen, p);
    x->ptr = p;
    x->gen = k->gen;
    x->num_cls = k->nalloc << 8 | c;
    k->nalloc++;
}

/* Any event, with the format's generic rules (flags, RAW, op layouts). */
static inline __attribute__((always_inline)) unsigned
put_event(tc_enc *e, cursor *k, const hak_event *v)
{
    enc_model *md = &e->m;
    unsigned op = v->op, f = op;
    if (v->site != md->site[op]) {
        f |= TC_F_SITE;
        k->c[TC_SITE] = tc_put(k->c[TC_SITE], v->site);
        md->site[op] = v->site;
    }
    if (v->err) {
        f |= TC_F_ERR;
        k->c[TC_ERR] = tc_put(k->c[TC_ERR], tc_zz(v->err));
    }
    if (!fits(v)) {
        uint8_t *r = k->c[TC_RAW];
        r = tc_put(r, v->size);
        r = tc_put(r, v->nmemb);
        r = tc_put(r, v->align);
        r = tc_put(r, v->in_ptr);
        k->c[TC_RAW] = tc_put(r, v->out_ptr);
        return f | TC_F_RAW;
    }
    unsigned m = op_mask[op], a = op_aux[op];
    if (m & M_SIZE)
        k->c[TC_SIZE] = tc_put(k->c[TC_SIZE], v->size);
    if (m & M_AUX)
        k->c[TC_AUX] = tc_put(k->c[TC_AUX],
                              a == AUX_NMEMB ? v->nmemb : a == AUX_ALIGN ? v->align : v->in_ptr);
    if (m & M_IN)
        put_in_ptr(e, k, v->in_ptr);
    if (m & M_OUT) {
        if (!v->out_ptr)
            f |= TC_F_NULL;
        else
            put_out_ptr(e, k, v->out_ptr, tc_class(alloc_bytes(m, v->nmemb, v->size)));
    }
    return f;
}

/* One encoding pass with a fixed shift and mode.  Returns the index of the
 * first event with an invalid op, -1 when all is well but some pointer is
 * not a multiple of 2^shift (see *any), or -2 when done.  *cost: both
 * modes' estimates (when not returning an index). */
static long encode_pass(tc_enc *e, const hak_event *ev, size_t n, uint32_t ts_unit,
                        unsigned shift, unsigned mode, tc_cols *out, uint64_t *any_out,
                        mode_cost *cost)
{
    uint64_t any = 0;
    /* Division is slow: units that are powers of two (1 ns included) shift. */
    int ushift = (ts_unit & (ts_unit - 1)) ? -1 : __builtin_ctz(ts_unit);
    enc_model *md = &e->m;
    if (++e->gen == 0) {           /* wrapped: forget every earlier pass */
        memset(e->map, 0, MAP_SIZE * sizeof *e->map);
        e->gen = 1;
    }
    memset(md->stk, 0, sizeof md->stk);
    memset(md->site, 0, sizeof md->site);
    cursor k = {.shift = shift, .mode = mode, .gen = e->gen};
    for (int c = 0; c < TC_NCOL; c++)
        k.c[c] = e->col[c];
    uint64_t pseq = n ? ev[0].seq - 1 : 0, pts = 0;

    for (size_t i = 0; i < n; i++) {
        const hak_event *v = &ev[i];
        unsigned op = v->op;
        if (__builtin_expect(op - 1u >= HAK_OP_COUNT_ - 1u, 0))
            return (long)i;
        k.c[TC_SEQ] = tc_put(k.c[TC_SEQ], tc_zz((int64_t)(v->seq - pseq - 1)));
        pseq = v->seq;
        uint64_t t;
        if (ushift >= 0) {
            t = v->ts_ns >> ushift;
        } else {          /* coarse units: usually the same or the next tick */
            uint64_t since = v->ts_ns - pts * ts_unit;
            t = v->ts_ns >= pts * ts_unit && since < 2ull * ts_unit
                ? pts + (since >= ts_unit) : v->ts_ns / ts_unit;
        }
        k.c[TC_TS] = put_var(k.c[TC_TS], tc_zz((int64_t)(t - pts)));
        pts = t;
        /* Fast paths for flag-free free and malloc events (same site as
         * the previous event of the op, no errno, only their own fields):
         * exactly what put_event writes for them. */
        if (op == HAK_OP_FREE && v->site == md->site[HAK_OP_FREE]
            && !(v->err | v->size | v->nmemb | v->align | v->out_ptr)) {
            any |= v->in_ptr;
            put_in_ptr(e, &k, v->in_ptr);
            *k.c[TC_OP]++ = (uint8_t)op;
            continue;
        }
        if (op == HAK_OP_MALLOC && v->site == md->site[HAK_OP_MALLOC] && v->out_ptr
            && !(v->err | v->nmemb | v->align | v->in_ptr)) {
            any |= v->out_ptr;
            k.c[TC_SIZE] = put_var(k.c[TC_SIZE], v->size);
            put_out_ptr(e, &k, v->out_ptr, tc_class(v->size));
            *k.c[TC_OP]++ = (uint8_t)op;
            continue;
        }
        if (op != HAK_OP_THREAD_START)   /* its in_ptr is a thread index */
            any |= v->in_ptr | v->out_ptr;
        *k.c[TC_OP]++ = (uint8_t)put_event(e, &k, v);
    }

    *any_out = any;
    *cost = k.cost;
    if (any & ((1ull << shift) - 1))
        return -1;
    out->shift = shift;
    out->mode = mode;
    for (int c = 0; c < TC_NCOL; c++) {
        out->p[c] = e->col[c];
        out->len[c] = (size_t)(k.c[c] - e->col[c]);
    }
    return -2;
}

size_t tc_dir_put(uint8_t *p, unsigned shift, unsigned mode, const size_t raw[TC_NCOL],
                  const size_t stored[TC_NCOL])
{
    uint8_t *o = p;
    *o++ = (uint8_t)(shift | (mode == TC_MODE_INDEX ? TC_DIR_MODE : 0));
    for (int k = 0; k < TC_NCOL; k++)
        o = tc_put(o, raw[k]);
    for (int k = 0; k < TC_NCOL; k++)
        o = tc_put(o, stored[k]);
    return (size_t)(o - p);
}

