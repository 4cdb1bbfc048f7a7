/* image.h - the replay image: the flat, position-independent form of one
 * trace's replay form that the parent (`hak replay`) builds once and hands
 * to every worker child in a sealed memfd.
 *
 * Why a separate form: the worker must not run its own bookkeeping through
 * the allocator under test inside the measured window.  The image is mapped
 * read-only with MAP_POPULATE before the window, so decoding, reading and
 * faulting the workload cost nothing inside it and never touch malloc.
 *
 * Layout (all offsets from the start of the mapping, 64-byte aligned):
 *   rp_image_hdr
 *   thread[nthreads]    rp_wthread: where each thread's ops and deps are
 *   ops[nops]           rp_wop, in the order the worker runs them: the
 *                       global order (serial images) or thread by thread
 *                       (recorded images; thread t's ops at thread[t].op_off)
 *   deps[ndeps]         rp_wdep, recorded images only: per thread, sorted by
 *                       the thread-local index of the waiting op
 *   obj_size[nobjects]  uint64 bytes requested for each object (for realloc
 *                       copies in the bump allocator, live-byte counts and
 *                       mremap)
 *   big[nbig]           rp_wbig: sizes >= 4 GiB, by op position
 *   sched[nsched]       rp_wsched, serial images: timeline sample points
 *                       with the live bytes the trace has there
 *   ts[nops]            uint64 ns since the trace start, only when
 *                       RP_IMG_HAS_TS (for --pace recorded)
 *   moff[nmoff]         rp_wbig: for each MUNMAP op of a part of a mapping
 *                       (size > 0), by op position, the byte offset of that
 *                       part in the mapping (size = 0: the whole mapping)
 *   pre[npre]           uint32 object ids the worker allocates before the
 *                       measured ops (obj_size bytes each): the blocks a
 *                       window's trace frees or reallocs but did not see
 *                       allocated (trace.h, hak_replay.pre)
 *
 * Invariants: every rp_wop.obj / in_obj is < nobjects or RP_NO_OBJ; every
 * dependency points to an op that precedes the waiting op in the trace's
 * global order (so replaying the waits cannot deadlock).
 */
#ifndef RP_IMAGE_H
#define RP_IMAGE_H

#include <stdint.h>

#define RP_IMG_MAGIC   0x31474d4950525048ull   /* "HPRPIMG1" */
#define RP_NO_OBJ      UINT32_MAX
#define RP_SIZE_BIG    UINT32_MAX             /* size lives in the big table */

enum { RP_IMG_SERIAL = 1u, RP_IMG_HAS_TS = 2u };

/* One operation: 16 bytes so a 20M-op trace streams at memory speed.
 * calloc/reallocarray are replayed with their total byte count
 * (nmemb * size); alignment is a power of two stored as its log2. */
typedef struct rp_wop {
    uint32_t obj;        /* object created, or RP_NO_OBJ */
    uint32_t in_obj;     /* object consumed, or RP_NO_OBJ */
    uint32_t size;       /* bytes, or RP_SIZE_BIG */
    uint8_t  op;         /* hak_op */
    uint8_t  align_log2; /* memalign family */
    uint16_t pad_;
} rp_wop;

typedef struct rp_wdep {
    uint32_t idx;        /* thread-local index of the waiting op */
    uint32_t dep_tid;    /* thread it waits for */
    uint32_t dep_count;  /* ...until that thread has completed this many ops */
    uint32_t pad_;
} rp_wdep;

typedef struct rp_wbig {
    uint64_t pos;        /* index into ops[] */
    uint64_t size;       /* (moff[]: the offset) */
} rp_wbig;

typedef struct rp_wsched {
    uint64_t op;         /* sample taken before running ops[op] (op == nops: at the end) */
    uint64_t live_bytes; /* requested bytes live at that point */
} rp_wsched;

typedef struct rp_wthread {
    uint64_t op_off, nops;     /* element index into ops[] and count */
    uint64_t dep_off, ndeps;   /* element index into deps[] and count */
} rp_wthread;

typedef struct rp_image_hdr {
    uint64_t magic;
    uint64_t total_bytes;
    uint32_t flags;            /* RP_IMG_* */
    uint32_t nthreads;
    uint64_t nops, nobjects, ndeps, nbig, nsched;
    uint64_t max_size;         /* largest single request */
    uint64_t peak_live_bytes;
    uint64_t thread_off, ops_off, deps_off, obj_size_off, big_off, sched_off, ts_off;
    uint64_t npre, pre_off;    /* the prologue's objects */
    uint64_t nmoff, moff_off;  /* partial munmaps' offsets */
} rp_image_hdr;

#define RP_AT(hdr, off, type) ((type *)((char *)(hdr) + (off)))

#endif /* RP_IMAGE_H */
