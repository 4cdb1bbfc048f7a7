/* trace_encode.c - the event-chunk encoder: events -> columns (before zstd).
 * The model it shares with the decoder is in trace_model.h. */
#include "trace_codec.h"
#include "trace_colmodel.h"
#include "trace_encref.h"
#include "trace_encstk.h"
#include "trace_enctok.h"
#include "trace_fmt.h"
#include "trace_model.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t col_max[TC_NCOL] = {
    [TC_OP] = 2 /* token mode: 0 and the op byte */, [TC_SEQ] = 10, [TC_TS] = 10, [TC_SIZE] = 10, [TC_AUX] = 10,
    [TC_INREF] = 3 /* index mode: zigzag(+-65535) + 2 */, [TC_PTR] = 10, [TC_OUT] = 10, [TC_SITE] = 5, [TC_ERR] = 5,
    [TC_RAW] = 50,
};


/* ---- encoder ----
 *
 * The encoder runs the model of trace_model.h (ring of the chunk's
 * allocations, per-class stacks of freed blocks) in a form suited to its
 * own questions, which are lookups by pointer rather than by position:
 * - a pointer map or cache (trace_encref.h) gives the number and size class
 *   of the latest allocation that returned a pointer (its ring entry), so a
 *   free finds its reference and the stack its block goes to;
 * - each class's stack keeps its blocks in fixed slots and their order in
 *   a word (trace_encstk.h), so pushes and removals move nothing.
 * Both answer exactly what the decoder's tc_model would, event by event. */
#define COL_SLACK 16u                   /* put_var may write one byte past a column's end */
#define PREFETCH_EVENTS 32              /* how far ahead the event loop prefetches */
/* Model-coded columns are tried in a chunk when the column's last try
 * won, and otherwise every MC_PROBE chunks, doubling after each probe that
 * loses up to MC_PROBE_MAX: streams where zstd does better (many sizes and
 * call sites: python3, random_mixed) pay for a probe now and then only. */
#define MC_PROBE 16u
#define MC_PROBE_MAX 256u

typedef struct mc_pick {
    unsigned on;                   /* the last try won */
    unsigned since, every;         /* chunks since the last try; probe period */
} mc_pick;

typedef struct enc_model {
    enc_stacks stk;                      /* freed blocks per class */
    uint32_t site[16];                   /* previous site per op */
} enc_model;

struct tc_enc {
    uint8_t *col[TC_NCOL];
    enc_refs refs;
    enc_model m;
    unsigned shift;                /* guess for the next chunk's ptr_shift */
    mode_pick pick;                /* ...and for its reference mode */
    coff_pick cpick;               /* ...and for its class offset */
    coff_count cc;                 /* the last chunk's evidence for it */
    tok_pick tpick;                /* ...and whether it is in token mode */
    int tokv;                      /* the version has token mode */
    int mcv;                       /* ...and model-coded columns */
    tc_mc *mc;                     /* their coder's tables, made on first use */
    mc_pick mpick[3];              /* whether to try them: OP, INREF, OUT (tc_enc_mc) */
    uint32_t tok_miss;             /* the last chunk's events coded in full */
    enc_tokens tk;                 /* the chunk's token table */
    int ts_short;                  /* the last chunk's time deltas were (almost)
                                      all one byte: see encode_pass */
    unsigned depth;                /* class stacks' depth: tc_stack_depth(version) */
};

/* The column buffers, made again after a trim.  0, or -1 (out of memory). */
static int cols_ready(tc_enc *e)
{
    for (int c = 0; c < TC_NCOL; c++)
        if (!e->col[c] && !(e->col[c] = malloc((size_t)col_max[c] * TF_CHUNK_EVENTS + COL_SLACK)))
            return -1;
    return 0;
}

tc_enc *tc_enc_new(void)
{
    tc_enc *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->shift = 4;   /* malloc results are 16-byte aligned */
    e->depth = tc_stack_depth(HAK_TRACE_VERSION);
    e->pick = (mode_pick){.mode = TC_MODE_DIST, .nmode = TC_NMODE, .force = -1};
    e->cpick = (coff_pick){.coff = 0, .force = -1};
    e->tpick = (tok_pick){.on = 1, .force = -1, .every = TOK_PROBE};
    e->mpick[0] = e->mpick[1] = e->mpick[2] = (mc_pick){.on = 1, .every = MC_PROBE};
    e->tokv = HAK_TRACE_VERSION >= TC_VERSION_TOKEN;
    e->mcv = HAK_TRACE_VERSION >= TC_VERSION_MODEL;
    if (refs_init(&e->refs) || cols_ready(e)) {
        tc_enc_free(e);
        return NULL;
    }
    return e;
}

void tc_enc_trim(tc_enc *e)
{
    for (int c = 0; c < TC_NCOL; c++) {
        free(e->col[c]);
        e->col[c] = NULL;
    }
    refs_fini(&e->refs);           /* the next map pass makes one of the size the */
    e->refs.map = NULL;            /* last one needed (refs_begin): no entry is lost */
    free(e->mc);                   /* that a pass could still find (all are below base) */
    e->mc = NULL;
}

void tc_enc_free(tc_enc *e)
{
    if (!e)
        return;
    for (int c = 0; c < TC_NCOL; c++)
        free(e->col[c]);
    refs_fini(&e->refs);
    free(e->mc);
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
static inline __attribute__((always_inline)) uint8_t *put_var(uint8_t *p, uint64_t v)
{
    if (__builtin_expect(v < 0x4000, 1)) {
        uint32_t x = (uint32_t)v, two = x >= 0x80;
        /* low 7 bits, continuation bit, then the high 7 bits a byte up */
        uint32_t w = x + (x & 0x3f80) + (two << 7);
        p[0] = (uint8_t)w;         /* one 16-bit store on little-endian */
        p[1] = (uint8_t)(w >> 8);
        return p + 1 + two;
    }
    return tc_put(p, v);
}

static inline unsigned mpick_of(unsigned col)
{
    return col == TC_OP ? 0 : col == TC_INREF ? 1 : 2;
}

tc_mc *tc_enc_mc(tc_enc *e, unsigned col)
{
    mc_pick *p = &e->mpick[mpick_of(col)];
    if (!(p->on || p->since >= p->every)) {
        p->since++;
        return NULL;
    }
    if (!e->mc)
        e->mc = malloc(sizeof *e->mc);
    return e->mc;
}

void tc_enc_mc_retry(tc_enc *e)
{
    for (unsigned i = 0; i < 3; i++)
        e->mpick[i] = (mc_pick){.on = 1, .every = MC_PROBE};
}

void tc_enc_mc_won(tc_enc *e, unsigned col, int won)
{
    unsigned i = mpick_of(col);
    mc_pick *p = &e->mpick[i];
    if (!won && !e->mpick[(i + 1) % 3].on && !e->mpick[(i + 2) % 3].on) {
        free(e->mc);               /* 170 KiB the program being recorded need not hold */
        e->mc = NULL;              /* until the next probe */
    }
    if (!won && !p->on && p->every < MC_PROBE_MAX)
        p->every *= 2;
    else if (won)
        p->every = MC_PROBE;
    p->on = (unsigned)won;
    p->since = 0;
}

void tc_enc_force_mode(tc_enc *e, int mode)
{
    e->pick.force = mode;
}

void tc_enc_force_coff(tc_enc *e, int coff)
{
    e->cpick.force = coff;
}

void tc_enc_force_tokens(tc_enc *e, int on)
{
    e->tpick.force = on;
}

void tc_enc_set_version(tc_enc *e, uint32_t version)
{
    e->depth = tc_stack_depth(version);
    e->tokv = version >= TC_VERSION_TOKEN;
    e->mcv = version >= TC_VERSION_MODEL;
    e->pick.nmode = version >= TC_VERSION_PAIR ? TC_NMODE : 2;
    if (e->pick.mode >= e->pick.nmode)
        e->pick.mode = TC_MODE_DIST;
}

static long encode_pass(tc_enc *e, const hak_tw_source *src, uint32_t ts_unit,
                        unsigned shift, unsigned mode, int est, int tok, tc_cols *out,
                        uint64_t *any, mode_cost *cost, unsigned *bad_op);

int tc_encode_src(tc_enc *e, const hak_tw_source *src, uint32_t ts_unit, tc_cols *out,
                  size_t *bad, unsigned *bad_op)
{
    /* ptr_shift is the common trailing zeros of the coded pointers, and the
     * reference mode the cheaper one by mode_cost's estimate (see
     * trace_encref.h).  Guess both from the previous chunk and check them
     * in the same pass (the events are read once); encode again only when
     * a guess was wrong, which in a steady stream is rare. */
    if (cols_ready(e)) {
        *bad = TC_ENC_OOM;
        return -1;
    }
    uint64_t any = 0;
    mode_cost cost;
    int est;
    unsigned mode = pick_first(&e->pick, &est);
    /* A one-pass source's chunk cannot be coded again in the mode it turns
     * out to favour: index mode, which reaches every allocation of the
     * chunk, is what a recorded python3's chunks pay least in when the
     * choice can be made afterwards (re-encoded at level 12: 0.2064 B/event
     * either way, 0.2187 with the mode guessed from the chunk before;
     * factor 0.2535 vs 0.2538). */
    if (!src->rewind && e->pick.force < 0)
        mode = TC_MODE_INDEX;
    int tok = e->tokv && tok_first(&e->tpick);
    long r = encode_pass(e, src, ts_unit, e->shift, mode, est, tok, out, &any, &cost, bad_op);
    if (!src->rewind) {
        /* One pass (a source that cannot be read again): the pass wrote a
         * pointer the guessed shift cannot express in RAW form, and the
         * next chunk takes the shift this one's pointers have; a cheaper
         * reference mode is taken from the next chunk on. */
        unsigned shift = any ? (unsigned)__builtin_ctzll(any) : 0;
        if (r == -2 && shift < e->shift)
            e->shift = shift;
    } else if (r == -1) {
        unsigned shift = any ? (unsigned)__builtin_ctzll(any) : 0;
        e->shift = shift > 31 ? 31 : shift;   /* version 4: bits 0..4 of the directory byte */
        mode = pick_better(&e->pick, &cost, mode);
        src->rewind(src->ctx);
        r = encode_pass(e, src, ts_unit, e->shift, mode, est, tok, out, &any, &cost, bad_op);
    } else if (r == -2 && pick_better(&e->pick, &cost, mode) != mode) {
        mode = pick_better(&e->pick, &cost, mode);
        src->rewind(src->ctx);
        r = encode_pass(e, src, ts_unit, e->shift, mode, est, tok, out, &any, &cost, bad_op);
    }
    if (r == -3) {
        *bad = TC_ENC_OOM;
        return -1;
    }
    if (r >= 0) {
        *bad = (size_t)r;
        return -1;
    }
    pick_learn(&e->pick, &cost);
    coff_learn(&e->cpick, &e->cc, out->coff);
    tok_learn(&e->tpick, tok, e->tok_miss, out->n);
    return 0;
}

static const hak_event *array_next(void *ctx, size_t *n)
{
    hak_tw_array *a = ctx;
    *n = a->read ? 0 : a->n;
    a->read = 1;
    return a->ev;
}

static void array_rewind(void *ctx)
{
    ((hak_tw_array *)ctx)->read = 0;
}

hak_tw_source hak_tw_array_source(hak_tw_array *a, const hak_event *ev, size_t n)
{
    *a = (hak_tw_array){ev, n, 0};
    return (hak_tw_source){array_next, array_rewind, a, NULL};
}

int tc_encode(tc_enc *e, const hak_event *ev, size_t n, uint32_t ts_unit, tc_cols *out,
              size_t *bad)
{
    hak_tw_array a;
    hak_tw_source src = hak_tw_array_source(&a, ev, n);
    unsigned bad_op;
    return tc_encode_src(e, &src, ts_unit, out, bad, &bad_op);
}

/* The running state of one pass: column cursors and the delta bases. */
typedef struct cursor {           /* one named field per column (an array
                                    indexed in a loop would keep GCC from
                                    holding them in registers) */
    uint8_t *op, *seq, *ts, *size, *aux, *in, *ptr, *out, *site, *err, *raw;
    uint64_t prev;                 /* previous coded pointer >> shift */
    uint32_t nalloc;               /* allocations so far in the chunk */
    uint32_t inext;                /* index mode: number after the last reference */
    uint32_t pcur[2];              /* pair mode's cursors (pair_slot) */
    uint32_t base;                 /* refs number of allocation 0 (refs_begin) */
    unsigned shift, mode;          /* mode: the chunk's reference mode */
    uint64_t smask;                /* one-pass source: pointer bits the shift drops
                                      (an event with one is written in RAW form);
                                      0 for a source that can be read again */
    unsigned depth;                /* class stacks' depth (e->depth) */
    unsigned coff;                 /* the chunk's class offset */
    coff_count cc;                 /* evidence for the next chunk's (coff_pick) */
    int est;                       /* price references in both modes? */
    uint32_t tok_miss;             /* token mode: events coded in full */
    mode_cost cost;
    size_t n;                      /* events read from the source so far */
    uint64_t first_seq;
    unsigned bad_op;               /* the invalid op that stopped the pass */
} cursor;

/* A consumed pointer (free, realloc input): a reference to the chunk's
 * allocation that returned it (ref_slot in trace_model.h: by distance or
 * by index, per the chunk's mode) when it is known and the mode can reach
 * it (its block then goes on its class's stack), else a delta; NULL is 0.
 * With the map, references are also priced in both modes (k->est). */
static inline __attribute__((always_inline)) void
put_in_ptr(tc_enc *e, cursor *k, uint64_t p, unsigned how)
{
    if (!p) {
        *k->in++ = 0;
        return;
    }
    unsigned c;
    int64_t num = refs_find(&e->refs, how, k->base, p, &c);
    uint64_t prev = k->prev;
    k->prev = p >> k->shift;
    if (num >= 0) {
        uint32_t d = k->nalloc - (uint32_t)num;
        uint64_t iref = 0, v = (uint64_t)d + 1;
        unsigned mode = how == REF_CACHE ? TC_MODE_DIST : k->mode;
        int ok = d <= TC_RING;
        if (how == REF_MAP) {
            /* Each mode's cursors are kept only when the pass uses or
             * prices that mode (the same for the whole pass, so these
             * branches predict). */
            uint64_t pref = 0;
            if (k->est || mode == TC_MODE_INDEX) {
                iref = tc_zz(num - (int64_t)k->inext);
                k->inext = (uint32_t)num + 1;
            }
            if (k->est || mode == TC_MODE_PAIR) {
                /* pair mode: from the nearer cursor (the first on a tie) */
                int64_t e0 = num - (int64_t)k->pcur[0], e1 = num - (int64_t)k->pcur[1];
                unsigned sel = (e1 < 0 ? -e1 : e1) < (e0 < 0 ? -e0 : e0);
                pref = tc_zz(sel ? e1 : e0) << 1 | sel;
                k->pcur[sel] = (uint32_t)num + 1;
            }
            if (k->est)
                mode_price(&k->cost, iref, d, tc_zz((int64_t)(k->prev - prev)), pref,
                           e->pick.nmode > TC_MODE_PAIR);
            if (mode == TC_MODE_INDEX) {
                ok = 1;
                v = iref + 2;
            } else if (mode == TC_MODE_PAIR) {
                ok = 1;
                v = pref + 2;
            }
        }
        if (ok) {
            estk_push(&e->m.stk, c, p);
            k->in = put_var(k->in, v);
            return;
        }
    }
    *k->in++ = 1;
    k->ptr = put_var(k->ptr, tc_zz((int64_t)(k->prev - prev)));
}

/* Whether p is on top of the stack of a neighbouring class, c - 1 or c + 1
 * (evidence for the other class offset: see coff_pick).  The class tops
 * are read whole, without a branch per test. */
static inline __attribute__((always_inline)) unsigned enc_stk_near(const enc_stacks *s, unsigned c, uint64_t p)
{
    return (estk_top(s, c ? c - 1 : c) == p) | (estk_top(s, c + 1 < TC_NCLASS ? c + 1 : c) == p);
}

/* A returned pointer: its position on its size class's stack of recently
 * freed blocks when found there, else a delta offset by the depth.  It then
 * enters the ring as allocation number nalloc. */
static inline __attribute__((always_inline)) void
put_out_ptr(tc_enc *e, cursor *k, uint64_t p, unsigned c, unsigned how)
{
    enc_model *md = &e->m;
    unsigned i = estk_find(&md->stk, c, p);
    if (__builtin_expect(i == 0, 1)) {     /* on top: usual when coff suits */
        estk_remove(&md->stk, c, 0);
        *k->out++ = 0;
    } else if (k->cc.off++, k->cc.near += enc_stk_near(&md->stk, c, p), i < TC_STACK) {
        estk_remove(&md->stk, c, i);        /* (evidence for coff_pick above) */
        *k->out++ = (uint8_t)i;
    } else {
        k->out = put_var(k->out, tc_zz((int64_t)((p >> k->shift) - k->prev)) + k->depth);
    }
    k->prev = p >> k->shift;
    refs_note(&e->refs, how, k->base, p, k->nalloc, c);
    k->nalloc++;
}

/* The event's site: nothing when it is the op's previous one, else the
 * SITE flag (returned) and value. */
static inline __attribute__((always_inline)) unsigned
put_site(tc_enc *e, cursor *k, unsigned op, uint32_t site)
{
    if (site == e->m.site[op])
        return 0;
    k->site = tc_put(k->site, site);
    e->m.site[op] = site;
    return TC_F_SITE;
}

/* The op byte, site and size (has_size: the op's layout has one) of an
 * event with op byte f (its op and NULL flag) that has no errno and fits
 * its layout: in token mode its token when the chunk's table has it (the
 * site and size are the entry's), else token 0 and the event in full,
 * which then enters the table (trace_enctok.h). */
static inline __attribute__((always_inline)) void
put_head(tc_enc *e, cursor *k, unsigned f, uint32_t site, uint64_t size, int has_size, int tokm)
{
    unsigned op = f & 15;
    if (tokm) {
        unsigned t = tok_find_add(&e->tk, f, site, has_size ? size : 0);
        if (t) {
            *k->op++ = (uint8_t)t;
            e->m.site[op] = site;
            return;
        }
        k->tok_miss++;
        *k->op++ = 0;
    }
    *k->op++ = (uint8_t)(f | put_site(e, k, op, site));
    if (has_size)
        k->size = put_var(k->size, size);
}

/* Any event, with the format's generic rules (flags, RAW, op layouts). */
static inline __attribute__((always_inline)) void
put_event(tc_enc *e, cursor *k, const hak_event *v, unsigned how, int tokm)
{
    unsigned op = v->op, m = op_mask[op & 15], a = op_aux[op & 15];
    int fit = fits(v) && !(op != HAK_OP_THREAD_START && ((v->in_ptr | v->out_ptr) & k->smask));
    if (!v->err && fit) {
        put_head(e, k, op | ((m & M_OUT) && !v->out_ptr ? TC_F_NULL : 0), v->site, v->size,
                 m & M_SIZE, tokm);
    } else {
        /* an errno or RAW: in full, and never a token */
        if (tokm) {
            k->tok_miss++;
            *k->op++ = 0;
        }
        unsigned f = op | put_site(e, k, op, v->site);
        if (v->err) {
            f |= TC_F_ERR;
            k->err = tc_put(k->err, tc_zz(v->err));
        }
        if (!fit) {
            uint8_t *r = k->raw;
            r = tc_put(r, v->size);
            r = tc_put(r, v->nmemb);
            r = tc_put(r, v->align);
            r = tc_put(r, v->in_ptr);
            k->raw = tc_put(r, v->out_ptr);
            *k->op++ = (uint8_t)(f | TC_F_RAW);
            return;
        }
        if (m & M_SIZE)
            k->size = tc_put(k->size, v->size);
        *k->op++ = (uint8_t)(f | ((m & M_OUT) && !v->out_ptr ? TC_F_NULL : 0));
    }
    if (m & M_AUX)
        k->aux = tc_put(k->aux, a == AUX_NMEMB ? v->nmemb : a == AUX_ALIGN ? v->align : v->in_ptr);
    if (m & M_IN)
        put_in_ptr(e, k, v->in_ptr, how);
    if ((m & M_OUT) && v->out_ptr)
        put_out_ptr(e, k, v->out_ptr, tc_class_off(alloc_bytes(m, v->nmemb, v->size), k->coff),
                    how);
}

/* An event's time in ts units.  Division is slow: units that are powers of
 * two (1 ns included) shift, and coarse units (usually the same or the next
 * tick as the previous event) divide only on a jump; *pns is the previous
 * time's tick times the unit, kept so that no multiply is needed either. */
static inline __attribute__((always_inline)) uint64_t
ts_ticks(uint64_t ts_ns, uint64_t prev, uint64_t *pns, uint32_t unit, unsigned ushift,
         int coarse)
{
    if (!coarse)
        return ts_ns >> ushift;
    uint64_t since = ts_ns - *pns;
    if (__builtin_expect(ts_ns >= *pns && since < 2ull * unit, 1)) {
        unsigned next = since >= unit;
        *pns += next ? unit : 0;
        return prev + next;
    }
    uint64_t t = ts_ns / unit;
    *pns = t * unit;
    return t;
}

/* The event loop of encode_pass, compiled once per kind of time unit
 * (coarse), of time-delta writer (ts_short, see encode_pass) and way of
 * finding references (enum ref_how) so the loop does not test them.
 * Events come from src piece by piece (k->n counts them).  Returns the
 * index of the first event with an invalid op (k->bad_op), TF_CHUNK_EVENTS
 * when src has more events than a chunk, or -1. */
static inline __attribute__((always_inline)) long
encode_events(tc_enc *e, cursor *k, const hak_tw_source *src, uint32_t unit,
              unsigned ushift, int coarse, int ts_short, unsigned how, int tokm,
              uint64_t *any_out)
{
    uint64_t nseq = 0, pts = 0, pns = 0, any = 0;   /* nseq: seq expected next */
    const uint64_t smask = k->smask;
    /* small sizes' classes are (size + cadd) >> 4 up to clim (tc_class_off) */
    const uint64_t cadd = 15 + k->coff, clim = 1024 - k->coff;
    size_t n;
    for (const hak_event *ev; (ev = src->next(src->ctx, &n)), n; k->n += n) {
        if (n > TF_CHUNK_EVENTS - k->n)
            return TF_CHUNK_EVENTS;
        if (!k->n)
            nseq = k->first_seq = ev[0].seq;
        for (size_t i = 0; i < n; i++) {
            const hak_event *v = &ev[i];
            /* Events are 72 bytes and may be cold (hak_tw_events' caller
             * may have filled a whole chunk's array): the hardware
             * prefetcher alone leaves the loop waiting on memory, so ask
             * ~32 events (2.3 KiB) ahead (past the end is harmless: a
             * prefetch never faults). */
            __builtin_prefetch((const void *)((uintptr_t)v + PREFETCH_EVENTS * sizeof *v));
            unsigned op = v->op;
            if (__builtin_expect(op - 1u >= HAK_OP_COUNT_ - 1u, 0)) {
                k->bad_op = op;
                return (long)(k->n + i);
            }
            uint64_t dseq = v->seq - nseq;   /* events of other threads in between */
            if (__builtin_expect(dseq < 64, 1))  /* zigzag of a small gap: one byte */
                *k->seq++ = (uint8_t)(dseq << 1);
            else
                k->seq = tc_put(k->seq, tc_zz((int64_t)dseq));
            nseq = v->seq + 1;
            uint64_t t = ts_ticks(v->ts_ns, pts, &pns, unit, ushift, coarse);
            if (ts_short)
                k->ts = tc_put(k->ts, tc_zz((int64_t)(t - pts)));
            else
                k->ts = put_var(k->ts, tc_zz((int64_t)(t - pts)));
            pts = t;
            /* Fast paths for plain free, malloc and realloc events (no
             * errno, only their own fields, a result): exactly what
             * put_event writes for them. */
            if (op == HAK_OP_FREE && !(v->err | v->size | v->nmemb | v->align | v->out_ptr |
                                       (v->in_ptr & smask))) {
                any |= v->in_ptr;
                put_head(e, k, op, v->site, 0, 0, tokm);
                put_in_ptr(e, k, v->in_ptr, how);
                continue;
            }
            if (op == HAK_OP_MALLOC && v->out_ptr &&
                !(v->err | v->nmemb | v->align | v->in_ptr | (v->out_ptr & smask))) {
                any |= v->out_ptr;
                put_head(e, k, op, v->site, v->size, 1, tokm);
                uint64_t size = v->size;
                put_out_ptr(e, k, v->out_ptr,
                            size <= clim ? (unsigned)((size + cadd) >> 4)
                                         : tc_class_off(size, k->coff), how);
                continue;
            }
            if (op == HAK_OP_REALLOC && v->out_ptr &&
                !(v->err | v->nmemb | v->align | ((v->in_ptr | v->out_ptr) & smask))) {
                any |= v->in_ptr | v->out_ptr;
                put_head(e, k, op, v->site, v->size, 1, tokm);
                put_in_ptr(e, k, v->in_ptr, how);
                uint64_t size = v->size;
                put_out_ptr(e, k, v->out_ptr,
                            size <= clim ? (unsigned)((size + cadd) >> 4)
                                         : tc_class_off(size, k->coff), how);
                continue;
            }
            if (op != HAK_OP_THREAD_START)   /* its in_ptr is a thread index */
                any |= v->in_ptr | v->out_ptr;
            put_event(e, k, v, how, tokm);
        }
    }
    *any_out = any;
    return -1;
}

/* The instantiations of encode_events for one way of finding references
 * and token mode or not. */
static inline __attribute__((always_inline)) long
encode_how(tc_enc *e, cursor *k, const hak_tw_source *src, uint32_t ts_unit,
           unsigned how, int tokm, uint64_t *any)
{
    unsigned ushift = (unsigned)__builtin_ctz(ts_unit);
    if (ts_unit & (ts_unit - 1))
        return e->ts_short ? encode_events(e, k, src, ts_unit, 0, 1, 1, how, tokm, any)
                           : encode_events(e, k, src, ts_unit, 0, 1, 0, how, tokm, any);
    return e->ts_short ? encode_events(e, k, src, ts_unit, ushift, 0, 1, how, tokm, any)
                       : encode_events(e, k, src, ts_unit, ushift, 0, 0, how, tokm, any);
}

/* The four ways of a pass, one function each, so that the register
 * allocator sees one of them at a time (inlined into encode_pass, the
 * loops kept fewer cursors in registers: 5% more instructions). */
#define ENC_WAY(name, how, tokm)                                                     \
    static __attribute__((noinline)) long name(tc_enc *e, cursor *k, const hak_tw_source *src, \
                                               uint32_t ts_unit, uint64_t *any)       \
    {                                                                                \
        return encode_how(e, k, src, ts_unit, how, tokm, any);                       \
    }
ENC_WAY(enc_cache, REF_CACHE, 0)
ENC_WAY(enc_cache_tok, REF_CACHE, 1)
ENC_WAY(enc_map, REF_MAP, 0)
ENC_WAY(enc_map_tok, REF_MAP, 1)
#undef ENC_WAY

/* One encoding pass with a fixed shift and reference mode, pricing both
 * modes when est.  Returns the index of the first event with an invalid
 * op (*bad_op; TF_CHUNK_EVENTS: too many events), -1 when all is well but
 * some pointer is not a multiple of 2^shift (see *any), -2 when done, or
 * -3 when out of memory (the pass's pointer table); *cost has the
 * estimate after -1 and -2. */
static long encode_pass(tc_enc *e, const hak_tw_source *src, uint32_t ts_unit,
                        unsigned shift, unsigned mode, int est, int tok, tc_cols *out,
                        uint64_t *any, mode_cost *cost, unsigned *bad_op)
{
    unsigned how = pick_how(mode, est);
    uint32_t base;
    if (refs_begin(&e->refs, how, &base))
        return -3;
    if (tok)
        tok_reset(&e->tk);
    enc_model *md = &e->m;
    estk_reset(&md->stk, e->depth);
    memset(md->site, 0, sizeof md->site);
    uint8_t **col = e->col;
    cursor k = {col[TC_OP], col[TC_SEQ], col[TC_TS], col[TC_SIZE], col[TC_AUX],
                col[TC_INREF], col[TC_PTR], col[TC_OUT], col[TC_SITE], col[TC_ERR],
                col[TC_RAW], .shift = shift, .mode = mode, .coff = coff_first(&e->cpick),
                .smask = src->rewind ? 0 : (1ull << shift) - 1,
                .base = base, .depth = e->depth, .est = est};
    long bad = how == REF_CACHE ? (tok ? enc_cache_tok : enc_cache)(e, &k, src, ts_unit, any)
                                : (tok ? enc_map_tok : enc_map)(e, &k, src, ts_unit, any);
    refs_end(&e->refs, how, k.nalloc);
    if (bad >= 0) {
        *bad_op = k.bad_op;
        return bad;
    }
    *cost = k.cost;
    cost->on = est;
    if (est)
        mode_cost_sum(cost, e->pick.nmode > TC_MODE_PAIR);
    if (src->rewind && (*any & ((1ull << shift) - 1)))
        return -1;                 /* (a one-pass source's misfits went RAW) */
    size_t n = k.n;
    out->n = n;
    out->first_seq = k.first_seq;
    out->shift = shift;
    out->mode = mode;
    out->coff = k.coff;
    out->depth = k.depth;
    out->tok = (unsigned)tok;
    out->dir2 = (unsigned)e->tokv;
    out->mcv = (unsigned)e->mcv;
    out->mc = 0;
    e->tok_miss = k.tok_miss;
    e->cc = k.cc;
    e->cc.top = k.nalloc - k.cc.off;
    uint8_t *ends[TC_NCOL] = {k.op, k.seq, k.ts, k.size, k.aux, k.in, k.ptr, k.out,
                              k.site, k.err, k.raw};
    /* Time deltas are one byte in steady streams (coarse units, regular
     * gaps) and of mixed length in others (fine units, irregular gaps):
     * the first favour tc_put's predicted branch (~8 instructions less per
     * event), the second put_var's branch-free length (tc_put is 20% slower
     * there).  The next chunk is assumed to be like this one; both write
     * the same bytes. */
    size_t ts_len = (size_t)(k.ts - col[TC_TS]);
    e->ts_short = ts_len - n <= n / 32;
    for (int c = 0; c < TC_NCOL; c++) {
        out->p[c] = col[c];
        out->len[c] = (size_t)(ends[c] - col[c]);
    }
    return -2;
}

size_t tc_dir_put(uint8_t *p, const tc_cols *c, const size_t stored[TC_NCOL])
{
    uint8_t *o = p;
    *o++ = (uint8_t)(c->shift | (c->mode == TC_MODE_INDEX ? TC_DIR_MODE : 0)
                     | (c->mode == TC_MODE_PAIR ? TC_DIR_PAIR : 0)
                     | (c->coff ? TC_DIR_COFF : 0));
    if (c->dir2)
        *o++ = (uint8_t)((c->tok ? TC_DIR2_TOKEN : 0) | c->mc);
    for (int k = 0; k < TC_NCOL; k++)
        o = tc_put(o, c->len[k]);
    for (int k = 0; k < TC_NCOL; k++)
        o = tc_put(o, stored[k]);
    return (size_t)(o - p);
}

/* The model-coded columns' coder (trace_colmodel.h) is compiled into this
 * object: the recorder links a fixed list of this folder's objects
 * (REC_TRACE_OBJS in recorder/module.mk), and its writer codes columns. */
#include "trace_colmodel.c"
