/* End-to-end test of `hak trace stats` symbolisation and `validate` site
 * checks on a trace built here with a real module map: this test binary is
 * the module, and call-site stacks point into functions defined below, so
 * the expected symbol names are known.  Linked with the CLI objects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_common.h"

__attribute__((noinline)) int hak_site_alpha(int x) { return x * 7 + 3; }
__attribute__((noinline)) int hak_site_beta(int x) { return x * 5 - 1; }
__attribute__((noinline)) int hak_site_gamma(int x) { return x ^ 0x55; }

static int first_object(struct dl_phdr_info *info, size_t sz, void *data)
{
    (void)sz;
    hak_module *m = data;
    uint64_t hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_LOAD &&
            info->dlpi_phdr[i].p_vaddr + info->dlpi_phdr[i].p_memsz > hi)
            hi = info->dlpi_phdr[i].p_vaddr + info->dlpi_phdr[i].p_memsz;
    m->base = info->dlpi_addr;
    m->size = hi;
    return 1;
}

static char dir[] = "/tmp/hak_cli_stats.XXXXXX";
static char trace_path[256], out_path[256];

static hak_event ev(uint64_t seq, int op, uint64_t in, uint64_t out, uint64_t size, uint32_t site)
{
    hak_event e;
    memset(&e, 0, sizeof e);
    e.seq = seq;
    e.ts_ns = seq * 100;
    e.op = (uint8_t)op;
    e.in_ptr = in;
    e.out_ptr = out;
    e.size = size;
    e.site = site;
    return e;
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(trace_path, sizeof trace_path, "%s/sites.hkt", dir);
    snprintf(out_path, sizeof out_path, "%s/out.txt", dir);
    static char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    hak_module m;
    memset(&m, 0, sizeof m);
    dl_iterate_phdr(first_object, &m);
    m.path = exe;
    hak_trace_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.recorder = "test_cli_stats";
    char err[256];
    hak_trace_writer *w = hak_tw_open(trace_path, &meta, err, sizeof err);
    if (!w)
        return -1;
    uint64_t s1[] = {(uintptr_t)&hak_site_alpha + 4, (uintptr_t)&hak_site_beta + 2};
    uint64_t s2[] = {(uintptr_t)&hak_site_gamma};
    hak_event e[] = {
        ev(0, HAK_OP_THREAD_START, 0, 0, 1234, 0),
        ev(1, HAK_OP_MALLOC, 0, 0x1000, 100, 1),
        ev(2, HAK_OP_MALLOC, 0, 0x2000, 100, 1),
        ev(3, HAK_OP_MALLOC, 0, 0x3000, 100, 1),
        ev(4, HAK_OP_MALLOC, 0, 0x10000, 10000, 2),
        ev(5, HAK_OP_FREE, 0x1000, 0, 0, 0),
        ev(6, HAK_OP_MALLOC, 0, 0x4000, 8, 9),      /* site 9: not in the table */
        ev(7, HAK_OP_THREAD_EXIT, 0, 0, 0, 0),
    };
    if (hak_tw_site(w, 1, s1, 2) || hak_tw_site(w, 2, s2, 1) || hak_tw_module(w, &m) ||
        hak_tw_events(w, 0, e, sizeof e / sizeof *e) || hak_tw_close(w))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(trace_path);
    unlink(out_path);
    rmdir(dir);
    return 0;
}

/* Runs a subcommand with stdout captured into out_path; returns its status
 * and the captured text in *text (malloc'ed). */
static int run(int (*cmd)(int, char **), char **argv, int argc, char **text)
{
    fflush(stdout);
    int saved = dup(1);
    FILE *f = fopen(out_path, "w");
    assert_non_null(f);
    dup2(fileno(f), 1);
    int rc = cmd(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    fclose(f);
    f = fopen(out_path, "r");
    assert_non_null(f);
    *text = calloc(1, 1 << 16);
    size_t n = fread(*text, 1, (1 << 16) - 1, f);
    (*text)[n] = 0;
    fclose(f);
    return rc;
}

static void stats_symbolises_sites(void **state)
{
    (void)state;
    char *argv[] = {"stats", "--top", "5", trace_path, NULL};
    char *text;
    assert_int_equal(run(trace_stats, argv, 4, &text), 0);
    if (!strstr(text, "hak_site_alpha+0x4 (") || !strstr(text, "hak_site_beta+0x2 (") ||
        !strstr(text, "hak_site_gamma+0x0 ("))
        fail_msg("frames not symbolised:\n%s", strstr(text, "top ") ? strstr(text, "top ") : text);
    /* by count site 1 (3 allocations) ranks first, by bytes site 2 */
    char *by_count = strstr(text, "call sites by allocations");
    char *by_bytes = strstr(text, "call sites by bytes");
    assert_non_null(by_count);
    assert_non_null(by_bytes);
    char *a1 = strstr(by_count, "hak_site_alpha"), *g1 = strstr(by_count, "hak_site_gamma");
    char *a2 = strstr(by_bytes, "hak_site_alpha"), *g2 = strstr(by_bytes, "hak_site_gamma");
    assert_true(a1 && g1 && a1 < g1);
    assert_true(a2 && g2 && g2 < a2);
    assert_non_null(strstr(by_count, "(no stack in the trace)"));   /* site 9 */
    free(text);
}

static void stats_depth_limits_frames(void **state)
{
    (void)state;
    char *argv[] = {"stats", "--depth", "1", trace_path, NULL};
    char *text;
    assert_int_equal(run(trace_stats, argv, 4, &text), 0);
    assert_non_null(strstr(text, "hak_site_alpha"));
    assert_null(strstr(text, "hak_site_beta"));
    free(text);
}

static void validate_flags_missing_site(void **state)
{
    (void)state;
    char *argv[] = {"validate", trace_path, NULL};
    char *text;
    assert_int_equal(run(trace_validate, argv, 2, &text), 0);   /* a warning only */
    if (!strstr(text, "missing site") || !strstr(text, "site 9 is not in the site table"))
        fail_msg("no missing-site warning:\n%s", text);
    assert_non_null(strstr(text, "valid (0 errors, 1 warnings, 4 leaked blocks)"));
    char *strict[] = {"validate", "--strict", trace_path, NULL};
    free(text);
    assert_int_equal(run(trace_validate, strict, 3, &text), 1);
    free(text);
}

static void info_counts_tables(void **state)
{
    (void)state;
    char *argv[] = {"info", trace_path, NULL};
    char *text;
    assert_int_equal(run(trace_info, argv, 2, &text), 0);
    if (!strstr(text, "call sites:    2") || !strstr(text, "modules:       1") ||
        !strstr(text, "peak live:     ") || !strstr(text, "(10300 bytes)"))
        fail_msg("unexpected info:\n%s", text);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stats_symbolises_sites),
        cmocka_unit_test(stats_depth_limits_frames),
        cmocka_unit_test(validate_flags_missing_site),
        cmocka_unit_test(info_counts_tables),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
