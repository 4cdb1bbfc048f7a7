/* Validation of the simulator's memory-system model against cases with
 * known answers: cold pages, loops that fit, LRU set conflicts, 2 MiB pages,
 * THP regions, geometry specs, layout figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim_layout.h"
#include "sim_map.h"
#include "sim_model.h"

#define PG 4096ull
#define HP (2ull << 20)
#define BASE 0x7f0000000000ull   /* 2 MiB aligned, like a SuperSlab */

static void mk(sim_model *m, const char *spec, sim_page_mode mode)
{
    sim_tlb_geom g;
    char err[256];
    sim_tlb_default(&g);
    if (spec)
        assert_int_equal(sim_tlb_parse(spec, &g, err, sizeof err), 0);
    assert_int_equal(sim_model_init(m, &g, mode, 16, err, sizeof err), 0);
}

static void cold_pages_fault_and_miss_once(void **state)
{
    (void)state;
    sim_model m;
    mk(&m, NULL, SIM_PAGES_4K);
    const uint64_t n = 5000;
    for (uint64_t i = 0; i < n; i++)
        sim_access(&m, BASE + i * PG + 123);
    assert_int_equal(m.st.accesses, n);
    assert_int_equal(m.st.faults, n);
    assert_int_equal(m.st.faults_4k, n);
    assert_int_equal(m.st.l1_misses, n);
    assert_int_equal(m.st.stlb_misses, n);
    /* Same page again, other offsets: no new fault, no miss. */
    sim_access(&m, BASE + (n - 1) * PG);
    sim_access(&m, BASE + (n - 1) * PG + 4095);
    assert_int_equal(m.st.faults, n);
    assert_int_equal(m.st.l1_misses, n);
    sim_model_destroy(&m);
}

static void loop_that_fits_only_compulsory(void **state)
{
    (void)state;
    sim_model m;
    mk(&m, NULL, SIM_PAGES_4K);
    /* 64 consecutive pages fill the 16x4 L1 exactly. */
    for (int r = 0; r < 100; r++)
        for (uint64_t i = 0; i < 64; i++)
            sim_access(&m, BASE + i * PG);
    assert_int_equal(m.st.l1_misses, 64);
    assert_int_equal(m.st.stlb_misses, 64);
    assert_int_equal(m.st.faults, 64);
    sim_model_destroy(&m);

    /* 1024 pages fit the STLB (128x12) but not the L1: every L1 access
     * misses (LRU over a cyclic sweep), the STLB only compulsorily. */
    mk(&m, NULL, SIM_PAGES_4K);
    for (int r = 0; r < 10; r++)
        for (uint64_t i = 0; i < 1024; i++)
            sim_access(&m, BASE + i * PG);
    assert_int_equal(m.st.l1_misses, 10 * 1024);
    assert_int_equal(m.st.stlb_misses, 1024);
    assert_int_equal(m.st.faults, 1024);
    sim_model_destroy(&m);
}

static void set_conflicts_follow_lru(void **state)
{
    (void)state;
    sim_model m;
    /* L1: 16 sets x 4 ways; a stride of 16 pages lands in one L1 set but in
     * different STLB sets (128 sets). */
    const uint64_t s1 = 16 * PG;
    mk(&m, NULL, SIM_PAGES_4K);
    for (int r = 0; r < 50; r++)
        for (uint64_t i = 0; i < 5; i++)      /* ways + 1 */
            sim_access(&m, BASE + i * s1);
    assert_int_equal(m.st.l1_misses, 250);   /* every access */
    assert_int_equal(m.st.stlb_misses, 5);   /* STLB holds them */
    sim_model_destroy(&m);

    mk(&m, NULL, SIM_PAGES_4K);
    for (int r = 0; r < 50; r++)
        for (uint64_t i = 0; i < 4; i++)      /* = ways */
            sim_access(&m, BASE + i * s1);
    assert_int_equal(m.st.l1_misses, 4);
    sim_model_destroy(&m);

    /* A stride of 128 pages hits one set of both levels: 13 pages cycled
     * through the 12-way STLB miss every time. */
    mk(&m, NULL, SIM_PAGES_4K);
    for (int r = 0; r < 20; r++)
        for (uint64_t i = 0; i < 13; i++)
            sim_access(&m, BASE + i * 128 * PG);
    assert_int_equal(m.st.stlb_misses, 20 * 13);
    assert_int_equal(m.st.faults, 13);
    sim_model_destroy(&m);

    /* Exact LRU order: A B C D A E evicts B (not A); then A hits, B misses. */
    mk(&m, "l2=0", SIM_PAGES_4K);
    uint64_t A = BASE, B = A + s1, C = B + s1, D = C + s1, E = D + s1;
    uint64_t seq[] = {A, B, C, D, A, E};
    for (size_t i = 0; i < 6; i++)
        sim_access(&m, seq[i]);
    assert_int_equal(m.st.l1_misses, 5);
    sim_access(&m, A);
    assert_int_equal(m.st.l1_misses, 5);
    sim_access(&m, B);
    assert_int_equal(m.st.l1_misses, 6);
    /* Without an STLB every L1 miss is a walk. */
    assert_int_equal(m.st.stlb_misses, 6);
    sim_model_destroy(&m);
}

static void huge_pages_cut_misses(void **state)
{
    (void)state;
    const uint64_t bytes = 64ull << 20;
    sim_model a, b;
    mk(&a, NULL, SIM_PAGES_4K);
    mk(&b, NULL, SIM_PAGES_2M);
    for (uint64_t off = 0; off < bytes; off += PG) {
        sim_access(&a, BASE + off);
        sim_access(&b, BASE + off);
    }
    assert_int_equal(a.st.faults, bytes / PG);
    assert_int_equal(b.st.faults, bytes / HP);
    assert_int_equal(b.st.faults_2m, bytes / HP);
    assert_int_equal(a.st.stlb_misses / b.st.stlb_misses, HP / PG);   /* 512x */
    sim_model_destroy(&a);
    sim_model_destroy(&b);

    /* Cycling over 8 MiB: 2048 small pages overflow the STLB (every access
     * walks), 4 huge pages fit the 2M L1 (4 compulsory walks). */
    mk(&a, NULL, SIM_PAGES_4K);
    mk(&b, NULL, SIM_PAGES_2M);
    for (int r = 0; r < 5; r++)
        for (uint64_t off = 0; off < (8ull << 20); off += PG) {
            sim_access(&a, BASE + off);
            sim_access(&b, BASE + off);
        }
    assert_int_equal(a.st.stlb_misses, 5 * 2048);
    assert_int_equal(b.st.stlb_misses, 4);
    assert_int_equal(b.st.l1_misses, 4);
    sim_model_destroy(&a);
    sim_model_destroy(&b);
}

static int odd_regions_huge(void *ctx, uint64_t addr)
{
    (*(int *)ctx)++;
    return (int)((addr >> 21) & 1);
}

static void thp_regions_as_classified(void **state)
{
    (void)state;
    sim_model m;
    int calls = 0;
    mk(&m, NULL, SIM_PAGES_THP);
    sim_model_set_huge_fn(&m, odd_regions_huge, &calls);
    /* 4 regions: two huge (odd), two of 4 KiB pages. */
    for (int r = 0; r < 3; r++)
        for (uint64_t off = 0; off < 4 * HP; off += PG)
            sim_access(&m, BASE + off);
    assert_int_equal(calls, 4);               /* asked once per region */
    assert_int_equal(m.st.huge_regions, 2);
    assert_int_equal(m.st.small_regions, 2);
    assert_int_equal(m.st.faults_2m, 2);
    assert_int_equal(m.st.faults_4k, 2 * 512);
    assert_int_equal(m.st.faults, 2 + 2 * 512);
    sim_model_destroy(&m);

    /* Preset classes win over the callback. */
    calls = 0;
    mk(&m, NULL, SIM_PAGES_THP);
    sim_model_set_huge_fn(&m, odd_regions_huge, &calls);
    assert_int_equal(sim_model_set_region(&m, BASE, 1), 0);
    sim_access(&m, BASE + 5 * PG);
    sim_access(&m, BASE + 9 * PG);
    assert_int_equal(calls, 0);
    assert_int_equal(m.st.faults_2m, 1);
    assert_int_equal(m.st.faults_4k, 0);
    sim_model_destroy(&m);
}

static void geometry_specs(void **state)
{
    (void)state;
    sim_tlb_geom g;
    char err[256], txt[160];
    sim_tlb_default(&g);
    sim_tlb_format(&g, txt, sizeof txt);
    assert_string_equal(txt, "l1=64:4,l1_2m=32:4,l2=1536:12");

    assert_int_equal(sim_tlb_parse("l1=32:8,l2=2048:16", &g, err, sizeof err), 0);
    sim_tlb_format(&g, txt, sizeof txt);
    assert_string_equal(txt, "l1=32:8,l1_2m=32:4,l2=2048:16");
    assert_int_equal(sim_tlb_parse("l2=0,l1_2m=0", &g, err, sizeof err), 0);
    assert_int_equal(g.l2.entries, 0);
    assert_int_equal(g.l1_2m.entries, 0);
    assert_int_equal(sim_tlb_parse("default", &g, err, sizeof err), 0);
    assert_int_equal(g.l2.entries, 1536);
    assert_int_equal(sim_tlb_parse("l1=8:8", &g, err, sizeof err), 0);  /* fully assoc. */

    struct { const char *spec, *needle; } bad[] = {
        {"l1=64:5", "not a multiple"},
        {"l1=48:4", "power of two"},
        {"l3=64:4", "unknown level 'l3'"},
        {"l1=0", "cannot be switched off"},
        {"l1=abc", "ENTRIES:WAYS"},
        {"l1=64", "ENTRIES:WAYS"},
        {"l1=64:0", "must be > 0"},
        {"l1=4:8", "<= entries"},
        {"l1=64:x", "not a number"},
        {"l1", "LEVEL=ENTRIES:WAYS"},
        {"", "empty"},
        {"l2=-1536:12", "ENTRIES:WAYS"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sim_tlb_default(&g);
        err[0] = '\0';
        assert_int_equal(sim_tlb_parse(bad[i].spec, &g, err, sizeof err), -1);
        if (!strstr(err, bad[i].needle))
            fail_msg("spec '%s': error '%s' lacks '%s'", bad[i].spec, err, bad[i].needle);
        assert_int_equal(g.l1.entries, 64);   /* untouched on error */
    }
    sim_page_mode pm;
    assert_int_equal(sim_page_mode_parse("thp", &pm), 0);
    assert_int_equal(pm, SIM_PAGES_THP);
    assert_int_equal(sim_page_mode_parse("1g", &pm), -1);
}

static void custom_geometry_changes_answers(void **state)
{
    (void)state;
    /* 8-entry fully associative L1, no STLB: a 9-page cycle always misses,
     * an 8-page cycle only compulsorily. */
    sim_model m;
    mk(&m, "l1=8:8,l2=0", SIM_PAGES_4K);
    for (int r = 0; r < 10; r++)
        for (uint64_t i = 0; i < 9; i++)
            sim_access(&m, BASE + i * 7 * PG);
    assert_int_equal(m.st.stlb_misses, 90);
    sim_model_destroy(&m);
    mk(&m, "l1=8:8,l2=0", SIM_PAGES_4K);
    for (int r = 0; r < 10; r++)
        for (uint64_t i = 0; i < 8; i++)
            sim_access(&m, BASE + i * 7 * PG);
    assert_int_equal(m.st.stlb_misses, 8);
    sim_model_destroy(&m);
}

static void layout_figures(void **state)
{
    (void)state;
    sim_layout L;
    assert_int_equal(sim_layout_init(&L, 4), 0);
    sim_layout_alloc(&L, BASE + 16, 100);
    sim_layout_alloc(&L, BASE + 200, 100);
    assert_int_equal(L.pages_spanned, 1);
    assert_int_equal(L.regions_spanned, 1);
    assert_true(sim_layout_occupancy(&L) > 200.0 / 4096 - 1e-9 &&
                sim_layout_occupancy(&L) < 200.0 / 4096 + 1e-9);
    /* A block straddling a region boundary spans 3 pages in 2 regions. */
    sim_layout_alloc(&L, BASE + HP - 100, 4096 + 200);
    assert_int_equal(L.pages_spanned, 4);
    assert_int_equal(L.regions_spanned, 2);
    assert_int_equal(L.peak_live_bytes, 4496);
    sim_layout_free(&L, BASE + 16, 100);
    assert_int_equal(L.pages_spanned, 4);     /* second block keeps page 0 */
    sim_layout_free(&L, BASE + 200, 100);
    assert_int_equal(L.pages_spanned, 3);
    assert_int_equal(L.regions_spanned, 2);
    sim_layout_free(&L, BASE + HP - 100, 4096 + 200);
    assert_int_equal(L.pages_spanned, 0);
    assert_int_equal(L.regions_spanned, 0);
    assert_int_equal(L.live_bytes, 0);
    assert_int_equal(L.peak_pages, 4);
    assert_int_equal(L.peak_regions, 2);
    assert_int_equal(L.pages_ever, 4);
    sim_layout_alloc(&L, BASE, 0);            /* zero-size spans nothing */
    assert_int_equal(L.pages_spanned, 0);
    sim_layout_destroy(&L);
}

static int grow_calls;
static void count_grow(void *ctx, int before) { (void)ctx; grow_calls += before; }

static void map_grows_and_finds(void **state)
{
    (void)state;
    sim_map m;
    assert_int_equal(sim_map_init(&m, 1), 0);
    m.grow_hook = count_grow;
    for (uint64_t k = 0; k < 100000; k++) {
        int ins;
        uint32_t *v = sim_map_upsert(&m, k * 4099, &ins);
        assert_non_null(v);
        assert_int_equal(ins, 1);
        *v = (uint32_t)k;
    }
    assert_true(grow_calls > 0);
    assert_int_equal(m.n, 100000);
    for (uint64_t k = 0; k < 100000; k++) {
        uint32_t *v = sim_map_find(&m, k * 4099);
        assert_non_null(v);
        assert_int_equal(*v, k);
    }
    assert_null(sim_map_find(&m, 4098));
    sim_map_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cold_pages_fault_and_miss_once),
        cmocka_unit_test(loop_that_fits_only_compulsory),
        cmocka_unit_test(set_conflicts_follow_lru),
        cmocka_unit_test(huge_pages_cut_misses),
        cmocka_unit_test(thp_regions_as_classified),
        cmocka_unit_test(geometry_specs),
        cmocka_unit_test(custom_geometry_changes_answers),
        cmocka_unit_test(layout_figures),
        cmocka_unit_test(map_grows_and_finds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
