/* trace_encref.h - how the event-chunk encoder (trace_encode.c, its only
 * user) finds the allocation a consumed pointer refers to, and picks each
 * chunk's reference mode (FORMAT.md, "in_ptr"; ref_slot in trace_model.h).
 *
 * Finding references.  A free is coded as a reference to the allocation of
 * the chunk that returned its pointer; the encoder looks the pointer up:
 * - the map: for every pointer an allocation of the chunk returned, the
 *   number and size class of the latest such allocation.  Open addressing
 *   with linear probing, the load kept <= 1/2, so every probe ends at the
 *   pointer's slot or an empty one.  It never forgets within a chunk, which
 *   index mode needs (blocks freed long after their allocation are its
 *   whole point).  It is sized to the pointers a chunk returns, not to its
 *   events: a chunk may return 65536 different pointers (1.5 MiB of map: 12-byte entries),
 *   but a program that reuses its blocks returns a few hundred (recorded
 *   factor: ~400 per chunk, random_mixed ~900), and the whole map was
 *   resident in the program being recorded.  So the map starts at
 *   MAP_MIN_BITS and doubles (rehashing the pass's entries) when a new
 *   pointer would take the load past 1/2; a map pass starts with room for
 *   the previous one's pointers at load <= 1/4, and a map eight times
 *   bigger than that for MAP_SHRINK_PASSES map passes in a row is given
 *   back (chunks of several threads alternate: a recorded python3's
 *   between ~50,000 pointers and ~1,000, and shrinking after each small
 *   one made every big one grow again, 7 reallocations per chunk).  A new
 *   encoder's map starts at the size of the process's latest map pass
 *   (refs_hint, refs_init): the recorder makes a new encoder after an idle
 *   one is freed, and growing from the smallest map through 7 sizes
 *   touches 3 MiB of fresh pages for a map of 1.5.  What it finds does not depend on its
 *   size (it is exact), so the bytes written do not either;
 * - the cache: direct-mapped, 8192 slots, a later allocation whose pointer
 *   hashes alike evicts an entry.  Its stores need no probe and it stays in
 *   the L2 cache, so it is faster than a big map; distance mode reaches
 *   back only TC_RING allocations anyway, and the cache loses few of those.
 *   A chunk uses it when it is coded in distance mode without pricing the
 *   modes (REF_CACHE below).  It is part of the encoder, whose memory is
 *   calloc'd and never written before a pass uses the cache, so its pages
 *   are resident only in encoders that do (factor's never do).  (Reading
 *   both tables through pointers kept in the pass's cursor instead cost
 *   python3's chunks 10%: the event loop ran out of registers.)
 * A miss is never wrong (the pointer is then coded explicitly), only
 * bigger: when the map cannot grow (out of memory) new pointers are left
 * out of it.  Entries carry a number counted across passes (`base` is the
 * pass's allocation 0): entries of earlier passes are below base, so a
 * pass starts without clearing either table.
 *
 * Picking the mode (mode_pick).  Each chunk is encoded in the mode its
 * predecessor favoured, and every reference is priced in both modes
 * (mode_cost).  Encoding again in the other mode takes a clear gain (1/16
 * of the estimate and a few bytes), so chunks near break-even do not cost
 * a second pass.  After two priced chunks in a row with the same clear
 * winner, the next QUIET_CHUNKS chunks are coded in that mode without
 * pricing, and in distance mode with the cache: that is most of what
 * choosing costs (the map may be 2 MiB), and a stream that changes character
 * is noticed within that many chunks.
 */
#ifndef HAK_TRACE_ENCREF_H
#define HAK_TRACE_ENCREF_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trace_codec.h"
#include "trace_fmt.h"

/* How a pass finds references: a constant in each instantiation of the
 * encoder's event loop. */
enum ref_how {
    REF_CACHE,                     /* the cache: distance mode, no pricing */
    REF_MAP,                       /* the map: index mode, or pricing */
};

#define MAP_MAX_BITS 17         /* a chunk's allocations at load 1/2 */
#define MAP_MIN_BITS 10         /* 16 KiB */
#define MAP_SHRINK_PASSES 16    /* oversized map passes in a row before a shrink */
_Static_assert((1u << MAP_MAX_BITS) >= 2 * TF_CHUNK_EVENTS, "pointer map load <= 1/2");
#define CACHE_BITS 13
#define QUIET_CHUNKS 7             /* chunks left unpriced after a clear verdict */

/* A map or cache entry: the latest allocation that returned ptr, its
 * number (base + its number in the chunk; < base: empty) in the low
 * REF_NUM_BITS bits of nc and its size class (< 128) in the top 7: 12
 * bytes, not 16 (python3's chunks return up to 60K pointers: a 1.5 MiB
 * map rather than 2 in the program being recorded).  Numbers wrap every
 * 32M allocations (refs_begin clears the tables then). */
#define REF_NUM_BITS 25u
#define REF_NUM_MASK ((1u << REF_NUM_BITS) - 1)
typedef struct __attribute__((packed, aligned(4))) ref_entry {
    uint64_t ptr;
    uint32_t nc;
} ref_entry;
_Static_assert(sizeof(ref_entry) == 12, "a map entry is 12 bytes");
_Static_assert(TC_NCLASS <= 1u << (32 - REF_NUM_BITS), "a class fits the entry's top bits");

static inline uint32_t ent_num(const ref_entry *x)
{
    return x->nc & REF_NUM_MASK;
}

static inline void ent_set(ref_entry *x, uint64_t p, uint32_t num, unsigned cls)
{
    x->ptr = p;
    x->nc = num | (uint32_t)cls << REF_NUM_BITS;
}

typedef struct enc_refs {
    ref_entry *map;                /* [1 << bits] */
    ref_entry cache[1u << CACHE_BITS];  /* zero until a cache pass touches it */
    unsigned bits;                 /* log2 of the map's slots */
    uint32_t used;                 /* map slots holding the pass's pointers */
    uint32_t last;                 /* ...after the last map pass */
    unsigned big;                  /* map passes in a row that found the map
                                      oversized (MAP_SHRINK_PASSES) */
    uint32_t base;                 /* number of the pass's allocation 0, >= 1 */
} enc_refs;

/* The size (bits) of the map after the process's latest map pass: where a
 * new encoder's map starts (see above). */
static _Atomic unsigned refs_hint;

static inline void refs_fini(enc_refs *r)
{
    free(r->map);
}

static inline unsigned refs_hash(uint64_t p, unsigned bits)
{
    return (unsigned)(((p >> 4) * 0x9e3779b97f4a7c15ull) >> (64 - bits));
}

/* The slot of map m (2^bits slots) for p: its own, or the empty one it
 * goes to. */
static inline ref_entry *map_home(ref_entry *m, unsigned bits, uint32_t base, uint64_t p)
{
    uint32_t mask = (1u << bits) - 1;
    for (unsigned s = refs_hash(p, bits);; s = (s + 1) & mask)
        if (ent_num(&m[s]) < base || m[s].ptr == p)
            return &m[s];
}

/* Replaces the map by one of 2^bits slots holding the pass's entries
 * (num >= base) of the old one.  0, or -1 (out of memory: the old map
 * stays). */
static __attribute__((noinline, unused)) int refs_resize(enc_refs *r, unsigned bits,
                                                         uint32_t base)
{
    ref_entry *m = calloc((size_t)1 << bits, sizeof *m);
    if (!m)
        return -1;
    if (r->map)
        for (size_t i = 0, n = (size_t)1 << r->bits; i < n; i++)
            if (ent_num(&r->map[i]) >= base)
                *map_home(m, bits, base, r->map[i].ptr) = r->map[i];
    free(r->map);
    r->map = m;
    r->bits = bits;
    return 0;
}

/* r is zeroed memory (calloc: the cache's pages stay untouched, so not
 * resident, until a pass uses it).  The map starts at the size of the
 * process's latest map pass (refs_hint), made here rather than by the
 * first pass so that an allocator that reuses a freed encoder's memory
 * finds the same order of requests as with a fixed map (glibc: python3's
 * encoder alone took 10% longer with the map made by the first pass, all
 * of it page faults).  0, or -1 (out of memory). */
static inline int refs_init(enc_refs *r)
{
    r->base = 1;                   /* zeroed entries are empty */
    unsigned bits = atomic_load_explicit(&refs_hint, memory_order_relaxed);
    return refs_resize(r, bits >= MAP_MIN_BITS && bits <= MAP_MAX_BITS ? bits : MAP_MIN_BITS,
                       r->base);
}

/* Before a pass that finds references `how` (enum ref_how): make sure its
 * numbers fit (wrapping clears both tables, once every 32M allocations)
 * and a map pass's map exists, with room for the last map pass's pointers
 * at load <= 1/4 (see above).  0 with the pass's base in *base, or -1
 * (out of memory). */
static inline int refs_begin(enc_refs *r, unsigned how, uint32_t *base)
{
    if (r->base > REF_NUM_MASK - TF_CHUNK_EVENTS) {
        if (r->map)
            memset(r->map, 0, ((size_t)1 << r->bits) * sizeof *r->map);
        memset(r->cache, 0, sizeof r->cache);
        r->base = 1;
    }
    *base = r->base;
    if (how == REF_CACHE)
        return 0;
    unsigned want = MAP_MIN_BITS;
    while (want < MAP_MAX_BITS && ((uint64_t)r->last << 2) > (1ull << want))
        want++;
    r->used = 0;
    r->big = r->map && r->bits > want + 2 ? r->big + 1 : 0;
    if (!r->map || r->bits < want || r->big >= MAP_SHRINK_PASSES) {
        r->big = 0;
        if (refs_resize(r, want, r->base) && !r->map)
            return -1;
    }
    return 0;
}

/* After a pass (complete or not) in `how` that made nalloc allocations. */
static inline void refs_end(enc_refs *r, unsigned how, uint32_t nalloc)
{
    r->base += nalloc;
    if (how == REF_MAP) {
        r->last = r->used;
        atomic_store_explicit(&refs_hint, r->bits, memory_order_relaxed);
    }
}

/* The rest of a map search after home slot s held another pointer: rare at
 * load <= 1/2, so out of the encoder's loop. */
static __attribute__((noinline, unused)) ref_entry *map_probe_on(ref_entry *map, unsigned bits,
                                                                 uint32_t base, uint64_t p,
                                                                 unsigned s)
{
    uint32_t mask = (1u << bits) - 1;
    for (;;) {
        s = (s + 1) & mask;
        if (ent_num(&map[s]) < base || map[s].ptr == p)
            return &map[s];
    }
}

/* The entry for p: in the map, its slot or the empty one it goes to; in
 * the cache, its slot, which may hold another pointer. */
static inline __attribute__((always_inline)) ref_entry *
refs_slot(enc_refs *r, unsigned how, uint32_t base, uint64_t p)
{
    if (how == REF_CACHE)
        return &r->cache[refs_hash(p, CACHE_BITS)];
    unsigned s = refs_hash(p, r->bits);
    ref_entry *x = &r->map[s];
    if (__builtin_expect(ent_num(x) < base || x->ptr == p, 1))
        return x;
    return map_probe_on(r->map, r->bits, base, p, s);
}

/* The number in the chunk of the latest allocation that returned p, or -1
 * when it is not known; *cls its size class. */
static inline __attribute__((always_inline)) int64_t
refs_find(enc_refs *r, unsigned how, uint32_t base, uint64_t p, unsigned *cls)
{
    const ref_entry *x = refs_slot(r, how, base, p);
    uint32_t num = ent_num(x);
    if (num < base || x->ptr != p)
        return -1;
    *cls = x->nc >> REF_NUM_BITS;
    return num - base;
}

/* refs_note of a new pointer when the map is full (load 1/2, r->used
 * already counts p): doubles the map and notes p there; when the map
 * cannot grow, p is left out (its frees are coded explicitly).  Does all
 * of it out of line, so the event loop keeps nothing across the call. */
static __attribute__((noinline, unused)) void refs_grow_note(enc_refs *r, uint32_t base,
                                                             uint64_t p, uint32_t num,
                                                             unsigned c)
{
    if (r->bits >= MAP_MAX_BITS || refs_resize(r, r->bits + 1, base)) {
        r->used--;
        return;
    }
    ent_set(map_home(r->map, r->bits, base, p), p, base + num, c);
}

/* Allocation number num of the chunk returned p, of size class c. */
static inline __attribute__((always_inline)) void
refs_note(enc_refs *r, unsigned how, uint32_t base, uint64_t p, uint32_t num, unsigned c)
{
    ref_entry *x = refs_slot(r, how, base, p);
    if (how == REF_MAP && ent_num(x) < base &&
        __builtin_expect(++r->used > (1u << r->bits) / 2, 0)) {
        refs_grow_note(r, base, p, num, c);
        return;
    }
    ent_set(x, p, base + num, c);
}

/* ---- picking the mode ---- */

/* Estimated size of a chunk's references in each mode.  Distance and
 * index mode: in units of half an Elias-gamma code (a value v >= 1 counts
 * its bit length; gamma takes twice that, minus one): zstd's entropy
 * coder makes frequent small values nearly free and spreads long random
 * ones over more bits, which the gamma length ranks the same way.  A
 * reference distance mode cannot make counts as its explicit pointer
 * delta.  Pair mode writes values of the same kind as index mode, often
 * no shorter but repeating in patterns (factor.c: 0.15 against 0.21 bytes
 * per event after zstd), which bit lengths do not see: for the two, the
 * INREF bytes go through a small model of what zstd makes of them (a
 * byte that an order-2 context predicts, as zstd's matches would, costs
 * 1 bit, the others their order-0 entropy), and pair mode is priced as
 * index mode's estimate times the ratio of the two.  (Pricing all three
 * with that model chose distance mode for python3 chunks that index mode
 * codes 2% smaller.) */
#define COST_SYMS 256u
#define COST_CTX 4096u
typedef struct cost_model {
    uint32_t hist[COST_SYMS];      /* bytes the context missed */
    uint32_t hits;                 /* bytes the context predicted */
    uint8_t ctx[COST_CTX];         /* byte that followed a context */
    uint8_t prev[2];               /* the last two bytes */
} cost_model;
typedef struct mode_cost {
    uint64_t bits[TC_NMODE];       /* [enum tc_mode]: the estimates (after mode_cost_sum) */
    cost_model zm[2];              /* index mode's and pair mode's bytes */
    int on;                        /* 0: the pass did not price */
} mode_cost;

static inline unsigned bitlen(uint64_t v)   /* v >= 1 */
{
    return 64 - (unsigned)__builtin_clzll(v);
}

static inline __attribute__((always_inline)) void cost_byte(cost_model *c, unsigned b)
{
    unsigned x = ((unsigned)c->prev[0] * 61u + c->prev[1]) & (COST_CTX - 1);
    c->prev[1] = c->prev[0];
    c->prev[0] = (uint8_t)b;
    if (c->ctx[x] == b) {
        c->hits++;
        return;
    }
    c->ctx[x] = (uint8_t)b;
    c->hist[b]++;
}

/* INREF value v, as its varint's bytes. */
static inline __attribute__((always_inline)) void cost_put(cost_model *c, uint64_t v)
{
    while (v >= 0x80) {
        cost_byte(c, (unsigned)(v & 0x7f) | 0x80);
        v >>= 7;
    }
    cost_byte(c, (unsigned)v);
}

/* Prices a reference to allocation num: iref is its index-mode value minus
 * 2, d its distance, delta its explicit PTR value, pref its pair-mode
 * value minus 2 (pricing pair mode only when pair). */
static inline __attribute__((always_inline)) void
mode_price(mode_cost *c, uint64_t iref, uint32_t d, uint64_t delta, uint64_t pref, int pair)
{
    c->bits[TC_MODE_INDEX] += bitlen(iref + 1);
    c->bits[TC_MODE_DIST] += d <= TC_RING ? bitlen(d) : 1 + bitlen(delta + 1);
    if (pair) {
        cost_put(&c->zm[0], iref + 2);
        cost_put(&c->zm[1], pref + 2);
    }
}

/* log2(x) in 1/16 bits, x >= 1: the integer part from the bit length, the
 * fraction from the next four bits (accurate to ~0.05 bit: enough to rank
 * modes). */
static inline uint64_t log2_16(uint64_t x)
{
    static const uint8_t frac[16] = {0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 12, 13, 14, 15};
    unsigned b = bitlen(x) - 1;
    unsigned f = b >= 4 ? (unsigned)(x >> (b - 4)) & 15 : (unsigned)(x << (4 - b)) & 15;
    return (uint64_t)b * 16 + frac[f];
}

/* A byte model's estimate in 1/16 bits: hits + the misses' entropy. */
static inline uint64_t cost_model_bits(const cost_model *c)
{
    uint64_t total = 0, acc = 0;
    for (unsigned v = 0; v < COST_SYMS; v++)
        total += c->hist[v];
    if (total) {
        uint64_t lt = log2_16(total);
        for (unsigned v = 0; v < COST_SYMS; v++)
            if (c->hist[v])
                acc += c->hist[v] * (lt - log2_16(c->hist[v]));
    }
    return acc + 16ull * c->hits;
}

/* Pair mode's estimate (see mode_cost), when it was priced (pair). */
static inline void mode_cost_sum(mode_cost *c, int pair)
{
    if (!pair) {
        c->bits[TC_MODE_PAIR] = UINT64_MAX / 4;
        return;
    }
    uint64_t zi = cost_model_bits(&c->zm[0]), zp = cost_model_bits(&c->zm[1]);
    c->bits[TC_MODE_PAIR] = zi ? c->bits[TC_MODE_INDEX] * zp / zi : c->bits[TC_MODE_INDEX];
}

typedef struct mode_pick {
    unsigned mode;                 /* guess for the next chunk */
    unsigned nmode;                /* modes the file's version has (2 before version 4) */
    unsigned quiet;                /* chunks to encode in `mode` without pricing */
    unsigned clear;                /* 1 + the last priced chunk's clear winner, or 0 */
    int force;                     /* -1, or the mode of every chunk (which are
                                      still priced, to find the quiet ones) */
} mode_pick;

/* The next pass's mode, and whether it prices (*est). */
static inline unsigned pick_first(const mode_pick *k, int *est)
{
    *est = !k->quiet;
    return k->force >= 0 ? (unsigned)k->force : k->mode;
}

/* The cheapest mode by estimate c. */
static inline unsigned pick_min(const mode_pick *k, const mode_cost *c)
{
    unsigned best = 0;
    for (unsigned m = 1; m < k->nmode; m++)
        if (c->bits[m] < c->bits[best])
            best = m;
    return best;
}

/* The mode a chunk encoded in `mode` with estimate c should be in. */
static inline unsigned pick_better(const mode_pick *k, const mode_cost *c, unsigned mode)
{
    if (k->force >= 0 || !c->on)
        return mode;
    uint64_t cur = c->bits[mode];
    unsigned alt = pick_min(k, c);
    return c->bits[alt] + cur / 16 + 256 < cur ? alt : mode;
}

/* After a chunk: learn from its estimate c. */
static inline void pick_learn(mode_pick *k, const mode_cost *c)
{
    if (!c->on) {
        if (k->quiet)
            k->quiet--;
        return;
    }
    unsigned win = pick_min(k, c);
    uint64_t lo = c->bits[win], hi = UINT64_MAX;
    for (unsigned m = 0; m < k->nmode; m++)
        if (m != win && c->bits[m] < hi)
            hi = c->bits[m];
    unsigned clear = hi > lo + lo / 16 + 1024 ? win + 1 : 0;
    k->mode = win;
    if (clear && clear == k->clear)
        k->quiet = QUIET_CHUNKS;
    k->clear = clear;
}

/* How a pass in `mode` that prices or not (est) finds references. */
static inline unsigned pick_how(unsigned mode, int est)
{
    return mode != TC_MODE_DIST || est ? REF_MAP : REF_CACHE;
}

/* ---- picking the class offset ----
 *
 * A chunk's class offset (0 or TC_COFF, FORMAT.md "class") should match
 * the size classes of the allocator that was recorded: blocks come back
 * LIFO within its bins, and an allocation whose block went into another
 * class's stack is coded as a pointer delta (or deep in the stack).  The
 * two offsets' classes are each other's halves: a bin of the other offset
 * straddles two neighbouring classes of this one.  So when this offset is
 * wrong, blocks freed in the other offset's bin keep turning up on top of
 * the neighbouring class's stack.  The encoder counts, per chunk, the
 * allocations found on top of their own class's stack (top) and those not
 * found there but on top of class c - 1 or c + 1 (near), and codes the
 * next chunk with the other offset when near clearly outweighs top.  The
 * neighbour tests run only when the top test fails: rarely on streams that
 * suit the offset, so choosing costs them nothing measurable.  A wrong
 * guess costs bytes, never correctness; a stream that changes character
 * is followed one chunk later.
 *
 * The neighbour test can miss: in a recorded factor run (recorder/bench/
 * factor.c: 16- and 24-byte blocks, glibc's 32-byte bin, class 1 and 2
 * with offset 0) a third of the allocations left their class's top, but
 * only a quarter of those were on a neighbour's top, under the threshold,
 * so every chunk kept offset 0 and its OUT column was 0.33 B/event
 * instead of 0.19 with offset 8.  So, while the test holds still, many
 * allocations miss their top (> 1/8) and some of those are on a
 * neighbour's (> 1/16 of them: a stream that suits its offset has almost
 * none, 1% in a recorded random_mixed), every COFF_PROBE-th chunk is coded
 * with the other offset as a probe, and kept when fewer of its
 * allocations miss than of the chunk before it (by 1/16 at least, so
 * noise does not flip it back and forth).  A probe that loses doubles the
 * wait for the next one (up to COFF_PROBE_MAX chunks), so a stream that
 * suits its offset pays for one chunk in 256 coded the other way. */
#define COFF_PROBE 16u
#define COFF_PROBE_MAX 256u
typedef struct coff_count {
    uint32_t off;                  /* allocations not on top of their class's stack */
    uint32_t near;                 /* ...of them on top of a neighbour's */
    uint32_t top;                  /* allocations on top (after the chunk) */
} coff_count;

typedef struct coff_pick {
    unsigned coff;                 /* guess for the next chunk */
    int force;                     /* -1, or the offset of every chunk */
    unsigned since;                /* chunks coded with coff since the last switch or probe */
    unsigned every;                /* chunks between probes (0: COFF_PROBE) */
    uint32_t off, n, near;         /* the last such chunk's misses, allocations
                                      and misses found on a neighbour's top */
} coff_pick;

/* A probe is due: enough chunks with this offset, and the last one's
 * allocations missed their top often enough, with enough neighbours'
 * tops among the misses, to be worth it. */
static inline int coff_probing(const coff_pick *k)
{
    return k->since >= (k->every ? k->every : COFF_PROBE) && (uint64_t)k->off * 8 > k->n &&
           k->near * 16 > k->off;
}

static inline unsigned coff_first(const coff_pick *k)
{
    if (k->force >= 0)
        return (unsigned)k->force;
    return coff_probing(k) ? k->coff ^ TC_COFF : k->coff;
}

/* After a chunk coded with offset coff, with evidence c. */
static inline void coff_learn(coff_pick *k, const coff_count *c, unsigned coff)
{
    uint32_t n = c->top + c->off;
    if (coff != k->coff) {                 /* a probe: keep it if it missed less */
        k->since = 0;
        if ((uint64_t)c->off * k->n * 16 < (uint64_t)k->off * n * 15) {
            k->coff = coff;
            k->off = c->off;
            k->n = n;
            k->near = c->near;
            k->every = COFF_PROBE;
        } else if (k->every < COFF_PROBE_MAX) {
            k->every = 2 * (k->every ? k->every : COFF_PROBE);
        }
        return;
    }
    k->off = c->off;
    k->n = n;
    k->near = c->near;
    k->since++;
    if (c->near > c->top / 4 + 64) {
        k->coff = coff ^ TC_COFF;
        k->since = 0;
    }
}

#endif /* HAK_TRACE_ENCREF_H */
