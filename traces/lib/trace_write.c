/* trace_write.c - the trace writer.
 *
 * One mutex serialises encoding, compression and the write(2) of each
 * chunk, so chunks from concurrent callers never interleave and each chunk
 * reaches the file with a single write.  Side records (sites, modules, RSS
 * samples) are buffered and written as their own chunks when the buffer
 * reaches TF_SIDE_RAW bytes, on hak_tw_flush and on close.  After the first
 * write error every call fails with the same reason; what was written before
 * stays readable.  When the file is a regular one, the failed chunk's
 * partial bytes are cut back off it, so the file ends at a chunk boundary
 * and hak_tw_loss can still append a loss record saying what happened
 * (a full disk usually has room again for the few bytes freed).
 *
 * The writer also keeps the reader's limits on side records (FORMAT.md,
 * "Reader limits"): a record past them is refused (the writer stays
 * usable), so every file it writes is read whole.
 *
 * A hak_tw_enc is one chunk encoder (pointer model, zstd context, output
 * buffer).  The writer has one of its own, used under the mutex; callers
 * that want several threads encoding chunks of one file at once give each
 * thread its own hak_tw_enc, encode outside the mutex and append the
 * finished chunks with hak_tw_enc_put in the order they choose.
 */
#include "trace.h"
#include "trace_codec.h"
#include "trace_colmodel.h"
#include "trace_fmt.h"
#include "trace_meta.h"
#include "hak_check.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY   /* ZSTD_getCParams: a level's parameters */
#include <zstd.h>

typedef struct side {            /* a buffered side-record chunk */
    uint8_t *p;
    size_t len, cap;
    uint32_t count;
    uint64_t prev;               /* delta state (ips, timestamps) */
} side;

struct hak_tw_enc {
    ZSTD_CCtx *cctx;
    int level;
    uint32_t ts_unit;
    tc_enc *enc;                 /* made for the first events (enc_get) */
    uint32_t version;            /* 0, or the chunks' format version (tests) */
    uint8_t *out;                /* chunk header + stored payload */
    size_t out_cap;
    const uint8_t *chunk;        /* encoded chunk (inside out) not yet put */
    size_t chunk_len;
    uint32_t chunk_events;
    char err[256];
};

struct hak_trace_writer {
    int fd;
    pthread_mutex_t mu;
    uint64_t bytes, nevents, nchunks;
    int failed;
    int clean;                   /* failed, but the file ends at a chunk boundary */
    dev_t dev;                   /* the file fd referred to at open (cut_back) */
    ino_t ino;
    int loss_after_fail;         /* a loss record was written after the failure */
    int failure;                 /* hak_loss_reason of the failure, 0 = none */
    /* hak_tw_guard: the path to reopen when the descriptor no longer refers
     * to the file (the recorded program closed or replaced it behind the
     * recorder's back), and the lowest descriptor number to reopen at. */
    char *guard_path;
    int guard_floor;
    uint32_t reopens;
    char err[256];
    hak_tw_enc own;              /* under mu: events (its zstd context), side
                                    records and END (its output buffer) */
    ZSTD_CCtx *side_cctx;        /* side records' zstd context (side_zstd) */
    int side_level;              /* the level side_cctx is set to; 0: none yet */
    side sites, modules, rss, heap;
    /* Side records written, against the reader's limits (trace_fmt.h). */
    uint64_t nsites, nframes, nmods, nlosses, nrss, nheap, side_mem;
    uint32_t chunk_version;      /* 0, or tc_tw_set_chunk_version's (tests) */
};

/* A refused call (bad argument, a limit): the writer stays usable; the
 * reason replaces hak_tw_error() unless the writer has failed for good. */
static void refuse(hak_trace_writer *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void refuse(hak_trace_writer *w, const char *fmt, ...)
{
    if (w->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
}

static int fail_as(hak_trace_writer *w, int reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_as(hak_trace_writer *w, int reason, const char *fmt, ...)
{
    if (!w->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->err, sizeof w->err, fmt, ap);
        va_end(ap);
        w->failed = 1;
        w->failure = reason;
    }
    return -1;
}
#define fail(w, ...) fail_as((w), HAK_LOSS_WRITE, __VA_ARGS__)
#define fail_oom(w) fail_as((w), HAK_LOSS_OOM, "out of memory")

/* Does w->fd still refer to the file the writer opened? */
static int fd_is_ours(const hak_trace_writer *w)
{
    struct stat sb;
    return fstat(w->fd, &sb) == 0 && sb.st_dev == w->dev && sb.st_ino == w->ino;
}

/* Guarded writers (hak_tw_guard), before every write: when the descriptor
 * no longer refers to the trace, reopen the trace by path at the offset the
 * writer has reached, never writing through a descriptor number that may
 * now be the program's.  0, or -1 (failed for good: descriptor taken). */
static int guard_check(hak_trace_writer *w)
{
    if (!w->guard_path || fd_is_ours(w))
        return 0;
    int old = w->fd;
    int fd = open(w->guard_path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat sb;
    if (fd >= 0 && (fstat(fd, &sb) != 0 || sb.st_dev != w->dev || sb.st_ino != w->ino)) {
        close(fd);
        fd = -1;
        errno = ESTALE;        /* renamed or replaced: not the trace any more */
    }
    if (fd >= 0 && fd < w->guard_floor) {
        int hi = fcntl(fd, F_DUPFD_CLOEXEC, w->guard_floor);
        if (hi >= 0) {
            close(fd);
            fd = hi;
        }
    }
    if (fd < 0 || lseek(fd, (off_t)w->bytes, SEEK_SET) != (off_t)w->bytes) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        w->fd = -1;            /* never touch the old number again */
        return fail_as(w, HAK_LOSS_FD_TAKEN,
                       "descriptor %d no longer refers to the trace (the program closed "
                       "or replaced it) and %s cannot be reopened: %s",
                       old, w->guard_path, strerror(e));
    }
    w->fd = fd;
    w->reopens++;
    return 0;
}

/* After a failed write of `partial` bytes of a chunk: cuts them back off
 * the file so it ends at a chunk boundary again.  Only for regular files
 * (a pipe cannot be cut); 1 when the file is clean. */
static int cut_back(hak_trace_writer *w, uint64_t partial)
{
    struct stat sb;
    /* Never truncate a file that is not the trace's own: a program that
     * closed the descriptor and opened one of its files at that number. */
    if (fstat(w->fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_dev != w->dev || sb.st_ino != w->ino)
        return 0;
    off_t pos = lseek(w->fd, 0, SEEK_CUR);
    if (pos < 0 || (uint64_t)pos < partial)
        return 0;
    off_t start = pos - (off_t)partial;
    if (partial && (ftruncate(w->fd, start) || lseek(w->fd, start, SEEK_SET) != start))
        return 0;
    w->bytes -= partial;
    return 1;
}

/* Writes one whole chunk (or the file header).  On an error the writer
 * fails for good, and the partial chunk is cut back when it can be. */
static int write_all(hak_trace_writer *w, const uint8_t *p, size_t n)
{
    uint64_t partial = 0;
    if (guard_check(w))
        return -1;
    while (n) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0 || (k == 0 && n)) {
            if (k < 0 && errno == EINTR)
                continue;
            int e = k < 0 ? errno : ENOSPC;
            w->clean = cut_back(w, partial);
            return fail(w, "write at offset %llu: %s",
                        (unsigned long long)w->bytes, strerror(e));
        }
        p += k;
        n -= (size_t)k;
        partial += (uint64_t)k;
        w->bytes += (uint64_t)k;
    }
    return 0;
}

static int grow(uint8_t **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    uint8_t *q = realloc(*p, need);
    if (!q)
        return -1;
    *p = q;
    *cap = need;
    return 0;
}

#define ENC_LOG_MAX 17   /* zstd window log at most */
#define COL_LOG_MAX 16   /* event columns: hash and chain logs at most (zstd_params) */
#define COL_LOG15_LEVEL 15   /* ...one less from this level up: level 15's binary-tree
                                chain table costs twice a hash chain's, and the
                                recorder's writer sits there when it has time (a
                                python3 run), where it is its largest table
                                (bench_recode --mem, python3 at 15: 256 KiB less
                                resident, +0.5% bytes) */
#define SIDE_LOG_MAX 14  /* side records: hash and chain logs at most (see side_zstd) */
/* Levels 1 and 2 are compressed as level 3 with hash and chain tables of
 * at most 2^14 entries: on recorded traces' columns that is smaller and no
 * slower than zstd's own levels 1 and 2, whose "fast" strategy misses the
 * short repeats of the TS, OP and INREF columns (recorded factor's TS
 * column: 0.035 B/event in 1.31 ns at zstd's level 1, 0.014 in 0.55 ns
 * so).  Re-encoding recorded traces at level 1 (bench_recode --level 1,
 * medians of 3 at load 8-9): factor 0.464 -> 0.420 B/event, zstd 6.4 ->
 * 6.3 ns/event; python3 0.322 -> 0.279, 8.0 -> 4.9; random_mixed 1.641 ->
 * 1.631, 5.6 -> 5.7; the working encoder 44-60 KiB bigger.  (The
 * recorder's ladder starts at level 3 since 2de7a61; level 1 is what
 * HAKREC_ZSTD_LEVEL=1 and HAK_TRACE_ZSTD_LEVEL=1 ask for.) */
#define FAST_AS_LEVEL 3
#define FAST_LOG_MAX 14
static void zstd_params(ZSTD_CCtx *z, int level, int log_max);

/* The zstd context for side records, at the writer's level, made on first
 * use.  Not the event encoder's: the recorder encodes events with its own
 * encoders (hak_tw_enc_new), so the writer's context compressed only side
 * records, and its match tables, sized for event columns (level 3: 768
 * KiB) stayed resident for them (a recorded python3's 643 call sites:
 * 470 KiB).  Side chunks are at most TF_SIDE_RAW (64 KiB) plus one record:
 * tables of 2^SIDE_LOG_MAX entries (64 KiB each) suffice for them.  NULL
 * when out of memory.  Caller holds mu. */
static ZSTD_CCtx *side_zstd(hak_trace_writer *w)
{
    if (!w->side_cctx && !(w->side_cctx = ZSTD_createCCtx()))
        return NULL;
    if (w->side_level != w->own.level) {
        zstd_params(w->side_cctx, w->own.level, SIDE_LOG_MAX);
        w->side_level = w->own.level;
    }
    return w->side_cctx;
}

/* Compresses raw[0..len) and appends it as one side-record or END chunk.
 * Caller holds mu. */
static int put_chunk(hak_trace_writer *w, unsigned kind, uint32_t tid,
                     uint64_t first_seq, uint32_t count,
                     const uint8_t *raw, size_t len)
{
    if (w->failed)
        return -1;
    hak_tw_enc *e = &w->own;
    ZSTD_CCtx *z = len ? side_zstd(w) : NULL;
    if ((len && !z) || grow(&e->out, &e->out_cap, TF_CHUNK_HDR + ZSTD_compressBound(len)))
        return fail_oom(w);
    uint8_t *pay = e->out + TF_CHUNK_HDR;
    size_t clen = len ? ZSTD_compress2(z, pay, e->out_cap - TF_CHUNK_HDR, raw, len) : 0;
    tf_chunk_hdr h = {.kind = (uint8_t)kind, .tid = tid, .first_seq = first_seq,
                      .count = count, .raw_size = (uint32_t)len};
    if (len && !ZSTD_isError(clen) && clen < len) {
        h.flags = TF_FLAG_ZSTD;
    } else {                       /* incompressible or empty: store as is */
        if (len)
            memcpy(pay, raw, len);
        clen = len;
    }
    h.comp_size = (uint32_t)clen;
    tf_hdr_pack(&h, e->out);
    h.checksum = tf_chunk_csum(e->out, pay, (uint32_t)clen);
    tf_hdr_pack(&h, e->out);
    if (write_all(w, e->out, TF_CHUNK_HDR + clen))
        return -1;
    w->nchunks++;
    return 0;
}

/* e's event encoder, made on first use: the writer's own encoder writes
 * side records and END, and in the recorder never an event (its jobs have
 * encoders of their own), so it should not hold an event encoder's tables.
 * NULL when out of memory. */
static tc_enc *enc_get(hak_tw_enc *e)
{
    if (!e->enc && (e->enc = tc_enc_new()) && e->version)
        tc_enc_set_version(e->enc, e->version);
    return e->enc;
}

/* Compresses column src[0..len) to dst (room for ZSTD_compressBound(len))
 * as one zstd frame when that is smaller, else copies it; returns the
 * stored length. */
static size_t put_column(hak_tw_enc *e, uint8_t *dst, const uint8_t *src, size_t len)
{
    size_t z = len, cap = ZSTD_compressBound(len);
    if (len >= 64)                 /* tiny columns: a frame header would outweigh any gain */
        z = ZSTD_compress2(e->cctx, dst, cap, src, len);
    if (ZSTD_isError(z) || z >= len) {
        memcpy(dst, src, len);
        z = len;
    }
    return z;
}

/* Column col (TC_OP, TC_INREF or TC_OUT) of c, already stored at dst in
 * `stored` bytes: model-coded instead (trace_colmodel.h) when that is
 * smaller, with the flag in c->mc.  The try is written after the stored
 * bytes (room: enc_events' need) and stops as soon as it is not smaller;
 * the encoder says when to try (tc_enc_mc).  Returns the stored length. */
static size_t put_model(hak_tw_enc *e, uint8_t *dst, tc_cols *c, unsigned col, size_t stored)
{
    tc_mc *m;
    if (stored < 16 || !(m = tc_enc_mc(e->enc, col)))
        return stored;
    size_t len = tc_mc_encode(m, col, c, dst + stored, stored - 1, MC_DEC_MAX);
    size_t per_byte = e->level >= MC_ALL_LEVEL ? MC_DEC_PER_BYTE : MC_DEC_PER_BYTE_BUSY;
    if (len && (stored - len) * per_byte < m->ndec)
        len = 0;                   /* smaller, but not worth its decoding time */
    tc_enc_mc_won(e->enc, col, len != 0);
    if (!len)
        return stored;
    memmove(dst, dst + stored, len);
    c->mc |= tc_dir2_mbit(col);
    return len;
}

/* Encodes the events of src (one thread's, at most a chunk) as one chunk
 * held in e (e->chunk, none when src is empty): column directory, then each
 * column as its own zstd frame (or stored when that is not smaller), so
 * each column gets entropy tables of its own.  first: index of src's first
 * event in the caller's batch, for messages.  Returns 0; -2 when the
 * events are refused (bad op, too many: nothing else is wrong); -1 when
 * out of memory.  The reason is in e->err. */
static int cctx_ready(hak_tw_enc *e);

static int enc_events(hak_tw_enc *e, uint32_t tid, const hak_tw_source *src, size_t first)
{
    e->chunk = NULL;
    e->chunk_len = 0;
    e->chunk_events = 0;
    tc_cols cols;
    size_t bad;
    unsigned bad_op;
    if (!enc_get(e)) {
        snprintf(e->err, sizeof e->err, "out of memory");
        return -1;
    }
    if (tc_encode_src(e->enc, src, e->ts_unit, &cols, &bad, &bad_op)) {
        if (bad == TC_ENC_OOM) {
            snprintf(e->err, sizeof e->err, "out of memory");
            return -1;
        }
        if (bad == TF_CHUNK_EVENTS)
            snprintf(e->err, sizeof e->err, "more than %u events for one chunk",
                     TF_CHUNK_EVENTS);
        else
            snprintf(e->err, sizeof e->err, "event %zu: invalid op %u", first + bad, bad_op);
        return -2;
    }
    if (src->done)
        src->done(src->ctx);       /* the events are not read again */
    if (!cols.n)
        return 0;
    if (cctx_ready(e)) {
        snprintf(e->err, sizeof e->err, "out of memory");
        return -1;
    }
    size_t need = TF_CHUNK_HDR + TC_DIR_MAX, raw_total = 0, stored[TC_NCOL];
    for (int k = 0; k < TC_NCOL; k++)
        need += ZSTD_compressBound(cols.len[k]);
    need += cols.len[TC_OP] + cols.len[TC_INREF] + cols.len[TC_OUT];   /* model-coded tries
                                                                         (put_model) */
    if (grow(&e->out, &e->out_cap, need)) {
        snprintf(e->err, sizeof e->err, "out of memory");
        return -1;
    }
    /* The columns go behind room for the header and the largest possible
     * directory; the directory and header are then put right in front of
     * them, so the chunk is contiguous without moving the columns. */
    uint8_t *body = e->out + TF_CHUNK_HDR + TC_DIR_MAX, *o = body;
    for (int k = 0; k < TC_NCOL; k++) {
        raw_total += cols.len[k];
        stored[k] = put_column(e, o, cols.p[k], cols.len[k]);
        if (cols.mcv && tc_dir2_mbit((unsigned)k))
            stored[k] = put_model(e, o, &cols, (unsigned)k, stored[k]);
        o += stored[k];
    }
    uint8_t dir[TC_DIR_MAX];
    size_t dlen = tc_dir_put(dir, &cols, stored);
    uint8_t *pay = body - dlen, *hdr = pay - TF_CHUNK_HDR;
    memcpy(pay, dir, dlen);
    size_t clen = (size_t)(o - pay);
    tf_chunk_hdr h = {.kind = TF_KIND_EVENTS, .tid = tid, .first_seq = cols.first_seq,
                      .count = (uint32_t)cols.n, .raw_size = (uint32_t)raw_total,
                      .comp_size = (uint32_t)clen};
    tf_hdr_pack(&h, hdr);
    h.checksum = tf_chunk_csum(hdr, pay, (uint32_t)clen);
    tf_hdr_pack(&h, hdr);
    e->chunk = hdr;
    e->chunk_len = TF_CHUNK_HDR + clen;
    e->chunk_events = (uint32_t)cols.n;
    return 0;
}

/* Appends e's encoded chunk, if any.  Caller holds mu. */
/* Appends an encoded event chunk of nevents events.  Caller holds mu. */
static int append_chunk(hak_trace_writer *w, const void *chunk, size_t len, uint32_t nevents)
{
    if (w->failed)
        return -1;
    if (write_all(w, chunk, len))
        return -1;
    w->nchunks++;
    w->nevents += nevents;
    return 0;
}

static int put_encoded(hak_trace_writer *w, hak_tw_enc *e)
{
    if (w->failed)
        return -1;
    if (!e->chunk)
        return 0;
    const uint8_t *c = e->chunk;
    e->chunk = NULL;
    return append_chunk(w, c, e->chunk_len, e->chunk_events);
}

/* Encodes and appends src's events with the writer's own encoder.  Caller
 * holds mu.  -2: refused (reason in w->err, the writer stays usable). */
static int put_events(hak_trace_writer *w, uint32_t tid, const hak_tw_source *src,
                      size_t first)
{
    int rc = enc_events(&w->own, tid, src, first);
    if (rc == -2) {
        snprintf(w->err, sizeof w->err, "%s", w->own.err);
        return -2;
    }
    if (rc)
        return fail(w, "%s", w->own.err);
    return put_encoded(w, &w->own);
}

/* ---- encoders ---- */

static int enc_init(hak_tw_enc *e, uint32_t ts_unit, int level)
{
    memset(e, 0, sizeof *e);
    e->ts_unit = ts_unit;
    if (!(e->cctx = ZSTD_createCCtx()))
        return -1;
    return hak_tw_enc_set_level(e, level);
}

static void enc_fini(hak_tw_enc *e)
{
    ZSTD_freeCCtx(e->cctx);
    tc_enc_free(e->enc);
    free(e->out);
    memset(e, 0, sizeof *e);
}

/* Sets z to `level` with its window log at most ENC_LOG_MAX and its hash
 * and chain logs at most log_max. */
static void zstd_params(ZSTD_CCtx *z, int level, int log_max)
{
    if (level >= 1 && level < FAST_AS_LEVEL) {    /* see FAST_AS_LEVEL */
        level = FAST_AS_LEVEL;
        log_max = log_max < FAST_LOG_MAX ? log_max : FAST_LOG_MAX;
    }
    ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, level);
    /* Columns are compressed one by one and most are well under 128 KiB,
     * the largest a few hundred KiB: a longer window, or match tables
     * sized for one, find nothing more (a recorded python3's columns: the
     * same bytes at levels 9 and 15), but they take memory in the program
     * being recorded (level 15's context: 4.25 MiB, capped 2.25 MiB).
     * The level's own values are kept where they are smaller (an explicit
     * value replaces the level's, it does not cap it).  Hash and chain
     * tables of 2^16 entries (COL_LOG_MAX) instead of 2^17: the columns
     * fill a window of 2^16 or less; re-encoding recorded traces, factor
     * 0.3981 -> 0.3982 B/event at level 3, 0.2766 -> 0.2767 at 15, python3
     * 0.2263 -> 0.2267 at 15, for 250-510 KiB less of the encoder resident
     * (2^15: 510-770 KiB less, python3 +0.5% at level 15). */
    ZSTD_compressionParameters cp = ZSTD_getCParams(level, 0, 0);
    ZSTD_CCtx_setParameter(z, ZSTD_c_windowLog, cp.windowLog < ENC_LOG_MAX ? (int)cp.windowLog : ENC_LOG_MAX);
    ZSTD_CCtx_setParameter(z, ZSTD_c_hashLog, cp.hashLog < (unsigned)log_max ? (int)cp.hashLog : log_max);
    ZSTD_CCtx_setParameter(z, ZSTD_c_chainLog, cp.chainLog < (unsigned)log_max ? (int)cp.chainLog : log_max);
    ZSTD_CCtx_setParameter(z, ZSTD_c_contentSizeFlag, 1);
    ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 0);
}

int hak_tw_enc_set_level(hak_tw_enc *e, int level)
{
    if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
        return -1;
    if (e->enc && (level >= MC_ALL_LEVEL) != (e->level >= MC_ALL_LEVEL))
        tc_enc_mc_retry(e->enc);   /* the model columns' verdicts were for the other rule */
    e->level = level;
    if (e->cctx)                   /* else cctx_ready sets it when it makes one */
        zstd_params(e->cctx, level, level >= COL_LOG15_LEVEL ? COL_LOG_MAX - 1 : COL_LOG_MAX);
    return 0;
}

/* e's zstd context, made again after a trim.  0, or -1 (out of memory). */
static int cctx_ready(hak_tw_enc *e)
{
    if (e->cctx)
        return 0;
    if (!(e->cctx = ZSTD_createCCtx()))
        return -1;
    zstd_params(e->cctx, e->level, e->level >= COL_LOG15_LEVEL ? COL_LOG_MAX - 1 : COL_LOG_MAX);
    return 0;
}

void hak_tw_enc_trim(hak_tw_enc *e)
{
    ZSTD_freeCCtx(e->cctx);        /* its tables: the most of e (0.6-0.8 MiB) */
    e->cctx = NULL;
    free(e->out);
    e->out = NULL;
    e->out_cap = 0;
    e->chunk = NULL;
    if (e->enc)
        tc_enc_trim(e->enc);
}

hak_tw_enc *hak_tw_enc_new(hak_trace_writer *w)
{
    hak_tw_enc *e = malloc(sizeof *e);
    if (!e)
        return NULL;
    pthread_mutex_lock(&w->mu);
    uint32_t unit = w->own.ts_unit, version = w->chunk_version;
    int level = w->own.level;
    pthread_mutex_unlock(&w->mu);
    if (enc_init(e, unit, level)) {
        enc_fini(e);
        free(e);
        return NULL;
    }
    e->version = version;
    return e;
}

void tc_tw_set_chunk_version(hak_trace_writer *w, uint32_t version)
{
    pthread_mutex_lock(&w->mu);
    w->chunk_version = version;
    w->own.version = version;
    if (w->own.enc)
        tc_enc_set_version(w->own.enc, version);
    pthread_mutex_unlock(&w->mu);
}

void hak_tw_enc_free(hak_tw_enc *e)
{
    if (!e)
        return;
    enc_fini(e);
    free(e);
}

int hak_tw_enc_events(hak_tw_enc *e, uint32_t tid, const hak_tw_source *src)
{
    if (tid >= TF_MAX_THREADS) {
        snprintf(e->err, sizeof e->err, "thread index %u >= %u", tid, TF_MAX_THREADS);
        return -1;
    }
    return enc_events(e, tid, src, 0) ? -1 : 0;
}

const char *hak_tw_enc_error(const hak_tw_enc *e) { return e->err; }

const void *hak_tw_enc_chunk(const hak_tw_enc *e, size_t *len, uint32_t *nevents)
{
    *len = e->chunk ? e->chunk_len : 0;
    *nevents = e->chunk ? e->chunk_events : 0;
    return e->chunk;
}

int hak_tw_put_chunk(hak_trace_writer *w, const void *chunk, size_t len, uint32_t nevents)
{
    pthread_mutex_lock(&w->mu);
    int rc = append_chunk(w, chunk, len, nevents);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int hak_tw_enc_put(hak_trace_writer *w, hak_tw_enc *e)
{
    pthread_mutex_lock(&w->mu);
    int rc = put_encoded(w, e);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

static int open_level(char *err, size_t errlen)
{
    const char *s = getenv("HAK_TRACE_ZSTD_LEVEL");
    if (!s || !*s)
        return HAK_TW_DEFAULT_LEVEL;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < ZSTD_minCLevel() || v > ZSTD_maxCLevel()) {
        snprintf(err, errlen, "HAK_TRACE_ZSTD_LEVEL=%s: not an integer in %d..%d",
                 s, ZSTD_minCLevel(), ZSTD_maxCLevel());
        return INT32_MIN;
    }
    return (int)v;
}

hak_trace_writer *hak_tw_open_fd(int fd, const hak_trace_meta *meta,
                                 char *err, size_t errlen)
{
    int level = open_level(err, errlen);
    if (level == INT32_MIN) {
        close(fd);
        return NULL;
    }
    hak_trace_writer *w = calloc(1, sizeof *w);
    size_t mlen = 0;
    uint8_t *m = tf_meta_encode(meta, &mlen);
    if (!w || !m ||
        enc_init(&w->own, meta && meta->ts_unit_ns ? meta->ts_unit_ns : 1, level)) {
        snprintf(err, errlen, "out of memory");
        goto bad;
    }
    w->fd = fd;
    struct stat sb;
    if (!fstat(fd, &sb)) {
        w->dev = sb.st_dev;
        w->ino = sb.st_ino;
    }
    pthread_mutex_init(&w->mu, NULL);

    uint8_t *hdr = malloc(TF_FILE_FIXED + mlen + 4);
    if (!hdr) {
        snprintf(err, errlen, "out of memory");
        goto bad;
    }
    memcpy(hdr, HAK_TRACE_MAGIC, 8);
    tf_put32(hdr + 8, HAK_TRACE_VERSION);
    tf_put32(hdr + 12, (uint32_t)mlen);
    memcpy(hdr + TF_FILE_FIXED, m, mlen);
    tf_put32(hdr + TF_FILE_FIXED + mlen, tf_header_csum(hdr, TF_FILE_FIXED + mlen));
    int rc = write_all(w, hdr, TF_FILE_FIXED + mlen + 4);
    free(hdr);
    free(m);
    m = NULL;
    if (rc) {
        snprintf(err, errlen, "%s", w->err);
        goto bad;
    }
    return w;
bad:
    free(m);
    if (w) {
        enc_fini(&w->own);
        free(w);
    }
    close(fd);
    return NULL;
}

hak_trace_writer *hak_tw_open(const char *path, const hak_trace_meta *meta,
                              char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    return hak_tw_open_fd(fd, meta, err, errlen);
}

int hak_tw_set_level(hak_trace_writer *w, int level)
{
    if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
        return -1;
    pthread_mutex_lock(&w->mu);
    int rc = hak_tw_enc_set_level(&w->own, level);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

_Static_assert(HAK_TW_CHUNK_EVENTS == TF_CHUNK_EVENTS, "trace.h's chunk size is the format's");

/* Bad arguments refuse this batch only; the writer stays usable. */
static int check_tid(hak_trace_writer *w, uint32_t tid)
{
    if (tid < TF_MAX_THREADS)
        return 0;
    snprintf(w->err, sizeof w->err, "thread index %u >= %u", tid, TF_MAX_THREADS);
    return -1;
}

int hak_tw_events(hak_trace_writer *w, uint32_t tid, const hak_event *ev, size_t n)
{
    if (check_tid(w, tid))
        return -1;
    pthread_mutex_lock(&w->mu);
    int rc = w->failed ? -1 : 0;
    for (size_t done = 0; !rc && n;) {
        size_t k = n < TF_CHUNK_EVENTS ? n : TF_CHUNK_EVENTS;
        HAK_CHECK(k > 0 && k <= TF_CHUNK_EVENTS);
        hak_tw_array a;
        hak_tw_source src = hak_tw_array_source(&a, ev, k);
        if ((rc = put_events(w, tid, &src, done)) == -2)
            rc = -1;      /* bad op: this and later chunks refused */
        if (rc)
            break;
        done += k;
        ev += k;
        n -= k;
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int hak_tw_events_from(hak_trace_writer *w, uint32_t tid, const hak_tw_source *src)
{
    if (check_tid(w, tid))
        return -1;
    pthread_mutex_lock(&w->mu);
    int rc = w->failed ? -1 : put_events(w, tid, src, 0);
    pthread_mutex_unlock(&w->mu);
    return rc < 0 ? -1 : 0;
}

/* ---- side records ---- */
static int side_flush(hak_trace_writer *w, side *s, unsigned kind)
{
    if (!s->count)
        return 0;
    int rc = put_chunk(w, kind, 0, 0, s->count, s->p, s->len);
    s->len = 0;
    s->count = 0;
    s->prev = 0;
    return rc;
}

static int side_room(hak_trace_writer *w, side *s, size_t need)
{
    if (w->failed)
        return -1;
    if (grow(&s->p, &s->cap, s->len + need < 2 * TF_SIDE_RAW ? 2 * TF_SIDE_RAW : s->len + need))
        return fail_oom(w);
    return 0;
}

/* Memory the reader will hold for the side records so far plus `more`
 * bytes: RSS samples count only up to the number it keeps (it thins them
 * past that).  Over TF_SIDE_MEM_MAX: -1 with the reason (not a failure). */
static int side_budget(hak_trace_writer *w, const char *what, uint64_t more)
{
    uint64_t rss = w->nrss < TF_RSS_HELD_MAX ? w->nrss : TF_RSS_HELD_MAX;
    rss += w->nheap < TF_RSS_HELD_MAX ? w->nheap : TF_RSS_HELD_MAX;
    if (w->side_mem + rss * TF_COST_RSS + more <= TF_SIDE_MEM_MAX)
        return 0;
    refuse(w, "%s: side records would exceed the readers' %llu MiB limit", what, (unsigned long long)(TF_SIDE_MEM_MAX >> 20));
    return -1;
}

int hak_tw_site(hak_trace_writer *w, uint32_t id, const uint64_t *ips, uint32_t depth)
{
    if (depth > TF_SITE_DEPTH_MAX) {
        snprintf(w->err, sizeof w->err, "site %u: depth %u > %u", id, depth, TF_SITE_DEPTH_MAX);
        return -1;
    }
    pthread_mutex_lock(&w->mu);
    int rc = 0;
    if (w->nsites >= TF_SITES_HELD_MAX || w->nframes + depth > TF_FRAMES_HELD_MAX) {
        refuse(w, "site %u: more than %u sites or %u frames in one trace", id, TF_SITES_HELD_MAX, TF_FRAMES_HELD_MAX);
        rc = -1;
    } else if (side_budget(w, "site", TF_COST_SITE + (uint64_t)TF_COST_FRAME * depth)) {
        rc = -1;
    } else {
        rc = side_room(w, &w->sites, 20 + 10 * (size_t)depth);
    }
    if (!rc) {
        w->nsites++;
        w->nframes += depth;
        w->side_mem += TF_COST_SITE + (uint64_t)TF_COST_FRAME * depth;
        side *s = &w->sites;
        uint8_t *p = s->p + s->len;
        p = tc_put(p, id);
        p = tc_put(p, depth);
        for (uint32_t i = 0; i < depth; i++) {
            p = tc_put(p, tc_zz((int64_t)(ips[i] - s->prev)));
            s->prev = ips[i];
        }
        s->len = (size_t)(p - s->p);
        s->count++;
        if (s->len >= TF_SIDE_RAW)
            rc = side_flush(w, s, TF_KIND_SITES);
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int hak_tw_module(hak_trace_writer *w, const hak_module *m)
{
    size_t plen = m->path ? strlen(m->path) : 0;
    if (plen > TF_PATH_MAX || m->build_id_len > sizeof m->build_id) {
        snprintf(w->err, sizeof w->err, "module: path or build-id too long");
        return -1;
    }
    pthread_mutex_lock(&w->mu);
    int rc = 0;
    if (w->nmods >= TF_MODULES_HELD_MAX) {
        refuse(w, "module: more than %u modules in one trace", TF_MODULES_HELD_MAX);
        rc = -1;
    } else if (side_budget(w, "module", TF_COST_MODULE + plen)) {
        rc = -1;
    } else {
        rc = side_room(w, &w->modules, plen + 64);
    }
    if (!rc) {
        w->nmods++;
        w->side_mem += TF_COST_MODULE + plen;
        side *s = &w->modules;
        uint8_t *p = s->p + s->len;
        p = tc_put(p, plen);
        memcpy(p, m->path, plen);
        p += plen;
        p = tc_put(p, m->base);
        p = tc_put(p, m->size);
        *p++ = m->build_id_len;
        memcpy(p, m->build_id, m->build_id_len);
        p += m->build_id_len;
        s->len = (size_t)(p - s->p);
        s->count++;
        if (s->len >= TF_SIDE_RAW)
            rc = side_flush(w, s, TF_KIND_MODULES);
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

/* RSS (kind 4) and heap (kind 6) samples share one layout. */
static int put_samples(hak_trace_writer *w, side *s, int kind, uint64_t *total,
                       const hak_rss_sample *smp, size_t n)
{
    pthread_mutex_lock(&w->mu);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if ((rc = side_room(w, s, 20)))
            break;
        uint8_t *p = s->p + s->len;
        p = tc_put(p, tc_zz((int64_t)(smp[i].ts_ns - s->prev)));
        s->prev = smp[i].ts_ns;
        p = tc_put(p, smp[i].rss_bytes);
        s->len = (size_t)(p - s->p);
        s->count++;
        (*total)++;
        if (s->len >= TF_SIDE_RAW)
            rc = side_flush(w, s, kind);
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int hak_tw_rss(hak_trace_writer *w, const hak_rss_sample *smp, size_t n)
{
    return put_samples(w, &w->rss, TF_KIND_RSS, &w->nrss, smp, n);
}

int hak_tw_heap(hak_trace_writer *w, const hak_rss_sample *smp, size_t n)
{
    return put_samples(w, &w->heap, TF_KIND_HEAP, &w->nheap, smp, n);
}

/* ---- loss records ---- */

/* Appends a chunk built in full by the caller (header and stored payload)
 * even after a write error, as long as the file still ends at a chunk
 * boundary (w->clean).  Caller holds mu. */
static int put_raw_chunk(hak_trace_writer *w, uint8_t *chunk, uint32_t len)
{
    if (w->failed && !w->clean)
        return -1;
    int was_failed = w->failed;
    if (write_all(w, chunk, len))
        return -1;
    w->nchunks++;
    return was_failed;   /* written, but the writer had failed before */
}

int hak_tw_loss(hak_trace_writer *w, uint32_t reason, uint64_t at_events,
                uint64_t lost, const char *detail)
{
    size_t dlen = detail ? strnlen(detail, TF_LOSS_DETAIL_MAX) : 0;
    uint8_t buf[TF_CHUNK_HDR + TF_LOSS_RAW_MAX];   /* no malloc: this may be an OOM */
    uint8_t *pay = buf + TF_CHUNK_HDR, *p = pay;
    p = tc_put(p, reason);
    p = tc_put(p, at_events);
    p = tc_put(p, lost);
    p = tc_put(p, dlen);
    memcpy(p, detail ? detail : "", dlen);
    p += dlen;
    uint32_t len = (uint32_t)(p - pay);
    tf_chunk_hdr h = {.kind = TF_KIND_LOSS, .count = 1, .raw_size = len, .comp_size = len};
    tf_hdr_pack(&h, buf);
    h.checksum = tf_chunk_csum(buf, pay, len);
    tf_hdr_pack(&h, buf);

    pthread_mutex_lock(&w->mu);
    int rc;
    if (w->nlosses >= TF_LOSSES_HELD_MAX) {
        refuse(w, "more than %u loss records in one trace", TF_LOSSES_HELD_MAX);
        rc = -1;
    } else if ((rc = put_raw_chunk(w, buf, TF_CHUNK_HDR + len)) >= 0) {
        w->nlosses++;
        w->side_mem += TF_COST_LOSS + dlen;
        if (rc)
            w->loss_after_fail = 1;
        rc = 0;
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

static int flush_locked(hak_trace_writer *w)
{
    if (w->failed)
        return -1;
    int rc = side_flush(w, &w->modules, TF_KIND_MODULES);
    if (!rc)
        rc = side_flush(w, &w->sites, TF_KIND_SITES);
    if (!rc)
        rc = side_flush(w, &w->rss, TF_KIND_RSS);
    if (!rc)
        rc = side_flush(w, &w->heap, TF_KIND_HEAP);
    return rc;
}

int hak_tw_flush(hak_trace_writer *w)
{
    pthread_mutex_lock(&w->mu);
    int rc = flush_locked(w);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

const char *hak_tw_error(const hak_trace_writer *w) { return w->err; }
int hak_tw_failure(const hak_trace_writer *w) { return w->failed ? w->failure : 0; }

int hak_tw_guard(hak_trace_writer *w, const char *path, int fd_floor)
{
    char *p = strdup(path);
    if (!p)
        return -1;
    pthread_mutex_lock(&w->mu);
    free(w->guard_path);
    w->guard_path = p;
    w->guard_floor = fd_floor;
    pthread_mutex_unlock(&w->mu);
    return 0;
}

int hak_tw_fd(hak_trace_writer *w)
{
    pthread_mutex_lock(&w->mu);
    int fd = w->fd;
    pthread_mutex_unlock(&w->mu);
    return fd;
}

int hak_tw_move_fd(hak_trace_writer *w, int fd_floor)
{
    pthread_mutex_lock(&w->mu);
    int old = w->fd, fd = -1;
    if (old >= 0 && (fd = fcntl(old, F_DUPFD_CLOEXEC, fd_floor)) >= 0)
        w->fd = fd;
    pthread_mutex_unlock(&w->mu);
    return fd < 0 ? -1 : old;
}

uint32_t hak_tw_reopens(const hak_trace_writer *w) { return w->reopens; }
uint64_t hak_tw_bytes(const hak_trace_writer *w) { return w->bytes; }
uint64_t hak_tw_nevents(const hak_trace_writer *w) { return w->nevents; }

int hak_tw_close(hak_trace_writer *w)
{
    if (!w)
        return 0;
    pthread_mutex_lock(&w->mu);
    int rc = flush_locked(w);
    if (!rc) {  /* END: first_seq = total events, count = chunks before it */
        rc = put_chunk(w, TF_KIND_END, 0, w->nevents, (uint32_t)w->nchunks, NULL, 0);
    } else if (w->loss_after_fail) {
        /* The file says why it lost events: it may end properly, so it
         * reads as complete but incomplete, not as cut off.  Still -1. */
        uint8_t end[TF_CHUNK_HDR];
        tf_chunk_hdr h = {.kind = TF_KIND_END, .first_seq = w->nevents,
                          .count = (uint32_t)w->nchunks};
        tf_hdr_pack(&h, end);
        h.checksum = tf_chunk_csum(end, end, 0);
        tf_hdr_pack(&h, end);
        put_raw_chunk(w, end, TF_CHUNK_HDR);
    }
    pthread_mutex_unlock(&w->mu);
    /* a guarded writer closes its descriptor only while it is still the
     * trace's: the number may be the program's now */
    if (w->fd >= 0 && (!w->guard_path || fd_is_ours(w)) && close(w->fd) && !rc)
        rc = -1;
    free(w->guard_path);
    pthread_mutex_destroy(&w->mu);
    enc_fini(&w->own);
    ZSTD_freeCCtx(w->side_cctx);
    free(w->sites.p);
    free(w->modules.p);
    free(w->rss.p);
    free(w->heap.p);
    free(w);
    return rc;
}
