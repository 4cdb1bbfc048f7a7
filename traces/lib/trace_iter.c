/* trace_iter.c - event iteration: per thread, and merged across threads by
 * (seq, tid).
 *
 * Each thread has a cursor that decodes its chunks TR_BATCH events at a
 * time, so memory stays bounded by (threads with a chunk in progress) x
 * (one raw chunk + one batch).  The global merge keeps a binary heap of
 * cursors keyed by the seq of their next event (a thread whose next chunk
 * is not loaded yet uses the chunk's first_seq, so chunks load only when
 * their turn comes), and emits runs from the smallest cursor while it stays
 * below the heap's top: one heap operation per run, not per event.
 */
#include "trace_reader.h"
#include "trace_colmodel.h"
#include "trace_fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tr_cursor_release(tr_cursor *c)
{
    free(c->dec);
    free(c->raw);
    free(c->buf);
    free(c->file);
    c->dec = NULL;
    c->raw = NULL;
    c->buf = NULL;
    c->file = NULL;
    c->raw_cap = c->file_cap = 0;
    c->bi = c->bn = 0;
}

static int cursor_error(hak_trace_reader *r, const tr_chunk *ch, const char *why)
{
    snprintf(r->err, sizeof r->err, "chunk at offset %llu (thread %u): %s",
             (unsigned long long)ch->off, ch->tid, why);
    return -1;
}

/* Loads chunk `ch` into c (decompresses, prepares the decoder).  A column
 * stored uncompressed is decoded in place, in the file's bytes, when
 * TC_PAD bytes of the file follow it (the decoder's overrun bound); other
 * columns are decompressed (or copied) back to back into c->raw, followed
 * by TC_PAD zero bytes. */
static int cursor_load(hak_trace_reader *r, tr_cursor *c, const tr_chunk *ch)
{
    if (!c->dec && !(c->dec = malloc(sizeof *c->dec)))
        return cursor_error(r, ch, "out of memory");
    if (!c->buf && !(c->buf = malloc(TR_BATCH * sizeof *c->buf)))
        return cursor_error(r, ch, "out of memory");
    size_t need = (size_t)ch->raw_size + TC_PAD;
    if (c->raw_cap < need) {
        free(c->raw);
        if (!(c->raw = malloc(need))) {
            c->raw_cap = 0;
            return cursor_error(r, ch, "out of memory");
        }
        c->raw_cap = need;
    }
    const uint8_t *pay = r->data + ch->off + TF_CHUNK_HDR;
    const uint8_t *file_end = r->data + r->size;
    if (r->fd >= 0) {
        /* From the file, not the mapping (trace_pages.h): the payload
         * and TC_PAD zero bytes, so columns still decode in place. */
        size_t fneed = (size_t)ch->comp_size + TC_PAD;
        if (c->file_cap < fneed) {
            free(c->file);
            if (!(c->file = malloc(fneed))) {
                c->file_cap = 0;
                return cursor_error(r, ch, "out of memory");
            }
            c->file_cap = fneed;
        }
        const char *rwhy = tr_file_read(r->fd, ch->off + TF_CHUNK_HDR, c->file, ch->comp_size);
        if (rwhy)
            return cursor_error(r, ch, rwhy);
        memset(c->file + ch->comp_size, 0, TC_PAD);
        pay = c->file;
        file_end = c->file + fneed;
    }
    tc_dir dir;
    const char *why = tc_dir_parse(pay, ch->comp_size, ch->raw_size, ch->count,
                                   r->meta.version, &dir);
    if (why)
        return cursor_error(r, ch, why);
    const uint8_t *src = pay + dir.size, *col[TC_NCOL];
    uint8_t *dst = c->raw;
    for (int k = 0; k < TC_NCOL; k++) {
        unsigned mbit = k == TC_INREF ? TC_DIR2_MINREF : k == TC_OUT ? TC_DIR2_MOUT : 0;
        if (dir.mc & mbit) {           /* model-coded: needs OP, column 0 */
            if (!r->mc && !(r->mc = malloc(sizeof *r->mc)))
                return cursor_error(r, ch, "out of memory");
            if ((why = tc_mc_decode(r->mc, (unsigned)k, col[TC_OP], dir.raw[TC_OP], (int)dir.tok,
                                    ch->count, src, dir.stored[k], dst, dir.raw[k])))
                return cursor_error(r, ch, why);
            col[k] = dst;
            dst += dir.raw[k];
            src += dir.stored[k];
            continue;
        }
        if (dir.stored[k] == dir.raw[k] && (size_t)(file_end - src) >= dir.raw[k] + TC_PAD) {
            col[k] = src;
        } else {
            if (dir.stored[k] == dir.raw[k]) {
                memcpy(dst, src, dir.raw[k]);
            } else {
                size_t n = ZSTD_decompressDCtx(r->dctx, dst, dir.raw[k], src, dir.stored[k]);
                if (ZSTD_isError(n) || n != dir.raw[k])
                    return cursor_error(r, ch, "zstd frame does not decompress to its column size");
            }
            col[k] = dst;
            dst += dir.raw[k];
        }
        src += dir.stored[k];
    }
    memset(dst, 0, TC_PAD);
    tc_dec_init(c->dec, col, &dir, ch->count, ch->first_seq, ch->tid, r->meta.ts_unit_ns);
    return 0;
}

int tr_cursor_fill(hak_trace_reader *r, tr_cursor *c)
{
    if (c->bi < c->bn)
        return 1;
    const uint32_t *list = r->thr_chunks + r->thr_first[c->tid];
    uint32_t nlist = r->thr_first[c->tid + 1] - r->thr_first[c->tid];
    for (;;) {
        if (c->dec && c->dec->left) {
            long n = tc_dec_run(c->dec, c->buf, TR_BATCH);
            if (n < 0)
                return cursor_error(r, &r->chunks[list[c->next - 1]], c->dec->err);
            c->bi = 0;
            c->bn = (uint32_t)n;
            c->key = c->buf[0].seq;
            return 1;
        }
        if (c->next >= nlist) {
            tr_cursor_release(c);
            return 0;
        }
        if (cursor_load(r, c, &r->chunks[list[c->next++]]))
            return -1;
    }
}

/* Key of a cursor with nothing buffered: its next chunk's first seq. */
static int cursor_peek_key(const hak_trace_reader *r, tr_cursor *c)
{
    uint32_t nlist = r->thr_first[c->tid + 1] - r->thr_first[c->tid];
    if (c->next >= nlist)
        return 0;
    c->key = r->chunks[r->thr_chunks[r->thr_first[c->tid] + c->next]].first_seq;
    return 1;
}

void tr_iter_reset(hak_trace_reader *r)
{
    for (uint32_t t = 0; r->gcur && t < r->nthreads; t++)
        tr_cursor_release(&r->gcur[t]);
    for (uint32_t t = 0; r->tcur && t < r->nthreads; t++)
        tr_cursor_release(&r->tcur[t]);
    free(r->gcur);
    free(r->tcur);
    free(r->heap);
    r->gcur = r->tcur = NULL;
    r->heap = NULL;
    r->nheap = 0;
    r->cur = NULL;
    r->gerr = 0;
    r->err[0] = 0;
}

void hak_tr_rewind(hak_trace_reader *r) { tr_iter_reset(r); }

/* ---- heap of cursors ordered by (key, tid) ---- */
static inline int before(const tr_cursor *a, const tr_cursor *b)
{
    return a->key < b->key || (a->key == b->key && a->tid < b->tid);
}

static void heap_push(hak_trace_reader *r, uint32_t tid)
{
    uint32_t i = r->nheap++;
    while (i) {
        uint32_t p = (i - 1) / 2;
        if (!before(&r->gcur[tid], &r->gcur[r->heap[p]]))
            break;
        r->heap[i] = r->heap[p];
        i = p;
    }
    r->heap[i] = tid;
}

static uint32_t heap_pop(hak_trace_reader *r)
{
    uint32_t top = r->heap[0], last = r->heap[--r->nheap], i = 0;
    for (;;) {
        uint32_t k = 2 * i + 1;
        if (k >= r->nheap)
            break;
        if (k + 1 < r->nheap && before(&r->gcur[r->heap[k + 1]], &r->gcur[r->heap[k]]))
            k++;
        if (!before(&r->gcur[r->heap[k]], &r->gcur[last]))
            break;
        r->heap[i] = r->heap[k];
        i = k;
    }
    r->heap[i] = last;
    return top;
}

static int global_start(hak_trace_reader *r)
{
    r->gcur = calloc((size_t)r->nthreads + 1, sizeof *r->gcur);
    r->heap = malloc(((size_t)r->nthreads + 1) * sizeof *r->heap);
    if (!r->gcur || !r->heap) {
        snprintf(r->err, sizeof r->err, "out of memory");
        return -1;
    }
    for (uint32_t t = 0; t < r->nthreads; t++) {
        r->gcur[t].tid = t;
        if (cursor_peek_key(r, &r->gcur[t]))
            heap_push(r, t);
    }
    return 0;
}

long hak_tr_read(hak_trace_reader *r, hak_event *ev, size_t max)
{
    if (r->gerr)
        return -1;
    if (!r->gcur && global_start(r)) {
        r->gerr = 1;
        return -1;
    }
    size_t n = 0;
    while (n < max) {
        tr_cursor *c = r->cur;
        if (!c) {
            if (!r->nheap)
                break;
            c = r->cur = &r->gcur[heap_pop(r)];
            if (r->nheap) {
                r->lim_key = r->gcur[r->heap[0]].key;
                r->lim_tid = r->heap[0];
            } else {
                r->lim_key = UINT64_MAX;
                r->lim_tid = UINT32_MAX;
            }
        }
        if (r->lim_key == UINT64_MAX && c->bi == c->bn && c->dec && c->dec->left
            && max - n >= TR_BATCH) {
            /* Only this thread is left: decode straight into the caller's
             * buffer, skipping the cursor's batch copy.  Small reads
             * (hak_tr_next) go through the cursor's buffer instead, so
             * the decoder still runs whole batches. */
            long k = tc_dec_run(c->dec, ev + n, max - n);
            if (k < 0) {
                const uint32_t *list = r->thr_chunks + r->thr_first[c->tid];
                cursor_error(r, &r->chunks[list[c->next - 1]], c->dec->err);
                r->gerr = 1;
                return -1;
            }
            n += (size_t)k;
            continue;
        }
        int f = tr_cursor_fill(r, c);
        if (f < 0) {
            r->gerr = 1;
            return -1;
        }
        if (f == 0) {
            r->cur = NULL;
            continue;
        }
        uint32_t bi = c->bi, bn = c->bn;
        const hak_event *b = c->buf;
        if (r->lim_key == UINT64_MAX) {            /* no other thread pending */
            size_t k = bn - bi < max - n ? bn - bi : max - n;
            memcpy(ev + n, b + bi, k * sizeof *ev);
            n += k;
            bi += (uint32_t)k;
        } else {
            const uint64_t lk = r->lim_key;
            const uint32_t lt = r->lim_tid;
            while (bi < bn && n < max
                   && (b[bi].seq < lk || (b[bi].seq == lk && c->tid < lt)))
                ev[n++] = b[bi++];
        }
        c->bi = bi;
        if (bi < bn) {
            c->key = b[bi].seq;
            if (n < max) {                         /* another thread is next */
                heap_push(r, c->tid);
                r->cur = NULL;
            }
        }
    }
    return (long)n;
}

int hak_tr_next(hak_trace_reader *r, hak_event *ev)
{
    tr_cursor *c = r->cur;
    if (c && c->bi < c->bn) {                      /* fast path within a run */
        const hak_event *e = &c->buf[c->bi];
        if (e->seq < r->lim_key || (e->seq == r->lim_key && c->tid < r->lim_tid)) {
            *ev = *e;
            c->bi++;
            return 1;
        }
    }
    long n = hak_tr_read(r, ev, 1);
    return n < 0 ? -1 : (int)n;
}

int hak_tr_next_thread(hak_trace_reader *r, uint32_t tid, hak_event *ev)
{
    if (tid >= r->nthreads)
        return 0;
    if (!r->tcur) {
        if (!(r->tcur = calloc(r->nthreads, sizeof *r->tcur))) {
            snprintf(r->err, sizeof r->err, "out of memory");
            return -1;
        }
        for (uint32_t t = 0; t < r->nthreads; t++)
            r->tcur[t].tid = t;
    }
    tr_cursor *c = &r->tcur[tid];
    int f = tr_cursor_fill(r, c);
    if (f <= 0)
        return f;
    *ev = c->buf[c->bi++];
    return 1;
}
