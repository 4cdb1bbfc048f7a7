/* trace_codec.c - columnar event-chunk encoding and decoding.
 *
 * Which fields an op stores (op_mask) is part of the format: an event whose
 * unused fields are not all zero is stored with TC_F_RAW instead, so every
 * event round-trips exactly whatever it contains.
 */
#include "trace_codec.h"
#include "trace_fmt.h"

#include <stdlib.h>
#include <string.h>

enum { M_SIZE = 1, M_AUX = 2, M_IN = 4, M_OUT = 8 };
enum { AUX_NONE, AUX_NMEMB, AUX_ALIGN, AUX_IN };   /* what AUX carries */

static const uint8_t op_mask[16] = {
    [HAK_OP_MALLOC] = M_SIZE | M_OUT,
    [HAK_OP_CALLOC] = M_SIZE | M_AUX | M_OUT,
    [HAK_OP_REALLOC] = M_IN | M_SIZE | M_OUT,
    [HAK_OP_REALLOCARRAY] = M_IN | M_SIZE | M_AUX | M_OUT,
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
    [TC_INREF] = 2, [TC_PTR] = 20, [TC_SITE] = 5, [TC_ERR] = 5, [TC_RAW] = 50,
};

#define CACHE_BITS 13
struct tc_enc {
    uint8_t *col[TC_NCOL];
    struct { uint64_t ptr; uint32_t num; } cache[1u << CACHE_BITS];
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

size_t tc_enc_bound(size_t n)
{
    size_t per = 0;
    for (int c = 0; c < TC_NCOL; c++)
        per += col_max[c];
    return 1 + TC_NCOL * 4 + per * n;
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

size_t tc_encode(tc_enc *e, const hak_event *ev, size_t n, uint32_t tid,
                 uint32_t ts_unit, uint8_t *out)
{
    (void)tid;
    /* Common trailing zero bits of all coded pointers. */
    uint64_t any = 0;
    for (size_t i = 0; i < n; i++)
        if (ev[i].op != HAK_OP_THREAD_START)   /* its in_ptr is a thread index */
            any |= ev[i].in_ptr | ev[i].out_ptr;
    unsigned shift = any ? (unsigned)__builtin_ctzll(any) : 0;
    if (shift > 32)
        shift = 32;

    uint8_t *c[TC_NCOL];
    for (int k = 0; k < TC_NCOL; k++)
        c[k] = e->col[k];
    memset(e->cache, 0, sizeof e->cache);
    uint64_t pseq = n ? ev[0].seq - 1 : 0, pts = 0, pptr = 0, psite = 0;
    uint32_t nalloc = 0;

    for (size_t i = 0; i < n; i++) {
        const hak_event *v = &ev[i];
        unsigned f = v->op & 15;
        c[TC_SEQ] = tc_put(c[TC_SEQ], tc_zz((int64_t)(v->seq - pseq - 1)));
        pseq = v->seq;
        uint64_t t = v->ts_ns / ts_unit;
        c[TC_TS] = tc_put(c[TC_TS], tc_zz((int64_t)(t - pts)));
        pts = t;
        if (v->site != psite) {
            f |= TC_F_SITE;
            c[TC_SITE] = tc_put(c[TC_SITE], v->site);
            psite = v->site;
        }
        if (v->err) {
            f |= TC_F_ERR;
            c[TC_ERR] = tc_put(c[TC_ERR], tc_zz(v->err));
        }
        if (!fits(v)) {
            f |= TC_F_RAW;
            c[TC_RAW] = tc_put(c[TC_RAW], v->size);
            c[TC_RAW] = tc_put(c[TC_RAW], v->nmemb);
            c[TC_RAW] = tc_put(c[TC_RAW], v->align);
            c[TC_RAW] = tc_put(c[TC_RAW], v->in_ptr);
            c[TC_RAW] = tc_put(c[TC_RAW], v->out_ptr);
            *c[TC_OP]++ = (uint8_t)f;
            continue;
        }
        unsigned m = op_mask[v->op], a = op_aux[v->op];
        if (m & M_SIZE)
            c[TC_SIZE] = tc_put(c[TC_SIZE], v->size);
        if (m & M_AUX)
            c[TC_AUX] = tc_put(c[TC_AUX], a == AUX_NMEMB ? v->nmemb
                                       : a == AUX_ALIGN ? v->align : v->in_ptr);
        if (m & M_IN) {
            uint64_t p = v->in_ptr;
            if (!p) {
                *c[TC_INREF]++ = 0;
            } else {
                unsigned s = cache_slot(p);
                uint32_t d = nalloc - e->cache[s].num;
                if (e->cache[s].ptr == p && d >= 1 && d <= TC_RING) {
                    c[TC_INREF] = tc_put(c[TC_INREF], (uint64_t)d + 1);
                } else {
                    *c[TC_INREF]++ = 1;
                    c[TC_PTR] = tc_put(c[TC_PTR], tc_zz((int64_t)((p >> shift) - pptr)));
                }
                pptr = p >> shift;
            }
        }
        if (m & M_OUT) {
            uint64_t p = v->out_ptr;
            if (!p) {
                f |= TC_F_NULL;
            } else {
                c[TC_PTR] = tc_put(c[TC_PTR], tc_zz((int64_t)((p >> shift) - pptr)));
                pptr = p >> shift;
                unsigned s = cache_slot(p);
                e->cache[s].ptr = p;
                e->cache[s].num = nalloc++;
            }
        }
        *c[TC_OP]++ = (uint8_t)f;
    }

    uint8_t *o = out;
    *o++ = (uint8_t)shift;
    for (int k = 0; k < TC_NCOL; k++)
        o = tc_put(o, (uint64_t)(c[k] - e->col[k]));
    for (int k = 0; k < TC_NCOL; k++) {
        size_t len = (size_t)(c[k] - e->col[k]);
        memcpy(o, e->col[k], len);
        o += len;
    }
    return (size_t)(o - out);
}

int tc_dec_init(tc_dec *d, const uint8_t *raw, size_t len, uint32_t count,
                uint64_t first_seq, uint32_t tid, uint32_t ts_unit)
{
    const uint8_t *p = raw, *end = raw + len;
    d->err = NULL;
    if (len < 1 + TC_NCOL) {
        d->err = "event payload too short";
        return -1;
    }
    d->shift = *p++;
    if (d->shift > 32) {
        d->err = "bad pointer shift";
        return -1;
    }
    uint64_t lens[TC_NCOL], total = 0;
    for (int k = 0; k < TC_NCOL; k++) {
        if (p >= end || !(p = tc_get(p, &lens[k])) || p > end || lens[k] > len) {
            d->err = "bad column table";
            return -1;
        }
        total += lens[k];
    }
    if (total != (uint64_t)(end - p)) {
        d->err = "column sizes do not add up to the payload size";
        return -1;
    }
    if (lens[TC_OP] != count) {
        d->err = "op column length differs from the event count";
        return -1;
    }
    for (int k = 0; k < TC_NCOL; k++) {
        d->c[k] = p;
        p += lens[k];
        d->end[k] = p;
    }
    d->seq = first_seq - 1;
    d->ts = d->ptr = d->site = 0;
    d->left = count;
    d->nalloc = 0;
    d->tid = tid;
    d->ts_unit = ts_unit ? ts_unit : 1;
    return 0;
}

/* Reads one varint from column k into v, or fails the chunk. */
#define GET(k, v)                                                   \
    do {                                                            \
        if (__builtin_expect(c[k] >= d->end[k], 0)) goto overrun;   \
        if (__builtin_expect(*c[k] < 0x80, 1)) {                    \
            (v) = *c[k]++;                                          \
        } else if (!(c[k] = tc_get(c[k], &(v)))) {                  \
            goto overlong;                                          \
        }                                                           \
    } while (0)

long tc_dec_run(tc_dec *d, hak_event *ev, size_t max)
{
    const uint8_t *c[TC_NCOL];
    memcpy(c, d->c, sizeof c);
    size_t n = max < d->left ? max : d->left;
    uint64_t seq = d->seq, ts = d->ts, ptr = d->ptr, site = d->site;
    uint32_t nalloc = d->nalloc;
    const unsigned shift = d->shift;
    const uint64_t unit = d->ts_unit;
    uint64_t x;

    for (size_t i = 0; i < n; i++) {
        hak_event v = {0};
        unsigned f = *c[TC_OP]++;
        unsigned op = f & 15;
        if (__builtin_expect(!op || op >= HAK_OP_COUNT_, 0)) {
            d->err = "invalid op";
            return -1;
        }
        v.op = (uint8_t)op;
        v.tid = d->tid;
        GET(TC_SEQ, x);
        seq += (uint64_t)tc_unzz(x) + 1;
        v.seq = seq;
        GET(TC_TS, x);
        ts += (uint64_t)tc_unzz(x);
        v.ts_ns = ts * unit;
        if (f & TC_F_SITE) {
            GET(TC_SITE, site);
            if (site > UINT32_MAX) { d->err = "site id out of range"; return -1; }
        }
        v.site = (uint32_t)site;
        if (f & TC_F_ERR) {
            GET(TC_ERR, x);
            v.err = (int32_t)tc_unzz(x);
        }
        if (f & TC_F_RAW) {
            GET(TC_RAW, v.size);
            GET(TC_RAW, v.nmemb);
            GET(TC_RAW, v.align);
            GET(TC_RAW, v.in_ptr);
            GET(TC_RAW, v.out_ptr);
            ev[i] = v;
            continue;
        }
        unsigned m = op_mask[op];
        if (m & M_SIZE)
            GET(TC_SIZE, v.size);
        if (m & M_AUX) {
            GET(TC_AUX, x);
            switch (op_aux[op]) {
            case AUX_NMEMB: v.nmemb = x; break;
            case AUX_ALIGN: v.align = x; break;
            default: v.in_ptr = x; break;
            }
        }
        if (m & M_IN) {
            GET(TC_INREF, x);
            if (x == 1) {
                uint64_t z;
                GET(TC_PTR, z);
                ptr += (uint64_t)tc_unzz(z);
                v.in_ptr = ptr << shift;
            } else if (x >= 2) {
                uint64_t back = x - 1;
                if (back > nalloc || back > TC_RING) {
                    d->err = "pointer reference before the chunk's first allocation";
                    return -1;
                }
                v.in_ptr = d->ring[(nalloc - back) & (TC_RING - 1)];
                ptr = v.in_ptr >> shift;
            }
        }
        if ((m & M_OUT) && !(f & TC_F_NULL)) {
            GET(TC_PTR, x);
            ptr += (uint64_t)tc_unzz(x);
            v.out_ptr = ptr << shift;
            d->ring[nalloc++ & (TC_RING - 1)] = v.out_ptr;
        }
        ev[i] = v;
    }
    memcpy(d->c, c, sizeof c);
    d->seq = seq; d->ts = ts; d->ptr = ptr; d->site = site; d->nalloc = nalloc;
    d->left -= (uint32_t)n;
    if (!d->left) {
        for (int k = 0; k < TC_NCOL; k++)
            if (c[k] != d->end[k]) {
                d->err = "column not fully consumed at the end of the chunk";
                return -1;
            }
    }
    return (long)n;
overrun:
    d->err = "column ends before its events";
    return -1;
overlong:
    d->err = "varint longer than 10 bytes";
    return -1;
}
