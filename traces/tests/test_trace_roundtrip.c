/* Writer -> reader round trips: every op and field (including extreme and
 * "unused" field values), metadata, side records, chunk splitting, the
 * per-thread and merged orders, and a writer shared by several threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace.h"

static char path[256];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/hak-test-rt-%d.hkt", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static hak_trace_writer *wopen(const hak_trace_meta *m)
{
    char err[256];
    hak_trace_writer *w = hak_tw_open(path, m, err, sizeof err);
    if (!w)
        fail_msg("hak_tw_open: %s", err);
    return w;
}

static hak_trace_reader *ropen(void)
{
    char err[256];
    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    if (!r)
        fail_msg("hak_tr_open: %s", err);
    return r;
}

static void assert_event_eq(const hak_event *a, const hak_event *b)
{
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->ts_ns, b->ts_ns);
    assert_int_equal(a->size, b->size);
    assert_int_equal(a->nmemb, b->nmemb);
    assert_int_equal(a->align, b->align);
    assert_int_equal(a->in_ptr, b->in_ptr);
    assert_int_equal(a->out_ptr, b->out_ptr);
    assert_int_equal(a->tid, b->tid);
    assert_int_equal(a->site, b->site);
    assert_int_equal(a->err, b->err);
    assert_int_equal(a->op, b->op);
}

/* A mix of ordinary events for every op, then extreme values. */
static size_t make_events(hak_event *ev, uint32_t tid)
{
    size_t n = 0;
    uint64_t seq = 10, ts = 1000;
    for (int op = 1; op < HAK_OP_COUNT_; op++) {
        hak_event e = {.seq = seq++, .ts_ns = ts += 37, .op = (uint8_t)op, .tid = tid,
                       .site = (uint32_t)(op % 3)};
        switch (op) {
        case HAK_OP_MALLOC: case HAK_OP_VALLOC: case HAK_OP_PVALLOC:
            e.size = 100 + op; e.out_ptr = 0x7f0000001000ull + 16 * op; break;
        case HAK_OP_CALLOC:
            e.nmemb = 7; e.size = 24; e.out_ptr = 0x7f0000002000ull; break;
        case HAK_OP_REALLOC:
            e.in_ptr = 0x7f0000002000ull; e.size = 4000; e.out_ptr = 0x7f0000003000ull; break;
        case HAK_OP_REALLOCARRAY:
            e.in_ptr = 0x7f0000003000ull; e.nmemb = 3; e.size = 9; e.out_ptr = 0x7f0000003000ull; break;
        case HAK_OP_FREE:
            e.in_ptr = 0x7f0000001000ull + 16; break;
        case HAK_OP_MEMALIGN: case HAK_OP_POSIX_MEMALIGN: case HAK_OP_ALIGNED_ALLOC:
            e.align = 64; e.size = 640; e.out_ptr = 0x7f0000004000ull + 64 * op; break;
        case HAK_OP_THREAD_START:
            e.size = 12345; e.in_ptr = 3; break;
        case HAK_OP_MMAP:
            e.size = 1 << 20; e.align = 3 | (34ull << 32); e.out_ptr = 0x7f1000000000ull; break;
        case HAK_OP_MUNMAP:
            e.in_ptr = 0x7f1000000000ull; e.size = 1 << 20; break;
        case HAK_OP_MREMAP:
            e.in_ptr = 0x7f1000000000ull; e.nmemb = 4096; e.size = 8192; e.out_ptr = 0x7f2000000000ull; break;
        default: break;
        }
        ev[n++] = e;
    }
    /* Failures, errno, free(NULL), unused fields set, extremes. */
    ev[n++] = (hak_event){.seq = seq++, .ts_ns = ts, .op = HAK_OP_MALLOC, .tid = tid,
                          .size = UINT64_MAX, .err = 12};
    ev[n++] = (hak_event){.seq = seq++, .ts_ns = ts, .op = HAK_OP_POSIX_MEMALIGN, .tid = tid,
                          .size = 1, .align = 3, .err = 22};
    ev[n++] = (hak_event){.seq = seq++, .ts_ns = ts + 1, .op = HAK_OP_FREE, .tid = tid};
    ev[n++] = (hak_event){.seq = seq++, .ts_ns = ts + 2, .op = HAK_OP_FREE, .tid = tid,
                          .size = 5, .nmemb = 6, .align = 7, .out_ptr = 8, .in_ptr = 9};
    ev[n++] = (hak_event){.seq = seq++, .ts_ns = ts + 3, .op = HAK_OP_THREAD_EXIT, .tid = tid,
                          .err = INT32_MIN, .site = UINT32_MAX};
    ev[n++] = (hak_event){.seq = seq++, .ts_ns = ts + 3, .op = HAK_OP_MALLOC, .tid = tid,
                          .size = 1, .out_ptr = UINT64_MAX, .err = INT32_MAX};
    ev[n++] = (hak_event){.seq = seq++, .ts_ns = ts + 2, .op = HAK_OP_FREE, .tid = tid,
                          .in_ptr = UINT64_MAX};   /* time going backwards */
    ev[n++] = (hak_event){.seq = seq + 1000000, .ts_ns = UINT64_MAX, .op = HAK_OP_REALLOC,
                          .tid = tid, .in_ptr = 1, .size = 0, .out_ptr = 0};
    ev[n++] = (hak_event){.seq = UINT64_MAX - 1, .ts_ns = 0, .op = HAK_OP_MALLOC, .tid = tid,
                          .size = 0, .out_ptr = 0x10};
    return n;
}

static void roundtrip_every_op(void **state)
{
    (void)state;
    hak_event ev[64];
    size_t n = make_events(ev, 2);
    char *argv[] = {"prog", "--flag", "", "last arg", NULL};
    hak_trace_meta m = {.pid = 4242, .ppid = -1, .start_wall_ns = 1700000000123456789ull,
                        .page_size = 4096, .argc = 4, .argv = argv, .hostname = "host",
                        .kernel = "6.1.0", .thp_mode = "madvise", .cpu_model = "cpu \"x\"",
                        .recorder = "test", .options = "a=b c=d"};
    hak_trace_writer *w = wopen(&m);
    assert_int_equal(hak_tw_events(w, 2, ev, n), 0);
    assert_int_equal(hak_tw_close(w), 0);

    hak_trace_reader *r = ropen();
    const hak_tr_status *st = hak_tr_status_get(r);
    assert_int_equal(st->truncated, 0);
    assert_string_equal(st->reason, "");
    assert_int_equal(st->valid_bytes, st->file_bytes);
    const hak_trace_meta *rm = hak_tr_meta(r);
    assert_int_equal(rm->version, HAK_TRACE_VERSION);
    assert_int_equal(rm->pid, 4242);
    assert_int_equal(rm->ppid, -1);
    assert_int_equal(rm->start_wall_ns, 1700000000123456789ull);
    assert_int_equal(rm->page_size, 4096);
    assert_int_equal(rm->argc, 4);
    assert_string_equal(rm->argv[1], "--flag");
    assert_string_equal(rm->argv[2], "");
    assert_string_equal(rm->argv[3], "last arg");
    assert_null(rm->argv[4]);
    assert_string_equal(rm->hostname, "host");
    assert_string_equal(rm->kernel, "6.1.0");
    assert_string_equal(rm->thp_mode, "madvise");
    assert_string_equal(rm->cpu_model, "cpu \"x\"");
    assert_string_equal(rm->recorder, "test");
    assert_string_equal(rm->options, "a=b c=d");
    assert_int_equal(rm->ts_unit_ns, 1);
    assert_int_equal(hak_tr_nevents(r), n);
    assert_int_equal(hak_tr_nthreads(r), 3);
    assert_int_equal(hak_tr_thread_nevents(r, 2), n);
    assert_int_equal(hak_tr_thread_nevents(r, 0), 0);

    hak_event e;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(hak_tr_next_thread(r, 2, &e), 1);
        assert_event_eq(&e, &ev[i]);
    }
    assert_int_equal(hak_tr_next_thread(r, 2, &e), 0);
    assert_int_equal(hak_tr_next_thread(r, 0, &e), 0);
    assert_int_equal(hak_tr_next_thread(r, 99, &e), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(hak_tr_next(r, &e), 1);
        assert_event_eq(&e, &ev[i]);
    }
    assert_int_equal(hak_tr_next(r, &e), 0);
    hak_tr_rewind(r);
    assert_int_equal(hak_tr_next(r, &e), 1);
    assert_event_eq(&e, &ev[0]);
    hak_tr_close(r);
}

static void empty_trace_and_null_meta(void **state)
{
    (void)state;
    hak_trace_writer *w = wopen(NULL);
    assert_int_equal(hak_tw_close(w), 0);
    hak_trace_reader *r = ropen();
    assert_int_equal(hak_tr_status_get(r)->truncated, 0);
    assert_int_equal(hak_tr_nevents(r), 0);
    assert_int_equal(hak_tr_nthreads(r), 0);
    assert_null(hak_tr_meta(r)->hostname);
    assert_int_equal(hak_tr_meta(r)->argc, 0);
    hak_event e;
    assert_int_equal(hak_tr_next(r, &e), 0);
    hak_tr_close(r);
}

static void rejects_bad_events(void **state)
{
    (void)state;
    hak_trace_writer *w = wopen(NULL);
    hak_event bad = {.seq = 1, .op = 0};
    assert_int_equal(hak_tw_events(w, 0, &bad, 1), -1);
    bad.op = HAK_OP_COUNT_;
    assert_int_equal(hak_tw_events(w, 0, &bad, 1), -1);
    assert_non_null(strstr(hak_tw_error(w), "invalid op"));
    bad.op = HAK_OP_MALLOC;
    assert_int_equal(hak_tw_events(w, 1u << 20, &bad, 1), -1);
    assert_int_equal(hak_tw_events(w, 0, &bad, 1), 0);   /* still usable */
    assert_int_equal(hak_tw_close(w), 0);
}

static void zstd_level_from_env(void **state)
{
    (void)state;
    char err[256];
    setenv("HAK_TRACE_ZSTD_LEVEL", "fast", 1);
    assert_null(hak_tw_open(path, NULL, err, sizeof err));
    assert_non_null(strstr(err, "HAK_TRACE_ZSTD_LEVEL"));
    setenv("HAK_TRACE_ZSTD_LEVEL", "1000", 1);
    assert_null(hak_tw_open(path, NULL, err, sizeof err));
    /* Higher levels must make a compressible stream no bigger. */
    uint64_t bytes[2];
    const char *lv[2] = {"-7", "19"};
    for (int i = 0; i < 2; i++) {
        setenv("HAK_TRACE_ZSTD_LEVEL", lv[i], 1);
        hak_trace_writer *w = hak_tw_open(path, NULL, err, sizeof err);
        assert_non_null(w);
        hak_event *ev = calloc(50000, sizeof *ev);
        for (uint64_t k = 0; k < 50000; k++)
            ev[k] = (hak_event){.seq = k, .ts_ns = k * 40 + (k * 7919) % 13, .op = HAK_OP_MALLOC,
                                .size = 16 + (k * 31) % 200, .out_ptr = 0x1000 + 16 * (k % 977)};
        assert_int_equal(hak_tw_events(w, 0, ev, 50000), 0);
        free(ev);
        assert_int_equal(hak_tw_close(w), 0);
        hak_trace_reader *r = ropen();
        bytes[i] = hak_tr_status_get(r)->file_bytes;
        assert_int_equal(hak_tr_nevents(r), 50000);
        hak_tr_close(r);
    }
    unsetenv("HAK_TRACE_ZSTD_LEVEL");
    assert_true(bytes[1] < bytes[0]);
}

static void ts_unit_rounds(void **state)
{
    (void)state;
    hak_trace_meta m = {.ts_unit_ns = 1000};
    hak_trace_writer *w = wopen(&m);
    hak_event ev[3] = {
        {.seq = 0, .ts_ns = 999, .op = HAK_OP_MALLOC, .size = 1, .out_ptr = 16},
        {.seq = 1, .ts_ns = 1000, .op = HAK_OP_FREE, .in_ptr = 16},
        {.seq = 2, .ts_ns = 123456789, .op = HAK_OP_THREAD_EXIT},
    };
    assert_int_equal(hak_tw_events(w, 0, ev, 3), 0);
    assert_int_equal(hak_tw_close(w), 0);
    hak_trace_reader *r = ropen();
    assert_int_equal(hak_tr_meta(r)->ts_unit_ns, 1000);
    hak_event e;
    assert_int_equal(hak_tr_next(r, &e), 1); assert_int_equal(e.ts_ns, 0);
    assert_int_equal(hak_tr_next(r, &e), 1); assert_int_equal(e.ts_ns, 1000);
    assert_int_equal(hak_tr_next(r, &e), 1); assert_int_equal(e.ts_ns, 123456000);
    hak_tr_close(r);
}

static void side_records(void **state)
{
    (void)state;
    hak_trace_writer *w = wopen(NULL);
    uint64_t ips[3] = {0x400000, 0x7fff00001234ull, 0x10};
    hak_event e0 = {.seq = 0, .op = HAK_OP_MALLOC, .size = 8, .out_ptr = 32, .site = 2};
    assert_int_equal(hak_tw_events(w, 0, &e0, 1), 0);
    assert_int_equal(hak_tw_site(w, 2, ips, 3), 0);
    assert_int_equal(hak_tw_site(w, 1, ips + 1, 1), 0);
    assert_int_equal(hak_tw_site(w, 7, NULL, 0), 0);
    hak_module mod = {.path = "/usr/lib/libc.so.6", .base = 0x7f0000000000ull,
                      .size = 0x200000, .build_id = {1, 2, 3, 0xff}, .build_id_len = 4};
    assert_int_equal(hak_tw_module(w, &mod), 0);
    assert_int_equal(hak_tw_flush(w), 0);
    /* Many RSS samples spill into several chunks on their own. */
    for (uint64_t i = 0; i < 30000; i++) {
        hak_rss_sample s = {.ts_ns = i * 100000000ull, .rss_bytes = (i * 7919) << 12};
        assert_int_equal(hak_tw_rss(w, &s, 1), 0);
    }
    assert_int_equal(hak_tw_close(w), 0);

    hak_trace_reader *r = ropen();
    assert_int_equal(hak_tr_status_get(r)->truncated, 0);
    const hak_site *sites;
    assert_int_equal(hak_tr_sites(r, &sites), 3);
    assert_int_equal(sites[0].id, 1);   /* sorted by id */
    const hak_site *s2 = hak_tr_site(r, 2);
    assert_non_null(s2);
    assert_int_equal(s2->depth, 3);
    assert_int_equal(s2->ips[0], ips[0]);
    assert_int_equal(s2->ips[1], ips[1]);
    assert_int_equal(s2->ips[2], ips[2]);
    assert_int_equal(hak_tr_site(r, 1)->ips[0], ips[1]);
    assert_int_equal(hak_tr_site(r, 7)->depth, 0);
    assert_null(hak_tr_site(r, 3));
    const hak_module *mods;
    assert_int_equal(hak_tr_modules(r, &mods), 1);
    assert_string_equal(mods[0].path, mod.path);
    assert_int_equal(mods[0].base, mod.base);
    assert_int_equal(mods[0].size, mod.size);
    assert_int_equal(mods[0].build_id_len, 4);
    assert_memory_equal(mods[0].build_id, mod.build_id, 4);
    const hak_rss_sample *rss;
    assert_int_equal(hak_tr_rss(r, &rss), 30000);
    for (uint64_t i = 0; i < 30000; i++) {
        assert_int_equal(rss[i].ts_ns, i * 100000000ull);
        assert_int_equal(rss[i].rss_bytes, (i * 7919) << 12);
    }
    assert_true(hak_tr_nchunks(r) > 3);
    hak_tr_close(r);
}

/* Pseudo-random events for thread t; seqs come from a shared counter. */
static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
    return *s;
}

static void big_chunks_split(void **state)
{
    (void)state;
    size_t n = 200000;
    hak_event *ev = calloc(n, sizeof *ev);
    uint64_t s = 99, live[64] = {0};
    for (size_t i = 0; i < n; i++) {
        unsigned k = (unsigned)(rng(&s) & 63);
        if (live[k]) {
            ev[i] = (hak_event){.seq = i, .ts_ns = i * 50, .op = HAK_OP_FREE, .in_ptr = live[k]};
            live[k] = 0;
        } else {
            live[k] = 0x555500000000ull + (rng(&s) & 0xffffff) * 16;
            ev[i] = (hak_event){.seq = i, .ts_ns = i * 50, .op = HAK_OP_MALLOC,
                                .size = 16 + (rng(&s) & 1023), .out_ptr = live[k],
                                .site = (uint32_t)(rng(&s) & 7)};
        }
    }
    hak_trace_writer *w = wopen(NULL);
    assert_int_equal(hak_tw_set_level(w, -5), 0);
    assert_int_equal(hak_tw_set_level(w, 1000), -1);
    assert_int_equal(hak_tw_events(w, 0, ev, n), 0);
    assert_int_equal(hak_tw_nevents(w), n);
    assert_int_equal(hak_tw_close(w), 0);
    hak_trace_reader *r = ropen();
    assert_int_equal(hak_tr_nevents(r), n);
    assert_true(hak_tr_nchunks(r) >= 4);
    hak_event *got = calloc(n, sizeof *got);
    size_t k = 0;
    long m;
    while ((m = hak_tr_read(r, got + k, 1000)) > 0)
        k += (size_t)m;
    assert_int_equal(m, 0);
    assert_int_equal(k, n);
    for (size_t i = 0; i < n; i++)
        assert_event_eq(&got[i], &ev[i]);
    hak_tr_close(r);
    free(got);
    free(ev);
}

/* hak_tw_events_from: a source handing out an array in uneven pieces. */
typedef struct pieces {
    const hak_event *ev;
    size_t n, at, step;
    int rewinds;
} pieces;

static const hak_event *pieces_next(void *ctx, size_t *n)
{
    pieces *p = ctx;
    size_t k = p->n - p->at < p->step ? p->n - p->at : p->step;
    const hak_event *ev = p->ev + p->at;
    p->at += k;
    p->step = p->step * 3 + 1;     /* 1, 4, 13, 40, ... */
    *n = k;
    return ev;
}

static void pieces_rewind(void *ctx)
{
    pieces *p = ctx;
    p->at = 0;
    p->step = 1;
    p->rewinds++;
}

static int write_pieces(hak_trace_writer *w, const hak_event *ev, size_t n, int *rewinds)
{
    pieces p = {ev, n, 0, 1, 0};
    hak_tw_source src = {pieces_next, pieces_rewind, &p, NULL};
    int rc = hak_tw_events_from(w, 0, &src);
    if (rewinds)
        *rewinds = p.rewinds;
    return rc;
}

/* The same events give the same file through a source as through
 * hak_tw_events, also when the encoder reads them twice (pointers only
 * 8-aligned after a 16-aligned chunk: its guess of the shift is wrong). */
static void events_from_source(void **state)
{
    (void)state;
    enum { N = 50000 };
    hak_event *ev = calloc(2 * N, sizeof *ev);
    uint64_t s = 7, live[64] = {0};
    for (size_t i = 0; i < 2 * N; i++) {
        unsigned k = (unsigned)(rng(&s) & 63);
        if (live[k]) {
            ev[i] = (hak_event){.seq = i, .ts_ns = i * 30, .op = HAK_OP_FREE, .in_ptr = live[k]};
            live[k] = 0;
        } else {
            live[k] = 0x555500000000ull + (rng(&s) & 0xffffff) * (i < N ? 16 : 8);
            ev[i] = (hak_event){.seq = i, .ts_ns = i * 30, .op = HAK_OP_MALLOC,
                                .size = 16 + (rng(&s) & 1023), .out_ptr = live[k]};
        }
    }
    char *files[2];
    size_t len[2];
    for (int how = 0; how < 2; how++) {
        hak_trace_writer *w = wopen(NULL);
        int rw0 = -1, rw1 = -1;
        if (how) {
            assert_int_equal(write_pieces(w, ev, N, &rw0), 0);
            assert_int_equal(write_pieces(w, ev + N, N, &rw1), 0);
            assert_int_equal(rw0, 0);
            assert_int_equal(rw1, 1);   /* read twice, and identical below */
            assert_int_equal(write_pieces(w, ev, 0, NULL), 0);   /* nothing */
        } else {
            assert_int_equal(hak_tw_events(w, 0, ev, N), 0);
            assert_int_equal(hak_tw_events(w, 0, ev + N, N), 0);
        }
        assert_int_equal(hak_tw_nevents(w), 2 * N);
        assert_int_equal(hak_tw_close(w), 0);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        files[how] = malloc(16 << 20);
        len[how] = fread(files[how], 1, 16 << 20, f);
        fclose(f);
    }
    assert_int_equal(len[0], len[1]);
    assert_memory_equal(files[0], files[1], len[0]);
    hak_trace_reader *r = ropen();
    assert_int_equal(hak_tr_nchunks(r), 2);   /* the empty source wrote none */
    hak_event got;
    for (size_t i = 0; i < 2 * N; i++) {
        assert_int_equal(hak_tr_next(r, &got), 1);
        assert_event_eq(&got, &ev[i]);
    }
    hak_tr_close(r);
    free(files[0]);
    free(files[1]);
    free(ev);
}

/* Separate encoders (hak_tw_enc): two threads encode interleaved chunks of
 * two program threads at once and append them in ticket order; the file
 * reads back exactly, at about the size the writer's own encoder makes
 * of the same chunks in the same order. */
enum { ENC_CHUNK = 5000, ENC_CHUNKS = 8 };
typedef struct enc_job_ctx {
    hak_trace_writer *w;
    const hak_event *ev;         /* [ENC_CHUNKS][ENC_CHUNK], chunk k of tid k % 2 */
    int first;                   /* this thread's chunks: first, first + 2, ... */
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
    int *turn;
} enc_job_ctx;

static void *enc_thread(void *arg)
{
    enc_job_ctx *c = arg;
    hak_tw_enc *e = hak_tw_enc_new(c->w);
    assert_non_null(e);
    for (int k = c->first; k < ENC_CHUNKS; k += 2) {
        pieces p = {c->ev + (size_t)k * ENC_CHUNK, ENC_CHUNK, 0, 1, 0};
        hak_tw_source src = {pieces_next, pieces_rewind, &p, NULL};
        assert_int_equal(hak_tw_enc_events(e, (uint32_t)(k % 2), &src), 0);
        pthread_mutex_lock(c->mu);
        while (*c->turn != k)
            pthread_cond_wait(c->cv, c->mu);
        pthread_mutex_unlock(c->mu);
        assert_int_equal(hak_tw_enc_put(c->w, e), 0);
        assert_int_equal(hak_tw_enc_put(c->w, e), 0);   /* nothing held: no-op */
        pthread_mutex_lock(c->mu);
        (*c->turn)++;
        pthread_cond_broadcast(c->cv);
        pthread_mutex_unlock(c->mu);
    }
    hak_tw_enc_free(e);
    return NULL;
}

static void separate_encoders(void **state)
{
    (void)state;
    size_t n = (size_t)ENC_CHUNK * ENC_CHUNKS;
    hak_event *ev = calloc(n, sizeof *ev);
    uint64_t s = 11, live[2][64] = {{0}};
    for (size_t i = 0; i < n; i++) {
        size_t k = i / ENC_CHUNK;
        uint32_t tid = (uint32_t)(k % 2);
        /* seqs increase per thread across its chunks */
        uint64_t seq = (k / 2) * 2 * ENC_CHUNK + tid * ENC_CHUNK + i % ENC_CHUNK;
        unsigned slot = (unsigned)(rng(&s) & 63);
        if (live[tid][slot]) {
            ev[i] = (hak_event){.seq = seq, .ts_ns = seq * 10, .op = HAK_OP_FREE,
                                .in_ptr = live[tid][slot], .tid = tid};
            live[tid][slot] = 0;
        } else {
            live[tid][slot] = 0x6000000000ull + tid * 0x100000000ull + (rng(&s) & 0xfffff) * 16;
            ev[i] = (hak_event){.seq = seq, .ts_ns = seq * 10, .op = HAK_OP_MALLOC,
                                .size = 8 + (rng(&s) & 511), .out_ptr = live[tid][slot],
                                .tid = tid, .site = (uint32_t)(slot & 3)};
        }
    }
    /* reference: the writer's own encoder, chunk by chunk */
    hak_trace_writer *w = wopen(NULL);
    for (int k = 0; k < ENC_CHUNKS; k++)
        assert_int_equal(hak_tw_events(w, (uint32_t)(k % 2), ev + (size_t)k * ENC_CHUNK,
                                       ENC_CHUNK), 0);
    assert_int_equal(hak_tw_close(w), 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *ref = malloc(8 << 20);
    size_t ref_len = fread(ref, 1, 8 << 20, f);
    fclose(f);

    w = wopen(NULL);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    int turn = 0;
    enc_job_ctx c[2] = {{w, ev, 0, &mu, &cv, &turn}, {w, ev, 1, &mu, &cv, &turn}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, enc_thread, &c[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(hak_tw_nevents(w), n);
    assert_int_equal(hak_tw_close(w), 0);
    f = fopen(path, "rb");
    assert_non_null(f);
    char *got_file = malloc(8 << 20);
    size_t got_len = fread(got_file, 1, 8 << 20, f);
    fclose(f);
    hak_trace_reader *r = ropen();
    assert_int_equal(hak_tr_nchunks(r), ENC_CHUNKS);
    assert_int_equal(hak_tr_nevents(r), n);
    hak_event got;
    for (uint32_t tid = 0; tid < 2; tid++) {
        size_t i = 0;
        while (hak_tr_next_thread(r, tid, &got) == 1) {
            size_t k = (i / ENC_CHUNK) * 2 + tid, at = k * ENC_CHUNK + i % ENC_CHUNK;
            assert_event_eq(&got, &ev[at]);
            i++;
        }
        assert_int_equal(i, n / 2);
    }
    hak_tr_close(r);
    /* Not byte-identical: each encoder guesses a chunk's modes from the
     * chunks it encoded before.  About as small, though. */
    assert_true(got_len < ref_len + ref_len / 20 && ref_len < got_len + got_len / 20);

    /* a bad thread index is refused by the encoder */
    w = wopen(NULL);
    hak_tw_enc *e = hak_tw_enc_new(w);
    pieces p = {ev, 10, 0, 1, 0};
    hak_tw_source src = {pieces_next, pieces_rewind, &p, NULL};
    assert_int_equal(hak_tw_enc_events(e, 1u << 20, &src), -1);
    assert_non_null(strstr(hak_tw_enc_error(e), "thread index"));
    hak_tw_enc_free(e);
    assert_int_equal(hak_tw_close(w), 0);
    free(ref);
    free(got_file);
    free(ev);
}

/* A source with more than a chunk, or with an invalid op in a later
 * piece, is refused; the writer stays usable. */
static void events_from_refused(void **state)
{
    (void)state;
    size_t n = HAK_TW_CHUNK_EVENTS + 1;
    hak_event *ev = calloc(n, sizeof *ev);
    for (size_t i = 0; i < n; i++)
        ev[i] = (hak_event){.seq = i, .op = HAK_OP_FREE, .in_ptr = 0x1000 + 16 * i};
    hak_trace_writer *w = wopen(NULL);
    assert_int_equal(write_pieces(w, ev, n, NULL), -1);
    assert_non_null(strstr(hak_tw_error(w), "more than"));
    ev[100].op = 0;
    assert_int_equal(write_pieces(w, ev, 200, NULL), -1);
    assert_non_null(strstr(hak_tw_error(w), "event 100: invalid op 0"));
    assert_int_equal(write_pieces(w, ev + 101, 99, NULL), 0);
    assert_int_equal(hak_tw_nevents(w), 99);
    assert_int_equal(hak_tw_close(w), 0);
    free(ev);
}

/* Several threads write interleaved seqs through one writer; the merged
 * order must be exactly seq order and per-thread order must be preserved. */
#define NT 4
#define PER 50000
static hak_trace_writer *shared_w;
static uint64_t seq_counter;

static void *writer_thread(void *arg)
{
    uint32_t tid = (uint32_t)(uintptr_t)arg;
    hak_event buf[1000];
    size_t nb = 0;
    for (int i = 0; i < PER; i++) {
        uint64_t seq = __atomic_fetch_add(&seq_counter, 1, __ATOMIC_SEQ_CST);
        buf[nb++] = (hak_event){.seq = seq, .ts_ns = seq * 10, .op = HAK_OP_MALLOC,
                                .tid = tid, .size = tid * 1000 + (uint64_t)i % 1000,
                                .out_ptr = ((uint64_t)tid << 40) + (uint64_t)i * 16};
        if (nb == 1000) {
            if (hak_tw_events(shared_w, tid, buf, nb))
                return (void *)1;
            nb = 0;
        }
    }
    return (void *)(uintptr_t)(nb && hak_tw_events(shared_w, tid, buf, nb));
}

static void multithread_writer_and_merge(void **state)
{
    (void)state;
    shared_w = wopen(NULL);
    seq_counter = 0;
    pthread_t th[NT];
    for (uintptr_t t = 0; t < NT; t++)
        pthread_create(&th[t], NULL, writer_thread, (void *)t);
    for (int t = 0; t < NT; t++) {
        void *rv;
        pthread_join(th[t], &rv);
        assert_null(rv);
    }
    assert_int_equal(hak_tw_close(shared_w), 0);
    hak_trace_reader *r = ropen();
    assert_int_equal(hak_tr_nevents(r), NT * PER);
    assert_int_equal(hak_tr_nthreads(r), NT);
    hak_event e;
    uint64_t expect = 0;
    int next_i[NT] = {0};
    while (hak_tr_next(r, &e) == 1) {
        assert_int_equal(e.seq, expect);
        expect++;
        assert_true(e.tid < NT);
        assert_int_equal(e.out_ptr, ((uint64_t)e.tid << 40) + (uint64_t)next_i[e.tid] * 16);
        next_i[e.tid]++;
    }
    assert_int_equal(expect, NT * PER);
    for (uint32_t t = 0; t < NT; t++) {
        uint64_t prev = 0, cnt = 0;
        while (hak_tr_next_thread(r, t, &e) == 1) {
            assert_int_equal(e.tid, t);
            if (cnt)
                assert_true(e.seq > prev);
            prev = e.seq;
            cnt++;
        }
        assert_int_equal(cnt, PER);
    }
    hak_tr_close(r);
}

/* Merge with equal seqs across threads and one thread's whole range inside
 * another's: ties break by tid, order is total and deterministic. */
static void merge_ties_and_nesting(void **state)
{
    (void)state;
    hak_trace_writer *w = wopen(NULL);
    hak_event a[3] = {{.seq = 1, .op = HAK_OP_THREAD_EXIT}, {.seq = 5, .op = HAK_OP_THREAD_EXIT},
                      {.seq = 9, .op = HAK_OP_THREAD_EXIT}};
    hak_event b[2] = {{.seq = 5, .op = HAK_OP_THREAD_EXIT}, {.seq = 6, .op = HAK_OP_THREAD_EXIT}};
    hak_event c[1] = {{.seq = 0, .op = HAK_OP_THREAD_EXIT}};
    assert_int_equal(hak_tw_events(w, 1, a, 3), 0);
    assert_int_equal(hak_tw_events(w, 0, b, 2), 0);
    assert_int_equal(hak_tw_events(w, 2, c, 1), 0);
    assert_int_equal(hak_tw_close(w), 0);
    hak_trace_reader *r = ropen();
    uint64_t want_seq[] = {0, 1, 5, 5, 6, 9};
    uint32_t want_tid[] = {2, 1, 0, 1, 0, 1};
    hak_event e;
    for (int i = 0; i < 6; i++) {
        assert_int_equal(hak_tr_next(r, &e), 1);
        assert_int_equal(e.seq, want_seq[i]);
        assert_int_equal(e.tid, want_tid[i]);
    }
    assert_int_equal(hak_tr_next(r, &e), 0);
    hak_tr_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(roundtrip_every_op, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_trace_and_null_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(rejects_bad_events, setup, teardown),
        cmocka_unit_test_setup_teardown(ts_unit_rounds, setup, teardown),
        cmocka_unit_test_setup_teardown(zstd_level_from_env, setup, teardown),
        cmocka_unit_test_setup_teardown(side_records, setup, teardown),
        cmocka_unit_test_setup_teardown(big_chunks_split, setup, teardown),
        cmocka_unit_test_setup_teardown(events_from_source, setup, teardown),
        cmocka_unit_test_setup_teardown(separate_encoders, setup, teardown),
        cmocka_unit_test_setup_teardown(events_from_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(multithread_writer_and_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(merge_ties_and_nesting, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
