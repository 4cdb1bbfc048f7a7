/* hkt_check - the recorder tests' trace checker: opens a trace with the
 * reader, walks every event in global order checking what the recorder
 * promises (unique increasing seq, per-thread monotonic timestamps, no
 * address live twice), builds the replay form, and prints key=value lines.
 *
 * usage: hkt_check [--clean] [--allow-truncated] TRACE
 *   --clean            fail on inversions or double frees (recorder traces
 *                      must have none)
 *   --allow-truncated  a trace without end marker is fine (SIGKILL tests)
 * exit 0 ok, 1 check failed, 2 usage / unreadable. */
#include "trace.h"
#include "trace_reader.h"   /* event_chunks: the reader's chunk index */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Open-addressed set of live addresses (pointer -> 1). */
typedef struct { uint64_t *k; size_t cap, n; } aset;

static size_t slot_of(const aset *s, uint64_t p)
{
    size_t i = (size_t)((p * 0x9E3779B97F4A7C15ull) >> 20) & (s->cap - 1);
    while (s->k[i] && s->k[i] != p)
        i = (i + 1) & (s->cap - 1);
    return i;
}

static void aset_grow(aset *s)
{
    aset t = {calloc(s->cap * 2, 8), s->cap * 2, 0};
    for (size_t i = 0; i < s->cap; i++)
        if (s->k[i] && s->k[i] != 1)
            t.k[slot_of(&t, s->k[i])] = s->k[i], t.n++;
    free(s->k);
    *s = t;
}

static int aset_add(aset *s, uint64_t p)     /* 0 if already present */
{
    if ((s->n + 1) * 2 > s->cap)
        aset_grow(s);
    size_t i = slot_of(s, p);
    if (s->k[i] == p)
        return 0;
    s->k[i] = p;
    s->n++;
    return 1;
}

static int aset_del(aset *s, uint64_t p)     /* 0 if absent */
{
    size_t i = slot_of(s, p);
    if (s->k[i] != p)
        return 0;
    /* backward-shift deletion */
    size_t j = i;
    for (;;) {
        j = (j + 1) & (s->cap - 1);
        if (!s->k[j])
            break;
        size_t h = (size_t)((s->k[j] * 0x9E3779B97F4A7C15ull) >> 20) & (s->cap - 1);
        if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
            s->k[i] = s->k[j];
            i = j;
        }
    }
    s->k[i] = 0;
    s->n--;
    return 1;
}

int main(int argc, char **argv)
{
    int clean = 0, allow_trunc = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--clean")) clean = 1;
        else if (!strcmp(argv[i], "--allow-truncated")) allow_trunc = 1;
        else path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "usage: hkt_check [--clean] [--allow-truncated] TRACE\n");
        return 2;
    }
    char err[512];
    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    if (!r) {
        fprintf(stderr, "hkt_check: %s\n", err);
        return 2;
    }
    const hak_tr_status *st = hak_tr_status_get(r);
    int bad = 0;
    printf("events=%llu\nthreads=%u\nevent_chunks=%zu\n", (unsigned long long)hak_tr_nevents(r),
           hak_tr_nthreads(r), r->nchunks);
    const hak_site *sites;
    const hak_module *mods;
    const hak_rss_sample *rss;
    size_t ns = hak_tr_sites(r, &sites), nm = hak_tr_modules(r, &mods), nr = hak_tr_rss(r, &rss);
    printf("sites=%zu\nmodules=%zu\nrss_samples=%zu\ntruncated=%d\n", ns, nm, nr, st->truncated);
    if (st->truncated) {
        printf("truncation=%s\n", st->reason);
        if (!allow_trunc)
            bad = 1;
    }
    size_t with_build_id = 0;
    for (size_t i = 0; i < nm; i++)
        with_build_id += mods[i].build_id_len > 0;
    printf("modules_with_build_id=%zu\n", with_build_id);

    /* Global-order walk. */
    aset live = {calloc(1024, 8), 1024, 0};
    uint64_t prev_seq = 0, n = 0, double_live = 0, seq_bad = 0, ts_bad = 0;
    uint64_t site_refs = 0, site_unknown = 0, ops[HAK_OP_COUNT_] = {0};
    uint64_t *last_ts = calloc(hak_tr_nthreads(r) + 1, 8);
    hak_event ev;
    int rc;
    while ((rc = hak_tr_next(r, &ev)) == 1) {
        if (n && ev.seq <= prev_seq)
            seq_bad++;
        prev_seq = ev.seq;
        n++;
        if (ev.op < HAK_OP_COUNT_)
            ops[ev.op]++;
        if (ev.tid < hak_tr_nthreads(r)) {
            if (ev.ts_ns < last_ts[ev.tid])
                ts_bad++;
            last_ts[ev.tid] = ev.ts_ns;
        }
        if (ev.site) {
            site_refs++;
            if (!hak_tr_site(r, ev.site))
                site_unknown++;
        }
        switch (ev.op) {
        case HAK_OP_FREE:
            if (ev.in_ptr)
                aset_del(&live, ev.in_ptr);
            break;
        case HAK_OP_REALLOC: case HAK_OP_REALLOCARRAY:
            if (ev.out_ptr || ev.size == 0) {
                if (ev.in_ptr)
                    aset_del(&live, ev.in_ptr);
                if (ev.out_ptr && !aset_add(&live, ev.out_ptr))
                    double_live++;
            }
            break;
        case HAK_OP_MALLOC: case HAK_OP_CALLOC: case HAK_OP_MEMALIGN:
        case HAK_OP_POSIX_MEMALIGN: case HAK_OP_ALIGNED_ALLOC: case HAK_OP_VALLOC:
        case HAK_OP_PVALLOC:
            if (ev.out_ptr && !aset_add(&live, ev.out_ptr))
                double_live++;
            break;
        default:
            break;
        }
    }
    if (rc < 0) {
        printf("decode_error=%s\n", hak_tr_error(r));
        bad = 1;
    }
    printf("walked=%llu\n", (unsigned long long)n);
    for (int op = 1; op < HAK_OP_COUNT_; op++)
        if (ops[op])
            printf("op_%s=%llu\n", hak_op_name(op), (unsigned long long)ops[op]);
    printf("seq_not_increasing=%llu\nts_not_monotonic=%llu\ndouble_live=%llu\n"
           "site_refs=%llu\nsite_unknown=%llu\n",
           (unsigned long long)seq_bad, (unsigned long long)ts_bad,
           (unsigned long long)double_live, (unsigned long long)site_refs,
           (unsigned long long)site_unknown);
    if (seq_bad || ts_bad || (clean && double_live) || (!st->truncated && site_unknown))
        bad = 1;

    hak_tr_rewind(r);
    hak_replay rp;
    if (hak_replay_build(r, &rp, err, sizeof err) != 0) {
        printf("replay_build_error=%s\n", err);
        bad = 1;
    } else {
        printf("replay_ops=%llu\nobjects=%u\ninversions=%llu\ndouble_frees=%llu\n"
               "unknown_frees=%llu\nfailed_allocs=%llu\ncross_thread_deps=%llu\n"
               "peak_live_bytes=%llu\n",
               (unsigned long long)rp.nops, rp.nobjects, (unsigned long long)rp.inversions,
               (unsigned long long)rp.double_frees, (unsigned long long)rp.unknown_frees,
               (unsigned long long)rp.failed_allocs, (unsigned long long)rp.cross_thread_deps,
               (unsigned long long)rp.peak_live_bytes);
        printf("pre_blocks=%llu\npre_bytes=%llu\n", (unsigned long long)rp.npre,
               (unsigned long long)rp.pre_bytes);
        /* events the replay form leaves out: free(NULL) and mmap-family calls */
        printf("free_nulls=%llu\nmmap_ops=%llu\n", (unsigned long long)rp.free_nulls,
               (unsigned long long)rp.mmap_ops);
        if (clean && (rp.inversions || rp.double_frees))
            bad = 1;
        hak_replay_free(&rp);
    }
    free(live.k);
    free(last_ts);
    hak_tr_close(r);
    printf("result=%s\n", bad ? "FAIL" : "ok");
    return bad;
}
