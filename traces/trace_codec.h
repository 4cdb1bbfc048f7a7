/* trace_codec.h - varints and the columnar event-chunk encoding (internal).
 *
 * An event chunk's raw payload (before zstd) is: u8 ptr_shift, then
 * TC_NCOL varint column lengths, then the columns back to back.  Each
 * column holds one kind of field for all events of the chunk, which groups
 * similar bytes together so zstd finds them.  Values are delta/zigzag/varint
 * coded against the previous event of the same chunk (chunks never depend
 * on each other).  A free's pointer is usually coded as "the block returned
 * by the d-th most recent allocation of this chunk" (1..TC_RING), which is
 * one or two bytes instead of a pointer delta.  FORMAT.md has the details.
 *
 * Decoding safety: the decoder never reads past len + TC_PAD bytes of the
 * raw buffer (callers allocate that padding, zero-filled), checks each
 * column cursor before every read, and requires every column to be consumed
 * exactly at the end of the chunk.
 */
#ifndef HAK_TRACE_CODEC_H
#define HAK_TRACE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "trace.h"

#define TC_PAD   16u           /* zero bytes readers keep after a raw payload */
#define TC_RING  4096u         /* allocations a free may refer back to */

enum tc_col {                  /* column order inside a chunk: format! */
    TC_OP, TC_SEQ, TC_TS, TC_SIZE, TC_AUX, TC_INREF, TC_PTR, TC_SITE,
    TC_ERR, TC_RAW, TC_NCOL
};

/* Op byte: low 4 bits op, then flags. */
#define TC_F_NULL 0x10u        /* allocating op returned NULL: no PTR entry */
#define TC_F_ERR  0x20u        /* err != 0: zigzag value in ERR */
#define TC_F_SITE 0x40u        /* site differs from the previous event: SITE */
#define TC_F_RAW  0x80u        /* size,nmemb,align,in,out all plain in RAW */

/* ---- varints ---- */
static inline uint8_t *tc_put(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* Returns the byte after the varint, or NULL when it is longer than 10
 * bytes.  Reads at most 10 bytes. */
static inline const uint8_t *tc_get(const uint8_t *p, uint64_t *out)
{
    uint64_t b = *p++;
    if (b < 0x80) {
        *out = b;
        return p;
    }
    uint64_t v = b & 0x7f;
    for (unsigned s = 7; s < 70; s += 7) {
        b = *p++;
        v |= (b & 0x7f) << s;
        if (b < 0x80) {
            *out = v;
            return p;
        }
    }
    return NULL;
}

static inline uint64_t tc_zz(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t tc_unzz(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* ---- event chunk encoder ---- */
typedef struct tc_enc tc_enc;
tc_enc *tc_enc_new(void);
void tc_enc_free(tc_enc *e);
/* Upper bound of the raw payload for n events. */
size_t tc_enc_bound(size_t n);
/* Encodes n (<= TF_CHUNK_EVENTS) events into out (tc_enc_bound(n) bytes);
 * returns the raw payload size.  ts_unit >= 1. */
size_t tc_encode(tc_enc *e, const hak_event *ev, size_t n, uint32_t tid,
                 uint32_t ts_unit, uint8_t *out);

/* ---- event chunk decoder (streaming, resumable) ---- */
typedef struct tc_dec {
    const uint8_t *c[TC_NCOL], *end[TC_NCOL];
    uint64_t seq, ts, ptr, site;   /* previous values */
    uint32_t left, nalloc, tid, ts_unit;
    unsigned shift;
    const char *err;               /* static reason after a failure */
    uint64_t ring[TC_RING];        /* recent allocation results */
} tc_dec;

/* Prepares to decode `count` events from raw[0..len) (followed by TC_PAD
 * readable bytes).  0, or -1 with d->err set. */
int tc_dec_init(tc_dec *d, const uint8_t *raw, size_t len, uint32_t count,
                uint64_t first_seq, uint32_t tid, uint32_t ts_unit);
/* Decodes up to max events; returns how many (0 when the chunk is done),
 * or -1 with d->err set. */
long tc_dec_run(tc_dec *d, hak_event *ev, size_t max);

#endif /* HAK_TRACE_CODEC_H */
