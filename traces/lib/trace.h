/* trace.h - the hakmem trace format: writer, reader and replay form.
 *
 * A trace (.hkt) is the malloc/free stream of one process: a file header,
 * then a sequence of independent chunks.  Every chunk is a small fixed
 * header (kind, thread, first sequence number, record count, payload sizes,
 * checksum) followed by its zstd-compressed payload (event chunks: one
 * frame per column).  Nothing refers forward, so a file
 * cut off anywhere (a recorded program killed by SIGKILL) is readable up to
 * its last complete chunk.  The byte layout is in traces/FORMAT.md; only this
 * library reads or writes it.
 *
 * Ordering invariant: every event carries a global sequence number `seq`,
 * unique within the trace.  The recorder takes `seq` for a free *before* the
 * real free runs and for an allocation *after* it returns, so in `seq` order
 * an address is never live twice.  Readers merge the per-thread chunks by
 * `seq` to give the one global order.  Timestamps are monotonic per thread
 * and agree with `seq` order up to clock resolution.
 *
 * Thread ids in events are dense indices assigned by the recorder in order
 * of first appearance (0 = the main thread); HAK_OP_THREAD_START carries the
 * OS tid in `size`.
 */
#ifndef HAK_TRACE_H
#define HAK_TRACE_H

#include <stddef.h>
#include <stdint.h>

#define HAK_TRACE_VERSION 6          /* written; bumped on any incompatible change */
#define HAK_TRACE_VERSION_MIN 1      /* oldest version readers still read */
#define HAK_TRACE_MAGIC   "HAKTRACE" /* first 8 bytes of every trace file */

/* Operations.  Values are part of the file format: never renumber. */
typedef enum hak_op {
    HAK_OP_MALLOC = 1,
    HAK_OP_CALLOC = 2,          /* nmemb, size (element size) */
    HAK_OP_REALLOC = 3,         /* in_ptr -> out_ptr, size */
    HAK_OP_REALLOCARRAY = 4,    /* in_ptr -> out_ptr, nmemb, size */
    HAK_OP_FREE = 5,            /* in_ptr (free(NULL) is recorded too) */
    HAK_OP_MEMALIGN = 6,        /* align, size */
    HAK_OP_POSIX_MEMALIGN = 7,  /* align, size; err = return value */
    HAK_OP_ALIGNED_ALLOC = 8,   /* align, size */
    HAK_OP_VALLOC = 9,          /* size */
    HAK_OP_PVALLOC = 10,        /* size */
    HAK_OP_THREAD_START = 11,   /* size = OS tid, in_ptr = creating thread index */
    HAK_OP_THREAD_EXIT = 12,
    HAK_OP_MMAP = 13,           /* out_ptr, size (length), align = prot|flags<<32 */
    HAK_OP_MUNMAP = 14,         /* in_ptr, size */
    HAK_OP_MREMAP = 15,         /* in_ptr, nmemb = old size, size = new size, out_ptr */
    HAK_OP_COUNT_               /* one past the last valid op */
} hak_op;

/* One decoded event.  Fields an operation does not use are 0. */
typedef struct hak_event {
    uint64_t seq;      /* global order, unique per trace */
    uint64_t ts_ns;    /* monotonic ns since the trace's start */
    uint64_t size;     /* requested bytes (element size for calloc/reallocarray) */
    uint64_t nmemb;    /* calloc/reallocarray element count */
    uint64_t align;    /* alignment for the memalign family */
    uint64_t in_ptr;   /* pointer passed in (free, realloc, munmap) */
    uint64_t out_ptr;  /* pointer returned; 0 on failure */
    uint32_t tid;      /* dense thread index */
    uint32_t site;     /* call-site id, 0 = unknown / not captured */
    int32_t  err;      /* errno when the call failed, else 0 */
    uint8_t  op;       /* hak_op */
} hak_event;

/* Per-trace metadata, stored in the file header. Strings are owned by the
 * writer's caller (on write) or by the reader (on read); NULL = absent. */
typedef struct hak_trace_meta {
    uint32_t version;          /* format version the file was written with */
    int32_t  pid, ppid;
    uint64_t start_wall_ns;    /* CLOCK_REALTIME when recording started */
    uint32_t page_size;
    uint32_t argc;
    char   **argv;
    const char *hostname, *kernel, *thp_mode, *cpu_model;
    const char *recorder;      /* e.g. "hak-record 0.1" or "hak trace synth" */
    const char *options;       /* recorder options / synth parameters, free text */
    /* Timestamp granularity in ns (0 or 1 = exact).  The writer stores
     * ts_ns / ts_unit_ns, so coarser units make smaller traces; readers get
     * ts_ns back rounded down to a multiple of the unit. */
    uint32_t ts_unit_ns;
} hak_trace_meta;

typedef struct hak_site {      /* one deduplicated call stack */
    uint32_t id;               /* >= 1 */
    uint32_t depth;
    const uint64_t *ips;       /* innermost first */
} hak_site;
/* A site's last ip equal to HAK_SITE_CUT: the stack was cut there, because
 * the frame before it has no unwind information (no FDE in its object's
 * .eh_frame, or an address in no loaded object) and the recorder never
 * guesses a caller.  Never a real return address (page 0 is not mapped). */
#define HAK_SITE_CUT 1u

typedef struct hak_module {    /* a mapped object, for offline symbolisation */
    const char *path;
    uint64_t base, size;       /* load address and mapped extent */
    uint8_t build_id[32];
    uint8_t build_id_len;
} hak_module;

typedef struct hak_rss_sample {
    uint64_t ts_ns;            /* same clock as hak_event.ts_ns */
    uint64_t rss_bytes;
} hak_rss_sample;

/* The largest sample of a series; 0 for none (callers that must tell "no
 * samples" from a measured 0 check n). */
static inline uint64_t hak_rss_peak(const hak_rss_sample *s, size_t n)
{
    uint64_t peak = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i].rss_bytes > peak)
            peak = s[i].rss_bytes;
    return peak;
}

/* Why events were lost or the recording stopped early.  A loss record
 * (FORMAT.md, chunk kind 5) says so inside the trace, with the number of
 * events the file had before it, so a trace that lost events is never
 * mistaken for a complete one.  Values are part of the file format: never
 * renumber; readers name unknown values "unknown reason N". */
typedef enum hak_loss_reason {
    HAK_LOSS_OOM = 1,          /* "out of memory" */
    HAK_LOSS_WRITE = 2,        /* "write failed" (disk full, EIO...) */
    HAK_LOSS_FD_TAKEN = 3,     /* "descriptor taken": the program closed/replaced the trace's descriptor */
    HAK_LOSS_DISABLED = 4,     /* "recorder disabled" */
    HAK_LOSS_NOT_FOLLOWED = 5, /* "not followed": exec without the recorder's environment */
    HAK_LOSS_UNFLUSHED = 6,    /* "unflushed threads": threads still running at exit */
    HAK_LOSS_REENTRANT = 7,    /* "signal handler inside the recorder": calls made by a
                                * signal handler that interrupted an interposed call */
    HAK_LOSS_COUNT_
} hak_loss_reason;
/* "out of memory", ...; "unknown reason N" for any other value (in a
 * static buffer per thread, valid until the next call from that thread). */
const char *hak_loss_reason_name(int reason);

/* One loss record as read.  detail is owned by the reader ("" when none). */
typedef struct hak_tr_loss {
    uint32_t reason;           /* hak_loss_reason, or a newer writer's value */
    uint64_t at_events;        /* events of this file written before the loss */
    uint64_t lost;             /* events known lost, 0 = unknown */
    const char *detail;        /* free text, at most HAK_LOSS_DETAIL_MAX bytes */
} hak_tr_loss;
#define HAK_LOSS_DETAIL_MAX 1024u

const char *hak_op_name(int op);   /* "malloc", ...; "?" when invalid */
int hak_op_allocates(int op);     /* returns a new block (malloc..pvalloc, realloc) */

/* ---- Writer ----------------------------------------------------------- */

typedef struct hak_trace_writer hak_trace_writer;

/* Creates `path` and writes the header.  On failure returns NULL and puts a
 * one-line reason in err. */
hak_trace_writer *hak_tw_open(const char *path, const hak_trace_meta *meta,
                              char *err, size_t errlen);
/* Same, on an open file descriptor (the writer takes ownership). */
hak_trace_writer *hak_tw_open_fd(int fd, const hak_trace_meta *meta,
                                 char *err, size_t errlen);

/* Encodes, compresses and appends one chunk with events of thread `tid`,
 * in increasing seq order.  Thread-safe: chunks are appended atomically.
 * Returns 0, or -1 with the reason in hak_tw_error(). Large batches are
 * split into chunks of bounded size internally.  An event with an invalid
 * op (or tid >= 65536) refuses its chunk and the rest of the batch, but
 * leaves the writer usable; a write error is final (but see hak_tw_loss). */
int hak_tw_events(hak_trace_writer *w, uint32_t tid,
                  const hak_event *ev, size_t n);
/* Events produced piece by piece, for a caller that converts its own
 * records into hak_events: a small buffer refilled per piece stays in
 * cache, where a chunk-sized array would not (the recorder's writer).
 * next returns the following piece and its length in *n (*n = 0: no more
 * events); the piece stays valid until the next call.  rewind goes back to
 * the first event: the writer may read the events twice.  A source
 * without rewind (NULL) is read once: the encoder keeps its guesses from
 * the previous chunk (reference mode, pointer shift) even when they turn
 * out wrong, writing an event whose pointer the shift cannot express in
 * RAW form (FORMAT.md), so the reader gets the same events and the chunk
 * is a little bigger.  done (NULL:
 * none) is called once the events were read for the last time, before the
 * chunk is compressed: the recorder gives their buffer back to the program
 * then, not after zstd (most of a chunk's time at the higher levels). */
typedef struct hak_tw_source {
    const hak_event *(*next)(void *ctx, size_t *n);
    void (*rewind)(void *ctx);
    void *ctx;
    void (*done)(void *ctx);
} hak_tw_source;
/* An array ev[0..n) as a source of one piece (a single event, say); a must
 * outlive the source. */
typedef struct hak_tw_array {
    const hak_event *ev;
    size_t n;
    int read;                      /* the piece was handed out */
} hak_tw_array;
hak_tw_source hak_tw_array_source(hak_tw_array *a, const hak_event *ev, size_t n);
#define HAK_TW_CHUNK_EVENTS 65536u   /* most events one chunk holds */
/* Like hak_tw_events for the events of src, at most HAK_TW_CHUNK_EVENTS
 * (more are refused), written as one chunk; none: nothing is written. */
int hak_tw_events_from(hak_trace_writer *w, uint32_t tid, const hak_tw_source *src);
int hak_tw_site(hak_trace_writer *w, uint32_t id,
                const uint64_t *ips, uint32_t depth);
int hak_tw_module(hak_trace_writer *w, const hak_module *m);
int hak_tw_rss(hak_trace_writer *w, const hak_rss_sample *s, size_t n);
/* Heap-only RSS samples (rss_bytes = heap bytes), written as kind 6. */
int hak_tw_heap(hak_trace_writer *w, const hak_rss_sample *s, size_t n);
/* Writes one loss record as a chunk of its own, now (thread-safe like the
 * other chunk writers): reason (hak_loss_reason), at_events (events of
 * this file written before the loss; hak_tw_nevents() is the usual value),
 * lost (events known lost, 0 = unknown), detail (NULL or free text, cut
 * at HAK_LOSS_DETAIL_MAX bytes).  It needs no memory (a loss may be an
 * out-of-memory one): the record is built on the stack and stored
 * uncompressed.  After a write error it is still written when the writer
 * could cut the failed chunk's bytes back off the file (a regular file,
 * still the one it opened), so a full disk can still say so; hak_tw_close
 * then also writes the end marker (and still returns -1).  The caller must
 * not call it on a descriptor it no longer owns.  0 or -1. */
int hak_tw_loss(hak_trace_writer *w, uint32_t reason, uint64_t at_events,
                uint64_t lost, const char *detail);
/* Writes buffered side records (sites, modules, rss) as chunks now. */
int hak_tw_flush(hak_trace_writer *w);
const char *hak_tw_error(const hak_trace_writer *w);
/* Why the writer failed for good: 0 (it has not), HAK_LOSS_WRITE (a write
 * error), HAK_LOSS_OOM, or HAK_LOSS_FD_TAKEN (guarded writers, below). */
int hak_tw_failure(const hak_trace_writer *w);
/* Descriptor safety, for a writer whose descriptor lives in a process that
 * may close or replace it behind the writer's back (the recorder inside the
 * recorded program).  Once guarded, every write first checks that the
 * descriptor still refers to the file the writer opened; when it does not,
 * the writer reopens `path` (which must still be that file) at its current
 * offset, as a descriptor >= fd_floor, or fails for good with
 * HAK_LOSS_FD_TAKEN; it never writes to, truncates or closes a descriptor
 * that is no longer the trace's.  0, or -1 out of memory. */
int hak_tw_guard(hak_trace_writer *w, const char *path, int fd_floor);
/* The descriptor the writer writes to now (-1 after it was taken). */
int hak_tw_fd(hak_trace_writer *w);
/* Moves the writer to a duplicate of its descriptor >= fd_floor, between
 * two chunk writes; returns the old descriptor, which the caller closes or
 * lets dup2 replace, or -1 (errno) leaving the writer as it was. */
int hak_tw_move_fd(hak_trace_writer *w, int fd_floor);
/* How often a guarded writer reopened its file. */
uint32_t hak_tw_reopens(const hak_trace_writer *w);
uint64_t hak_tw_bytes(const hak_trace_writer *w);    /* file bytes so far */
int hak_tw_close(hak_trace_writer *w);   /* flushes; 0 or -1 */
/* zstd level for the following chunks (negative = faster, bigger; up to
 * 19).  Default: $HAK_TRACE_ZSTD_LEVEL, else HAK_TW_DEFAULT_LEVEL. */
#define HAK_TW_DEFAULT_LEVEL 3
int hak_tw_set_level(hak_trace_writer *w, int level);
/* Events written so far. */
uint64_t hak_tw_nevents(const hak_trace_writer *w);

/* Chunk encoders of their own, so several threads can encode event chunks
 * of one writer at once: each thread encodes into its own hak_tw_enc (no
 * lock taken) and appends the finished chunk with hak_tw_enc_put, in the
 * order the caller wants the chunks in the file (per thread index, chunks
 * must be appended in seq order).  An encoder is used by one thread at a
 * time and holds at most one chunk. */
typedef struct hak_tw_enc hak_tw_enc;
hak_tw_enc *hak_tw_enc_new(hak_trace_writer *w);   /* w's level and time unit */
void hak_tw_enc_free(hak_tw_enc *e);
int hak_tw_enc_set_level(hak_tw_enc *e, int level);
/* Gives back e's working memory (zstd context, column buffers, pointer
 * map, model tables: ~3 MiB on a python3 recording) and keeps what it
 * learnt from the chunks so far (reference mode, class offset, token mode,
 * model columns, pointer shift, map size), so the next chunk is coded as
 * it would have been without the trim: the same bytes.  For a caller
 * whose chunks come far apart (the recorder, for a program that allocates
 * in bursts); the next chunk pays the page faults.  e must hold no chunk
 * still to be put. */
void hak_tw_enc_trim(hak_tw_enc *e);
/* Encodes src's events (as hak_tw_events_from) into e, replacing a chunk
 * not put; none: e holds no chunk.  0, or -1 with hak_tw_enc_error(e). */
int hak_tw_enc_events(hak_tw_enc *e, uint32_t tid, const hak_tw_source *src);
const char *hak_tw_enc_error(const hak_tw_enc *e);
/* Appends e's chunk (if any) to w's file; 0, or -1 with hak_tw_error(w). */
int hak_tw_enc_put(hak_trace_writer *w, hak_tw_enc *e);
/* The chunk e holds (NULL: none) as bytes, for a caller that appends it
 * later with hak_tw_put_chunk, after e has moved on to the next one. */
const void *hak_tw_enc_chunk(const hak_tw_enc *e, size_t *len, uint32_t *nevents);
int hak_tw_put_chunk(hak_trace_writer *w, const void *chunk, size_t len, uint32_t nevents);

/* ---- Reader ----------------------------------------------------------- */

typedef struct hak_trace_reader hak_trace_reader;

/* A reader is used by one thread at a time (it keeps iteration state).
 * Opens a trace and indexes its chunks.  Fails (NULL, one-line reason with
 * the byte offset in err) only when the file is not a hakmem trace or its
 * header is unreadable; a damaged or truncated tail is not an error here:
 * the readable prefix is used and hak_tr_status() says where and why the
 * reader stopped. */
hak_trace_reader *hak_tr_open(const char *path, char *err, size_t errlen);
/* Same over a buffer in memory, which must outlive the reader (not copied). */
hak_trace_reader *hak_tr_open_mem(const void *data, size_t len,
                                  char *err, size_t errlen);
void hak_tr_close(hak_trace_reader *r);

typedef struct hak_tr_status {
    int      truncated;        /* 1 when the file ends before its end marker or a chunk is damaged */
    int      cut;              /* with truncated: 1 when the file ends inside the trace (a
                                * killed recorder: the readable prefix is all there is),
                                * 0 when a chunk inside the file is damaged */
    int      incomplete;       /* 1 when the readable part holds a loss record
                                * (hak_tr_losses): the recorder lost events */
    uint64_t file_bytes;       /* size of the file */
    uint64_t valid_bytes;      /* bytes up to the end of the last good chunk */
    char     reason[256];      /* "" or e.g. "chunk at offset 1234: checksum mismatch" */
} hak_tr_status;

const hak_trace_meta *hak_tr_meta(const hak_trace_reader *r);
const hak_tr_status  *hak_tr_status_get(const hak_trace_reader *r);

/* Totals known from the chunk index, without decoding events. */
uint64_t hak_tr_nevents(const hak_trace_reader *r);
uint32_t hak_tr_nthreads(const hak_trace_reader *r);  /* max tid + 1 */
uint64_t hak_tr_nchunks(const hak_trace_reader *r);   /* readable chunks, all kinds */
uint64_t hak_tr_thread_nevents(const hak_trace_reader *r, uint32_t tid);

/* Side tables, loaded at open (arrays owned by the reader). */
size_t hak_tr_sites(const hak_trace_reader *r, const hak_site **out);
const hak_site *hak_tr_site(const hak_trace_reader *r, uint32_t id);
size_t hak_tr_modules(const hak_trace_reader *r, const hak_module **out);
size_t hak_tr_rss(const hak_trace_reader *r, const hak_rss_sample **out);
/* Hands the RSS samples over to the caller (free() them; NULL when none):
 * a caller that keeps them past hak_tr_close needs no copy (up to 32 MiB).
 * hak_tr_rss returns none afterwards. */
hak_rss_sample *hak_tr_take_rss(hak_trace_reader *r, size_t *n);
/* 1 when every RSS sample of the file is in hak_tr_rss; N when the file
 * has more than the reader keeps (FORMAT.md, "Reader limits") and it kept
 * every Nth one: the same timeline at an N times coarser step. */
uint32_t hak_tr_rss_stride(const hak_trace_reader *r);
/* Heap-only RSS samples (chunk kind 6, traces/common/heap_rss.h: the
 * memory the allocator holds, without code, stacks and files), in
 * rss_bytes; none in traces recorded before them.  Thinned like RSS. */
size_t hak_tr_heap(const hak_trace_reader *r, const hak_rss_sample **out);
uint32_t hak_tr_heap_stride(const hak_trace_reader *r);
/* Loss records of the readable part, in file order (none: 0). */
size_t hak_tr_losses(const hak_trace_reader *r, const hak_tr_loss **out);

/* Iteration.  Returns 1 with *ev filled, 0 at the end of the readable
 * events, -1 on a decoding error (reason in hak_tr_error()).  The global
 * iterator merges threads by seq; the per-thread one yields a single
 * thread's events in order.  hak_tr_rewind restarts both. */
int hak_tr_next(hak_trace_reader *r, hak_event *ev);
int hak_tr_next_thread(hak_trace_reader *r, uint32_t tid, hak_event *ev);
void hak_tr_rewind(hak_trace_reader *r);
const char *hak_tr_error(const hak_trace_reader *r);
/* Batch form of hak_tr_next (same global order, much faster per event):
 * fills up to max events; returns the count, 0 at the end, -1 on error. */
long hak_tr_read(hak_trace_reader *r, hak_event *ev, size_t max);

/* ---- Replay form -------------------------------------------------------
 * What a replayer needs, precomputed once: pointers become dense object ids,
 * and every operation that must not run before an operation of another
 * thread carries that dependency explicitly.
 *
 * Object ids: every successful allocation (and each realloc result) creates
 * a new object id; free/realloc name the object they consume.  When an
 * address is handed out again while still live (an "inversion": the free was
 * recorded after the reuse, which imported traces can contain), the new
 * allocation gets a new object and the pending free consumes the *oldest*
 * live object at that address, deterministically.  Frees of unknown
 * pointers and failed allocations are dropped from the replay form and
 * counted.
 *
 * Dependencies: an op consuming an object created on another thread depends
 * on the creating op: in `--threads recorded` it waits until the creating
 * thread has completed that op (per-thread progress counters; no global
 * barrier).  Serial replay just runs ops in global order.  They are kept
 * per thread, apart from the ops (most ops have none, and the 24-byte op
 * keeps the form small: backing its pages is much of the build's time).
 *
 * Exact rules (hak_replay_build):
 *  - malloc/calloc/memalign/posix_memalign/aligned_alloc/valloc/pvalloc with
 *    out_ptr != 0 create an object; with out_ptr == 0 they are failed allocs.
 *  - realloc/reallocarray(NULL, n) becomes op MALLOC of n bytes (reallocarray:
 *    nmemb * size, saturating); realloc(p, 0) returning NULL becomes op FREE
 *    of p's object; any other NULL result is a failed alloc (p stays live);
 *    otherwise p's object is consumed and a new one created (also in place).
 *    A realloc of an unknown/freed pointer counts as such and becomes MALLOC.
 *  - A free (size > 0) or realloc (align > 0) of an address the form has
 *    never seen carries the size of a block allocated before the trace's
 *    window: it consumes a pre-existing object (hak_replay.pre) instead.
 *  - free(NULL) is dropped (free_nulls); thread_start/thread_exit are
 *    kept, and a thread_start depends on the creating thread's (in_ptr)
 *    last op before it.
 *  - mmap/munmap/mremap are dropped (mmap_ops), unless built with
 *    HAK_REPLAY_MMAP (hak replay: a trace recorded with --mmap holds the
 *    program's own mappings, heap it holds outside malloc, e.g. GCC's
 *    collected pages).  Then a successful mmap of private, anonymous,
 *    writable memory at an address of the kernel's choosing (no MAP_FIXED)
 *    creates an object of its length (op MMAP); a munmap of exactly one
 *    such mapping (its start, its length in whole pages) consumes it (op
 *    MUNMAP, size 0); a munmap of whole pages inside one mapping unmaps
 *    them (op MUNMAP, in_obj = the mapping, size = bytes, aux = offset in
 *    4 KiB pages), and when they were its last the mapping is gone; an
 *    mremap of a whole, intact one (its start and length) consumes it and
 *    creates the new mapping's object (op MREMAP, size = new length).  Any
 *    other mapping call is dropped and counted (mmap_ops): file and shared
 *    mappings are not heap, and a munmap across mappings leaves them
 *    mapped in the form (the replay holds more).  Mappings are kept apart
 *    from malloc's addresses (a block inside a mapping is not a free of
 *    it) and count in the live bytes.
 *  - dep_idx counts ops of thread dep_tid in the replay form (0-based).
 */

#define HAK_NO_OBJ UINT32_MAX

typedef struct hak_rop {
    uint64_t size;       /* bytes to request (calloc: element size) */
    uint32_t obj;        /* object created (alloc/realloc) or HAK_NO_OBJ */
    uint32_t in_obj;     /* object consumed (free/realloc) or HAK_NO_OBJ */
    uint32_t aux;        /* calloc/reallocarray nmemb, alignment, or a partial
                          * munmap's offset in 4 KiB pages */
    uint16_t tid;
    uint8_t  op;         /* hak_op */
    uint8_t  pad_;
} hak_rop;

/* A dependency of op number idx of its thread (thread_ops[t][idx]): it
 * waits until thread dep_tid (!= t) has completed its op number dep_idx. */
typedef struct hak_rdep {
    uint32_t idx;
    uint32_t dep_tid;
    uint32_t dep_idx;
} hak_rdep;

/* A block allocated before the trace's window began (FORMAT.md,
 * "Windows"): the replay allocates it in a prologue, before the measured
 * ops, as object obj of `bytes` bytes. */
typedef struct hak_rpre {
    uint32_t obj;
    uint32_t pad_;
    uint64_t bytes;
} hak_rpre;

typedef struct hak_replay {
    uint64_t  nops;          /* ops in global order */
    hak_rop  *ops;           /* [nops] */
    uint32_t  nthreads;
    uint64_t *thread_nops;   /* [nthreads] ops per thread */
    uint32_t **thread_ops;   /* [nthreads][thread_nops[t]] indices into ops
                              * (32 bits: traces of more than UINT32_MAX
                              * events are refused; the form would take
                              * over 100 GB) */
    uint64_t *thread_ndeps;  /* [nthreads] dependencies per thread */
    hak_rdep **thread_deps;  /* [nthreads][thread_ndeps[t]], by idx */
    uint32_t  nobjects;      /* object ids are 0..nobjects-1 */
    uint64_t  peak_live_bytes;
    /* What was dropped or repaired while building, for `hak trace validate`. */
    uint64_t  unknown_frees, double_frees, failed_allocs, inversions, leaked_objects;
    uint64_t  cross_thread_deps;   /* = the sum of thread_ndeps */
    uint64_t  free_nulls;    /* free(NULL): dropped */
    uint64_t  mmap_ops;      /* mmap/munmap/mremap not part of the replay form */
    uint64_t  mmap_kept;     /* ... and those that are (HAK_REPLAY_MMAP) */
    /* Pre-existing blocks: a free or realloc of an address the trace never
     * allocated that carries the block's size (a window's, FORMAT.md
     * "Windows") consumes an object created by the prologue instead of
     * being dropped as an unknown free.  They are not in peak_live_bytes. */
    uint64_t  npre, pre_bytes;
    hak_rpre *pre;           /* [npre], in order of first use */
} hak_replay;

/* Builds the replay form from all readable events of r.  Returns 0, or -1
 * with a reason in err. */
int hak_replay_build(hak_trace_reader *r, hak_replay *out,
                     char *err, size_t errlen);

/* hak_replay_build's options. */
enum {
    HAK_REPLAY_MMAP = 1u,    /* keep the program's anonymous mappings (rules above) */
};
/* hak_replay_build with options (HAK_REPLAY_*); hak_replay_build is
 * hak_replay_build_opts(r, out, 0, ...). */
int hak_replay_build_opts(hak_trace_reader *r, hak_replay *out, unsigned opts,
                          char *err, size_t errlen);
void hak_replay_free(hak_replay *rp);

#endif /* HAK_TRACE_H */
