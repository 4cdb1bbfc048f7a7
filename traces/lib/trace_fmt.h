/* trace_fmt.h - on-disk constants of the trace format (internal to traces/).
 *
 * traces/FORMAT.md is the normative description; this header mirrors it.
 * All multi-byte fixed-width integers are little-endian.  Every length read
 * from a file is checked against the limits below and against the bytes
 * actually present before anything is allocated or read.
 */
#ifndef HAK_TRACE_FMT_H
#define HAK_TRACE_FMT_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

/* File header: magic[8], u32 version, u32 meta_len, meta[meta_len],
 * u32 checksum of everything before it. */
#define TF_FILE_FIXED     16u            /* magic + version + meta_len */
#define TF_META_MAX       (1u << 20)     /* sane maximum for meta_len */

/* Chunk header: 32 bytes, then comp_size payload bytes. */
#define TF_CHUNK_HDR      32u
enum tf_kind {
    TF_KIND_EVENTS  = 1,
    TF_KIND_SITES   = 2,
    TF_KIND_MODULES = 3,
    TF_KIND_RSS     = 4,
    TF_KIND_LOSS    = 5,                 /* loss records (FORMAT.md) */
    TF_KIND_HEAP    = 6,                 /* heap-only RSS samples (FORMAT.md) */
    TF_KIND_END     = 15,
};
#define TF_FLAG_ZSTD      0x01u          /* side records: payload is one zstd frame
                                            (event chunks: always 0, see FORMAT.md) */
#define TF_FLAG_MASK      0x01u          /* flags this version understands */

/* Limits, enforced by writer and reader alike. */
#define TF_CHUNK_EVENTS   65536u         /* events per chunk */
#define TF_RAW_MAX        (16u << 20)    /* decompressed payload bytes */
#define TF_SIDE_RAW       (64u << 10)    /* side-record chunk flush threshold */
#define TF_MAX_THREADS    65536u         /* dense tids are < this */
#define TF_SITE_DEPTH_MAX 1024u
#define TF_PATH_MAX       4096u
#define TF_LOSS_DETAIL_MAX 1024u         /* = HAK_LOSS_DETAIL_MAX */
/* Largest loss-record payload: four varints and the detail. */
#define TF_LOSS_RAW_MAX   (4 * 10 + TF_LOSS_DETAIL_MAX)

/* What a reader holds of side records (FORMAT.md, "Reader limits"): each
 * bound keeps a small file that decompresses to a lot from costing a lot
 * of memory or time; each is far above what a real recording writes (the
 * recorder's own tables stop at 2^20 sites and 2^24 frames). */
#define TF_SITES_HELD_MAX  (1u << 20)    /* site records, repeats included */
#define TF_FRAMES_HELD_MAX (1u << 24)    /* instruction pointers of all sites */
#define TF_MODULES_HELD_MAX (1u << 16)   /* module records */
#define TF_LOSSES_HELD_MAX 1024u         /* loss records */
#define TF_RSS_HELD_MAX    (1u << 21)    /* RSS samples; more are thinned (FORMAT.md) */
#define TF_SIDE_MEM_MAX    (160ull << 20) /* bytes held for all of the above */
#define TF_SIDE_RAW_TOTAL  (512ull << 20) /* side payload bytes decompressed in all */
/* Bytes a record counts against TF_SIDE_MEM_MAX (what the reader's tables
 * take for it; paths and details count their length on top). */
#define TF_COST_SITE    16u
#define TF_COST_FRAME   8u
#define TF_COST_MODULE  64u
#define TF_COST_LOSS    48u
#define TF_COST_RSS     16u

/* Meta keys (varint key, varint len, value bytes). */
enum tf_meta_key {
    TF_M_PID = 1, TF_M_PPID, TF_M_START_WALL, TF_M_PAGE_SIZE, TF_M_ARGV,
    TF_M_HOSTNAME, TF_M_KERNEL, TF_M_THP, TF_M_CPU, TF_M_RECORDER,
    TF_M_OPTIONS, TF_M_TS_UNIT,
};

#define TF_CSUM_SEED 0x68616b6d656d3031ull  /* "hakmem01" */

typedef struct tf_chunk_hdr {
    uint8_t  kind, flags;
    uint16_t reserved;       /* 0 */
    uint32_t tid;
    uint64_t first_seq;      /* events: seq of the first event; END: total events */
    uint32_t count;          /* records in the chunk; END: chunks before it */
    uint32_t raw_size;       /* payload bytes after decompression */
    uint32_t comp_size;      /* payload bytes in the file */
    uint32_t checksum;       /* of header bytes 0..27 and the stored payload */
} tf_chunk_hdr;

static inline void tf_put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void tf_put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint32_t tf_get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t tf_get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static inline void tf_hdr_pack(const tf_chunk_hdr *h, uint8_t b[TF_CHUNK_HDR])
{
    b[0] = h->kind; b[1] = h->flags;
    b[2] = (uint8_t)h->reserved; b[3] = (uint8_t)(h->reserved >> 8);
    tf_put32(b + 4, h->tid);
    tf_put64(b + 8, h->first_seq);
    tf_put32(b + 16, h->count);
    tf_put32(b + 20, h->raw_size);
    tf_put32(b + 24, h->comp_size);
    tf_put32(b + 28, h->checksum);
}

static inline void tf_hdr_unpack(const uint8_t b[TF_CHUNK_HDR], tf_chunk_hdr *h)
{
    h->kind = b[0]; h->flags = b[1];
    h->reserved = (uint16_t)(b[2] | b[3] << 8);
    h->tid = tf_get32(b + 4);
    h->first_seq = tf_get64(b + 8);
    h->count = tf_get32(b + 16);
    h->raw_size = tf_get32(b + 20);
    h->comp_size = tf_get32(b + 24);
    h->checksum = tf_get32(b + 28);
}

/* The format's 64-bit hash (FORMAT.md, "Checksums"): four independent
 * multiply-rotate lanes over 32-byte blocks, so it runs at memory speed. */
uint64_t tf_hash64(const void *data, size_t len, uint64_t seed);
/* Checksum of a chunk: header bytes 0..27 (everything but the checksum)
 * followed by the stored payload. */
uint32_t tf_chunk_csum(const uint8_t hdr[TF_CHUNK_HDR], const uint8_t *payload,
                       uint32_t len);
/* Checksum of the file header: all bytes before it. */
static inline uint32_t tf_header_csum(const uint8_t *p, size_t len)
{
    return (uint32_t)tf_hash64(p, len, TF_CSUM_SEED);
}
/* Recomputes, in place, the checksum of the file header and of every
 * chunk of the image c[0..len), as far as the headers parse: for fuzzers
 * and robustness tests, so that corrupted bytes get past the checksums to
 * the decoders behind them. */
void tf_fix_checksums(uint8_t *c, size_t len);

#endif /* HAK_TRACE_FMT_H */
