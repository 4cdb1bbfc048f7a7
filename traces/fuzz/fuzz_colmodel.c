/* fuzz_colmodel.c - libFuzzer entry for the model-coded columns of format
 * 6 (trace_colmodel.h), the OP column's coder above all: a trace's
 * mutations reach it only behind a chunk directory, zstd frames and
 * checksums (fuzz_reader.c fixes the checksums, but a mutated model
 * stream rarely gets past the directory's sizes), so libFuzzer had never
 * run it.  Here the coder gets the bytes directly.
 *
 * Input: byte 0 = what to do (bits 0..1: column, 0 and 3 OP, 1 INREF,
 * 2 OUT; bit 2: token mode; bit 3: direction), then
 * - decode (bit 3 clear): u16 raw_len, u16 count, u16 oplen (INREF/OUT
 *   only), oplen bytes of OP column, the rest the model-coded stream.
 *   tc_mc_decode must return a reason or exactly raw_len bytes; on
 *   success the decoded column must code back (tc_mc_encode) to a stream
 *   that decodes to the same bytes;
 * - round trip (bit 3 set): the rest is a column (OP: its bytes; INREF,
 *   OUT: u16 oplen, the OP column, then the column's varints).  When the
 *   coder accepts it (it refuses columns that disagree with the OP column
 *   or do not fit), the stream must decode to the same bytes, and a cut
 *   stream must be refused.
 * Oracles besides the sanitizers: the round trips (abort on a mismatch).
 *
 * Built by `make fuzz-colmodel`; traces/tests/test_fuzz_colmodel.c replays
 * the committed inputs (traces/tests/colmodel-regressions) under make check. */
#include "trace_codec.h"
#include "trace_colmodel.h"

#include <stdlib.h>
#include <string.h>

#define CM_MAX_RAW 65536u          /* a fuzz column's bytes at most */

static unsigned rd16(const uint8_t *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static tc_mc cm_m;
static uint8_t cm_dst[CM_MAX_RAW + 16], cm_z[4 * CM_MAX_RAW + 64], cm_back[CM_MAX_RAW + 16];
/* The coder reads a column's varints as the encoder wrote them, up to 10
 * bytes each (its own columns always end in a whole one): a fuzz column is
 * copied in front of zero bytes, as the encoder's have slack after them. */
static uint8_t cm_op[CM_MAX_RAW + 16], cm_col[CM_MAX_RAW + 16];

/* Codes column col of c (p/len set for it and OP), decodes it back and
 * compares; a cut stream must be refused.  Returns without a word when
 * the coder declines the column. */
static void cm_roundtrip(unsigned col, tc_cols *c, uint32_t count)
{
    size_t zl = tc_mc_encode(&cm_m, col, c, cm_z, sizeof cm_z, 0);
    if (!zl)
        return;
    const uint8_t *op = col == TC_OP ? NULL : c->p[TC_OP];
    size_t oplen = col == TC_OP ? 0 : c->len[TC_OP];
    size_t raw = c->len[col];
    if (tc_mc_decode(&cm_m, col, op, oplen, (int)c->tok, count, cm_z, zl, cm_back, raw))
        abort();                   /* the coder's own stream must decode */
    if (memcmp(cm_back, c->p[col], raw))
        abort();                   /* ...to the same bytes */
    if (zl > 5 && !tc_mc_decode(&cm_m, col, op, oplen, (int)c->tok, count, cm_z, zl - 1,
                                cm_back, raw))
        abort();                   /* a stream one byte short is refused */
}

/* Events of an OP column (count): in token mode a 0 is followed by the
 * op byte, so this is only an upper bound the coder checks itself. */
static uint32_t cm_count(const uint8_t *op, size_t oplen, int tok)
{
    if (!tok)
        return (uint32_t)oplen;
    uint32_t n = 0;
    for (size_t i = 0; i < oplen; i++, n++)
        if (op[i] == 0)
            i++;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned what = data[0], sel = what & 3;
    unsigned col = sel == 1 ? TC_INREF : sel == 2 ? TC_OUT : TC_OP;
    int tok = (what >> 2) & 1;
    const uint8_t *p = data + 1, *end = data + size;
    tc_cols c;
    memset(&c, 0, sizeof c);
    c.tok = (unsigned)tok;
    if (!(what & 8)) {             /* decode an arbitrary stream */
        if (end - p < 4)
            return 0;
        unsigned raw = rd16(p), count = rd16(p + 2);
        p += 4;
        const uint8_t *op = NULL;
        size_t oplen = 0;
        if (col != TC_OP) {
            if (end - p < 2)
                return 0;
            oplen = rd16(p);
            p += 2;
            if ((size_t)(end - p) < oplen)
                return 0;
            op = p;
            p += oplen;
        }
        const char *why = tc_mc_decode(&cm_m, col, op, oplen, tok, count, p, (size_t)(end - p),
                                       cm_dst, raw);
        if (why)
            return 0;
        c.p[TC_OP] = col == TC_OP ? cm_dst : op;
        c.len[TC_OP] = col == TC_OP ? raw : oplen;
        c.p[col] = cm_dst;
        c.len[col] = raw;
        c.n = count;
        cm_roundtrip(col, &c, count);
        return 0;
    }
    if (col == TC_OP) {            /* round trip of an arbitrary OP column */
        size_t n = (size_t)(end - p);
        if (!n || n > CM_MAX_RAW)
            return 0;
        c.p[TC_OP] = p;
        c.len[TC_OP] = n;
        c.n = n;
        cm_roundtrip(TC_OP, &c, (uint32_t)n);
        return 0;
    }
    if (end - p < 2)
        return 0;
    size_t oplen = rd16(p);
    p += 2;
    if ((size_t)(end - p) < oplen || oplen > CM_MAX_RAW || (size_t)(end - p) - oplen > CM_MAX_RAW)
        return 0;
    size_t vlen = (size_t)(end - p) - oplen;
    memset(cm_op, 0, sizeof cm_op);
    memset(cm_col, 0, sizeof cm_col);
    memcpy(cm_op, p, oplen);
    memcpy(cm_col, p + oplen, vlen);
    c.p[TC_OP] = cm_op;
    c.len[TC_OP] = oplen;
    c.p[col] = cm_col;
    c.len[col] = vlen;
    uint32_t n = cm_count(p, oplen, tok);
    c.n = n;
    cm_roundtrip(col, &c, n);
    return 0;
}
