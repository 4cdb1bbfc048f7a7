/* trace_encode.c - the event-chunk encoder: events -> columns (before zstd).
 * The model it shares with the decoder is in trace_model.h. */
#include "trace_codec.h"
#include "trace_fmt.h"
#include "trace_model.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t col_max[TC_NCOL] = {
    [TC_OP] = 1, [TC_SEQ] = 10, [TC_TS] = 10, [TC_SIZE] = 10, [TC_AUX] = 10,
    [TC_INREF] = 2, [TC_PTR] = 10, [TC_OUT] = 10, [TC_SITE] = 5, [TC_ERR] = 5,
    [TC_RAW] = 50,
};


/* ---- encoder ---- */

/* The pointer map: for every pointer some allocation of the chunk returned,
 * the number and size class of the latest such allocation, so a free finds
 * its reference in either mode however old the block is.  Open addressing
 * with linear probing over twice as many slots as a chunk has events (so
 * the load stays <= 1/2 and a probe always ends at an empty slot); entries
 * of earlier passes are empty by their generation, so a pass starts
 * without clearing 2 MiB. */
#define MAP_BITS 17
#define MAP_SIZE (1u << MAP_BITS)
_Static_assert(MAP_SIZE >= 2 * TF_CHUNK_EVENTS, "pointer map load <= 1/2");
typedef struct map_slot {
    uint64_t ptr;
    uint32_t gen;                  /* pass that wrote it; other passes: empty */
    uint32_t num_cls;              /* allocation number << 8 | size class */
} map_slot;

/* Estimated size of the chunk's references to its allocations in each
 * mode, in units of half an Elias-gamma code (a value v >= 1 counts its
 * bit length, gamma takes twice that minus one): zstd's entropy coder
 * makes frequent small values nearly free and spreads long random ones
 * over more bits, which the gamma length ranks the same way.  A reference
 * distance mode cannot make counts as its explicit pointer delta. */
typedef struct mode_cost {
    uint64_t bits[2];              /* [enum tc_mode] */
} mode_cost;

struct tc_enc {
    uint8_t *col[TC_NCOL];
    map_slot *map;                 /* [MAP_SIZE] */
    uint32_t gen;                  /* current pass, never 0 */
    tc_model m;                    /* stacks and sites (ring unused: see map) */
    unsigned shift;                /* guess for the next chunk's ptr_shift */
    unsigned mode;                 /* guess for the next chunk's mode */
    int force_mode;                /* -1, or the mode every chunk uses (tests) */
};

/* p's slot: the one holding it in pass gen, or the empty slot where it
 * goes. */
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
        e->col[c] = malloc((size_t)col_max[c] * TF_CHUNK_EVENTS);
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

void tc_enc_force_mode(tc_enc *e, int mode)
{
    e->force_mode = mode;
}

static long encode_pass(tc_enc *e, const hak_event *ev, size_t n, uint32_t ts_unit,
                        unsigned shift, unsigned mode, tc_cols *out, uint64_t *any_out,
                        mode_cost *cost);

/* The mode to encode a chunk with after a pass in `mode` estimated `c`:
 * the other one only when it saves at least 1/8 of the bits (and a few
 * bytes), so chunks near the break-even point do not cost a second pass. */
static unsigned better_mode(const mode_cost *c, unsigned mode)
{
    uint64_t cur = c->bits[mode], alt = c->bits[mode ^ 1];
    return alt + cur / 8 + 256 < cur ? mode ^ 1 : mode;
}

int tc_encode(tc_enc *e, const hak_event *ev, size_t n, uint32_t ts_unit, tc_cols *out,
              size_t *bad)
{
    /* ptr_shift is the common trailing zeros of the coded pointers, and the
     * mode the cheaper coding of consumed pointers by the estimate of
     * mode_cost.  Guess both from the previous chunk and check them in the
     * same pass (the events are read once); encode again only when a guess
     * was wrong, which in a steady stream is rare. */
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

/* The encoder's pointer model, shared by the fast and the generic paths.
 * A consumed pointer (free, realloc input) is a reference to the chunk's
 * allocation that returned it (ref_slot in trace_model.h, per mode) when
 * the map knows it and the mode can reach it, else a delta; NULL is 0.
 * Every reference is also priced in both modes (*cost), which is how the
 * next chunk's mode is chosen.  A returned pointer is its position on its
 * size class's stack of recently freed blocks when found there, else a
 * delta offset by TC_STACK. */
static inline __attribute__((always_inline)) void
put_in_ptr(tc_enc *e, uint64_t p, unsigned shift, unsigned mode, uint32_t nalloc,
           uint32_t *inext, mode_cost *cost, uint8_t **cin, uint8_t **cptr, uint64_t *pptr)
{
    if (!p) {
        *(*cin)++ = 0;
        return;
    }
    const map_slot *x = map_probe(e->map, e->gen, p);
    uint64_t prev = *pptr;
    *pptr = p >> shift;
    if (x->gen == e->gen) {
        uint32_t num = x->num_cls >> 8, d = nalloc - num;
        uint64_t iref = tc_zz((int64_t)num - (int64_t)*inext);
        *inext = num + 1;
        cost->bits[TC_MODE_INDEX] += bitlen(iref + 1);
        if (d <= TC_RING) {
            cost->bits[TC_MODE_DIST] += bitlen(d);
            *cin = tc_put(*cin, mode == TC_MODE_INDEX ? iref + 2 : (uint64_t)d + 1);
            stk_push(&e->m, x->num_cls & 0xff, p);
            return;
        }
        cost->bits[TC_MODE_DIST] += 1 + bitlen(tc_zz((int64_t)((p >> shift) - prev)) + 1);
        if (mode == TC_MODE_INDEX) {
            *cin = tc_put(*cin, iref + 2);
            stk_push(&e->m, x->num_cls & 0xff, p);
            return;
        }
    }
    *(*cin)++ = 1;
    *cptr = tc_put(*cptr, tc_zz((int64_t)((p >> shift) - prev)));
}

static inline __attribute__((always_inline)) void
put_out_ptr(tc_enc *e, uint64_t p, unsigned c, unsigned shift, uint32_t *nalloc,
            uint8_t **cout, uint64_t *pptr)
{
    tc_model *md = &e->m;
    unsigned k, h = md->stk_head[c], sn = md->stk_n[c];
    for (k = 0; k < sn; k++)
        if (md->stk[c][(h - k) & (TC_STACK - 1)] == p)
            break;
    if (k < sn) {
        stk_take(md, c, k);
        *(*cout)++ = (uint8_t)k;
    } else {
        *cout = tc_put(*cout, tc_zz((int64_t)((p >> shift) - *pptr)) + TC_STACK);
    }
    *pptr = p >> shift;
    map_slot *x = map_probe(e->map, e->gen, p);
    x->ptr = p;
    x->gen = e->gen;
    x->num_cls = *nalloc << 8 | c;
    (*nalloc)++;
}

/* One encoding pass with a fixed shift.  Returns the index of the first
 * event with an invalid op, -1 when all is well but some pointer is not a
 * multiple of 2^shift (see *any), or -2 when done. */
static long encode_pass(tc_enc *e, const hak_event *ev, size_t n, uint32_t ts_unit,
                        unsigned shift, unsigned mode, tc_cols *out, uint64_t *any_out,
                        mode_cost *cost_out)
{
    uint64_t any = 0;
    /* Division is slow: units that are powers of two (1 ns included) shift. */
    int ushift = (ts_unit & (ts_unit - 1)) ? -1 : __builtin_ctz(ts_unit);
    uint8_t *cop = e->col[TC_OP], *cseq = e->col[TC_SEQ], *cts = e->col[TC_TS],
            *csize = e->col[TC_SIZE], *caux = e->col[TC_AUX], *cin = e->col[TC_INREF],
            *cptr = e->col[TC_PTR], *cout = e->col[TC_OUT], *csite = e->col[TC_SITE],
            *cerr = e->col[TC_ERR], *craw = e->col[TC_RAW];
    tc_model *md = &e->m;
    if (++e->gen == 0) {           /* wrapped: forget every earlier pass */
        memset(e->map, 0, MAP_SIZE * sizeof *e->map);
        e->gen = 1;
    }
    model_reset(md);
    mode_cost cost_acc = {{0, 0}}, *cost = &cost_acc;   /* kept in registers */
    uint64_t pseq = n ? ev[0].seq - 1 : 0, pts = 0, pptr = 0;
    uint32_t nalloc = 0, inext = 0;

    for (size_t i = 0; i < n; i++) {
        const hak_event *v = &ev[i];
        unsigned op = v->op, f = op;
        if (__builtin_expect(op == 0 || op >= HAK_OP_COUNT_, 0))
            return (long)i;
        if (op != HAK_OP_THREAD_START)   /* its in_ptr is a thread index */
            any |= v->in_ptr | v->out_ptr;
        cseq = tc_put(cseq, tc_zz((int64_t)(v->seq - pseq - 1)));
        pseq = v->seq;
        uint64_t t;
        if (ushift >= 0) {
            t = v->ts_ns >> ushift;
        } else {          /* coarse units: usually the same or the next tick */
            uint64_t since = v->ts_ns - pts * ts_unit;
            t = v->ts_ns >= pts * ts_unit && since < 2ull * ts_unit
                ? pts + (since >= ts_unit) : v->ts_ns / ts_unit;
        }
        cts = tc_put(cts, tc_zz((int64_t)(t - pts)));
        pts = t;
        /* Fast paths for flag-free free and malloc events (same site as
         * the previous event of the op, no errno, only their own fields):
         * exactly what the generic code below writes for them. */
        if (op == HAK_OP_FREE && v->site == md->site[op]
            && !(v->err | v->size | v->nmemb | v->align | v->out_ptr)) {
            put_in_ptr(e, v->in_ptr, shift, mode, nalloc, &inext, cost, &cin, &cptr, &pptr);
            *cop++ = (uint8_t)op;
            continue;
        }
        if (op == HAK_OP_MALLOC && v->site == md->site[op] && v->out_ptr
            && !(v->err | v->nmemb | v->align | v->in_ptr)) {
            csize = tc_put(csize, v->size);
            put_out_ptr(e, v->out_ptr, tc_class(v->size), shift, &nalloc, &cout, &pptr);
            *cop++ = (uint8_t)op;
            continue;
        }
        if (v->site != md->site[op]) {
            f |= TC_F_SITE;
            csite = tc_put(csite, v->site);
            md->site[op] = v->site;
        }
        if (v->err) {
            f |= TC_F_ERR;
            cerr = tc_put(cerr, tc_zz(v->err));
        }
        if (!fits(v)) {
            f |= TC_F_RAW;
            craw = tc_put(craw, v->size);
            craw = tc_put(craw, v->nmemb);
            craw = tc_put(craw, v->align);
            craw = tc_put(craw, v->in_ptr);
            craw = tc_put(craw, v->out_ptr);
            *cop++ = (uint8_t)f;
            continue;
        }
        unsigned m = op_mask[op], a = op_aux[op];
        if (m & M_SIZE)
            csize = tc_put(csize, v->size);
        if (m & M_AUX)
            caux = tc_put(caux, a == AUX_NMEMB ? v->nmemb : a == AUX_ALIGN ? v->align : v->in_ptr);
        if (m & M_IN) {
            put_in_ptr(e, v->in_ptr, shift, mode, nalloc, &inext, cost, &cin, &cptr, &pptr);
        }
        if (m & M_OUT) {
            uint64_t p = v->out_ptr;
            if (!p) {
                f |= TC_F_NULL;
            } else {
                put_out_ptr(e, p, tc_class(alloc_bytes(m, v->nmemb, v->size)), shift,
                            &nalloc, &cout, &pptr);
            }
        }
        *cop++ = (uint8_t)f;
    }

    *any_out = any;
    *cost_out = cost_acc;
    if (any & ((1ull << shift) - 1))
        return -1;
    uint8_t *ends[TC_NCOL] = {cop, cseq, cts, csize, caux, cin, cptr, cout, csite, cerr, craw};
    out->shift = shift;
    out->mode = mode;
    for (int k = 0; k < TC_NCOL; k++) {
        out->p[k] = e->col[k];
        out->len[k] = (size_t)(ends[k] - e->col[k]);
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

