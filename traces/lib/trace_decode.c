/* trace_decode.c - the event-chunk decoder: columns -> events, streaming and
 * resumable, safe on any input (see trace_codec.h).  The model it shares
 * with the encoder is in trace_model.h. */
#include "trace_codec.h"
#include "trace_fmt.h"
#include "trace_model.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(TC_IRING == TF_CHUNK_EVENTS, "index mode's ring holds a whole chunk");

const char *tc_dir_parse(const uint8_t *pay, size_t comp_size, uint32_t raw_size,
                         uint32_t count, uint32_t version, tc_dir *d)
{
    /* Parse from a zero-padded copy so no read passes comp_size. */
    uint8_t tmp[TC_DIR_MAX + 16] = {0};
    size_t avail = comp_size < TC_DIR_MAX ? comp_size : TC_DIR_MAX;
    memcpy(tmp, pay, avail);
    const uint8_t *p = tmp;
    unsigned b = *p++;
    d->mode = TC_MODE_DIST;
    d->coff = 0;
    if (version >= TC_VERSION_MODES) {
        d->mode = b & TC_DIR_MODE ? TC_MODE_INDEX : TC_MODE_DIST;
        d->coff = b & TC_DIR_COFF ? TC_COFF : 0;
        b &= ~(TC_DIR_MODE | TC_DIR_COFF);
        if (version >= TC_VERSION_PAIR) {
            if (b & TC_DIR_PAIR) {
                if (d->mode != TC_MODE_DIST)
                    return "bad reference mode";
                d->mode = TC_MODE_PAIR;
            }
            b &= ~TC_DIR_PAIR;
        }
    }
    d->shift = b;   /* in version 1, a set bit 6 or 7 makes it > 32 */
    d->depth = tc_stack_depth(version);
    if (d->shift > 32)
        return "bad pointer shift";
    d->tok = 0;
    d->mc = 0;
    if (version >= TC_VERSION_TOKEN) {
        unsigned b2 = *p++;
        unsigned ok = TC_DIR2_TOKEN
                      | (version >= TC_VERSION_MODEL ? TC_DIR2_MINREF | TC_DIR2_MOUT : 0);
        if (b2 & ~ok)
            return "bad directory flags";
        d->tok = b2 & TC_DIR2_TOKEN;
        d->mc = b2 & (TC_DIR2_MINREF | TC_DIR2_MOUT);
    }
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
    if (((d->mc & TC_DIR2_MINREF) && !d->raw[TC_INREF]) || ((d->mc & TC_DIR2_MOUT) && !d->raw[TC_OUT]))
        return "model-coded column without values";
    d->size = (size_t)(p - tmp);
    if (raw != raw_size)
        return "column sizes differ from the chunk's raw size";
    if (d->size + stored != comp_size)
        return "stored column sizes differ from the payload size";
    /* token mode: a byte per event, two for those coded in full */
    if (d->tok ? d->raw[TC_OP] < count || d->raw[TC_OP] > 2ull * count : d->raw[TC_OP] != count)
        return "op column length differs from the event count";
    return NULL;
}

/* ---- decoder ---- */

/* Column shortcuts (they change nothing about the result, only how it is
 * computed), chosen per batch of n events from the bytes at the column
 * cursors:
 *   DM_SEQ: the next n SEQ bytes are zero: n one-byte varints 0 (the
 *           events are consecutive), so seq is the previous seq + 1.
 *   DM_TS:  the next n TS bytes are below 0x80: n one-byte varints (every
 *           timestamp delta is small), so event i's delta is byte i, with
 *           no length test.
 * Both need the n bytes to lie inside the column.  A chunk's first
 * timestamp is absolute, so its first batch usually takes the general
 * path. */
enum { DM_SEQ = 1, DM_TS = 2 };

/* Whether none of the n bytes at p has a bit of mask set. */
static int bytes_clear(const uint8_t *p, size_t n, uint8_t mask)
{
    uint64_t acc = 0, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= p[i];
    return !(acc & mask * 0x0101010101010101ull);
}

_Static_assert(sizeof(tc_tail) == sizeof(hak_event) - offsetof(hak_event, tid)
                   && offsetof(hak_event, site) - offsetof(hak_event, tid) == offsetof(tc_tail, site)
                   && offsetof(hak_event, err) - offsetof(hak_event, tid) == offsetof(tc_tail, err)
                   && offsetof(hak_event, op) - offsetof(hak_event, tid) == offsetof(tc_tail, op),
               "tc_tail must mirror the end of hak_event");

void tc_dec_init(tc_dec *d, const uint8_t *const col[TC_NCOL], const tc_dir *dir,
                 uint32_t count, uint64_t first_seq, uint32_t tid, uint32_t ts_unit)
{
    d->err = NULL;
    d->shift = dir->shift;
    d->mode = dir->mode;
    d->coff = dir->coff;
    d->depth = dir->depth ? dir->depth : TC_STACK_V2;
    d->tok = dir->tok;
    d->tk.n = 0;
    d->inext = 0;
    d->m.inext2 = 0;
    for (int k = 0; k < TC_NCOL; k++) {
        d->c[k] = col[k];
        d->end[k] = col[k] + dir->raw[k];
    }
    d->seq = first_seq - 1;
    d->ts = d->ptr = 0;
    d->left = count;
    d->nalloc = 0;
    d->tid = tid;
    d->ts_unit = ts_unit ? ts_unit : 1;
    for (unsigned op = 0; op < 16; op++)
        d->tail[op] = (tc_tail){.tid = tid, .op = (uint8_t)op};
    model_reset(&d->m);
}

/* Reads a varint at *pp and advances *pp; 0 when it is longer than 10
 * bytes.  No bounds check here: cursors are checked after every TC_BATCH
 * events, and the TC_PAD readable bytes after each column keep the reads
 * of one batch inside memory we may read. */
static inline __attribute__((always_inline)) int rd(const uint8_t **pp, uint64_t *v)
{
    const uint8_t *p = *pp;
    uint64_t b = p[0];
    if (__builtin_expect(b < 0x80, 1)) {
        *v = b;
        *pp = p + 1;
        return 1;
    }
    if (p[1] < 0x80) {                     /* two bytes: inline */
        *v = (b & 0x7f) | (uint64_t)p[1] << 7;
        *pp = p + 2;
        return 1;
    }
    return (*pp = tc_get(p, v)) != NULL;
}

/* rd for columns where one- and two-byte varints mix unpredictably (sizes,
 * allocation distances): the length is computed, not branched on, so it
 * costs no branch mispredictions; only three bytes or more take a branch. */
static inline __attribute__((always_inline)) int rd12(const uint8_t **pp, uint64_t *v)
{
    const uint8_t *p = *pp;
    uint64_t w = p[0] | (uint64_t)p[1] << 8;
    if (__builtin_expect((w & 0x8080) == 0x8080, 0))
        return (*pp = tc_get(p, v)) != NULL;
    uint64_t two = (w >> 7) & 1;           /* byte 0 continues */
    *v = (w & 0x7f) | ((w >> 1) & 0x3f80) * two;
    *pp = p + 1 + two;
    return 1;
}

static const char E_OVERLONG[] = "varint longer than 10 bytes";

/* A SITE value for op: the op's site from this event on.  NULL or the
 * reason the chunk is corrupt. */
static inline __attribute__((always_inline)) const char *dec_site(tc_dec *d, unsigned op)
{
    uint64_t x;
    if (!rd(&d->c[TC_SITE], &x))
        return E_OVERLONG;
    if (x > UINT32_MAX)
        return "site id out of range";
    d->tail[op].site = (uint32_t)x;
    return NULL;
}

/* The event's in_ptr from its INREF value x (reading PTR when x == 1) in
 * the chunk's reference mode rmode, updating ptr, inext and the model.
 * NULL or the reason the chunk is corrupt. */
static inline __attribute__((always_inline)) const char *
dec_in(tc_model *m, unsigned rmode, unsigned depth, uint64_t x, const uint8_t **cptr,
       uint32_t nalloc, uint32_t *inext, unsigned shift, uint64_t *ptr, uint64_t *in)
{
    if (x >= 2) {
        int64_t k = rmode == TC_MODE_PAIR ? pair_slot(m, x, nalloc, inext)
                                          : ref_slot(rmode, x, nalloc, inext);
        if (__builtin_expect(k < 0, 0))
            return "pointer reference outside the chunk's allocations";
        *in = m->ring[k];
        stk_push(m, m->ring_cls[k], *in, depth);
        *ptr = *in >> shift;
    } else if (x == 1) {
        if (!rd(cptr, &x))
            return E_OVERLONG;
        *ptr += (uint64_t)tc_unzz(x);
        *in = *ptr << shift;
    } else {
        *in = 0;
    }
    return NULL;
}

/* The result out_ptr of an allocation of class c from its OUT value x,
 * updating ptr and the model.  NULL or the reason the chunk is corrupt. */
static inline __attribute__((always_inline)) const char *
dec_out(tc_model *m, unsigned rmode, unsigned depth, unsigned c, uint64_t x, uint32_t *nalloc,
        unsigned shift, uint64_t *ptr, uint64_t *out)
{
    if (x == 0) {                          /* the usual case, tested first */
        unsigned held = m->stk_n[c], h = m->stk_head[c];
        if (__builtin_expect(held == 0, 0))
            return "reuse reference to an empty slot";
        /* stk_take(m, c, 0), written out: one load of the count for the
         * test and the update, no shifting loop. */
        *out = m->stk[c][h];
        m->stk_head[c] = (uint8_t)((h - 1) & (TC_STACK - 1));
        m->stk_n[c] = (uint8_t)(held - 1);
        *ptr = *out >> shift;
    } else if (x < depth) {
        if (__builtin_expect(x >= m->stk_n[c], 0))
            return "reuse reference to an empty slot";
        *out = stk_take(m, c, (unsigned)x);
        *ptr = *out >> shift;
    } else {
        *ptr += (uint64_t)tc_unzz(x - depth);
        *out = *ptr << shift;
    }
    m->ring[*nalloc & ring_mask(rmode)] = *out;
    m->ring_cls[*nalloc & ring_mask(rmode)] = (uint8_t)c;
    ++*nalloc;
    return NULL;
}

/* Stores the fields of an event after seq and ts_ns: the values, then
 * tail's 16 bytes (tid, site, err, op and the padding). */
static inline __attribute__((always_inline)) void
put_body(hak_event *v, uint64_t size, uint64_t nmemb, uint64_t align, uint64_t in,
         uint64_t out, const tc_tail *tail)
{
    v->size = size;
    v->nmemb = nmemb;
    v->align = align;
    v->in_ptr = in;
    v->out_ptr = out;
    memcpy((char *)v + offsetof(hak_event, tid), tail, sizeof *tail);
}

/* Token mode: an event coded in full (op byte f, its op's site, size)
 * becomes the table's next entry while there is room, unless it has an
 * errno or is RAW (FORMAT.md, "Token mode"). */
static inline __attribute__((always_inline)) void tok_add(tc_tokens *t, unsigned f,
                                                          uint32_t site, uint64_t size)
{
    if (t->n < TC_NTOKEN && !(f & (TC_F_ERR | TC_F_RAW))) {
        t->f[t->n] = (uint8_t)(f & ~TC_F_SITE);
        t->site[t->n] = site;
        t->size[t->n] = size;
        t->n++;
    }
}

/* One event that is not a flag-free malloc or free (its seq and ts_ns are
 * already in v): the general decoder, on d's cursors and model state
 * (dec_ops writes its copies back before the call and reloads them after).
 * Kept out of line so the hot loop in dec_ops keeps its few cursors in
 * registers.  0, or -1 with d->err set. */
static __attribute__((noinline)) int dec_generic(tc_dec *d, hak_event *v, unsigned f, int hit,
                                                  uint64_t tsize)
{
    unsigned op = f & 15;
    if (!op || op >= HAK_OP_COUNT_) {
        d->err = "invalid op";
        return -1;
    }
    const uint8_t **c = d->c;
    tc_tail tail = d->tail[op];
    uint64_t x;
    if ((f & TC_F_SITE) && (d->err = dec_site(d, op)))
        return -1;
    tail.site = d->tail[op].site;
    if (f & TC_F_ERR) {
        if (!rd(&c[TC_ERR], &x))
            goto overlong;
        tail.err = (int32_t)tc_unzz(x);
    }
    uint64_t size = 0, nmemb = 0, align = 0, in = 0, out = 0;
    if (f & TC_F_RAW) {
        if (!rd(&c[TC_RAW], &size) || !rd(&c[TC_RAW], &nmemb) || !rd(&c[TC_RAW], &align)
            || !rd(&c[TC_RAW], &in) || !rd(&c[TC_RAW], &out))
            goto overlong;
    } else {
        unsigned m = op_mask[op];
        if (hit)                           /* token mode: the size is the entry's */
            size = tsize;
        else if ((m & M_SIZE) && !rd(&c[TC_SIZE], &size))
            goto overlong;
        if (m & M_AUX) {
            if (!rd(&c[TC_AUX], &x))
                goto overlong;
            unsigned a = op_aux[op];
            if (a == AUX_NMEMB) nmemb = x;
            else if (a == AUX_ALIGN) align = x;
            else in = x;
        }
        if (m & M_IN) {
            if (!rd(&c[TC_INREF], &x))
                goto overlong;
            if ((d->err = dec_in(&d->m, d->mode, d->depth, x, &c[TC_PTR], d->nalloc, &d->inext,
                                 d->shift, &d->ptr, &in)))
                return -1;
        }
        if ((m & M_OUT) && !(f & TC_F_NULL)) {
            unsigned cls = tc_class_off(alloc_bytes(m, nmemb, size), d->coff);
            if (!rd(&c[TC_OUT], &x))
                goto overlong;
            if ((d->err = dec_out(&d->m, d->mode, d->depth, cls, x, &d->nalloc, d->shift, &d->ptr,
                                  &out)))
                return -1;
        }
    }
    put_body(v, size, nmemb, align, in, out, &tail);
    if (d->tok && !hit)
        tok_add(&d->tk, f, tail.site, size);
    return 0;
overlong:
    d->err = E_OVERLONG;
    return -1;
}

/* unzz8[b] = tc_unzz(b) for one-byte varints b < 0x80. */
static const int8_t unzz8[128] = {
#define Z4(b) (int8_t)(((b) >> 1) ^ -((b) & 1)), (int8_t)(((b + 1) >> 1) ^ -((b + 1) & 1)), \
              (int8_t)(((b + 2) >> 1) ^ -((b + 2) & 1)), (int8_t)(((b + 3) >> 1) ^ -((b + 3) & 1))
#define Z16(b) Z4(b), Z4(b + 4), Z4(b + 8), Z4(b + 12)
    Z16(0), Z16(16), Z16(32), Z16(48), Z16(64), Z16(80), Z16(96), Z16(112)
#undef Z16
#undef Z4
};

/* Decodes events ev[0..n) (n <= TC_BATCH) in one pass, with the column
 * shortcuts `mode` (DM_*), the pointer shift shift_c and the reference
 * mode rmode: all are constants in each instantiation (shift_c is the
 * usual 4, 16-byte aligned blocks, or SHIFT_ANY for the chunk's d->shift).  The two ops
 * that make up most streams, malloc and free without flags, are decoded
 * here with the cursors they use in registers; everything else goes to
 * dec_generic.  Errors are found in event order, as the format describes
 * the fields: an event's op, then its seq, ts and the rest.  0, or -1 with
 * d->err set (d's cursors and state are then partly advanced: dec_batch
 * restores them). */
#define SHIFT_ANY 64u

/* The error for an event whose seq or ts varint is overlong: a bad op
 * comes first. */
static const char *time_error(unsigned f)
{
    return (f & 15) && (f & 15) < HAK_OP_COUNT_ ? E_OVERLONG : "invalid op";
}

static inline __attribute__((always_inline)) int dec_events(tc_dec *d, hak_event *restrict ev,
                                                             size_t n, unsigned mode,
                                                             unsigned shift_c, unsigned rmode,
                                                             int tokm)
{
    const uint8_t *cop = d->c[TC_OP], *cseq = d->c[TC_SEQ], *cts = d->c[TC_TS],
                  *csize = d->c[TC_SIZE], *cin = d->c[TC_INREF], *cout = d->c[TC_OUT];
    uint64_t seq = d->seq, ts = d->ts, ptr = d->ptr, x;
    uint32_t nalloc = d->nalloc, inext = d->inext;
    const uint64_t unit = d->ts_unit;
    const unsigned shift = shift_c == SHIFT_ANY ? d->shift : shift_c;
    /* The class offset is data, not another instantiation: small sizes'
     * classes are (size + cadd) >> 4 up to clim (tc_class_off). */
    const unsigned coff = d->coff;
    const uint64_t cadd = 15 + coff, clim = 1024 - coff;
    const unsigned depth = d->depth;
    tc_model *md = &d->m;
    const char *why;
    const uintptr_t ts_off = (uintptr_t)cts - (uintptr_t)cop;
    tc_tokens *tk = &d->tk;
    for (size_t i = 0; i < n; i++) {
        hak_event *v = &ev[i];
        unsigned f;
        int hit = 0;                       /* token mode: the event is a table entry */
        uint64_t tsize = 0;
        if (!tokm) {
            f = cop[i];
        } else if ((f = *cop++)) {         /* a token: the entry's op byte, site, size */
            if (__builtin_expect(f > tk->n, 0)) {
                why = "token outside the chunk's table";
                goto fail;
            }
            hit = 1;
            tsize = tk->size[f - 1];
            d->tail[tk->f[f - 1] & 15].site = tk->site[f - 1];
            f = tk->f[f - 1];
        } else {
            f = *cop++;                    /* 0: the op byte follows, the event in full */
        }
        if (mode & DM_SEQ) {
            v->seq = seq + 1 + i;
        } else {
            if (!rd(&cseq, &x)) {
                why = time_error(f);
                goto fail;
            }
            seq += (uint64_t)tc_unzz(x) + 1;
            v->seq = seq;
        }
        if (mode & DM_TS) {
            /* cts[i], addressed from the op cursor: one base register
             * (token mode's op cursor moves by one or two bytes). */
            ts += (uint64_t)(int64_t)unzz8[tokm ? cts[i]
                                           : *(const uint8_t *)((uintptr_t)(cop + i) + ts_off)];
        } else {
            if (!rd(&cts, &x)) {
                why = time_error(f);
                goto fail;
            }
            ts += (uint64_t)tc_unzz(x);
        }
        v->ts_ns = ts * unit;
        if (f == HAK_OP_FREE) {
            uint64_t in;
            if (!rd12(&cin, &x))
                goto overlong;
            /* PTR (explicit pointers) is rare: its cursor stays in d. */
            if ((why = dec_in(md, rmode, depth, x, &d->c[TC_PTR], nalloc, &inext, shift, &ptr, &in)))
                goto fail;
            put_body(v, 0, 0, 0, in, 0, &d->tail[HAK_OP_FREE]);
            if (tokm && !hit)
                tok_add(tk, f, d->tail[HAK_OP_FREE].site, 0);
            continue;
        }
        if (f == HAK_OP_MALLOC) {
            uint64_t size, out;
        malloc_body:
            if (tokm && hit)
                size = tsize;
            else if (!rd12(&csize, &size))
                goto overlong;
            if (!rd(&cout, &x))
                goto overlong;
            v->size = size;
            if ((why = dec_out(md, rmode, depth, size <= clim ? (unsigned)((size + cadd) >> 4) : tc_class_off(size, coff), x, &nalloc, shift, &ptr, &out)))
                goto fail;
            put_body(v, size, 0, 0, 0, out, &d->tail[HAK_OP_MALLOC]);
            if (tokm && !hit)
                tok_add(tk, HAK_OP_MALLOC, d->tail[HAK_OP_MALLOC].site, size);
            continue;
        }
        if (f == (HAK_OP_MALLOC | TC_F_SITE)) {
            /* Recorded traces change malloc's call site often: the site,
             * then the rest as for a flag-free malloc.  SITE's cursor
             * stays in d. */
            if ((why = dec_site(d, HAK_OP_MALLOC)))
                goto fail;
            goto malloc_body;
        }
        d->c[TC_SIZE] = csize;
        d->c[TC_INREF] = cin;
        d->c[TC_OUT] = cout;
        d->ptr = ptr;
        d->nalloc = nalloc;
        d->inext = inext;
        if (dec_generic(d, v, f, hit, tsize))
            return -1;
        csize = d->c[TC_SIZE];
        cin = d->c[TC_INREF];
        cout = d->c[TC_OUT];
        ptr = d->ptr;
        nalloc = d->nalloc;
        inext = d->inext;
    }
    d->c[TC_OP] = tokm ? cop : cop + n;
    d->c[TC_SEQ] = mode & DM_SEQ ? cseq + n : cseq;
    d->c[TC_TS] = mode & DM_TS ? cts + n : cts;
    d->c[TC_SIZE] = csize;
    d->c[TC_INREF] = cin;
    d->c[TC_OUT] = cout;
    d->seq = mode & DM_SEQ ? seq + n : seq;
    d->ts = ts;
    d->ptr = ptr;
    d->nalloc = nalloc;
    d->inext = inext;
    return 0;
overlong:
    why = E_OVERLONG;
fail:
    d->err = why;
    return -1;
}

/* One out-of-line function per (mode, shift, reference mode) instantiation
 * of dec_events, so the register allocator sees one hot loop at a time. */
typedef int dec_fn(tc_dec *d, hak_event *ev, size_t n);
#define DEC_FN(name, mode, shift, rmode, tokm)                    \
    static __attribute__((noinline)) int name(tc_dec *d, hak_event *ev, size_t n) \
    {                                                             \
        return dec_events(d, ev, n, mode, shift, rmode, tokm);    \
    }
#define DEC_FNS(sfx, rmode, tokm)                                 \
    DEC_FN(dec_any##sfx, 0, SHIFT_ANY, rmode, tokm)               \
    DEC_FN(dec_seq##sfx, DM_SEQ, SHIFT_ANY, rmode, tokm)          \
    DEC_FN(dec_ts##sfx, DM_TS, SHIFT_ANY, rmode, tokm)            \
    DEC_FN(dec_seq_ts##sfx, DM_SEQ | DM_TS, SHIFT_ANY, rmode, tokm) \
    DEC_FN(dec_any4##sfx, 0, 4, rmode, tokm)                      \
    DEC_FN(dec_seq4##sfx, DM_SEQ, 4, rmode, tokm)                 \
    DEC_FN(dec_ts4##sfx, DM_TS, 4, rmode, tokm)                   \
    DEC_FN(dec_seq_ts4##sfx, DM_SEQ | DM_TS, 4, rmode, tokm)
#define DEC_ROW(sfx)                                              \
    {{dec_any##sfx, dec_seq##sfx, dec_ts##sfx, dec_seq_ts##sfx},  \
     {dec_any4##sfx, dec_seq4##sfx, dec_ts4##sfx, dec_seq_ts4##sfx}}
DEC_FNS(, TC_MODE_DIST, 0)
DEC_FNS(_ix, TC_MODE_INDEX, 0)
DEC_FNS(_pr, TC_MODE_PAIR, 0)
DEC_FNS(_tk, TC_MODE_DIST, 1)
DEC_FNS(_ixtk, TC_MODE_INDEX, 1)
DEC_FNS(_prtk, TC_MODE_PAIR, 1)
/* [token mode][reference mode][shift == 4][mode] */
static dec_fn *const dec_fns[2][TC_NMODE][2][4] = {
    {DEC_ROW(), DEC_ROW(_ix), DEC_ROW(_pr)},
    {DEC_ROW(_tk), DEC_ROW(_ixtk), DEC_ROW(_prtk)},
};
#undef DEC_ROW
#undef DEC_FNS
#undef DEC_FN

/* Decodes n <= TC_BATCH events.  A failed batch leaves d's cursors and
 * state where the batch started (so no later call can run a cursor past
 * the padding). */
static long dec_batch(tc_dec *d, hak_event *ev, size_t n)
{
    const uint8_t *save[TC_NCOL];
    memcpy(save, d->c, sizeof save);
    const uint64_t seq0 = d->seq, ts0 = d->ts, ptr0 = d->ptr;
    const uint32_t nalloc0 = d->nalloc, inext0 = d->inext, ntok0 = d->tk.n;
    unsigned mode = 0;
    const uint8_t *cs = d->c[TC_SEQ], *ct = d->c[TC_TS];
    if ((size_t)(d->end[TC_SEQ] - cs) >= n && bytes_clear(cs, n, 0xff))
        mode |= DM_SEQ;
    if ((size_t)(d->end[TC_TS] - ct) >= n && bytes_clear(ct, n, 0x80))
        mode |= DM_TS;
    if (dec_fns[d->tok][d->mode][d->shift == 4][mode](d, ev, n))
        goto fail;
    for (int k = 0; k < TC_NCOL; k++)
        if (d->c[k] > d->end[k]) {
            d->err = "column ends before its events";
            goto fail;
        }
    return (long)n;
fail:
    memcpy(d->c, save, sizeof save);
    d->seq = seq0;
    d->ts = ts0;
    d->ptr = ptr0;
    d->nalloc = nalloc0;
    d->inext = inext0;
    d->tk.n = ntok0;
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
