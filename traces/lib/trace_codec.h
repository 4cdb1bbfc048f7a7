/* trace_codec.h - varints and the columnar event-chunk encoding (internal).
 *
 * An event chunk's payload is a column directory (a byte with ptr_shift,
 * the chunk's reference mode and class offset, then the raw and stored length of each
 * of the TC_NCOL columns) followed by the columns, each its own zstd frame.  Each column holds one kind of field
 * for all events of the chunk, so zstd sees similar bytes together and
 * builds entropy tables per column.  Values are delta/zigzag/varint coded
 * against the previous event of the same chunk (chunks never depend on
 * each other).  A free's pointer is usually coded as a reference to the
 * allocation of this chunk that returned it, one or two bytes instead of a
 * pointer delta: in distance mode "the d-th most recent allocation"
 * (1..TC_RING back), in index mode (format version 2) its number in the
 * chunk as a delta from the one after the previous reference, so blocks
 * freed in allocation order cost a run of zeros whatever their age, in
 * pair mode (version 4) the same with two cursors, so that two such runs
 * interleaved each keep their small steps.  The encoder picks the mode per
 * chunk.  An allocation's result
 * is usually "the block most recently freed in this size class" (how LIFO
 * free lists in glibc's tcache and most allocators behave), which is one
 * byte; the chunk's class offset (0 or 8) lines the classes up with the
 * recorded allocator's bins (8: glibc's).  In token mode (version 5) the
 * OP column names, for most events, an entry of the chunk's table of
 * (op byte, site, size) instead of coding the three in their columns
 * (trace_enctok.h).  FORMAT.md has the details.
 *
 * Decoding safety: the decoder never reads more than TC_PAD bytes past the
 * end of a column (callers make sure those bytes are readable): it checks
 * the column cursors after every TC_BATCH events, which is how far one
 * batch can overrun, and requires every column to be consumed exactly at
 * the end of the chunk.
 */
#ifndef HAK_TRACE_CODEC_H
#define HAK_TRACE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "trace.h"

#define TC_BATCH 256u          /* events decoded between bounds checks */
#define TC_PAD   16384u        /* zero bytes readers keep after a raw payload:
                                  > TC_BATCH x 50 (the most one event can read
                                  from one column) */
#define TC_RING  4096u         /* distance mode: allocations a free may refer back to */
#define TC_IRING 65536u        /* index mode: every allocation of a chunk
                                  (= TF_CHUNK_EVENTS, checked in trace_decode.c) */
#define TC_VERSION_MODES 2u    /* first format version with index mode */
enum tc_mode { TC_MODE_DIST = 0, TC_MODE_INDEX = 1,      /* INREF coding: format! */
               TC_MODE_PAIR = 2, TC_NMODE };
#define TC_VERSION_PAIR 4u     /* first format version with pair mode */
#define TC_VERSION_TOKEN 5u    /* first format version with a second directory byte
                                  and token mode */
#define TC_DIR2_TOKEN 0x01u    /* second directory byte: bit 0 = token mode (other
                                  bits 0 before version 6) */
#define TC_VERSION_MODEL 6u    /* first format version with model-coded columns */
#define TC_DIR2_MINREF 0x02u   /* bit 1 = INREF is model-coded (trace_colmodel.h) */
#define TC_DIR2_MOUT 0x04u     /* bit 2 = OUT is model-coded */
#define TC_DIR2_MOP 0x08u      /* bit 3 = OP is model-coded */
/* The second directory byte's bit for column k's model coding, or 0. */
static inline unsigned tc_dir2_mbit(unsigned k)
{
    return k == 0 /* TC_OP */ ? TC_DIR2_MOP : k == 5 /* TC_INREF */ ? TC_DIR2_MINREF
           : k == 7 /* TC_OUT */ ? TC_DIR2_MOUT : 0;
}
#define TC_NTOKEN 255u         /* token mode: entries of a chunk's table (token
                                  bytes 1..255) */
#define TC_DIR_MODE  0x80u     /* directory byte: bit 7 = mode (version >= 2); */
#define TC_DIR_PAIR  0x20u     /* bit 5 = pair mode (version >= 4: the shift is then
                                  bits 0..4, <= 31) */
#define TC_DIR_COFF  0x40u     /* bit 6 = class offset 8 (version >= 2); */
                               /* bits 0..5 = ptr_shift */
#define TC_COFF 8u             /* the class offset a chunk may use (glibc's
                                  chunk header: its bins are (n + 23) >> 4) */
#define TC_NCLASS 128u         /* size classes of the reuse predictor */
#define TC_STACK 16u           /* freed blocks remembered per class (version 3; the
                                  room the model keeps for every version) */
#define TC_STACK_V2 8u         /* ...in versions 1 and 2 */
#define TC_VERSION_STACK16 3u  /* first format version with 16-deep stacks */
/* A chunk's stack depth in a file of format version v. */
static inline unsigned tc_stack_depth(uint32_t v)
{
    return v >= TC_VERSION_STACK16 ? TC_STACK : TC_STACK_V2;
}

enum tc_col {                  /* column order inside a chunk: format! */
    TC_OP, TC_SEQ, TC_TS, TC_SIZE, TC_AUX, TC_INREF, TC_PTR, TC_OUT,
    TC_SITE, TC_ERR, TC_RAW, TC_NCOL
};

/* Op byte: low 4 bits op, then flags. */
#define TC_F_NULL 0x10u        /* allocating op returned NULL: no PTR entry */
#define TC_F_ERR  0x20u        /* err != 0: zigzag value in ERR */
#define TC_F_SITE 0x40u        /* site differs from the previous event: SITE */
#define TC_F_RAW  0x80u        /* size,nmemb,align,in,out all plain in RAW */

/* ---- varints ---- */
static inline uint8_t *tc_put(uint8_t *p, uint64_t v)
{
    if (__builtin_expect(v < 0x80, 1)) {       /* most values: no loop */
        *p = (uint8_t)v;
        return p + 1;
    }
    if (v < 0x4000) {
        p[0] = (uint8_t)(v | 0x80);
        p[1] = (uint8_t)(v >> 7);
        return p + 2;
    }
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
typedef struct tc_mc tc_mc;    /* model-coded columns' tables (trace_colmodel.h) */
tc_enc *tc_enc_new(void);
void tc_enc_free(tc_enc *e);
/* Frees e's column buffers, pointer map and model tables, keeping its
 * per-chunk choices; the next tc_encode makes them again (hak_tw_enc_trim). */
void tc_enc_trim(tc_enc *e);
/* Tests and experiments: encode every chunk in `mode` (enum tc_mode), or
 * choose per chunk again with -1 (the default). */
void tc_enc_force_mode(tc_enc *e, int mode);
/* e's tables for coding column col (TC_INREF or TC_OUT) of the next
 * chunk by its model (trace_colmodel.h), made on first use; NULL when this
 * chunk should not try (the column's model lost lately) or out of memory.
 * After a try, tc_enc_mc_won says whether the model was smaller. */
tc_mc *tc_enc_mc(tc_enc *e, unsigned col);
void tc_enc_mc_won(tc_enc *e, unsigned col, int won);
/* Every column tries its model in the next chunk again (the writer's rule
 * for what a model must save changed with its zstd level). */
void tc_enc_mc_retry(tc_enc *e);
/* Same for the class offset: 0 or TC_COFF for every chunk, -1 (the
 * default) to choose per chunk. */
void tc_enc_force_coff(tc_enc *e, int coff);
/* Same for token mode (version >= 5): 0 or 1 for every chunk, -1 (the
 * default) to choose per chunk. */
void tc_enc_force_tokens(tc_enc *e, int on);
/* The format version whose chunks e writes (its stack depth): the newest
 * by default; 2 writes chunks a version 1 or 2 reader reads (tests that
 * relabel files as older versions). */
void tc_enc_set_version(tc_enc *e, uint32_t version);
/* The same for the chunks a writer encodes from now on (its file header
 * still says HAK_TRACE_VERSION: tests relabel it). */
void tc_tw_set_chunk_version(hak_trace_writer *w, uint32_t version);

typedef struct tc_cols {       /* an encoded chunk: columns before zstd */
    const uint8_t *p[TC_NCOL];
    size_t len[TC_NCOL];
    unsigned shift;
    unsigned mode;                 /* enum tc_mode */
    unsigned coff;                 /* class offset: 0 or TC_COFF */
    unsigned depth;                /* stack depth (tc_stack_depth of its version) */
    unsigned tok;                  /* token mode (version >= 5) */
    unsigned dir2;                 /* the version has the second directory byte */
    unsigned mcv;                  /* the version has model-coded columns */
    unsigned mc;                   /* TC_DIR2_MOP, _MINREF, _MOUT: the writer coded
                                      these columns so (trace_write.c) */
    size_t n;                      /* events */
    uint64_t first_seq;            /* seq of the first event */
} tc_cols;
/* Encodes n (<= TF_CHUNK_EVENTS) events; the columns live in e until the
 * next call.  ts_unit >= 1.  0, or -1 when event *bad has an invalid op,
 * or with *bad = TC_ENC_OOM when out of memory (e's tables grow with what
 * the chunks need). */
#define TC_ENC_OOM ((size_t)-1)
int tc_encode(tc_enc *e, const hak_event *ev, size_t n, uint32_t ts_unit, tc_cols *out,
              size_t *bad);
/* Same for the events of src (trace.h), read piece by piece; on -1
 * *bad_op is the invalid op, or *bad = TF_CHUNK_EVENTS when src has more
 * than a chunk's worth, or TC_ENC_OOM. */
int tc_encode_src(tc_enc *e, const hak_tw_source *src, uint32_t ts_unit, tc_cols *out,
                  size_t *bad, unsigned *bad_op);

/* Column directory at the start of an event chunk's payload. */
typedef struct tc_dir {
    unsigned shift;
    unsigned mode;                 /* enum tc_mode; DIST in version 1 files */
    unsigned coff;                 /* class offset, 0 or TC_COFF; 0 in version 1 */
    unsigned depth;                /* stack depth: tc_stack_depth(version) */
    unsigned tok;                  /* token mode (version >= 5) */
    unsigned mc;                   /* model-coded columns (version >= 6): TC_DIR2_M* */
    uint32_t raw[TC_NCOL], stored[TC_NCOL];
    size_t size;                   /* bytes of the directory itself */
} tc_dir;
#define TC_DIR_MAX (2 + 2 * TC_NCOL * 5)
/* Writes the directory of chunk c (raw sizes c->len) with the stored
 * sizes; returns its length. */
size_t tc_dir_put(uint8_t *p, const tc_cols *c, const size_t stored[TC_NCOL]);
/* Parses and checks a directory of a file of format `version` against the
 * chunk header's sizes.  NULL or a static reason. */
const char *tc_dir_parse(const uint8_t *pay, size_t comp_size, uint32_t raw_size,
                         uint32_t count, uint32_t version, tc_dir *d);

/* Size class of an allocation of `bytes` for the reuse predictor in a
 * chunk with class offset off (0 or TC_COFF): class(min(bytes + off,
 * 2^64 - 1)) in FORMAT.md's terms.  The usual small sizes cost what they
 * cost without an offset (a compare and an add, against loop-invariant
 * registers when off is data); only the rare large ones saturate. */
static inline unsigned tc_class_off(uint64_t bytes, unsigned off)
{
    if (bytes <= 1024 - off)
        return (unsigned)((bytes + 15 + off) >> 4);           /* 0..64 */
    uint64_t b = bytes > UINT64_MAX - off ? UINT64_MAX : bytes + off;
    return 54 + (unsigned)(64 - __builtin_clzll(b - 1));   /* 65..118 */
}
static inline unsigned tc_class(uint64_t bytes)
{
    return tc_class_off(bytes, 0);
}

/* Per-chunk model state of the decoder (the encoder keeps the same
 * information in a form suited to lookups by pointer).  The ring is used
 * modulo TC_RING in distance mode (its first 36 KiB stay hot) and whole,
 * indexed by allocation number, in index mode; pages of it that no chunk
 * reaches are never touched. */
typedef struct tc_model {
    uint64_t ring[TC_IRING];       /* results of the chunk's allocations */
    uint8_t ring_cls[TC_IRING];    /* ...and their size classes */
    uint64_t stk[TC_NCLASS][TC_STACK];   /* recently freed blocks per class: a ring
                                            of TC_STACK, depth entries of it used */
    uint8_t stk_head[TC_NCLASS], stk_n[TC_NCLASS];
    uint32_t inext2;               /* pair mode: the second cursor (the first is the
                                      decoder's inext) */
} tc_model;

/* ---- event chunk decoder (streaming, resumable) ---- */
/* The last 16 bytes of a hak_event (tid, site, err, op and the padding),
 * kept ready per op so the decoder's fast paths store them in one go. */
typedef struct tc_tail {
    uint32_t tid, site;
    int32_t err;
    uint8_t op, pad[3];
} tc_tail;

/* Token mode (FORMAT.md, "Token mode"): the chunk's table of op bytes,
 * sites and sizes, filled by the events coded in full. */
typedef struct tc_tokens {
    uint32_t n;                    /* entries */
    uint8_t f[TC_NTOKEN];          /* op byte (flags but SITE) */
    uint32_t site[TC_NTOKEN];
    uint64_t size[TC_NTOKEN];      /* 0 for ops without a size */
} tc_tokens;

typedef struct tc_dec {
    const uint8_t *c[TC_NCOL], *end[TC_NCOL];
    uint64_t seq, ts, ptr;         /* previous values */
    uint32_t left, nalloc, tid, ts_unit;
    uint32_t inext;                /* index mode: allocation number after the
                                      previous reference (0 at the start) */
    unsigned shift, mode, coff;    /* coff: class offset, 0 or TC_COFF */
    unsigned depth;                /* stack depth of the chunk's version */
    unsigned tok;                  /* token mode */
    const char *err;               /* static reason after a failure */
    tc_tokens tk;
    tc_tail tail[16];              /* per op: tid, current site[op], err 0, op */
    tc_model m;
} tc_dec;

/* Prepares to decode `count` events from the columns col[k] (dir->raw[k]
 * bytes each).  At least TC_PAD readable bytes must follow each column
 * (the next columns, padding, or any other bytes: they are never used as
 * values). */
void tc_dec_init(tc_dec *d, const uint8_t *const col[TC_NCOL], const tc_dir *dir,
                 uint32_t count, uint64_t first_seq, uint32_t tid, uint32_t ts_unit);
/* Decodes up to max events; returns how many (0 when the chunk is done),
 * or -1 with d->err set. */
long tc_dec_run(tc_dec *d, hak_event *ev, size_t max);

#endif /* HAK_TRACE_CODEC_H */
