/* trace_reader.h - the reader's internal state, shared by trace_read.c
 * (open, chunk index, side tables) and trace_iter.c (event iteration).
 *
 * Invariants: every indexed chunk lies entirely inside data[0..size), passed
 * its checksum and its header limits; event chunks are listed per thread in
 * file order (thr_chunks[thr_first[t] .. thr_first[t+1])).
 */
#ifndef HAK_TRACE_READER_H
#define HAK_TRACE_READER_H

#include "trace.h"
#include "trace_codec.h"
#include "trace_pages.h"

#include <zstd.h>

#define TR_BATCH 256            /* events decoded per cursor refill */

typedef struct tr_chunk {       /* one event chunk in the file */
    uint64_t off;               /* of its header */
    uint64_t first_seq;
    uint32_t tid, count, raw_size, comp_size;
    uint8_t flags;
} tr_chunk;

typedef struct tr_cursor {      /* decoding position in one thread's events */
    uint32_t tid;
    uint32_t next;              /* next chunk, index into thr_chunks slice */
    uint64_t key;               /* seq of the next event (heap key) */
    tc_dec *dec;                /* NULL when no chunk is loaded */
    uint8_t *raw;
    size_t raw_cap;
    hak_event *buf;
    uint32_t bi, bn;            /* buffered events buf[bi..bn) */
    uint8_t *file;              /* the chunk's payload as read (fd >= 0) */
    size_t file_cap;
} tr_cursor;

struct hak_trace_reader {
    const uint8_t *data;
    size_t size;
    int mapped;
    int fd;                     /* the file, for chunk reads; -1 for a buffer */
    tr_pages pages;             /* the open scan's window (trace_pages.h) */
    hak_trace_meta meta;
    hak_tr_status st;
    char err[320];
    ZSTD_DCtx *dctx;
    tc_mc *mc;                  /* model-coded columns' tables, made on first use
                                   (one for all cursors: a column is decoded whole
                                   when its chunk is loaded) */

    tr_chunk *chunks;           /* event chunks in file order */
    size_t nchunks, chunks_cap;
    uint64_t nchunks_all, nevents;
    uint32_t nthreads;
    uint32_t *thr_first;        /* [nthreads + 1] */
    uint32_t *thr_chunks;       /* [nchunks] indices into chunks */
    uint64_t *thr_nev;          /* [nthreads] */

    hak_site *sites;
    size_t nsites, sites_cap;
    uint64_t *ips;
    size_t nips, ips_cap;
    hak_module *mods;
    size_t nmods, mods_cap;
    hak_rss_sample *rss;
    size_t nrss, rss_cap;
    uint64_t rss_seen;          /* samples read; every rss_stride-th is kept */
    uint32_t rss_stride;        /* 1, doubled each time rss fills up (FORMAT.md) */
    hak_rss_sample *hsmp;       /* heap-only RSS samples (kind 6), thinned the same way */
    size_t nhsmp, hsmp_cap;
    uint64_t hsmp_seen;
    uint32_t hsmp_stride;
    hak_tr_loss *losses;
    size_t nlosses, losses_cap;
    /* Against the reader limits (trace_fmt.h, FORMAT.md "Reader limits"). */
    uint64_t side_mem;          /* bytes held for sites, frames, modules, losses */
    uint64_t side_raw;          /* side payload bytes decompressed so far */
    char why[192];              /* formatted reason of a side chunk's failure */

    /* global merge */
    tr_cursor *gcur;            /* [nthreads] or NULL before the first read */
    uint32_t *heap, nheap;      /* tids ordered by (key, tid) */
    tr_cursor *cur;             /* thread being emitted from */
    uint64_t lim_key;           /* ...while its key stays below (lim_key, lim_tid) */
    uint32_t lim_tid;
    int gerr;
    /* per-thread iteration */
    tr_cursor *tcur;            /* [nthreads] or NULL */
};

/* Fills c's buffer: 1 when events are buffered, 0 when the thread is done,
 * -1 on a decoding error (r->err set). */
int tr_cursor_fill(hak_trace_reader *r, tr_cursor *c);
void tr_cursor_release(tr_cursor *c);
void tr_iter_reset(hak_trace_reader *r);

#endif
