/* trace_colmodel.h - model-coded OP, INREF and OUT columns (format version 6;
 * FORMAT.md, "Model-coded columns").
 *
 * Why.  Every column of an event chunk is compressed by zstd on its own,
 * and zstd (matches, then order-0 entropy) cannot see what the other
 * columns say about a value.  In an allocation-heavy program the call site
 * and the last values nearly decide the next free's reference and the next
 * allocation's stack position: on a recorded factor run
 * (recorder/bench/factor.c, re-encoded at level 3 by bench_recode) an
 * adaptive model of each value given the event's token (op, site, size:
 * trace_enctok.h) and the column's two previous values takes INREF from
 * 0.139 to 0.106 and OUT from 0.113 to 0.087 bytes per event, and a model
 * of each OP byte given the eight before it (the program's loop, in
 * tokens) OP from 0.122 to 0.056: the trace from 0.401 to 0.276.
 *
 * How.  The column's bytes (varints, as trace_encode.c writes them) are
 * coded value by value with a binary adaptive range coder (LZMA's): the
 * value's symbol (the value itself below MC_ESC, else MC_ESC and the rest
 * as a bit length and bits) is "the context's last symbol", "the one
 * before", or a 6-bit tree, in the context of the event key and the two
 * previous symbols.  The event key is the event's token in token mode
 * (1..255), else 256 + its op: both come from the OP column, which the
 * reader has before these columns, so the column is turned back into its
 * varint bytes before the event decoder runs, which does not change.  The
 * OP column's bytes are coded the same way (last, one before, else an
 * 8-bit tree), in the context of the eight bytes before each.
 * The writer codes a column so only when that is smaller than its zstd
 * frame and cheap enough to decode (MC_DEC_MAX), and tries only while it
 * keeps winning (tc_enc_mc in trace_encode.c).
 *
 * Cost: each decision is a multiply and a dependent compare, ~4 ns; on
 * factor 2.7 per INREF value, 4.4 per OUT value, ~1.3 per OP byte: ~28 ns
 * per event to encode and about as much to decode (zstd alone: ~7 and
 * ~12 ns).
 *
 * The model is all of the coding: a change of MC_* constants, the context
 * or the binarisation is a format change.
 */
#ifndef HAK_TRACE_COLMODEL_H
#define HAK_TRACE_COLMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "trace_codec.h"

#define MC_PBITS 12u               /* probability precision (of 1 << MC_PBITS) */
#define MC_RATE 4u                 /* adaptation: p moves 1/16 of the way per decision */
#define MC_TREE 6u                 /* symbols: a 6-bit tree */
#define MC_ESC ((1u << MC_TREE) - 1)   /* 63: value - 63 follows (its bit length, then its bits) */
#define MC_MBITS 7u                /* an escape's bits modelled (the rest direct) */
#define MC_CBITS 13u               /* hashed contexts: (key, previous two symbols), OP's
                                      eight bytes before */
#define MC_OPMASK 0xffffffffffffffffull   /* OP: the bytes before a byte that are its context */
#define MC_TBITS 10u               /* ...of the trees */

struct tc_mc {
    uint16_t a[1u << MC_CBITS][2];     /* the symbol is the context's last, the one before */
    uint8_t last[1u << MC_CBITS][2];   /* ...which are these */
    union {
        uint16_t t[1u << MC_TBITS][1u << MC_TREE];   /* INREF, OUT */
        uint16_t tb[256][256];     /* OP: a byte's tree per byte before it */
    };
    uint16_t esc[128];             /* escapes' bit lengths (0..64) */
    uint16_t man[65][1u << MC_MBITS];   /* ...and the bits after the top one, per length */
    size_t ndec;                   /* binary decisions of the last tc_mc_encode */
};
_Static_assert(sizeof(((struct tc_mc *)0)->t) == sizeof(((struct tc_mc *)0)->tb),
               "OP's trees take the other columns' room");

/* The writer gives up on a column that takes more than this many binary
 * decisions per value (plus a few thousand): a decoder spends ~4 ns per
 * decision, where a zstd column costs well under 1 ns per value, so a
 * column whose values the model cannot predict (random_mixed's
 * references: 14 per value for 3% fewer bytes) stays with zstd. */
#define MC_DEC_MAX 6u
/* ...and keeps a column as zstd made it unless the model saves a byte per
 * MC_DEC_PER_BYTE decisions at least (each costs ~4 ns of the recorder's
 * writer and of every reader), or per MC_DEC_PER_BYTE_BUSY below zstd
 * level MC_ALL_LEVEL, where the recorder's writer runs when it is busy
 * (its ladder: recorder/rec_writer.c).  On factor OP saves a byte per ~19
 * decisions, OUT per ~44, INREF per ~49: a busy writer codes OP only
 * (recorded factor under load: writer +10% CPU per event, where all three
 * took +45%), one with time to spare all three. */
#define MC_DEC_PER_BYTE 64u
#define MC_DEC_PER_BYTE_BUSY 28u
#define MC_ALL_LEVEL 6

/* Codes column col (TC_OP, TC_INREF or TC_OUT) of an encoded chunk c into
 * dst[0..cap).  Returns the stream's length, or 0 when it would not fit
 * in cap, or would take more than max_dec decisions per value (0: no
 * limit; see MC_DEC_MAX), or the columns disagree or a value is not
 * written as tc_put writes it (never in the encoder's own); the caller
 * then keeps the column as it was. */
size_t tc_mc_encode(tc_mc *m, unsigned col, const tc_cols *c, uint8_t *dst, size_t cap,
                    unsigned max_dec);

/* Decodes a model-coded column col of a chunk of `count` events whose OP
 * column is op[0..oplen) (tok: token mode; neither is used for OP itself)
 * from src[0..srclen) into exactly rawlen bytes at dst.  NULL, or the
 * reason the chunk is corrupt. */
const char *tc_mc_decode(tc_mc *m, unsigned col, const uint8_t *op, size_t oplen, int tok,
                         uint32_t count, const uint8_t *src, size_t srclen, uint8_t *dst,
                         size_t rawlen);

#endif /* HAK_TRACE_COLMODEL_H */
