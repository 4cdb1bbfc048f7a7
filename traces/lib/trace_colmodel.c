/* trace_colmodel.c - model-coded INREF and OUT columns: see trace_colmodel.h
 * and FORMAT.md ("Model-coded columns"). */
#include "trace_colmodel.h"
#include "trace_model.h"

#include <string.h>

#define MC_ONE (1u << MC_PBITS)
#define MC_TOP (1u << 24)
#define MC_NONE (MC_ESC + 1)       /* "no previous symbol" at a chunk's start */

/* ---- the OP column, event by event: which values an event has ---- */

typedef struct op_walk {
    const uint8_t *p, *end;
    int tok;
    unsigned n;                    /* token table entries */
    uint8_t f[TC_NTOKEN];          /* their op bytes */
} op_walk;

/* The next event's op byte and key (FORMAT.md, "Token mode"); 0 when the
 * column ends, -1 on a token outside the table or an op byte missing. */
static inline int walk_next(op_walk *w, unsigned *f, unsigned *key)
{
    if (w->p >= w->end)
        return 0;
    unsigned b = *w->p++;
    if (!w->tok) {
        *f = b;
        *key = 256 + (b & 15);
        return 1;
    }
    if (b) {
        if (b > w->n)
            return -1;
        *f = w->f[b - 1];
        *key = b;
        return 1;
    }
    if (w->p >= w->end)
        return -1;
    b = *w->p++;
    *f = b;
    *key = 256 + (b & 15);
    if (w->n < TC_NTOKEN && !(b & (TC_F_ERR | TC_F_RAW)))
        w->f[w->n++] = (uint8_t)(b & ~TC_F_SITE);
    return 1;
}

/* Whether an event with op byte f has a value in column col. */
static inline int has_value(unsigned col, unsigned f)
{
    if (f & TC_F_RAW)
        return 0;
    unsigned m = op_mask[f & 15];
    return col == TC_INREF ? (m & M_IN) != 0 : (m & M_OUT) && !(f & TC_F_NULL);
}

static void mc_reset(tc_mc *m)
{
    uint16_t *p = &m->a[0][0];
    for (size_t i = 0; i < sizeof m->a / sizeof *p; i++)
        p[i] = MC_ONE / 2;
    p = &m->t[0][0];
    for (size_t i = 0; i < sizeof m->t / sizeof *p; i++)
        p[i] = MC_ONE / 2;
    memset(m->last, 0, sizeof m->last);
    for (size_t i = 0; i < sizeof m->esc / sizeof *m->esc; i++)
        m->esc[i] = MC_ONE / 2;
    p = &m->man[0][0];
    for (size_t i = 0; i < sizeof m->man / sizeof *p; i++)
        p[i] = MC_ONE / 2;
}

static inline unsigned ctx_of(unsigned key, unsigned p1, unsigned p2, unsigned bits)
{
    uint32_t h = (key * (MC_NONE + 1) + p1) * (MC_NONE + 1) + p2;
    return (h * 0x9e3779b1u) >> (32 - bits);
}

/* The tree of symbols that are neither of the context's last two: in OUT
 * per key (an allocation's less usual stack positions depend on the call
 * site more than on the last values: 3% fewer bytes on factor than with
 * the full context), in INREF per key and previous two symbols (a
 * reference's step follows the program's loop: 45% fewer). */
static inline unsigned tree_ctx(unsigned col, unsigned key, unsigned p1, unsigned p2)
{
    return col == TC_OUT ? ctx_of(key, MC_NONE, MC_NONE, MC_TBITS) : ctx_of(key, p1, p2, MC_TBITS);
}

/* ---- range encoder (LZMA's) ---- */

typedef struct rc_enc {
    uint64_t low;
    uint32_t range;
    uint8_t cache;
    uint64_t pending;              /* bytes held back for a carry: cache, then 0xff's */
    uint8_t *p, *end;
    int over;                      /* ran out of room */
    size_t ndec;                   /* decisions coded */
} rc_enc;

static inline void rc_put(rc_enc *r, uint8_t b)
{
    if (r->p < r->end)
        *r->p++ = b;
    else
        r->over = 1;
}

static inline void rc_shift(rc_enc *r)
{
    if ((uint32_t)r->low < 0xff000000u || (r->low >> 32)) {
        uint8_t carry = (uint8_t)(r->low >> 32), b = r->cache;
        do {
            rc_put(r, (uint8_t)(b + carry));
            b = 0xff;
        } while (--r->pending);
        r->cache = (uint8_t)(r->low >> 24);
    }
    r->pending++;
    r->low = (uint32_t)r->low << 8;
}

/* Both coders update a probability the same way (LZMA's), without a
 * branch on the bit: half the bits are unpredictable. */
static inline uint16_t pr_next(uint16_t p, unsigned bit)
{
    unsigned p0 = p + ((MC_ONE - p) >> MC_RATE), p1 = p - (p >> MC_RATE);
    return (uint16_t)(bit ? p1 : p0);
}

static inline void rc_bit(rc_enc *r, uint16_t *pr, unsigned bit)
{
    r->ndec++;
    uint32_t bound = (r->range >> MC_PBITS) * *pr;
    uint64_t mask = 0 - (uint64_t)bit;
    r->low += bound & mask;
    r->range = bit ? r->range - bound : bound;
    *pr = pr_next(*pr, bit);
    while (r->range < MC_TOP) {
        r->range <<= 8;
        rc_shift(r);
    }
}

/* A bit of probability 1/2, without a model. */
static inline void rc_direct(rc_enc *r, unsigned bit)
{
    r->ndec++;
    r->range >>= 1;
    r->low += r->range & (0 - (uint64_t)bit);
    while (r->range < MC_TOP) {
        r->range <<= 8;
        rc_shift(r);
    }
}

/* bits low bits of v, high first, through a tree of probabilities t[1..] */
static inline void rc_tree(rc_enc *r, uint16_t *t, unsigned bits, unsigned v)
{
    unsigned i = 1;
    for (unsigned k = bits; k-- > 0;) {
        unsigned b = (v >> k) & 1;
        rc_bit(r, &t[i], b);
        i = 2 * i + b;
    }
}

/* A value's symbol: one of the context's last two symbols (a decision
 * each, and usually one in all), else a tree; an escape's bit length and
 * bits after it. */
static void enc_value(rc_enc *r, tc_mc *m, unsigned col, unsigned key, unsigned *p1,
                      unsigned *p2, uint64_t v)
{
    unsigned s = v < MC_ESC ? (unsigned)v : MC_ESC;
    unsigned c = ctx_of(key, *p1, *p2, MC_CBITS);
    uint16_t *a = m->a[c];
    uint8_t *l = m->last[c];
    unsigned h0 = s == l[0];
    rc_bit(r, &a[0], h0);
    if (!h0) {
        unsigned h1 = s == l[1];
        rc_bit(r, &a[1], h1);
        if (!h1)
            rc_tree(r, m->t[tree_ctx(col, key, *p1, *p2)], MC_TREE, s);
        l[1] = l[0];
        l[0] = (uint8_t)s;
    }
    if (s == MC_ESC) {             /* the bit length, then the bits below the top one */
        uint64_t x = v - MC_ESC;
        unsigned bl = x ? 64 - (unsigned)__builtin_clzll(x) : 0;
        rc_tree(r, m->esc, 7, bl);
        unsigned nb = bl > 1 ? bl - 1 : 0, top = nb < MC_MBITS ? nb : MC_MBITS;
        rc_tree(r, m->man[bl], top, (unsigned)(x >> (nb - top)) & ((1u << top) - 1));
        for (unsigned k = nb - top; k-- > 0;)
            rc_direct(r, (unsigned)(x >> k) & 1);
    }
    *p2 = *p1;
    *p1 = s;
}

/* The OP column's bytes: each in the context of the three before it (0
 * before the column's start): the context's last byte, the one before,
 * else an 8-bit tree in the context of the byte before.  (Token mode's
 * tokens follow the program's loop: on factor 0.121 bytes per event with
 * zstd, an order-4 model 0.061.) */
static inline unsigned op_ctx(uint64_t h)
{
    return (unsigned)(((h & MC_OPMASK) * 0x9e3779b97f4a7c15ull) >> (64 - MC_CBITS));
}

static size_t enc_op(tc_mc *m, const uint8_t *p, size_t n, uint8_t *dst, size_t cap,
                     unsigned max_dec)
{
    rc_enc r = {.range = 0xffffffffu, .pending = 1, .p = dst, .end = dst + cap};
    uint64_t h = 0;                /* the bytes before, the last lowest */
    mc_reset(m);
    for (size_t i = 0; i < n; i++) {
        unsigned x = p[i], c = op_ctx(h), b1 = h & 0xff;
        uint16_t *a = m->a[c];
        uint8_t *l = m->last[c];
        unsigned h0 = x == l[0];
        rc_bit(&r, &a[0], h0);
        if (!h0) {
            unsigned h1 = x == l[1];
            rc_bit(&r, &a[1], h1);
            if (!h1)
                rc_tree(&r, m->tb[b1], 8, x);
            l[1] = l[0];
            l[0] = (uint8_t)x;
        }
        h = h << 8 | x;
        if (r.over || (max_dec && r.ndec > max_dec * (i + 1) + 4096))
            return 0;
    }
    for (int k = 0; k < 5; k++)
        rc_shift(&r);
    m->ndec = r.ndec;
    return r.over ? 0 : (size_t)(r.p - dst);
}

/* Bytes of x as tc_put writes it. */
static inline size_t mc_varint_len(uint64_t x)
{
    size_t n = 1;
    for (; x >= 0x80; x >>= 7)
        n++;
    return n;
}

size_t tc_mc_encode(tc_mc *m, unsigned col, const tc_cols *c, uint8_t *dst, size_t cap,
                    unsigned max_dec)
{
    if (col == TC_OP)
        return enc_op(m, c->p[TC_OP], c->len[TC_OP], dst, cap, max_dec);
    op_walk w = {.p = c->p[TC_OP], .end = c->p[TC_OP] + c->len[TC_OP], .tok = (int)c->tok};
    const uint8_t *v = c->p[col], *vend = v + c->len[col];
    rc_enc r = {.range = 0xffffffffu, .pending = 1, .p = dst, .end = dst + cap};
    unsigned f, key, p1 = MC_NONE, p2 = MC_NONE;
    int got;
    size_t nval = 0;
    mc_reset(m);
    while ((got = walk_next(&w, &f, &key)) > 0) {
        if (!has_value(col, f))
            continue;
        uint64_t x;
        const uint8_t *at = v;
        if (v >= vend || !(v = tc_get(v, &x)) || v > vend)
            return 0;
        /* The decoder writes each value back as tc_put does: a longer
         * varint of the same value (0x80 0x00 for 0) would come back
         * shorter, a column of other bytes (found by fuzz_colmodel; the
         * encoder's own columns never hold one) */
        if ((size_t)(v - at) != mc_varint_len(x))
            return 0;
        enc_value(&r, m, col, key, &p1, &p2, x);
        nval++;
        if (r.over || (max_dec && r.ndec > max_dec * nval + 4096))
            return 0;
    }
    if (got < 0 || v != vend)
        return 0;
    for (int k = 0; k < 5; k++)
        rc_shift(&r);
    m->ndec = r.ndec;
    return r.over ? 0 : (size_t)(r.p - dst);
}

/* ---- range decoder ---- */

typedef struct rc_dec {
    uint32_t range, code;
    const uint8_t *p, *end;
    size_t past;                   /* bytes read past the end */
} rc_dec;

/* Past the end of the stream the decoder reads zeros (and the caller
 * finds the stream not consumed exactly). */
static inline uint8_t rc_get(rc_dec *r)
{
    if (r->p < r->end)
        return *r->p++;
    r->past++;
    return 0;
}

static inline unsigned rd_bit(rc_dec *r, uint16_t *pr)
{
    uint32_t bound = (r->range >> MC_PBITS) * *pr;
    unsigned bit = r->code >= bound;
    r->code -= bound & (0u - bit);
    r->range = bit ? r->range - bound : bound;
    *pr = pr_next(*pr, bit);
    while (r->range < MC_TOP) {
        r->range <<= 8;
        r->code = r->code << 8 | rc_get(r);
    }
    return bit;
}

static inline unsigned rd_direct(rc_dec *r)
{
    r->range >>= 1;
    unsigned bit = r->code >= r->range;
    r->code -= r->range & (0u - bit);
    while (r->range < MC_TOP) {
        r->range <<= 8;
        r->code = r->code << 8 | rc_get(r);
    }
    return bit;
}

static inline unsigned rd_tree(rc_dec *r, uint16_t *t, unsigned bits)
{
    unsigned i = 1;
    for (unsigned k = 0; k < bits; k++)
        i = 2 * i + rd_bit(r, &t[i]);
    return i - (1u << bits);
}

/* The next value; 0 on an escape longer than 10 varint bytes. */
static int dec_value(rc_dec *r, tc_mc *m, unsigned col, unsigned key, unsigned *p1,
                     unsigned *p2, uint64_t *v)
{
    unsigned c = ctx_of(key, *p1, *p2, MC_CBITS);
    uint16_t *a = m->a[c];
    uint8_t *l = m->last[c];
    unsigned s = l[0];
    if (!rd_bit(r, &a[0])) {
        s = rd_bit(r, &a[1]) ? l[1] : rd_tree(r, m->t[tree_ctx(col, key, *p1, *p2)], MC_TREE);
        l[1] = l[0];
        l[0] = (uint8_t)s;
    }
    *v = s;
    if (s == MC_ESC) {
        unsigned bl = rd_tree(r, m->esc, 7);
        if (bl > 64)
            return 0;
        unsigned nb = bl > 1 ? bl - 1 : 0, top = nb < MC_MBITS ? nb : MC_MBITS;
        uint64_t x = bl ? 1 : 0;
        x = x << top | rd_tree(r, m->man[bl], top);
        for (unsigned k = nb - top; k-- > 0;)
            x = x << 1 | rd_direct(r);
        *v = MC_ESC + x;
        if (*v < x)                /* wrapped: not a value the encoder codes */
            return 0;
    }
    *p2 = *p1;
    *p1 = s;
    return 1;
}

static const char *dec_op(tc_mc *m, rc_dec *r, uint8_t *dst, size_t n)
{
    uint64_t h = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = op_ctx(h), b1 = h & 0xff;
        uint16_t *a = m->a[c];
        uint8_t *l = m->last[c];
        unsigned x = l[0];
        if (!rd_bit(r, &a[0])) {
            x = rd_bit(r, &a[1]) ? l[1] : rd_tree(r, m->tb[b1], 8);
            l[1] = l[0];
            l[0] = (uint8_t)x;
        }
        dst[i] = (uint8_t)x;
        h = h << 8 | x;
        if (r->past > 8)           /* reading zeros: give up early */
            return "model-coded column ends before its events";
    }
    if (r->p != r->end || r->past)
        return "model-coded column not consumed exactly";
    return NULL;
}

const char *tc_mc_decode(tc_mc *m, unsigned col, const uint8_t *op, size_t oplen, int tok,
                         uint32_t count, const uint8_t *src, size_t srclen, uint8_t *dst,
                         size_t rawlen)
{
    rc_dec r = {.range = 0xffffffffu, .p = src, .end = src + srclen};
    for (int k = 0; k < 5; k++)
        r.code = r.code << 8 | rc_get(&r);
    if (col == TC_OP) {
        mc_reset(m);
        return dec_op(m, &r, dst, rawlen);
    }
    /* (not before: OP's callers pass no op column, and NULL + 0 is
     * undefined; found by fuzz_colmodel) */
    op_walk w = {.p = op, .end = op + oplen, .tok = tok};
    uint8_t *o = dst, *oend = dst + rawlen;
    unsigned f, key, p1 = MC_NONE, p2 = MC_NONE;
    uint32_t n = 0;
    int got;
    mc_reset(m);
    while ((got = walk_next(&w, &f, &key)) > 0) {
        n++;
        if (!has_value(col, f))
            continue;
        uint64_t x;
        if (!dec_value(&r, m, col, key, &p1, &p2, &x))
            return "model-coded column: value longer than 10 bytes";
        uint8_t tmp[10];
        size_t len = (size_t)(tc_put(tmp, x) - tmp);
        if ((size_t)(oend - o) < len)
            return "model-coded column longer than its size";
        memcpy(o, tmp, len);
        o += len;
        if (r.past > 8)            /* reading zeros: give up early */
            return "model-coded column ends before its events";
    }
    if (got < 0 || n != count)
        return "op column does not match the event count";
    if (o != oend)
        return "model-coded column shorter than its size";
    if (r.p != r.end || r.past)
        return "model-coded column not consumed exactly";
    return NULL;
}
