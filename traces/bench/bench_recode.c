/* bench_recode - where a recorded trace's bytes go, and what encoding it
 * costs: the trace's event chunks are encoded again, chunk by chunk with
 * the same threads and event counts, by this build's encoder.
 *
 * Prints, as `key value` lines:
 * - per column, the bytes per event the file stores (`orig_COL`: as
 *   recorded, whatever zstd level the recorder used) and the re-encoding
 *   stores at --level (`col_COL`), and its raw bytes (`raw_COL`);
 * - bytes per event of the file's event chunks and of the re-encoding
 *   (payloads and chunk headers; side records are not re-encoded);
 * - encode_ns: CPU ns per event of the encoder alone (events -> columns,
 *   tc_encode), the best of --repeat passes over the trace, each chunk's
 *   events copied to a buffer first as the recorder's writer has them;
 *   encode_life_ns: the same with making and freeing the encoder;
 *   zstd_ns: encoder and zstd together (hak_tw_enc_events) minus that;
 * - decode_ns: CPU ns per event to read the re-encoded trace back (with
 *   -o), after checking it gives the same events.
 * With --mem instead: what the writer and an encoder keep resident (the
 * process's resident anonymous bytes before and after, with every block of 32 KiB
 * or more its own mapping, as the recorder's arena gives them: only
 * touched pages count), in KiB:
 * - writer_open_kib: hak_tw_open_fd's writer; writer_side_kib: after it
 *   wrote the trace's call sites at --level (side records: their zstd
 *   context), and
 *   side_bytes, what they took in the file;
 * - enc_new_kib: hak_tw_enc_new's encoder before its first chunk;
 *   enc_peak_kib: the most it held while encoding the chunks at --level
 *   (the recorder's working encoder: tables, columns, zstd context).
 *
 * usage: bench_recode TRACE [--level L] [--repeat N] [--mode M]
 *                     [--coff C] [--tokens 0|1] [--as-version V] [--encoder-only] [--chunks N] [--rechunk N] [-o FILE]
 *                     [--mem]
 * (--mode/--coff: force the reference mode / class offset of every chunk
 * in the encoder-alone passes, for experiments; --as-version: write chunks
 * of an older format version and label the file so, for older builds.)
 */
#include "trace.h"
#include "trace_codec.h"
#include "trace_fmt.h"
#include "hak_util.h"

#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *col_name[TC_NCOL] = {"OP", "SEQ", "TS", "SIZE", "AUX", "INREF",
                                        "PTR", "OUT", "SITE", "ERR", "RAW"};

typedef struct chunk { uint32_t tid, n; } chunk;

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc(*len + 1);
    if (p && fread(p, 1, *len, f) != *len) {
        free(p);
        p = NULL;
    }
    fclose(f);
    return p;
}

/* The event chunks of file b (tid and count, in file order); adds each
 * column's stored bytes to stored[] and the chunks' bytes to *bytes.
 * Returns the number of chunks, -1 on a bad file. */
static long scan_chunks(const uint8_t *b, size_t len, chunk **out, uint64_t stored[TC_NCOL],
                        uint64_t *bytes)
{
    if (len < TF_FILE_FIXED + 4 || memcmp(b, "HAKTRACE", 8))
        return -1;
    uint32_t version = tf_get32(b + 8);
    size_t off = TF_FILE_FIXED + tf_get32(b + 12) + 4;
    long n = 0, cap = 0;
    while (off + TF_CHUNK_HDR <= len) {
        tf_chunk_hdr h;
        tf_hdr_unpack(b + off, &h);
        if (h.kind == TF_KIND_END || off + TF_CHUNK_HDR + h.comp_size > len)
            break;
        if (h.kind == TF_KIND_EVENTS) {
            tc_dir d;
            if (tc_dir_parse(b + off + TF_CHUNK_HDR, h.comp_size, h.raw_size, h.count,
                             version, &d))
                return -1;
            for (int k = 0; k < TC_NCOL; k++)
                stored[k] += d.stored[k];
            *bytes += TF_CHUNK_HDR + h.comp_size;
            if (n == cap && !(*out = realloc(*out, (size_t)(cap = 2 * cap + 64) * sizeof **out)))
                return -1;
            (*out)[n++] = (chunk){h.tid, h.count};
        }
        off += TF_CHUNK_HDR + h.comp_size;
    }
    return n;
}

/* The same events in chunks of per events (each thread's in its order,
 * threads one after the other): what the file's chunking costs. */
static long rechunk(chunk **c, long nc, uint32_t per)
{
    uint64_t *total = calloc(TF_MAX_THREADS, sizeof *total);
    long n = 0;
    for (long j = 0; j < nc; j++)
        total[(*c)[j].tid] += (*c)[j].n;
    for (uint32_t t = 0; t < TF_MAX_THREADS; t++)
        n += (long)((total[t] + per - 1) / per);
    chunk *o = malloc((size_t)(n ? n : 1) * sizeof *o);
    long k = 0;
    for (uint32_t t = 0; t < TF_MAX_THREADS; t++)
        for (uint64_t left = total[t]; left; left -= o[k++].n)
            o[k] = (chunk){t, (uint32_t)(left < per ? left : per)};
    free(total);
    free(*c);
    *c = o;
    return n;
}

/* The events of the chunks, in chunk order. */
static hak_event *load_events(hak_trace_reader *r, const chunk *c, long nc, uint64_t *total)
{
    uint64_t n = 0;
    for (long j = 0; j < nc; j++)
        n += c[j].n;
    hak_event *ev = malloc((n ? n : 1) * sizeof *ev);
    if (!ev)
        return NULL;
    uint64_t at = 0;
    for (long j = 0; j < nc; j++)
        for (uint32_t i = 0; i < c[j].n; i++)
            if (hak_tr_next_thread(r, c[j].tid, &ev[at++]) != 1) {
                fprintf(stderr, "bench_recode: %s\n", hak_tr_error(r));
                free(ev);
                return NULL;
            }
    *total = n;
    return ev;
}

/* Labels file as format version v (its header checksum follows). */
static int relabel(const char *file, uint32_t v)
{
    size_t len;
    uint8_t *b = slurp(file, &len);
    if (!b || len < TF_FILE_FIXED + 4)
        return -1;
    size_t hl = TF_FILE_FIXED + tf_get32(b + 12);
    tf_put32(b + 8, v);
    tf_put32(b + hl, tf_header_csum(b, hl));
    FILE *f = fopen(file, "r+b");
    int rc = !f || fwrite(b, 1, hl + 4, f) != hl + 4;
    if (f)
        rc |= fclose(f) != 0;
    free(b);
    return rc ? -1 : 0;
}

/* The process's resident anonymous bytes (RssAnon in /proc/self/status:
 * the code pages of libzstd and this program, paged in on first use, are
 * no encoder's memory). */
static uint64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "RssAnon: %llu", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return (uint64_t)kib * 1024u;
}

/* --mem (see the top): resident KiB of a writer and of a working encoder
 * re-encoding the chunks at `level`. */
static void measure_mem(int level, hak_trace_reader *r, const hak_event *ev, const chunk *c,
                        long nc, hak_event *stage)
{
    /* resident before r0 (not 0: GCC would make malloc + memset 0 a calloc) */
    memset(stage, 0xff, TF_CHUNK_EVENTS * sizeof *stage);
    hak_trace_meta meta = *hak_tr_meta(r);
    char err[256];
    uint64_t r0 = rss_bytes();
    hak_trace_writer *w = hak_tw_open("/dev/null", &meta, err, sizeof err);
    if (!w) {
        fprintf(stderr, "bench_recode: %s\n", err);
        exit(1);
    }
    if (hak_tw_set_level(w, level))      /* side records at --level too */
        exit(1);
    uint64_t r1 = rss_bytes(), b1 = hak_tw_bytes(w);
    const hak_site *sites;
    size_t ns = hak_tr_sites(r, &sites);
    for (size_t i = 0; i < ns; i++)
        if (hak_tw_site(w, sites[i].id, sites[i].ips, sites[i].depth))
            exit(1);
    if (hak_tw_flush(w))
        exit(1);
    uint64_t r2 = rss_bytes(), side_bytes = hak_tw_bytes(w) - b1;
    hak_tw_enc *e = hak_tw_enc_new(w);
    if (!e || hak_tw_enc_set_level(e, level))
        exit(1);
    uint64_t r3 = rss_bytes(), peak = r3, at = 0;
    for (long j = 0; j < nc; j++) {
        memcpy(stage, ev + at, c[j].n * sizeof *ev);
        at += c[j].n;
        hak_tw_array a;
        hak_tw_source src = hak_tw_array_source(&a, stage, c[j].n);
        if (hak_tw_enc_events(e, c[j].tid, &src)) {
            fprintf(stderr, "bench_recode: %s\n", hak_tw_enc_error(e));
            exit(1);
        }
        uint64_t now = rss_bytes();
        peak = now > peak ? now : peak;
    }
    printf("sites %zu\nside_bytes %llu\nwriter_open_kib %.0f\nwriter_side_kib %.0f\nenc_new_kib %.0f\n"
           "enc_peak_kib %.0f\n", ns, (unsigned long long)side_bytes, (r1 - r0) / 1024.0, (r2 - r0) / 1024.0,
           (r3 - r2) / 1024.0, (peak - r2) / 1024.0);
    hak_tw_enc_free(e);
    hak_tw_close(w);
}

typedef struct opts {
    int level, repeat, mode, coff, tokens;
    long chunks;                   /* only the first this many event chunks (0: all) */
    long rechunk;                  /* >0: each thread's events in chunks of this many */
    int no_zstd;                   /* time the encoder alone only (profiling) */
    int mem;                       /* measure resident bytes only (--mem) */
    uint32_t version;              /* chunks of this format version (0: the newest) */
    const char *out;
} opts;

/* Best-of-repeat CPU ns of the encoder alone over all chunks; *life the
 * same with making and freeing the encoder (its tables' setup: where it
 * happens, in tc_enc_new or in the first chunks, is the encoder's
 * business).  Prints how many chunks took each reference mode, class
 * offset 8 and token mode. */
static uint64_t time_encoder(const opts *o, const hak_event *ev, const chunk *c, long nc,
                             uint32_t unit, hak_event *stage, uint64_t *life)
{
    unsigned modes[TC_NMODE] = {0}, coffs = 0, toks = 0;
    uint64_t best = UINT64_MAX;
    *life = UINT64_MAX;
    for (int rep = 0; rep < o->repeat; rep++) {
        uint64_t t_new = cpu_ns();
        tc_enc *e = tc_enc_new();
        t_new = cpu_ns() - t_new;
        tc_enc_force_mode(e, o->mode);
        tc_enc_force_coff(e, o->coff);
        tc_enc_force_tokens(e, o->tokens);
        if (o->version)
            tc_enc_set_version(e, o->version);
        uint64_t t = 0, at = 0;
        for (long j = 0; j < nc; j++) {
            memcpy(stage, ev + at, c[j].n * sizeof *ev);
            at += c[j].n;
            tc_cols cols;
            size_t bad;
            uint64_t t0 = cpu_ns();
            if (tc_encode(e, stage, c[j].n, unit, &cols, &bad))
                exit(1);
            t += cpu_ns() - t0;
            if (!rep) {
                modes[cols.mode]++;
                coffs += cols.coff != 0;
                toks += cols.tok;
            }
        }
        uint64_t t_free = cpu_ns();
        tc_enc_free(e);
        t_free = cpu_ns() - t_free;
        best = t < best ? t : best;
        *life = t + t_new + t_free < *life ? t + t_new + t_free : *life;
    }
    printf("chunks_dist %u\nchunks_index %u\nchunks_pair %u\nchunks_coff8 %u\nchunks_token %u\n",
           modes[0], modes[1], modes[2], coffs, toks);
    return best;
}

/* Encoder and zstd over all chunks (best of repeat, CPU ns); the last pass's
 * chunks go to w when it is given, the columns' sizes to raw[]/stored[]. */
static uint64_t time_full(const opts *o, hak_trace_writer *w, const hak_event *ev,
                          const chunk *c, long nc, hak_event *stage, uint64_t raw[TC_NCOL],
                          uint64_t stored[TC_NCOL], uint64_t *bytes)
{
    uint64_t best = UINT64_MAX;
    for (int rep = 0; rep < o->repeat; rep++) {
        hak_tw_enc *e = hak_tw_enc_new(w);
        hak_tw_enc_set_level(e, o->level);
        uint64_t t = 0, at = 0;
        int last = rep == o->repeat - 1;
        for (long j = 0; j < nc; j++) {
            memcpy(stage, ev + at, c[j].n * sizeof *ev);
            at += c[j].n;
            hak_tw_array a;
            hak_tw_source src = hak_tw_array_source(&a, stage, c[j].n);
            uint64_t t0 = cpu_ns();
            if (hak_tw_enc_events(e, c[j].tid, &src)) {
                fprintf(stderr, "bench_recode: %s\n", hak_tw_enc_error(e));
                exit(1);
            }
            t += cpu_ns() - t0;
            if (!last)
                continue;
            size_t len;
            uint32_t nev;
            const uint8_t *p = hak_tw_enc_chunk(e, &len, &nev);
            tf_chunk_hdr h;
            tf_hdr_unpack(p, &h);
            tc_dir d;
            if (tc_dir_parse(p + TF_CHUNK_HDR, h.comp_size, h.raw_size, h.count,
                             o->version ? o->version : HAK_TRACE_VERSION, &d))
                exit(1);
            for (int k = 0; k < TC_NCOL; k++) {
                raw[k] += d.raw[k];
                stored[k] += d.stored[k];
            }
            *bytes += len;
            if (o->out && hak_tw_enc_put(w, e))
                exit(1);
        }
        hak_tw_enc_free(e);
        best = t < best ? t : best;
    }
    return best;
}

/* Reads file back; checks its events equal ev; CPU ns, or 0 on a mismatch. */
static uint64_t check_decode(const char *file, const hak_event *ev, uint64_t n)
{
    char err[256];
    hak_trace_reader *r = hak_tr_open(file, err, sizeof err);
    if (!r)
        return 0;
    hak_event *buf = malloc(4096 * sizeof *buf);
    uint64_t got = 0, t = 0, sum = 0, want = 0, bad = 0;
    for (uint64_t i = 0; i < n; i++)
        want += ev[i].seq ^ ev[i].out_ptr ^ ev[i].in_ptr ^ ev[i].size ^ ev[i].ts_ns ^ ev[i].site;
    for (;;) {
        uint64_t t0 = cpu_ns();
        long k = hak_tr_read(r, buf, 4096);
        t += cpu_ns() - t0;
        if (k <= 0) {
            bad = k < 0;
            break;
        }
        for (long i = 0; i < k; i++)
            sum += buf[i].seq ^ buf[i].out_ptr ^ buf[i].in_ptr ^ buf[i].size ^ buf[i].ts_ns ^
                   buf[i].site;
        got += (uint64_t)k;
    }
    free(buf);
    hak_tr_close(r);
    return bad || got != n || sum != want ? 0 : t;
}

int main(int argc, char **argv)
{
    opts o = {.level = 3, .repeat = 3, .mode = -1, .coff = -1, .tokens = -1};
    static const struct option lo[] = {
        {"level", 1, 0, 'l'}, {"repeat", 1, 0, 'r'}, {"mode", 1, 0, 'm'},
        {"coff", 1, 0, 'c'}, {"as-version", 1, 0, 'V'}, {"tokens", 1, 0, 't'},
        {"encoder-only", 0, 0, 'E'}, {"chunks", 1, 0, 'n'},
        {"rechunk", 1, 0, 'k'}, {"mem", 0, 0, 'M'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "l:r:m:c:o:V:n:t:k:Eh", lo, NULL)) != -1) {
        switch (ch) {
        case 'l': o.level = atoi(optarg); break;
        case 'r': o.repeat = atoi(optarg) > 0 ? atoi(optarg) : 1; break;
        case 'm': o.mode = atoi(optarg); break;
        case 'c': o.coff = atoi(optarg); break;
        case 'o': o.out = optarg; break;
        case 'E': o.no_zstd = 1; break;
        case 'M': o.mem = 1; break;
        case 't': o.tokens = atoi(optarg); break;
        case 'n': o.chunks = atol(optarg); break;
        case 'k': o.rechunk = atol(optarg) > 0 && atol(optarg) <= TF_CHUNK_EVENTS ? atol(optarg) : 0; break;
        case 'V': o.version = (uint32_t)atoi(optarg); break;
        case 'h':
            printf("usage: bench_recode TRACE [--level L] [--repeat N] [--mode M] [--coff C] [-o FILE]\n");
            return 0;
        default: return 2;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "bench_recode: one trace expected; see --help\n");
        return 2;
    }
    const char *path = argv[optind];
    /* --mem: blocks of 32 KiB or more get their own mappings, so what is
     * resident is what was touched (the recorder's arena does the same) */
    if (o.mem && !mallopt(M_MMAP_THRESHOLD, 32768)) {
        fprintf(stderr, "bench_recode: mallopt failed\n");
        return 1;
    }
    size_t len;
    uint8_t *b = slurp(path, &len);
    chunk *c = NULL;
    uint64_t ostored[TC_NCOL] = {0}, obytes = 0, raw[TC_NCOL] = {0}, stored[TC_NCOL] = {0},
             bytes = 0, n = 0;
    long nc = b ? scan_chunks(b, len, &c, ostored, &obytes) : -1;
    if (o.rechunk)
        nc = rechunk(&c, nc, (uint32_t)o.rechunk);
    if (o.chunks > 0 && nc > o.chunks)
        nc = o.chunks;
    char err[256];
    hak_trace_reader *r = nc >= 0 ? hak_tr_open(path, err, sizeof err) : NULL;
    if (!r) {
        fprintf(stderr, "bench_recode: %s: not a readable trace\n", path);
        return 1;
    }
    hak_event *ev = load_events(r, c, nc, &n), *stage = malloc(TF_CHUNK_EVENTS * sizeof *stage);
    if (!ev || !n || !stage) {
        fprintf(stderr, "bench_recode: %s: cannot read its events\n", path);
        return 1;
    }
    if (o.mem) {
        measure_mem(o.level, r, ev, c, nc, stage);
        return 0;
    }
    hak_trace_meta meta = *hak_tr_meta(r);
    hak_trace_writer *w = hak_tw_open(o.out ? o.out : "/dev/null", &meta, err, sizeof err);
    if (!w) {
        fprintf(stderr, "bench_recode: %s\n", err);
        return 1;
    }
    if (o.version)
        tc_tw_set_chunk_version(w, o.version);
    uint32_t unit = meta.ts_unit_ns ? meta.ts_unit_ns : 1;
    uint64_t t_life, t_enc = time_encoder(&o, ev, c, nc, unit, stage, &t_life);
    if (o.no_zstd) {
        printf("events %llu\nencode_ns %.2f\nencode_life_ns %.2f\n", (unsigned long long)n,
               t_enc / (double)n, t_life / (double)n);
        return 0;
    }
    uint64_t t_full = time_full(&o, w, ev, c, nc, stage, raw, stored, &bytes);
    hak_tw_close(w);
    if (o.out && o.version && relabel(o.out, o.version)) {
        fprintf(stderr, "bench_recode: %s: cannot relabel\n", o.out);
        return 1;
    }
    double dn = (double)n;
    printf("events %llu\nchunks %ld\nlevel %d\n", (unsigned long long)n, nc, o.level);
    for (int k = 0; k < TC_NCOL; k++)
        printf("col_%s %.4f orig %.4f raw %.4f\n", col_name[k], stored[k] / dn, ostored[k] / dn,
               raw[k] / dn);
    printf("orig_bytes_per_event %.4f\n", obytes / dn);
    printf("bytes_per_event %.4f\n", bytes / dn);
    printf("encode_ns %.2f\nencode_life_ns %.2f\n", t_enc / dn, t_life / dn);
    printf("zstd_ns %.2f\n", (t_full > t_enc ? t_full - t_enc : 0) / dn);
    if (o.out) {
        uint64_t t = check_decode(o.out, ev, n);
        if (!t) {
            fprintf(stderr, "bench_recode: %s: reads back different events\n", o.out);
            return 1;
        }
        printf("decode_ns %.2f\n", t / dn);
    }
    hak_tr_close(r);
    return 0;
}
