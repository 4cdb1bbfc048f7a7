/* fuzz_reader.c - libFuzzer entry for every reader path: open (header,
 * chunk index, side tables), merged and per-thread iteration, and the
 * replay form.  Oracles besides the sanitizers: batch (hak_tr_read) and
 * one-by-one (hak_tr_next) merged iteration give the same events, each
 * thread's own iteration gives its events in the merged order, every
 * listed site is found by id, side tables stay within the reader limits,
 * loss records and only they make the trace incomplete, and the replay
 * form covers all its ops.  Each input is tried twice: as given, and with its header
 * and chunk checksums recomputed, so mutations reach the payload decoders
 * behind the checksums instead of stopping there.
 *
 * Built by `make fuzz` with clang -fsanitize=fuzzer,address,undefined; the
 * same function runs the committed regression inputs under `make check`
 * (traces/tests/test_fuzz_regressions.c, which #includes this file).
 */
#include "trace.h"
#include "fuzz_fixed.h"
#include "trace_fmt.h"

#include <stdlib.h>
#include <string.h>

/* Events of up to FUZZ_CAP merged events are kept for the differential
 * checks below (a 64 KiB input can encode millions of events). */
#define FUZZ_CAP 65536

typedef struct fuzz_seq {
    hak_event *ev;
    size_t n, cap;  /* grows up to FUZZ_CAP: most inputs have few events */
    int err;        /* the iteration returned -1 */
    int capped;     /* stopped at FUZZ_CAP with events left */
} fuzz_seq;

/* Field by field: the struct's padding bytes carry no meaning. */
static int ev_eq(const hak_event *a, const hak_event *b)
{
    return a->seq == b->seq && a->ts_ns == b->ts_ns && a->size == b->size &&
           a->nmemb == b->nmemb && a->align == b->align && a->in_ptr == b->in_ptr &&
           a->out_ptr == b->out_ptr && a->tid == b->tid && a->site == b->site &&
           a->err == b->err && a->op == b->op;
}

static void seq_put(fuzz_seq *q, const hak_event *e)
{
    if (q->n == FUZZ_CAP)
        return;
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 256;
        if (!(q->ev = realloc(q->ev, q->cap * sizeof *q->ev)))
            abort();
    }
    q->ev[q->n++] = *e;
}

/* One of a and b (each ended by an error, the end or the cap) must be a
 * prefix of the other; when both ran to their end without error they must
 * be equal.  The batch path may drop a partly decoded run on an error where
 * the one-by-one path already returned its first events, so only the
 * common prefix is compared after an error. */
static void same_events(const fuzz_seq *a, const fuzz_seq *b)
{
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++)
        if (!ev_eq(&a->ev[i], &b->ev[i]))
            abort();   /* batch and one-by-one iteration disagree */
    if (!a->err && !b->err && !a->capped && !b->capped && a->n != b->n)
        abort();
}

static void fuzz_one(const uint8_t *data, size_t size)
{
    char err[256];
    hak_trace_reader *r = hak_tr_open_mem(data, size, err, sizeof err);
    if (!r)
        return;
    static hak_event ev[512];
    fuzz_seq ga = {0}, gb = {0}, th = {0};
    long k;
    while ((k = hak_tr_read(r, ev, 512)) > 0)
        for (long i = 0; i < k; i++)
            seq_put(&ga, &ev[i]);
    ga.err = k < 0;
    hak_tr_rewind(r);
    hak_event e;
    int got = 0;
    while (gb.n < FUZZ_CAP && (got = hak_tr_next(r, &e)) == 1)
        seq_put(&gb, &e);
    gb.err = gb.n < FUZZ_CAP && got < 0;
    gb.capped = gb.n == FUZZ_CAP;
    ga.capped = ga.n == FUZZ_CAP;
    same_events(&ga, &gb);
    /* Per thread: the thread's events in the merged order's relative
     * order (the merge only interleaves threads), when both ran clean. */
    for (uint32_t t = 0; t < hak_tr_nthreads(r) && t < 64; t++) {
        th.n = 0;
        while ((got = hak_tr_next_thread(r, t, &e)) == 1)
            seq_put(&th, &e);
        if (got < 0 || th.n == FUZZ_CAP || ga.err || ga.capped)
            continue;
        size_t j = 0;
        for (size_t i = 0; i < ga.n; i++)
            if (ga.ev[i].tid == t) {
                if (j >= th.n || !ev_eq(&ga.ev[i], &th.ev[j]))
                    abort();   /* per-thread and merged iteration disagree */
                j++;
            }
        if (j != th.n)
            abort();
    }
    free(ga.ev);
    free(gb.ev);
    free(th.ev);
    const hak_site *s;
    size_t ns = hak_tr_sites(r, &s);
    for (size_t i = 0; i < ns; i++)
        if (hak_tr_site(r, s[i].id) == NULL)
            abort();   /* every listed site must be found by id */
    /* Side tables stay within the reader limits (FORMAT.md); loss
     * records make the status incomplete, and nothing else does. */
    const hak_tr_loss *l;
    size_t nl = hak_tr_losses(r, &l);
    if (nl > TF_LOSSES_HELD_MAX || hak_tr_status_get(r)->incomplete != (nl > 0))
        abort();
    for (size_t i = 0; i < nl; i++)
        if (!l[i].detail || strlen(l[i].detail) > TF_LOSS_DETAIL_MAX)
            abort();
    const hak_rss_sample *rs;
    const hak_module *mods;
    if (ns > TF_SITES_HELD_MAX || hak_tr_rss(r, &rs) > TF_RSS_HELD_MAX
        || hak_tr_modules(r, &mods) > TF_MODULES_HELD_MAX || hak_tr_rss_stride(r) == 0)
        abort();
    hak_replay rp;
    if (hak_replay_build(r, &rp, err, sizeof err) == 0) {
        uint64_t sum = 0;
        for (uint32_t t = 0; t < rp.nthreads; t++)
            sum += rp.thread_nops[t];
        if (sum != rp.nops)
            abort();   /* per-thread lists must cover all ops */
        hak_replay_free(&rp);
    }
    hak_tr_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_as_is_and_fixed(data, size, fuzz_one);
    return 0;
}
