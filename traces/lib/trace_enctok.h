/* trace_enctok.h - token mode for the event-chunk encoder (trace_encode.c,
 * its only user): the chunk's table of (op byte, site, size) and how the
 * encoder decides which chunks use it (FORMAT.md, "Token mode").
 *
 * Why.  The OP, SITE and SIZE columns are each compressed on their own,
 * but in an allocation-heavy program they are one story told three times:
 * the call site says which op and usually which size.  A recorded factor
 * run (recorder/bench/factor.c: 20 call sites) has a few dozen distinct
 * (op byte, site, size) per chunk; its OP, SITE and SIZE columns take
 * 0.216 bytes per event at zstd 6, one byte per event naming a table
 * entry 0.095.  Programs with many sizes (python3: thousands per chunk,
 * random_mixed) fill the 255 entries and most events miss: there the
 * three columns are smaller, so those chunks are coded as before.
 *
 * The table.  An event coded in full (a miss, token 0) becomes the next
 * entry while there is room, exactly as the decoder adds it; events with
 * an errno or in RAW are always coded in full and never enter it.  The
 * encoder finds entries through a direct-mapped index of TOKH slots: two
 * keys in one slot leave the older unreachable, so it is coded in full
 * again (and entered again): a few more bytes, never a wrong event.
 *
 * Choosing.  A chunk in token mode counts its misses.  Fewer than 1 in
 * TOK_MISS_MAX keeps the next chunk in token mode; more turns it off, and
 * a chunk coded as before every TOK_PROBE chunks (doubling after each
 * probe that loses, up to TOK_PROBE_MAX) is coded in token mode again to
 * see whether the stream changed.  The first chunk of a trace is a
 * probe.
 */
#ifndef HAK_TRACE_ENCTOK_H
#define HAK_TRACE_ENCTOK_H

#include <stdint.h>
#include <string.h>

#include "trace_codec.h"

#define TOKH_BITS 10
#define TOKH (1u << TOKH_BITS)
#define TOK_MISS_MAX 8u            /* token mode while misses < events / this */
#define TOK_PROBE 16u
#define TOK_PROBE_MAX 256u

typedef struct enc_tokens {
    uint8_t slot[TOKH];            /* entry number + 1 by key hash; 0 = none */
    tc_tokens t;                   /* the entries, as the decoder holds them */
} enc_tokens;

typedef struct tok_pick {
    int on;                        /* the next chunk's mode */
    int force;                     /* -1, or the mode of every chunk */
    unsigned since;                /* chunks coded without tokens since the last probe */
    unsigned every;                /* chunks between probes */
} tok_pick;

static inline void tok_reset(enc_tokens *k)
{
    memset(k->slot, 0, sizeof k->slot);
    k->t.n = 0;
}

static inline unsigned tok_hash(unsigned f, uint32_t site, uint64_t size)
{
    uint64_t h = (site * 0x9e3779b97f4a7c15ull) ^ (size * 0xc2b2ae3d27d4eb4full) ^ f;
    return (unsigned)((h * 0x165667b19e3779f9ull) >> (64 - TOKH_BITS));
}

/* The token (1..TC_NTOKEN) of (f, site, size), or 0 after entering it
 * (when there is room) for an event coded in full. */
static inline __attribute__((always_inline)) unsigned tok_find_add(enc_tokens *k, unsigned f,
                                                                   uint32_t site, uint64_t size)
{
    unsigned h = tok_hash(f, site, size), id = k->slot[h];
    if (id && k->t.f[id - 1] == f && k->t.site[id - 1] == site && k->t.size[id - 1] == size)
        return id;
    if (k->t.n < TC_NTOKEN) {
        k->t.f[k->t.n] = (uint8_t)f;
        k->t.site[k->t.n] = site;
        k->t.size[k->t.n] = size;
        k->slot[h] = (uint8_t)++k->t.n;
    }
    return 0;
}

/* The mode of the next chunk. */
static inline int tok_first(const tok_pick *p)
{
    if (p->force >= 0)
        return p->force;
    return p->on || p->since >= p->every;
}

/* After a chunk of n events coded in token mode (tok) with miss misses. */
static inline void tok_learn(tok_pick *p, int tok, uint32_t miss, size_t n)
{
    if (!tok) {
        p->since++;
        return;
    }
    int keep = (uint64_t)miss * TOK_MISS_MAX < n;
    if (!p->on && !keep && p->every < TOK_PROBE_MAX)
        p->every *= 2;                     /* a probe that lost */
    else if (keep)
        p->every = TOK_PROBE;
    p->on = keep;
    p->since = 0;
}

#endif /* HAK_TRACE_ENCTOK_H */
