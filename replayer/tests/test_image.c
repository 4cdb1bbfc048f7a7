/* test_image.c - the replay image built from a hand-made replay form:
 * layout, sizes (calloc totals, big sizes, alignment), the serial timeline
 * schedule's live bytes, and in recorded mode the dependencies: sorted per
 * thread, within range, and pointing backwards in the global order (which
 * is what makes the waits deadlock-free), with sync points when asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "image.h"
#include "replay.h"

/* A 2-thread producer/consumer form: thread 0 mallocs, thread 1 frees,
 * plus a calloc, a big malloc and a memalign on thread 0. */
typedef struct form {
    hak_replay rp;
    hak_rop ops[64];
    uint64_t tn[2], tnd[2];
    uint32_t t0[64], t1[64];
    uint32_t *tops[2];
    hak_rdep d0[64], d1[64];
    hak_rdep *tdeps[2];
} form;

#define NODEP UINT32_MAX

static void add(form *f, int op, uint16_t tid, uint64_t size, uint32_t aux,
                uint32_t obj, uint32_t in, uint32_t dep_tid, uint32_t dep_idx)
{
    hak_rop *o = &f->ops[f->rp.nops];
    memset(o, 0, sizeof *o);
    o->op = (uint8_t)op; o->tid = tid; o->size = size; o->aux = aux;
    o->obj = obj; o->in_obj = in;
    if (dep_tid != NODEP)
        f->tdeps[tid][f->tnd[tid]++] = (hak_rdep){(uint32_t)f->tn[tid], dep_tid, dep_idx};
    uint32_t *list = tid ? f->t1 : f->t0;
    list[f->tn[tid]++] = f->rp.nops++;
}

static void make_form(form *f)
{
    memset(f, 0, sizeof *f);
    f->rp.ops = f->ops;
    f->rp.nthreads = 2;
    f->rp.thread_nops = f->tn;
    f->tops[0] = f->t0; f->tops[1] = f->t1;
    f->rp.thread_ops = f->tops;
    f->rp.thread_ndeps = f->tnd;
    f->tdeps[0] = f->d0; f->tdeps[1] = f->d1;
    f->rp.thread_deps = f->tdeps;
    uint32_t obj = 0;
    for (int i = 0; i < 10; i++) {                  /* m0 m1 f0 m2 f1 ... */
        add(f, HAK_OP_MALLOC, 0, 100 + i, 0, obj, HAK_NO_OBJ, NODEP, 0);
        obj++;
        if (i > 0)
            add(f, HAK_OP_FREE, 1, 0, 0, HAK_NO_OBJ, obj - 2, 0, (uint32_t)f->tn[0] - 2);
    }
    add(f, HAK_OP_CALLOC, 0, 8, 1000, obj++, HAK_NO_OBJ, NODEP, 0);
    add(f, HAK_OP_MALLOC, 0, 5ull << 32, 0, obj++, HAK_NO_OBJ, NODEP, 0);
    add(f, HAK_OP_MEMALIGN, 0, 64, 4096, obj++, HAK_NO_OBJ, NODEP, 0);
    f->rp.nobjects = obj;
}

static const rp_image_hdr *map(const rp_image *im)
{
    void *p = mmap(NULL, im->bytes, PROT_READ, MAP_SHARED, im->fd, 0);
    assert_true(p != MAP_FAILED);
    return p;
}

static void serial_image(void **state)
{
    (void)state;
    form f;
    make_form(&f);
    rp_image im;
    char err[256];
    assert_int_equal(rp_image_build(&f.rp, 0, NULL, 0, &im, err, sizeof err), 0);
    const rp_image_hdr *h = map(&im);
    assert_true(h->magic == RP_IMG_MAGIC);
    assert_true(h->flags & RP_IMG_SERIAL);
    assert_int_equal(h->nops, f.rp.nops);
    assert_int_equal(h->ndeps, 0);
    const rp_wop *ops = RP_AT(h, h->ops_off, const rp_wop);
    const uint64_t *osz = RP_AT(h, h->obj_size_off, const uint64_t);
    uint64_t n = h->nops;
    assert_int_equal(ops[n - 3].size, 8000);             /* calloc total */
    assert_int_equal(ops[n - 2].size, RP_SIZE_BIG);      /* 5 GiB */
    assert_int_equal(h->nbig, 1);
    assert_int_equal(RP_AT(h, h->big_off, const rp_wbig)[0].size, 5ull << 32);
    assert_int_equal(RP_AT(h, h->big_off, const rp_wbig)[0].pos, n - 2);
    assert_int_equal(ops[n - 1].align_log2, 12);
    assert_int_equal(osz[0], 100);
    /* Last schedule entry: after every op, live = everything never freed. */
    const rp_wsched *sc = RP_AT(h, h->sched_off, const rp_wsched);
    assert_int_equal(sc[h->nsched - 1].op, n);
    assert_int_equal(sc[h->nsched - 1].live_bytes, 109 + 8000 + (5ull << 32) + 64);
    assert_int_equal(sc[0].live_bytes, 0);
    munmap((void *)h, im.bytes);
    rp_image_close(&im);
}

/* The program's mappings (trace.h, HAK_REPLAY_MMAP): a munmap of part of
 * a mapping carries its offset in moff[] by op position, a whole one
 * none, and the timeline's live bytes drop by the part unmapped. */
static void mapping_parts(void **state)
{
    (void)state;
    form f;
    make_form(&f);
    uint32_t m = f.rp.nobjects++;
    add(&f, HAK_OP_MMAP, 0, 64 << 12, 0, m, HAK_NO_OBJ, NODEP, 0);
    add(&f, HAK_OP_MUNMAP, 0, 8 << 12, 16, HAK_NO_OBJ, m, NODEP, 0);   /* pages 16-23 */
    add(&f, HAK_OP_MUNMAP, 0, 4 << 12, 60, HAK_NO_OBJ, m, NODEP, 0);   /* pages 60-63 */
    rp_image im;
    char err[256];
    assert_int_equal(rp_image_build(&f.rp, 0, NULL, 0, &im, err, sizeof err), 0);
    const rp_image_hdr *h = map(&im);
    uint64_t n = h->nops;
    assert_int_equal(h->nmoff, 2);
    const rp_wbig *mo = RP_AT(h, h->moff_off, const rp_wbig);
    assert_int_equal(mo[0].pos, n - 2);
    assert_int_equal(mo[0].size, 16 << 12);
    assert_int_equal(mo[1].pos, n - 1);
    assert_int_equal(mo[1].size, 60 << 12);
    assert_int_equal(RP_AT(h, h->ops_off, const rp_wop)[n - 1].size, 4 << 12);
    const rp_wsched *sc = RP_AT(h, h->sched_off, const rp_wsched);
    assert_int_equal(sc[h->nsched - 1].live_bytes,
                     109 + 8000 + (5ull << 32) + 64 + ((64 - 8 - 4) << 12));
    munmap((void *)h, im.bytes);
    rp_image_close(&im);
}

/* Samples where the caller asks (rp_image_build_at: where the recording
 * sampled its heap), besides the regular ones (here only op 0: they are
 * at least 4096 ops apart) and the closing one, with the live bytes
 * there; a recorded image has none. */
static void samples_where_asked(void **state)
{
    (void)state;
    form f;
    make_form(&f);
    const uint64_t at[] = {3, 7, 7000};          /* 7000: past the end, ignored */
    rp_image im;
    char err[256];
    assert_int_equal(rp_image_build_at(&f.rp, 0, NULL, 0, at, 3, &im, err, sizeof err), 0);
    const rp_image_hdr *h = map(&im);
    const rp_wsched *sc = RP_AT(h, h->sched_off, const rp_wsched);
    assert_int_equal(h->nsched, 4);
    assert_int_equal(sc[0].op, 0);
    assert_int_equal(sc[1].op, 3);
    assert_int_equal(sc[1].live_bytes, 101);           /* m0 m1 f0: m1, before op 3 (m2) */
    assert_int_equal(sc[2].op, 7);
    assert_int_equal(sc[3].op, h->nops);
    munmap((void *)h, im.bytes);
    rp_image_close(&im);
    assert_int_equal(rp_image_build_at(&f.rp, 1, NULL, 0, at, 3, &im, err, sizeof err), 0);
    h = map(&im);
    assert_int_equal(h->nsched, 0);
    munmap((void *)h, im.bytes);
    rp_image_close(&im);
}

static void check_deps(const rp_image_hdr *h, const form *f)
{
    const rp_wthread *th = RP_AT(h, h->thread_off, const rp_wthread);
    const rp_wdep *deps = RP_AT(h, h->deps_off, const rp_wdep);
    for (uint32_t t = 0; t < h->nthreads; t++) {
        for (uint64_t k = 0; k < th[t].ndeps; k++) {
            const rp_wdep *d = &deps[th[t].dep_off + k];
            if (k)
                assert_true(d->idx >= deps[th[t].dep_off + k - 1].idx);
            assert_true(d->idx < th[t].nops);
            assert_true(d->dep_tid != t && d->dep_tid < h->nthreads);
            assert_true(d->dep_count >= 1 && d->dep_count <= th[d->dep_tid].nops);
            /* backwards: the awaited op precedes the waiting op globally */
            uint64_t waiting = f->rp.thread_ops[t][d->idx];
            uint64_t awaited = f->rp.thread_ops[d->dep_tid][d->dep_count - 1];
            assert_true(awaited < waiting);
        }
    }
}

static void recorded_image(void **state)
{
    (void)state;
    form f;
    make_form(&f);
    rp_image im;
    char err[256];
    assert_int_equal(rp_image_build(&f.rp, 1, NULL, 0, &im, err, sizeof err), 0);
    const rp_image_hdr *h = map(&im);
    assert_false(h->flags & RP_IMG_SERIAL);
    assert_int_equal(h->nthreads, 2);
    assert_int_equal(h->ndeps, 9);              /* one per cross-thread free */
    const rp_wthread *th = RP_AT(h, h->thread_off, const rp_wthread);
    assert_int_equal(th[0].nops, f.tn[0]);
    assert_int_equal(th[1].nops, f.tn[1]);
    assert_int_equal(th[1].op_off, f.tn[0]);
    check_deps(h, &f);
    munmap((void *)h, im.bytes);
    rp_image_close(&im);

    /* sync points: more deps, same invariants */
    assert_int_equal(rp_image_build(&f.rp, 1, NULL, 2, &im, err, sizeof err), 0);
    h = map(&im);
    assert_true(h->ndeps > 9);
    check_deps(h, &f);
    munmap((void *)h, im.bytes);
    rp_image_close(&im);
}

static void bad_form_is_refused(void **state)
{
    (void)state;
    form f;
    make_form(&f);
    f.ops[3].in_obj = 999;
    rp_image im;
    char err[256] = "";
    assert_int_equal(rp_image_build(&f.rp, 0, NULL, 0, &im, err, sizeof err), -1);
    assert_non_null(strstr(err, "consumes object 999"));

    make_form(&f);                      /* a dependency on an op that never runs */
    f.d1[2].dep_idx = 999;
    assert_int_equal(rp_image_build(&f.rp, 1, NULL, 0, &im, err, sizeof err), -1);
    assert_non_null(strstr(err, "depends on op 999 of thread 0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(serial_image),
        cmocka_unit_test(mapping_parts),
        cmocka_unit_test(samples_where_asked),
        cmocka_unit_test(recorded_image),
        cmocka_unit_test(bad_form_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
