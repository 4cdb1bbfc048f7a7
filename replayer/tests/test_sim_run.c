/* The simulator's replay loop on hand-made replay forms: operations are run
 * against glibc and a bump allocator .so, touched pages reach the model, and
 * modelled first-touch faults match the faults the window really took. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <dlfcn.h>

#include "sim_alloc.h"
#include "sim_run.h"
#include "sim_thp.h"

#include <sys/mman.h>

/* n mallocs of `size`, then their frees in order. */
static void mk_replay(hak_replay *rp, uint32_t n, uint64_t size)
{
    memset(rp, 0, sizeof *rp);
    rp->nops = 2ull * n;
    rp->ops = calloc(rp->nops, sizeof *rp->ops);
    rp->nobjects = n;
    rp->nthreads = 1;
    for (uint32_t i = 0; i < n; i++) {
        rp->ops[i] = (hak_rop){.size = size, .obj = i, .in_obj = HAK_NO_OBJ,
                               .op = HAK_OP_MALLOC};
        rp->ops[n + i] = (hak_rop){.obj = HAK_NO_OBJ, .in_obj = i, .op = HAK_OP_FREE};
    }
}

static sim_run_opts opts(hak_touch t, sim_access_mode a)
{
    sim_run_opts o;
    memset(&o, 0, sizeof o);
    o.touch = t;
    o.access = a;
    sim_tlb_default(&o.geom);
    o.pages = SIM_PAGES_4K;
    return o;
}

static void glibc_pages_faults_match_measured(void **state)
{
    (void)state;
    hak_replay rp;
    mk_replay(&rp, 4000, 3 * 4096 + 100);   /* 4 pages each, above no mmap threshold */
    sim_alloc a;
    char err[256];
    assert_int_equal(sim_alloc_load("glibc", &a, err, sizeof err), 0);
    sim_run_opts o = opts(HAK_TOUCH_PAGES, SIM_ACCESS_TOUCH);
    static sim_result r;
    assert_int_equal(sim_run(&rp, &a, &o, &r), 0);
    assert_true(r.ok);
    assert_int_equal(r.allocs, 4000);
    assert_int_equal(r.frees, 4000);
    assert_int_equal(r.final_live_bytes, 0);
    assert_int_equal(r.peak_live_bytes, 4000ull * (3 * 4096 + 100));
    /* Contiguous heap: the blocks cover about 4000 * 3.03 pages. */
    assert_true(r.st.faults >= 12000 && r.st.faults <= 16100);
    assert_true(r.peak_pages >= r.st.faults - 2 && r.peak_pages <= r.st.faults);
    assert_true(r.nsamples > 100 && r.nsamples <= SIM_MAX_SAMPLES);
    assert_int_equal(r.samples[r.nsamples - 1].op, rp.nops);
    /* The model against the kernel: within 10% of the measured window
     * faults once the model's own table growth is taken out. */
    double measured = (double)(r.window_minflt - r.own_minflt);
    double ratio = (double)r.st.faults / measured;
    print_message("# glibc: modelled %llu, measured %lld (own %lld), ratio %.3f\n",
                  (unsigned long long)r.st.faults, (long long)r.window_minflt,
                  (long long)r.own_minflt, ratio);
    assert_true(ratio > 0.9 && ratio < 1.1);
    free(rp.ops);
}

static void access_full_counts_every_line_twice(void **state)
{
    (void)state;
    hak_replay rp;
    mk_replay(&rp, 100, 640);    /* 10 lines when line aligned, 11 otherwise */
    sim_alloc a;
    char err[256];
    assert_int_equal(sim_alloc_load("glibc", &a, err, sizeof err), 0);
    static sim_result r, t;
    sim_run_opts o = opts(HAK_TOUCH_PAGES, SIM_ACCESS_FULL);
    assert_int_equal(sim_run(&rp, &a, &o, &r), 0);
    assert_true(r.st.accesses >= 2 * 100 * 10 && r.st.accesses <= 2 * 100 * 11);
    o = opts(HAK_TOUCH_FIRST, SIM_ACCESS_TOUCH);
    assert_int_equal(sim_run(&rp, &a, &o, &t), 0);
    assert_int_equal(t.st.accesses, 100);
    o = opts(HAK_TOUCH_NONE, SIM_ACCESS_TOUCH);
    assert_int_equal(sim_run(&rp, &a, &o, &t), 0);
    assert_int_equal(t.st.accesses, 0);
    assert_int_equal(t.st.faults, 0);
    assert_int_equal(t.peak_live_bytes, 64000);   /* layout still tracked */
    free(rp.ops);
}

static char bump_path[4096];

static void so_allocator_serves_the_replay(void **state)
{
    (void)state;
    sim_alloc a;
    char err[256];
    if (sim_alloc_load(bump_path, &a, err, sizeof err) != 0)
        fail_msg("load %s: %s", bump_path, err);
    assert_string_equal(a.name, "simbump");
    char *(*base)(void) = (char *(*)(void))dlsym(a.handle, "sim_bump_arena_base");
    assert_non_null(base);
    hak_replay rp;
    mk_replay(&rp, 1000, 4000);
    /* An aligned allocation and a realloc in the mix. */
    rp.ops[5].op = HAK_OP_POSIX_MEMALIGN;
    rp.ops[5].aux = 4096;
    static sim_result r;
    sim_run_opts o = opts(HAK_TOUCH_PAGES, SIM_ACCESS_TOUCH);
    assert_int_equal(sim_run(&rp, &a, &o, &r), 0);
    char *arena = base();
    assert_non_null(arena);
    assert_int_equal(r.allocs, 1000);
    /* The bump allocator never reuses: peak pages = all pages ever. */
    assert_int_equal(r.pages_ever, r.peak_pages);
    assert_true(r.st.faults >= 1000 * 4016 / 4096);
    /* The process's malloc was not used for the blocks: glibc's next block
     * is not inside the arena. */
    char *g = malloc(16);
    assert_true(g < arena || g >= arena + (1024ul << 20));
    free(g);
    free(rp.ops);
}

static void bad_allocators_fail_clearly(void **state)
{
    (void)state;
    sim_alloc a;
    char err[256];
    assert_int_equal(sim_alloc_load("nosuch", &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown allocator"));
    assert_int_equal(sim_alloc_load("/nonexistent/libx.so", &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "No such file"));
    assert_int_equal(sim_alloc_load("/etc/hostname", &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "dlopen"));
}

/* Both THP methods agree on a madvise(MADV_HUGEPAGE)d region and on one
 * that refused huge pages. */
static void thp_methods_agree(void **state)
{
    (void)state;
    char mode[64] = "";
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (f) {
        if (!fgets(mode, sizeof mode, f))
            mode[0] = 0;
        fclose(f);
    }
    if (!mode[0] || strstr(mode, "[never]"))
        skip();
    const size_t HP = 2u << 20;
    char *raw = mmap(NULL, 8 * HP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(raw != MAP_FAILED);
    char *huge = (char *)(((uintptr_t)raw + HP - 1) & ~(uintptr_t)(HP - 1));
    char *small = huge + 2 * HP;
    madvise(huge, HP, MADV_HUGEPAGE);
    madvise(small, HP, MADV_NOHUGEPAGE);
    huge[100] = 1;
    small[100] = 1;
    sim_thp a, b;
    assert_int_equal(sim_thp_init(&a), 0);
    assert_int_equal(sim_thp_init(&b), 0);
    b.use_pagemap = 0;                  /* force the smaps method */
    int ha = sim_thp_is_huge(&a, (uint64_t)(uintptr_t)huge);
    int hb = sim_thp_is_huge(&b, (uint64_t)(uintptr_t)huge);
    assert_int_equal(sim_thp_is_huge(&a, (uint64_t)(uintptr_t)small), 0);
    assert_int_equal(sim_thp_is_huge(&b, (uint64_t)(uintptr_t)small), 0);
    print_message("# thp: pagemap method (%s) %d, smaps method %d\n", a.method, ha, hb);
    assert_int_equal(ha, hb);
    sim_thp_destroy(&a);
    sim_thp_destroy(&b);
    munmap(raw, 8 * HP);
    if (!ha)
        skip();   /* the kernel gave no huge page (fragmentation): nothing more to check */
}

int main(int argc, char **argv)
{
    /* The bump .so sits next to this test binary. */
    snprintf(bump_path, sizeof bump_path, "%s", argc > 0 ? argv[0] : "");
    char *slash = strrchr(bump_path, '/');
    snprintf(slash ? slash + 1 : bump_path, sizeof bump_path - (size_t)(slash ? slash + 1 - bump_path : 0),
             "libsimbump.so");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(glibc_pages_faults_match_measured),
        cmocka_unit_test(access_full_counts_every_line_twice),
        cmocka_unit_test(so_allocator_serves_the_replay),
        cmocka_unit_test(bad_allocators_fail_clearly),
        cmocka_unit_test(thp_methods_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
