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
    if (version >= TC_VERSION_MODES && (b & TC_DIR_MODE)) {
        d->mode = TC_MODE_INDEX;
        b &= ~TC_DIR_MODE;
    }
    d->shift = b;   /* version 1 has no mode bit; bit 6 is reserved (0) */
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
    d->mode = dir->mode;
    d->rmask = dir->mode == TC_MODE_INDEX ? TC_IRING - 1 : TC_RING - 1;
    d->inext = 0;
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
    const uint32_t rmask = d->rmask;
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
                int64_t k = ref_slot(d->mode, x, nalloc, &d->inext);
                if (__builtin_expect(k < 0, 0)) {
                    d->err = "pointer reference outside the chunk's allocations";
                    goto fail;
                }
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
            md->ring[nalloc & rmask] = out;
            md->ring_cls[nalloc & rmask] = (uint8_t)c;
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
    const uint32_t nalloc0 = d->nalloc, inext0 = d->inext;
    const uint8_t *cop = d->c[TC_OP], *cseq = d->c[TC_SEQ], *cts = d->c[TC_TS],
                  *csize = d->c[TC_SIZE], *cin = d->c[TC_INREF], *cptr = d->c[TC_PTR],
                  *cout = d->c[TC_OUT];
    uint64_t seq = d->seq, ts = d->ts, ptr = d->ptr;
    uint32_t nalloc = d->nalloc, inext = d->inext;
    const unsigned shift = d->shift, mode = d->mode;
    const uint32_t rmask = d->rmask;
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
                int64_t k = ref_slot(mode, x, nalloc, &inext);
                if (__builtin_expect(k < 0, 0)) {
                    d->err = "pointer reference outside the chunk's allocations";
                    goto fail;
                }
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
            md->ring[nalloc & rmask] = out;
            md->ring_cls[nalloc & rmask] = (uint8_t)c;
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
        d->inext = inext;
        if (dec_generic(d, v, f, seq, ts))
            goto fail;
        csize = d->c[TC_SIZE];
        cin = d->c[TC_INREF];
        cptr = d->c[TC_PTR];
        cout = d->c[TC_OUT];
        ptr = d->ptr;
        nalloc = d->nalloc;
        inext = d->inext;
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
    d->inext = inext;
    return (long)n;
overlong:
    d->err = "varint longer than 10 bytes";
fail:
    memcpy(d->c, save, sizeof save);
    d->ptr = ptr0;
    d->nalloc = nalloc0;
    d->inext = inext0;
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
