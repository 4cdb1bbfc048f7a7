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
#define CACHE_BITS 13
struct tc_enc {
    uint8_t *col[TC_NCOL];
    struct { uint64_t ptr; uint32_t num; } cache[1u << CACHE_BITS];
    tc_model m;
    unsigned shift;                /* guess for the next chunk's ptr_shift */
};

static inline unsigned cache_slot(uint64_t p)
{
    return (unsigned)(((p >> 4) * 0x9e3779b97f4a7c15ull) >> (64 - CACHE_BITS));
}

tc_enc *tc_enc_new(void)
{
    tc_enc *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->shift = 4;   /* malloc results are 16-byte aligned */
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

static long encode_pass(tc_enc *e, const hak_event *ev, size_t n, uint32_t ts_unit,
                        unsigned shift, tc_cols *out, uint64_t *any_out);

int tc_encode(tc_enc *e, const hak_event *ev, size_t n, uint32_t ts_unit, tc_cols *out,
              size_t *bad)
{
    /* ptr_shift is the common trailing zeros of the coded pointers.  Guess
     * the previous chunk's value and check it in the same pass (the events
     * are read once); encode again only when the guess was wrong, which in
     * a steady stream is rare. */
    uint64_t any = 0;
    long r = encode_pass(e, ev, n, ts_unit, e->shift, out, &any);
    if (r < 0) {
        unsigned shift = any ? (unsigned)__builtin_ctzll(any) : 0;
        if (shift > 32)
            shift = 32;
        if (shift != e->shift) {
            e->shift = shift;
            r = encode_pass(e, ev, n, ts_unit, shift, out, &any);
        }
    }
    if (r >= 0) {
        *bad = (size_t)r;
        return -1;
    }
    return 0;
}

/* The encoder's pointer model, shared by the fast and the generic paths.
 * A consumed pointer (free, realloc input) is a back-reference to a recent
 * allocation while the cache still knows it, else a delta; NULL is 0.  A
 * returned pointer is its position on its size class's stack of recently
 * freed blocks when found there, else a delta offset by TC_STACK. */
static inline __attribute__((always_inline)) void
put_in_ptr(tc_enc *e, uint64_t p, unsigned shift, uint32_t nalloc,
           uint8_t **cin, uint8_t **cptr, uint64_t *pptr)
{
    if (!p) {
        *(*cin)++ = 0;
        return;
    }
    tc_model *md = &e->m;
    unsigned s = cache_slot(p);
    uint32_t d = nalloc - e->cache[s].num;
    if (e->cache[s].ptr == p && d >= 1 && d <= TC_RING) {
        *cin = tc_put(*cin, (uint64_t)d + 1);
        stk_push(md, md->ring_cls[e->cache[s].num & (TC_RING - 1)], p);
    } else {
        *(*cin)++ = 1;
        *cptr = tc_put(*cptr, tc_zz((int64_t)((p >> shift) - *pptr)));
    }
    *pptr = p >> shift;
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
    unsigned s = cache_slot(p);
    e->cache[s].ptr = p;
    e->cache[s].num = *nalloc;
    md->ring_cls[*nalloc & (TC_RING - 1)] = (uint8_t)c;
    (*nalloc)++;
}

/* One encoding pass with a fixed shift.  Returns the index of the first
 * event with an invalid op, -1 when all is well but some pointer is not a
 * multiple of 2^shift (see *any), or -2 when done. */
static long encode_pass(tc_enc *e, const hak_event *ev, size_t n, uint32_t ts_unit,
                        unsigned shift, tc_cols *out, uint64_t *any_out)
{
    uint64_t any = 0;
    /* Division is slow: units that are powers of two (1 ns included) shift. */
    int ushift = (ts_unit & (ts_unit - 1)) ? -1 : __builtin_ctz(ts_unit);
    uint8_t *cop = e->col[TC_OP], *cseq = e->col[TC_SEQ], *cts = e->col[TC_TS],
            *csize = e->col[TC_SIZE], *caux = e->col[TC_AUX], *cin = e->col[TC_INREF],
            *cptr = e->col[TC_PTR], *cout = e->col[TC_OUT], *csite = e->col[TC_SITE],
            *cerr = e->col[TC_ERR], *craw = e->col[TC_RAW];
    tc_model *md = &e->m;
    memset(e->cache, 0, sizeof e->cache);
    model_reset(md);
    uint64_t pseq = n ? ev[0].seq - 1 : 0, pts = 0, pptr = 0;
    uint32_t nalloc = 0;

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
            put_in_ptr(e, v->in_ptr, shift, nalloc, &cin, &cptr, &pptr);
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
            put_in_ptr(e, v->in_ptr, shift, nalloc, &cin, &cptr, &pptr);
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
    if (any & ((1ull << shift) - 1))
        return -1;
    uint8_t *ends[TC_NCOL] = {cop, cseq, cts, csize, caux, cin, cptr, cout, csite, cerr, craw};
    out->shift = shift;
    for (int k = 0; k < TC_NCOL; k++) {
        out->p[k] = e->col[k];
        out->len[k] = (size_t)(ends[k] - e->col[k]);
    }
    return -2;
}

size_t tc_dir_put(uint8_t *p, unsigned shift, const size_t raw[TC_NCOL],
                  const size_t stored[TC_NCOL])
{
    uint8_t *o = p;
    *o++ = (uint8_t)shift;
    for (int k = 0; k < TC_NCOL; k++)
        o = tc_put(o, raw[k]);
    for (int k = 0; k < TC_NCOL; k++)
        o = tc_put(o, stored[k]);
    return (size_t)(o - p);
}

