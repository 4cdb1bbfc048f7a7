/* trace_read.c - opening a trace: file header, chunk index, side tables and
 * the status of the readable prefix.
 *
 * The whole file is scanned once at open: every chunk header is checked
 * against the limits in trace_fmt.h and the bytes present, every checksum is
 * verified, and side-record chunks are decoded.  The first problem ends the
 * scan; everything before it stays readable and st.reason names the offset.
 * Event payloads are read (pread) and decompressed lazily by trace_iter.c.
 * The scan keeps only a window of the mapped file resident
 * (lib/trace_pages.h), so opening a trace costs no memory per byte.
 */
#include "trace_reader.h"
#include "trace_fmt.h"
#include "trace_meta.h"
#include "hak_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void stop(hak_trace_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void stop(hak_trace_reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->st.reason, sizeof r->st.reason, fmt, ap);
    va_end(ap);
    r->st.truncated = 1;
}

/* Grows *p (element size sz) to hold n + 1 elements. */
static int reserve(void **p, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 16;
    void *q = realloc(*p, c * sz);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* ---- bounded varint reading for side records ---- */
typedef struct rd { const uint8_t *p, *end; int bad; } rd;

static uint64_t rd_u(rd *d)
{
    uint64_t v = 0;
    if (d->bad || d->p >= d->end || !(d->p = tc_get(d->p, &v)) || d->p > d->end) {
        d->bad = 1;
        d->p = d->end;
        return 0;
    }
    return v;
}

/* ---- reader limits (FORMAT.md, "Reader limits") ---- */

/* NULL when `more` bytes still fit in the side-record budget, else the
 * reason.  RSS samples count as read up to TF_RSS_HELD_MAX: once thinned,
 * the array holds half as many but its memory stays in use (and the
 * writer counts them the same way). */
static const char *over_budget(hak_trace_reader *r, uint64_t more)
{
    uint64_t rss = r->rss_seen < TF_RSS_HELD_MAX ? r->rss_seen : TF_RSS_HELD_MAX;
    rss += r->hsmp_seen < TF_RSS_HELD_MAX ? r->hsmp_seen : TF_RSS_HELD_MAX;
    if (r->side_mem + rss * TF_COST_RSS + more <= TF_SIDE_MEM_MAX)
        return NULL;
    snprintf(r->why, sizeof r->why, "side records exceed the reader limit of %llu MiB held "
             "(FORMAT.md, reader limits)", (unsigned long long)(TF_SIDE_MEM_MAX >> 20));
    return r->why;
}

static const char *over_count(hak_trace_reader *r, const char *what, unsigned long long max)
{
    snprintf(r->why, sizeof r->why, "more than %llu %s (reader limit, FORMAT.md)", max, what);
    return r->why;
}

static const char *load_sites(hak_trace_reader *r, rd *d, uint32_t count)
{
    uint64_t prev = 0;
    for (uint32_t i = 0; i < count && !d->bad; i++) {
        uint64_t id = rd_u(d), depth = rd_u(d);
        if (d->bad || id == 0 || id > UINT32_MAX || depth > TF_SITE_DEPTH_MAX)
            return "bad call-site record";
        if (r->nsites >= TF_SITES_HELD_MAX)
            return over_count(r, "call-site records", TF_SITES_HELD_MAX);
        if (r->nips + depth > TF_FRAMES_HELD_MAX)
            return over_count(r, "call-site frames", TF_FRAMES_HELD_MAX);
        uint64_t cost = TF_COST_SITE + TF_COST_FRAME * depth;
        const char *why = over_budget(r, cost);
        if (why)
            return why;
        r->side_mem += cost;
        if (reserve((void **)&r->sites, &r->sites_cap, r->nsites, sizeof *r->sites))
            return "out of memory";
        /* ips holds an offset until all chunks are loaded (see fix_sites). */
        r->sites[r->nsites++] = (hak_site){.id = (uint32_t)id, .depth = (uint32_t)depth,
                                           .ips = (const uint64_t *)(uintptr_t)r->nips};
        for (uint64_t k = 0; k < depth; k++) {
            prev += (uint64_t)tc_unzz(rd_u(d));
            if (reserve((void **)&r->ips, &r->ips_cap, r->nips, sizeof *r->ips))
                return "out of memory";
            r->ips[r->nips++] = prev;
        }
    }
    return d->bad ? "bad call-site record" : NULL;
}

static const char *load_modules(hak_trace_reader *r, rd *d, uint32_t count)
{
    for (uint32_t i = 0; i < count && !d->bad; i++) {
        uint64_t plen = rd_u(d);
        if (d->bad || plen > TF_PATH_MAX || plen > (uint64_t)(d->end - d->p))
            return "bad module record";
        if (r->nmods >= TF_MODULES_HELD_MAX)
            return over_count(r, "module records", TF_MODULES_HELD_MAX);
        const char *why = over_budget(r, TF_COST_MODULE + plen);
        if (why)
            return why;
        hak_module m = {0};
        char *path = malloc(plen + 1);
        if (!path)
            return "out of memory";
        memcpy(path, d->p, plen);
        path[plen] = 0;
        d->p += plen;
        m.path = path;
        m.base = rd_u(d);
        m.size = rd_u(d);
        if (d->bad || d->p >= d->end || *d->p > sizeof m.build_id
            || *d->p > d->end - d->p - 1) {
            free(path);
            return "bad module record";
        }
        m.build_id_len = *d->p++;
        memcpy(m.build_id, d->p, m.build_id_len);
        d->p += m.build_id_len;
        if (reserve((void **)&r->mods, &r->mods_cap, r->nmods, sizeof *r->mods)) {
            free(path);
            return "out of memory";
        }
        r->mods[r->nmods++] = m;
        r->side_mem += TF_COST_MODULE + plen;
    }
    return d->bad ? "bad module record" : NULL;
}

/* RSS samples: a long recording has millions (one per 20 ms), so instead
 * of refusing them past TF_RSS_HELD_MAX the reader keeps every other one
 * of those it holds and from then on every rss_stride-th sample read
 * (hak_tr_rss_stride says so): the timeline stays whole at a coarser
 * step, in bounded memory. */
typedef struct samples_ref {     /* the reader's RSS or heap samples */
    hak_rss_sample **v;
    size_t *n, *cap;
    uint64_t *seen;
    uint32_t *stride;
} samples_ref;

static void thin_samples(samples_ref s)
{
    size_t k = 0;
    for (size_t i = 0; i < *s.n; i += 2)
        (*s.v)[k++] = (*s.v)[i];
    *s.n = k;
    *s.stride *= 2;
}

/* RSS (kind 4) and heap (kind 6) records: the same layout and limits. */
static const char *load_samples(hak_trace_reader *r, rd *d, uint32_t count, samples_ref s)
{
    uint64_t ts = 0;
    for (uint32_t i = 0; i < count && !d->bad; i++) {
        ts += (uint64_t)tc_unzz(rd_u(d));
        uint64_t bytes = rd_u(d);
        if (d->bad)
            break;
        if ((*s.seen)++ % *s.stride)
            continue;
        if (*s.n >= TF_RSS_HELD_MAX) {
            thin_samples(s);
            if ((*s.seen - 1) % *s.stride)
                continue;         /* not on the new stride */
        }
        const char *why = over_budget(r, TF_COST_RSS);
        if (why)
            return why;
        if (reserve((void **)s.v, s.cap, *s.n, sizeof **s.v))
            return "out of memory";
        (*s.v)[(*s.n)++] = (hak_rss_sample){ts, bytes};
    }
    return d->bad ? "bad RSS or heap record" : NULL;
}

static const char *load_rss(hak_trace_reader *r, rd *d, uint32_t count)
{
    return load_samples(r, d, count,
                        (samples_ref){&r->rss, &r->nrss, &r->rss_cap, &r->rss_seen, &r->rss_stride});
}

static const char *load_heap(hak_trace_reader *r, rd *d, uint32_t count)
{
    return load_samples(r, d, count,
                        (samples_ref){&r->hsmp, &r->nhsmp, &r->hsmp_cap, &r->hsmp_seen, &r->hsmp_stride});
}

/* Loss records (kind 5): why the recorder lost events, and when. */
static const char *load_losses(hak_trace_reader *r, rd *d, uint32_t count)
{
    for (uint32_t i = 0; i < count && !d->bad; i++) {
        uint64_t reason = rd_u(d), at = rd_u(d), lost = rd_u(d), dlen = rd_u(d);
        if (d->bad || reason > UINT32_MAX || dlen > TF_LOSS_DETAIL_MAX
            || dlen > (uint64_t)(d->end - d->p))
            return "bad loss record";
        if (r->nlosses >= TF_LOSSES_HELD_MAX)
            return over_count(r, "loss records", TF_LOSSES_HELD_MAX);
        const char *why = over_budget(r, TF_COST_LOSS + dlen);
        if (why)
            return why;
        if (reserve((void **)&r->losses, &r->losses_cap, r->nlosses, sizeof *r->losses))
            return "out of memory";
        char *detail = malloc(dlen + 1);
        if (!detail)
            return "out of memory";
        memcpy(detail, d->p, dlen);
        detail[dlen] = 0;
        d->p += dlen;
        r->losses[r->nlosses++] = (hak_tr_loss){(uint32_t)reason, at, lost, detail};
        r->side_mem += TF_COST_LOSS + dlen;
    }
    return d->bad ? "bad loss record" : NULL;
}

/* Decompresses and parses one side-record chunk.  NULL or a reason. */
static const char *load_side(hak_trace_reader *r, const tf_chunk_hdr *h,
                             const uint8_t *payload)
{
    /* Bounds the time a file of tiny frames that expand a thousandfold
     * can cost, as the limits above bound its memory. */
    if (r->side_raw + h->raw_size > TF_SIDE_RAW_TOTAL) {
        snprintf(r->why, sizeof r->why, "side records decompress to more than %llu MiB in all "
                 "(reader limit, FORMAT.md)", (unsigned long long)(TF_SIDE_RAW_TOTAL >> 20));
        return r->why;
    }
    r->side_raw += h->raw_size;
    uint8_t *raw = malloc((size_t)h->raw_size + TC_PAD);
    if (!raw)
        return "out of memory";
    memset(raw + h->raw_size, 0, TC_PAD);
    const char *why = NULL;
    if (h->flags & TF_FLAG_ZSTD) {
        size_t n = ZSTD_decompressDCtx(r->dctx, raw, h->raw_size, payload, h->comp_size);
        if (ZSTD_isError(n) || n != h->raw_size)
            why = "zstd frame does not decompress to its recorded size";
    } else {
        memcpy(raw, payload, h->raw_size);
    }
    if (!why) {
        rd d = {raw, raw + h->raw_size, 0};
        why = h->kind == TF_KIND_SITES ? load_sites(r, &d, h->count)
            : h->kind == TF_KIND_MODULES ? load_modules(r, &d, h->count)
            : h->kind == TF_KIND_LOSS ? load_losses(r, &d, h->count)
            : h->kind == TF_KIND_HEAP ? load_heap(r, &d, h->count)
            : load_rss(r, &d, h->count);
        if (!why && d.p != d.end)
            why = "trailing bytes after the side records";
    }
    free(raw);
    return why;
}

/* Prefetches the first bytes of p[0..n) into L2 ahead of a sequential
 * pass.  The checksum pass over a chunk is bound by memory latency: the
 * hardware prefetcher stops at every 4 KiB page edge.  Issuing the whole
 * payload's loads first lets them overlap (about 1.4x faster checksums of
 * a file in the page cache); 1 MiB stays well inside L2. */
static void prefetch_payload(const uint8_t *p, size_t n)
{
    if (n > (1u << 20))
        n = 1u << 20;
    for (size_t i = 0; i < n; i += 64)
        __builtin_prefetch(p + i, 0, 1);
}

/* Checks one chunk header against the file and the limits.  NULL or a
 * reason; *stop_scan distinguishes "end of data" from damage. */
/* NULL when the chunk at off is sound, else why not; *cut = 1 when the
 * reason is that the file ends inside the chunk (a cut, not damage). */
static const char *check_chunk(const hak_trace_reader *r, uint64_t off,
                               const tf_chunk_hdr *h, char *buf, size_t len, int *cut)
{
    uint64_t left = r->size - off - TF_CHUNK_HDR;
    if (h->kind != TF_KIND_EVENTS && h->kind != TF_KIND_SITES && h->kind != TF_KIND_MODULES
        && h->kind != TF_KIND_RSS && h->kind != TF_KIND_LOSS && h->kind != TF_KIND_HEAP
        && h->kind != TF_KIND_END)
        return snprintf(buf, len, "unknown chunk kind %u", h->kind), buf;
    if (h->flags & ~TF_FLAG_MASK || h->reserved)
        return "unknown chunk flags";
    if (h->raw_size > TF_RAW_MAX)
        return snprintf(buf, len, "payload size %u exceeds the %u limit", h->raw_size, TF_RAW_MAX), buf;
    if (h->comp_size > left)
        return *cut = 1, snprintf(buf, len, "payload of %u bytes runs past the end of the file "
                        "(%llu bytes left)", h->comp_size, (unsigned long long)left), buf;
    if (!(h->flags & TF_FLAG_ZSTD) && h->kind != TF_KIND_EVENTS && h->comp_size != h->raw_size)
        return "stored payload size differs from its raw size";
    if ((h->flags & TF_FLAG_ZSTD) && h->comp_size > ZSTD_compressBound(h->raw_size))
        return "compressed size too large for its raw size";
    const uint8_t *hb = r->data + off;
    prefetch_payload(hb + TF_CHUNK_HDR, h->comp_size);
    if (tf_chunk_csum(hb, hb + TF_CHUNK_HDR, h->comp_size) != h->checksum)
        return "checksum mismatch";
    if (h->flags & TF_FLAG_ZSTD) {
        unsigned long long cs = ZSTD_getFrameContentSize(hb + TF_CHUNK_HDR, h->comp_size);
        if (cs != h->raw_size)
            return "zstd frame size differs from the chunk header";
    }
    tc_dir dir;
    const char *why;
    switch (h->kind) {
    case TF_KIND_EVENTS:
        if (h->count == 0 || h->count > TF_CHUNK_EVENTS || h->count > h->raw_size)
            return snprintf(buf, len, "bad event count %u", h->count), buf;
        if (h->tid >= TF_MAX_THREADS)
            return snprintf(buf, len, "thread index %u out of range", h->tid), buf;
        if (h->flags)
            return "event chunks take no flags";
        if ((why = tc_dir_parse(hb + TF_CHUNK_HDR, h->comp_size, h->raw_size, h->count,
                                r->meta.version, &dir)))
            return why;
        break;
    case TF_KIND_END:
        if (h->raw_size || h->tid || h->count != r->nchunks_all || h->first_seq != r->nevents)
            return "end marker does not match the chunks before it";
        break;
    default:
        if (h->tid || h->first_seq || h->count > h->raw_size)
            return "bad side-record chunk header";
    }
    return NULL;
}

static int scan_chunks(hak_trace_reader *r, uint64_t off)
{
    char buf[160];
    r->st.valid_bytes = off;
    for (;;) {
        if (off == r->size) {
            stop(r, "offset %llu: file ends without an end marker (cut off?)",
                 (unsigned long long)off);
            r->st.cut = 1;
            return 0;
        }
        if (r->size - off < TF_CHUNK_HDR) {
            stop(r, "offset %llu: chunk header cut off (%llu of %u bytes)",
                 (unsigned long long)off, (unsigned long long)(r->size - off), TF_CHUNK_HDR);
            r->st.cut = 1;
            return 0;
        }
        tf_chunk_hdr h;
        tr_pages_scan(&r->pages, off, TF_CHUNK_HDR);
        tf_hdr_unpack(r->data + off, &h);
        tr_pages_scan(&r->pages, off, TF_CHUNK_HDR + (uint64_t)h.comp_size);
        int cut = 0;
        const char *why = check_chunk(r, off, &h, buf, sizeof buf, &cut);
        if (!why && (h.kind == TF_KIND_SITES || h.kind == TF_KIND_MODULES || h.kind == TF_KIND_RSS
                     || h.kind == TF_KIND_LOSS || h.kind == TF_KIND_HEAP))
            why = load_side(r, &h, r->data + off + TF_CHUNK_HDR);
        if (why) {
            stop(r, "chunk at offset %llu: %s", (unsigned long long)off, why);
            r->st.cut = cut;
            return 0;
        }
        if (h.kind == TF_KIND_END) {
            off += TF_CHUNK_HDR;
            r->st.valid_bytes = off;
            if (off < r->size)
                snprintf(r->st.reason, sizeof r->st.reason,
                         "offset %llu: %llu bytes after the end marker ignored",
                         (unsigned long long)off, (unsigned long long)(r->size - off));
            return 0;
        }
        r->nchunks_all++;
        if (h.kind == TF_KIND_EVENTS) {
            if (reserve((void **)&r->chunks, &r->chunks_cap, r->nchunks, sizeof *r->chunks))
                return -1;
            r->chunks[r->nchunks++] = (tr_chunk){off, h.first_seq, h.tid, h.count,
                                                 h.raw_size, h.comp_size, h.flags};
            r->nevents += h.count;
            if (h.tid + 1 > r->nthreads)
                r->nthreads = h.tid + 1;
        }
        off += TF_CHUNK_HDR + (uint64_t)h.comp_size;
        r->st.valid_bytes = off;
    }
}

static int site_cmp(const void *a, const void *b)
{
    uint32_t x = ((const hak_site *)a)->id, y = ((const hak_site *)b)->id;
    return x < y ? -1 : x > y;
}

/* Turns the ips offsets into pointers, sorts by id and drops duplicates. */
static void fix_sites(hak_trace_reader *r)
{
    if (!r->nsites)
        return;
    for (size_t i = 0; i < r->nsites; i++)
        r->sites[i].ips = r->ips ? r->ips + (uintptr_t)r->sites[i].ips : NULL;
    qsort(r->sites, r->nsites, sizeof *r->sites, site_cmp);
    size_t k = 0;
    for (size_t i = 0; i < r->nsites; i++)
        if (!k || r->sites[k - 1].id != r->sites[i].id)
            r->sites[k++] = r->sites[i];
    r->nsites = k;
}

/* Per-thread chunk lists (CSR layout). */
static int index_threads(hak_trace_reader *r)
{
    r->thr_first = calloc((size_t)r->nthreads + 1, sizeof *r->thr_first);
    r->thr_chunks = malloc((r->nchunks + 1) * sizeof *r->thr_chunks);
    r->thr_nev = calloc((size_t)r->nthreads + 1, sizeof *r->thr_nev);
    if (!r->thr_first || !r->thr_chunks || !r->thr_nev)
        return -1;
    for (size_t i = 0; i < r->nchunks; i++) {
        r->thr_first[r->chunks[i].tid + 1]++;
        r->thr_nev[r->chunks[i].tid] += r->chunks[i].count;
    }
    for (uint32_t t = 0; t < r->nthreads; t++)
        r->thr_first[t + 1] += r->thr_first[t];
    uint32_t *fill = calloc((size_t)r->nthreads + 1, sizeof *fill);
    if (!fill)
        return -1;
    for (size_t i = 0; i < r->nchunks; i++) {
        uint32_t t = r->chunks[i].tid;
        r->thr_chunks[r->thr_first[t] + fill[t]++] = (uint32_t)i;
    }
    free(fill);
    return 0;
}

/* Parses the file header.  0, or -1 with the reason in err. */
static int read_header(hak_trace_reader *r, uint64_t *end, char *err, size_t errlen)
{
    const uint8_t *d = r->data;
    size_t n = r->size;
    if (n == 0)
        return snprintf(err, errlen, "offset 0: empty file, not a hakmem trace"), -1;
    if (memcmp(d, HAK_TRACE_MAGIC, n < 8 ? n : 8))
        return snprintf(err, errlen, "offset 0: not a hakmem trace (bad magic)"), -1;
    if (n < TF_FILE_FIXED)
        return snprintf(err, errlen, "offset %zu: file header cut off (%zu of %u bytes)",
                        n, n, TF_FILE_FIXED), -1;
    uint32_t version = tf_get32(d + 8), mlen = tf_get32(d + 12);
    if (version < HAK_TRACE_VERSION_MIN || version > HAK_TRACE_VERSION)
        return snprintf(err, errlen, "offset 8: trace format version %u, this build reads "
                        "versions %d to %d", version, HAK_TRACE_VERSION_MIN,
                        HAK_TRACE_VERSION), -1;
    if (mlen > TF_META_MAX)
        return snprintf(err, errlen, "offset 12: metadata length %u exceeds the %u limit",
                        mlen, TF_META_MAX), -1;
    uint64_t need = (uint64_t)TF_FILE_FIXED + mlen + 4;
    if (n < need)
        return snprintf(err, errlen, "offset %zu: file header cut off (%zu of %llu bytes)",
                        n, n, (unsigned long long)need), -1;
    if (tf_get32(d + TF_FILE_FIXED + mlen) != tf_header_csum(d, TF_FILE_FIXED + mlen))
        return snprintf(err, errlen, "offset %u: file header checksum mismatch",
                        TF_FILE_FIXED + mlen), -1;
    const char *why = NULL;
    r->meta.version = version;
    if (tf_meta_decode(d + TF_FILE_FIXED, mlen, &r->meta, &why))
        return snprintf(err, errlen, "offset %u: %s", TF_FILE_FIXED, why), -1;
    *end = need;
    return 0;
}

static hak_trace_reader *open_data(hak_trace_reader *r, char *err, size_t errlen)
{
    uint64_t off = 0;
    r->st.file_bytes = r->size;
    if (!(r->dctx = ZSTD_createDCtx())) {
        snprintf(err, errlen, "out of memory");
        goto bad;
    }
    if (read_header(r, &off, err, errlen))
        goto bad;
    int scan = scan_chunks(r, off);
    tr_pages_drop_all(&r->pages);       /* the events are read from the start */
    if (scan || index_threads(r)) {
        snprintf(err, errlen, "out of memory");
        goto bad;
    }
    fix_sites(r);
    r->st.incomplete = r->nlosses > 0;
    return r;
bad:
    hak_tr_close(r);
    return NULL;
}

hak_trace_reader *hak_tr_open_mem(const void *data, size_t len, char *err, size_t errlen)
{
    hak_trace_reader *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->data = data;
    r->size = len;
    r->fd = -1;
    r->rss_stride = 1;
    r->hsmp_stride = 1;
    return open_data(r, err, errlen);
}

hak_trace_reader *hak_tr_open(const char *path, char *err, size_t errlen)
{
    /* O_NONBLOCK: opening a FIFO without a writer would otherwise block
     * forever before the regular-file check below could refuse it (the
     * flag has no effect on the mmap of a regular file). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb)) {
        snprintf(err, errlen, "%s", strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "%s", S_ISDIR(sb.st_mode) ? "is a directory"
                 : S_ISFIFO(sb.st_mode) ? "a FIFO or pipe, not a regular file"
                 : S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) ? "a device, not a regular file"
                 : "not a regular file");
        close(fd);
        return NULL;
    }
    hak_trace_reader *r = calloc(1, sizeof *r);
    if (!r) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->size = (size_t)sb.st_size;
    r->rss_stride = 1;
    r->hsmp_stride = 1;
    if (r->size) {
        void *p = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            snprintf(err, errlen, "mmap: %s", strerror(errno));
            close(fd);
            free(r);
            return NULL;
        }
        /* No read-ahead of the whole file here: the scan brings it in a
         * window at a time once the magic says it is a trace (a huge or
         * sparse file that is not one then costs a page), and drops what
         * it has passed (trace_pages.h). */
        madvise(p, r->size, MADV_SEQUENTIAL);
        r->data = p;
        r->mapped = 1;
        tr_pages_init(&r->pages, p, r->size, 1);
    }
    r->fd = fd;                         /* event chunks are read with pread */
    return open_data(r, err, errlen);
}

void hak_tr_close(hak_trace_reader *r)
{
    if (!r)
        return;
    tr_iter_reset(r);
    free(r->gcur);
    free(r->tcur);
    free(r->heap);
    if (r->mapped)
        munmap((void *)r->data, r->size);
    if (r->fd >= 0)
        close(r->fd);
    tf_meta_free(&r->meta);
    ZSTD_freeDCtx(r->dctx);
    free(r->mc);
    free(r->chunks);
    free(r->thr_first);
    free(r->thr_chunks);
    free(r->thr_nev);
    free(r->sites);
    free(r->ips);
    for (size_t i = 0; i < r->nmods; i++)
        free((char *)r->mods[i].path);
    free(r->mods);
    free(r->rss);
    free(r->hsmp);
    for (size_t i = 0; i < r->nlosses; i++)
        free((char *)r->losses[i].detail);
    free(r->losses);
    free(r);
}

const hak_trace_meta *hak_tr_meta(const hak_trace_reader *r) { return &r->meta; }
const hak_tr_status *hak_tr_status_get(const hak_trace_reader *r) { return &r->st; }
uint64_t hak_tr_nevents(const hak_trace_reader *r) { return r->nevents; }
uint32_t hak_tr_nthreads(const hak_trace_reader *r) { return r->nthreads; }
uint64_t hak_tr_nchunks(const hak_trace_reader *r) { return r->nchunks_all; }
uint64_t hak_tr_thread_nevents(const hak_trace_reader *r, uint32_t tid)
{
    return tid < r->nthreads ? r->thr_nev[tid] : 0;
}
const char *hak_tr_error(const hak_trace_reader *r) { return r->err; }

size_t hak_tr_sites(const hak_trace_reader *r, const hak_site **out)
{
    *out = r->sites;
    return r->nsites;
}

const hak_site *hak_tr_site(const hak_trace_reader *r, uint32_t id)
{
    size_t lo = 0, hi = r->nsites;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->sites[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->nsites && r->sites[lo].id == id ? &r->sites[lo] : NULL;
}

size_t hak_tr_modules(const hak_trace_reader *r, const hak_module **out)
{
    *out = r->mods;
    return r->nmods;
}

size_t hak_tr_rss(const hak_trace_reader *r, const hak_rss_sample **out)
{
    *out = r->rss;
    return r->nrss;
}

uint32_t hak_tr_rss_stride(const hak_trace_reader *r) { return r->rss_stride; }

size_t hak_tr_heap(const hak_trace_reader *r, const hak_rss_sample **out)
{
    *out = r->hsmp;
    return r->nhsmp;
}

uint32_t hak_tr_heap_stride(const hak_trace_reader *r) { return r->hsmp_stride; }

hak_rss_sample *hak_tr_take_rss(hak_trace_reader *r, size_t *n)
{
    hak_rss_sample *s = r->rss;
    *n = r->nrss;
    r->rss = NULL;
    r->nrss = r->rss_cap = 0;
    return s;
}

size_t hak_tr_losses(const hak_trace_reader *r, const hak_tr_loss **out)
{
    *out = r->losses;
    return r->nlosses;
}
