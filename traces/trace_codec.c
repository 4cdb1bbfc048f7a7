/* trace_codec.c - columnar event-chunk encoding and decoding.
 *
 * Which fields an op stores (op_mask) is part of the format: an event whose
 * unused fields are not all zero is stored with TC_F_RAW instead, so every
 * event round-trips exactly whatever it contains.
 *
 * Encoder and decoder run the same small model (tc_model) over the chunk:
 * a ring of recent allocation results (frees refer to them by distance)
 * and, per size class, a stack of recently freed blocks (allocations that
 * return one of them are coded by its stack position).  Both sides update
 * the model identically, event by event; it starts empty in every chunk.
 */
#include "trace_codec.h"
#include "trace_fmt.h"

#include <stdlib.h>
#include <string.h>

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
static const uint8_t col_max[TC_NCOL] = {
    [TC_OP] = 1, [TC_SEQ] = 10, [TC_TS] = 10, [TC_SIZE] = 10, [TC_AUX] = 10,
    [TC_INREF] = 2, [TC_PTR] = 10, [TC_OUT] = 10, [TC_SITE] = 5, [TC_ERR] = 5,
    [TC_RAW] = 50,
};

static inline uint64_t alloc_bytes(unsigned m, uint64_t nmemb, uint64_t size)
{
    uint64_t r;
    if (!(m & M_MUL))
        return size;
    return __builtin_mul_overflow(nmemb, size, &r) ? UINT64_MAX : r;
}

/* ---- the shared model ---- */
static void model_reset(tc_model *m)
{
    memset(m->stk_n, 0, sizeof m->stk_n);
    memset(m->site, 0, sizeof m->site);
}

static inline void stk_push(tc_model *m, unsigned c, uint64_t p)
{
    unsigned h = (m->stk_head[c] + 1) & (TC_STACK - 1);
    m->stk_head[c] = (uint8_t)h;
    m->stk[c][h] = p;
    if (m->stk_n[c] < TC_STACK)
        m->stk_n[c]++;
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

const char *tc_dir_parse(const uint8_t *pay, size_t comp_size, uint32_t raw_size,
                         uint32_t count, tc_dir *d)
{
    /* Parse from a zero-padded copy so no read passes comp_size. */
    uint8_t tmp[TC_DIR_MAX + 16] = {0};
    size_t avail = comp_size < TC_DIR_MAX ? comp_size : TC_DIR_MAX;
    memcpy(tmp, pay, avail);
    const uint8_t *p = tmp;
    d->shift = *p++;
    if (d->shift > 32)
        return "bad pointer shift";
    uint64_t raw = 0, stored = 0, v;
    for (int k = 0; k < 2 * TC_NCOL; k++) {
        if (!(p = tc_get(p, &v)) || (size_t)(p - tmp) > avail || v > TF_RAW_MAX)
            return "bad column directory";
        if (k < TC_NCOL) {
            d->raw[k] = (uint32_t)v;
            raw += v;
        } else {
            d->stored[k - TC_NCOL] = (uint32_t)v;
            stored += v;
            if (v > d->raw[k - TC_NCOL] || (v == 0) != (d->raw[k - TC_NCOL] == 0))
                return "bad column directory";
        }
    }
    d->size = (size_t)(p - tmp);
    if (raw != raw_size)
        return "column sizes differ from the chunk's raw size";
    if (d->size + stored != comp_size)
        return "stored column sizes differ from the payload size";
    if (d->raw[TC_OP] != count)
        return "op column length differs from the event count";
    return NULL;
}

/* ---- decoder ---- */
void tc_dec_init(tc_dec *d, const uint8_t *raw, const tc_dir *dir, uint32_t count,
                 uint64_t first_seq, uint32_t tid, uint32_t ts_unit)
{
    d->err = NULL;
    d->shift = dir->shift;
    for (int k = 0; k < TC_NCOL; k++) {
        d->c[k] = raw;
        raw += dir->raw[k];
        d->end[k] = raw;
    }
    d->seq = first_seq - 1;
    d->ts = d->ptr = 0;
    d->left = count;
    d->nalloc = 0;
    d->tid = tid;
    d->ts_unit = ts_unit ? ts_unit : 1;
    model_reset(&d->m);
}

/* Reads a varint from column pointer p.  No bounds check here: cursors are
 * checked after every TC_BATCH events, and TC_PAD zero bytes after the
 * payload keep the reads of one batch inside the buffer. */
#define RD(p, v)                                              \
    do {                                                      \
        uint64_t b_ = *(p);                                   \
        if (__builtin_expect(b_ < 0x80, 1)) {                 \
            (v) = b_;                                         \
            (p)++;                                            \
        } else if ((p)[1] < 0x80) {  /* two bytes: inline */  \
            (v) = (b_ & 0x7f) | (uint64_t)(p)[1] << 7;        \
            (p) += 2;                                         \
        } else if (!((p) = tc_get((p), &(v)))) {              \
            goto overlong;                                    \
        }                                                     \
    } while (0)

/* One event that is not a flag-free malloc or free, after its seq and ts:
 * the general decoder, on d's cursors and model state (dec_batch writes
 * its copies back before the call and reloads them after).  Kept out of
 * line so the hot loop in dec_batch keeps its few cursors in registers.
 * 0, or -1 with d->err set. */
static __attribute__((noinline)) int dec_generic(tc_dec *d, hak_event *v, unsigned f,
                                                 uint64_t seq, uint64_t ts)
{
    const uint8_t *csize = d->c[TC_SIZE], *caux = d->c[TC_AUX], *cin = d->c[TC_INREF],
                  *cptr = d->c[TC_PTR], *cout = d->c[TC_OUT], *csite = d->c[TC_SITE],
                  *cerr = d->c[TC_ERR], *craw = d->c[TC_RAW];
    uint64_t ptr = d->ptr;
    uint32_t nalloc = d->nalloc;
    const unsigned shift = d->shift;
    const uint64_t unit = d->ts_unit;
    const uint32_t tid = d->tid;
    tc_model *md = &d->m;
    unsigned op = f & 15;
    uint64_t x;
    if (f & TC_F_SITE) {
        RD(csite, x);
        if (x > UINT32_MAX) {
            d->err = "site id out of range";
            goto fail;
        }
        md->site[op] = (uint32_t)x;
    }
    int32_t err = 0;
    if (f & TC_F_ERR) {
        RD(cerr, x);
        err = (int32_t)tc_unzz(x);
    }
    uint64_t size = 0, nmemb = 0, align = 0, in = 0, out = 0;
    if (f & TC_F_RAW) {
        RD(craw, size);
        RD(craw, nmemb);
        RD(craw, align);
        RD(craw, in);
        RD(craw, out);
    } else {
        unsigned m = op_mask[op];
        if (m & M_SIZE)
            RD(csize, size);
        if (m & M_AUX) {
            RD(caux, x);
            unsigned a = op_aux[op];
            if (a == AUX_NMEMB) nmemb = x;
            else if (a == AUX_ALIGN) align = x;
            else in = x;
        }
        if (m & M_IN) {
            RD(cin, x);
            if (x >= 2) {
                uint64_t back = x - 1;
                if (__builtin_expect(back > nalloc || back > TC_RING, 0)) {
                    d->err = "pointer reference before the chunk's first allocation";
                    goto fail;
                }
                unsigned k = (nalloc - (uint32_t)back) & (TC_RING - 1);
                in = md->ring[k];
                stk_push(md, md->ring_cls[k], in);
                ptr = in >> shift;
            } else if (x == 1) {
                RD(cptr, x);
                ptr += (uint64_t)tc_unzz(x);
                in = ptr << shift;
            }
        }
        if ((m & M_OUT) && !(f & TC_F_NULL)) {
            unsigned c = tc_class(alloc_bytes(m, nmemb, size));
            RD(cout, x);
            if (x < TC_STACK) {
                if (__builtin_expect(x >= md->stk_n[c], 0)) {
                    d->err = "reuse reference to an empty slot";
                    goto fail;
                }
                out = stk_take(md, c, (unsigned)x);
                ptr = out >> shift;
            } else {
                ptr += (uint64_t)tc_unzz(x - TC_STACK);
                out = ptr << shift;
            }
            md->ring[nalloc & (TC_RING - 1)] = out;
            md->ring_cls[nalloc & (TC_RING - 1)] = (uint8_t)c;
            nalloc++;
        }
    }
    v->seq = seq;
    v->ts_ns = ts * unit;
    v->size = size;
    v->nmemb = nmemb;
    v->align = align;
    v->in_ptr = in;
    v->out_ptr = out;
    v->tid = tid;
    v->site = md->site[op];
    v->err = err;
    v->op = (uint8_t)op;
    d->c[TC_SIZE] = csize;
    d->c[TC_AUX] = caux;
    d->c[TC_INREF] = cin;
    d->c[TC_PTR] = cptr;
    d->c[TC_OUT] = cout;
    d->c[TC_SITE] = csite;
    d->c[TC_ERR] = cerr;
    d->c[TC_RAW] = craw;
    d->ptr = ptr;
    d->nalloc = nalloc;
    return 0;
overlong:
    d->err = "varint longer than 10 bytes";
fail:
    return -1;
}

/* Decodes n <= TC_BATCH events.  A failed batch leaves d's cursors and
 * state where the batch started (so no later call can run a cursor past
 * the padding). */
static long dec_batch(tc_dec *d, hak_event *ev, size_t n)
{
    const uint8_t *save[TC_NCOL];
    memcpy(save, d->c, sizeof save);
    const uint64_t ptr0 = d->ptr;
    const uint32_t nalloc0 = d->nalloc;
    const uint8_t *cop = d->c[TC_OP], *cseq = d->c[TC_SEQ], *cts = d->c[TC_TS],
                  *csize = d->c[TC_SIZE], *cin = d->c[TC_INREF], *cptr = d->c[TC_PTR],
                  *cout = d->c[TC_OUT];
    uint64_t seq = d->seq, ts = d->ts, ptr = d->ptr;
    uint32_t nalloc = d->nalloc;
    const unsigned shift = d->shift;
    const uint64_t unit = d->ts_unit;
    const uint32_t tid = d->tid;
    tc_model *md = &d->m;
    uint64_t x;

    for (size_t i = 0; i < n; i++) {
        hak_event *v = &ev[i];
        unsigned f = *cop++;
        unsigned op = f & 15;
        if (__builtin_expect(!op || op >= HAK_OP_COUNT_, 0)) {
            d->err = "invalid op";
            goto fail;
        }
        RD(cseq, x);
        seq += (uint64_t)tc_unzz(x) + 1;
        RD(cts, x);
        ts += (uint64_t)tc_unzz(x);
        /* Fast paths for the two ops that make up most streams, with no
         * flags: what the generic code below does for them, minus the
         * op_mask tests and the zero-filled temporaries. */
        if (f == HAK_OP_FREE) {
            uint64_t in = 0;
            RD(cin, x);
            if (x >= 2) {
                uint64_t back = x - 1;
                if (__builtin_expect(back > nalloc || back > TC_RING, 0)) {
                    d->err = "pointer reference before the chunk's first allocation";
                    goto fail;
                }
                unsigned k = (nalloc - (uint32_t)back) & (TC_RING - 1);
                in = md->ring[k];
                stk_push(md, md->ring_cls[k], in);
                ptr = in >> shift;
            } else if (x == 1) {
                RD(cptr, x);
                ptr += (uint64_t)tc_unzz(x);
                in = ptr << shift;
            }
            *v = (hak_event){.seq = seq, .ts_ns = ts * unit, .in_ptr = in, .tid = tid,
                             .site = md->site[HAK_OP_FREE], .op = HAK_OP_FREE};
            continue;
        }
        if (f == HAK_OP_MALLOC) {
            uint64_t size, out;
            RD(csize, size);
            unsigned c = tc_class(size);
            RD(cout, x);
            if (x < TC_STACK) {
                if (__builtin_expect(x >= md->stk_n[c], 0)) {
                    d->err = "reuse reference to an empty slot";
                    goto fail;
                }
                out = stk_take(md, c, (unsigned)x);
                ptr = out >> shift;
            } else {
                ptr += (uint64_t)tc_unzz(x - TC_STACK);
                out = ptr << shift;
            }
            md->ring[nalloc & (TC_RING - 1)] = out;
            md->ring_cls[nalloc & (TC_RING - 1)] = (uint8_t)c;
            nalloc++;
            *v = (hak_event){.seq = seq, .ts_ns = ts * unit, .size = size, .out_ptr = out,
                             .tid = tid, .site = md->site[HAK_OP_MALLOC], .op = HAK_OP_MALLOC};
            continue;
        }
        d->c[TC_SIZE] = csize;
        d->c[TC_INREF] = cin;
        d->c[TC_PTR] = cptr;
        d->c[TC_OUT] = cout;
        d->ptr = ptr;
        d->nalloc = nalloc;
        if (dec_generic(d, v, f, seq, ts))
            goto fail;
        csize = d->c[TC_SIZE];
        cin = d->c[TC_INREF];
        cptr = d->c[TC_PTR];
        cout = d->c[TC_OUT];
        ptr = d->ptr;
        nalloc = d->nalloc;
    }
    d->c[TC_OP] = cop;
    d->c[TC_SEQ] = cseq;
    d->c[TC_TS] = cts;
    d->c[TC_SIZE] = csize;
    d->c[TC_INREF] = cin;
    d->c[TC_PTR] = cptr;
    d->c[TC_OUT] = cout;
    for (int k = 0; k < TC_NCOL; k++)
        if (d->c[k] > d->end[k]) {
            d->err = "column ends before its events";
            goto fail;
        }
    d->seq = seq;
    d->ts = ts;
    d->ptr = ptr;
    d->nalloc = nalloc;
    return (long)n;
overlong:
    d->err = "varint longer than 10 bytes";
fail:
    memcpy(d->c, save, sizeof save);
    d->ptr = ptr0;
    d->nalloc = nalloc0;
    return -1;
}

long tc_dec_run(tc_dec *d, hak_event *ev, size_t max)
{
    size_t done = 0, n = max < d->left ? max : d->left;
    while (done < n) {
        size_t k = n - done < TC_BATCH ? n - done : TC_BATCH;
        if (dec_batch(d, ev + done, k) < 0)
            return -1;
        d->left -= (uint32_t)k;
        done += k;
    }
    if (!d->left) {
        for (int k = 0; k < TC_NCOL; k++)
            if (d->c[k] != d->end[k]) {
                d->err = "column not fully consumed at the end of the chunk";
                return -1;
            }
    }
    return (long)done;
}
