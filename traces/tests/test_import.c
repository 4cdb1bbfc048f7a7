/* Unit tests for the Android record_allocs importer (import_android.h):
 * line parsing (every record type, with and without timestamps, errors)
 * and conversion to hak_event (thread mapping, timestamps, failures). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "import_android.h"

static void parses_every_type(void **state)
{
    (void)state;
    hak_android_rec r;
    char err[256];
    assert_int_equal(hak_android_parse("186: malloc 0xb6038060 20\n", &r, err, sizeof err), 1);
    assert_int_equal(r.os_tid, 186);
    assert_int_equal(r.type, HAK_ANDROID_MALLOC);
    assert_int_equal(r.ptr, 0xb6038060);
    assert_int_equal(r.size, 20);
    assert_false(r.has_time);

    assert_int_equal(hak_android_parse("186: calloc 0xb609f080 32 4", &r, err, sizeof err), 1);
    assert_int_equal(r.type, HAK_ANDROID_CALLOC);
    assert_int_equal(r.nmemb, 32);
    assert_int_equal(r.size, 4);

    assert_int_equal(hak_android_parse("186: realloc 0xb609f080 0xb603e9a0 12", &r, err, sizeof err), 1);
    assert_int_equal(r.type, HAK_ANDROID_REALLOC);
    assert_int_equal(r.ptr, 0xb609f080);
    assert_int_equal(r.old_ptr, 0xb603e9a0);
    assert_int_equal(r.size, 12);

    assert_int_equal(hak_android_parse("186: memalign 0x85423660 16 104", &r, err, sizeof err), 1);
    assert_int_equal(r.type, HAK_ANDROID_MEMALIGN);
    assert_int_equal(r.align, 16);
    assert_int_equal(r.size, 104);

    assert_int_equal(hak_android_parse("186: free 0xb6038060", &r, err, sizeof err), 1);
    assert_int_equal(r.type, HAK_ANDROID_FREE);
    assert_int_equal(r.ptr, 0xb6038060);

    assert_int_equal(hak_android_parse("187: thread_done 0x0", &r, err, sizeof err), 1);
    assert_int_equal(r.type, HAK_ANDROID_THREAD_DONE);
    assert_int_equal(r.os_tid, 187);

    /* glibc prints NULL as (nil) */
    assert_int_equal(hak_android_parse("5: free (nil)", &r, err, sizeof err), 1);
    assert_int_equal(r.ptr, 0);
}

static void parses_timestamps(void **state)
{
    (void)state;
    hak_android_rec r;
    char err[256];
    assert_int_equal(hak_android_parse("1238: malloc 0xa000 89 1000 1200\r\n", &r, err, sizeof err), 1);
    assert_true(r.has_time);
    assert_int_equal(r.start_ns, 1000);
    assert_int_equal(r.end_ns, 1200);
    assert_int_equal(r.size, 89);
    assert_int_equal(hak_android_parse("1: free 0x10 5 6", &r, err, sizeof err), 1);
    assert_int_equal(r.start_ns, 5);
    assert_int_equal(hak_android_parse("1239: thread_done 0x0 290", &r, err, sizeof err), 1);
    assert_true(r.has_time);
    assert_int_equal(r.end_ns, 290);
}

static void skips_blank_and_comments(void **state)
{
    (void)state;
    hak_android_rec r;
    char err[256];
    assert_int_equal(hak_android_parse("\n", &r, err, sizeof err), 0);
    assert_int_equal(hak_android_parse("   ", &r, err, sizeof err), 0);
    assert_int_equal(hak_android_parse("# comment", &r, err, sizeof err), 0);
}

static void expect_error(const char *line, const char *needle)
{
    hak_android_rec r;
    char err[256] = "";
    assert_int_equal(hak_android_parse(line, &r, err, sizeof err), -1);
    if (!strstr(err, needle))
        fail_msg("'%s': error '%s' lacks '%s'", line, err, needle);
}

static void rejects_bad_lines(void **state)
{
    (void)state;
    expect_error("hello", "thread id");
    expect_error("12 malloc 0x10 4", "':'");
    expect_error("12: frobnicate 0x10", "unknown operation 'frobnicate'");
    expect_error("12: malloc", "pointer");
    expect_error("12: malloc 0xzz 4", "pointer");
    expect_error("1238: memalign 0xa000 16", "SIZE");
    expect_error("1238: calloc 0xa000", "NMEMB");
    expect_error("1238: realloc 0xa000 12", "SIZE");
    expect_error("1238: malloc 0xa000 12 800", "END_NS");
    expect_error("1238: malloc 0xa000 12 800 900 7", "unexpected text");
    expect_error("1238: malloc 0xa000 -12", "SIZE");
    expect_error("1238: malloc 0xa000 12x", "column");
    expect_error("1238: malloc 0xa000 99999999999999999999999", "SIZE");
    expect_error("1240: thread_done 0x0 1 2", "unexpected text");
}

static void converts_threads_and_ops(void **state)
{
    (void)state;
    const char *lines[] = {
        "100: malloc 0x1000 32",            /* t0 start + malloc */
        "200: calloc 0x2000 4 8",           /* t1 start + calloc */
        "200: free 0x1000",                 /* cross-thread free */
        "100: realloc 0x3000 0x2000 64",
        "100: memalign 0x4000 64 100",
        "200: thread_done 0x0",
        "200: malloc 0x0 4096",             /* reused tid: new thread t2; failed */
        "100: realloc 0x0 0x3000 0",        /* realloc(p, 0): a free, not a failure */
    };
    hak_android_conv *c = hak_android_conv_new();
    assert_non_null(c);
    hak_event all[32], out[2];
    int n = 0;
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        hak_android_rec r;
        char err[256];
        assert_int_equal(hak_android_parse(lines[i], &r, err, sizeof err), 1);
        int k = hak_android_convert(c, &r, out);
        assert_true(k == 1 || k == 2);
        for (int j = 0; j < k; j++)
            all[n++] = out[j];
    }
    assert_int_equal(n, 11);
    /* no timestamps: lines are 1 ns apart; a THREAD_START shares its line's */
    static const uint64_t line_of[11] = {0, 0, 1, 1, 2, 3, 4, 5, 6, 6, 7};
    for (int i = 0; i < n; i++) {
        assert_int_equal(all[i].seq, i);
        assert_int_equal(all[i].ts_ns, line_of[i]);
    }
    assert_int_equal(all[0].op, HAK_OP_THREAD_START);
    assert_int_equal(all[0].size, 100);
    assert_int_equal(all[0].tid, 0);
    assert_int_equal(all[1].op, HAK_OP_MALLOC);
    assert_int_equal(all[1].out_ptr, 0x1000);
    assert_int_equal(all[2].op, HAK_OP_THREAD_START);
    assert_int_equal(all[2].tid, 1);
    assert_int_equal(all[2].size, 200);
    assert_int_equal(all[3].op, HAK_OP_CALLOC);
    assert_int_equal(all[3].nmemb, 4);
    assert_int_equal(all[3].size, 8);
    assert_int_equal(all[4].op, HAK_OP_FREE);
    assert_int_equal(all[4].tid, 1);
    assert_int_equal(all[4].in_ptr, 0x1000);
    assert_int_equal(all[5].op, HAK_OP_REALLOC);
    assert_int_equal(all[5].in_ptr, 0x2000);
    assert_int_equal(all[5].out_ptr, 0x3000);
    assert_int_equal(all[6].op, HAK_OP_MEMALIGN);
    assert_int_equal(all[6].align, 64);
    assert_int_equal(all[7].op, HAK_OP_THREAD_EXIT);
    assert_int_equal(all[7].tid, 1);
    assert_int_equal(all[8].op, HAK_OP_THREAD_START);
    assert_int_equal(all[8].tid, 2);
    assert_int_equal(all[9].op, HAK_OP_MALLOC);
    assert_int_equal(all[9].err, ENOMEM);
    assert_int_equal(all[10].op, HAK_OP_REALLOC);
    assert_int_equal(all[10].err, 0);
    assert_int_equal(hak_android_nthreads(c), 3);
    assert_int_equal(hak_android_live_threads(c), 2);
    hak_android_conv_free(c);
}

static void converts_timestamps(void **state)
{
    (void)state;
    const char *lines[] = {
        "7: malloc 0x10 1 5000 5100",
        "8: malloc 0x20 1 4900 5200",      /* started earlier on another thread: clamped */
        "7: free 0x10 6000 6010",
        "8: thread_done 0x0 7000",
    };
    uint64_t want[] = {0, 0, 0, 0, 1000, 2000};
    hak_android_conv *c = hak_android_conv_new();
    hak_event out[2];
    int n = 0;
    for (size_t i = 0; i < 4; i++) {
        hak_android_rec r;
        char err[256];
        assert_int_equal(hak_android_parse(lines[i], &r, err, sizeof err), 1);
        int k = hak_android_convert(c, &r, out);
        for (int j = 0; j < k; j++, n++)
            assert_int_equal(out[j].ts_ns, want[n]);
    }
    assert_int_equal(n, 6);
    hak_android_conv_free(c);
}

static void many_threads(void **state)
{
    (void)state;
    hak_android_conv *c = hak_android_conv_new();
    hak_event out[2];
    for (uint64_t t = 0; t < 5000; t++) {
        hak_android_rec r = {.os_tid = 1000 + t * 7, .type = HAK_ANDROID_MALLOC, .ptr = 16 * (t + 1), .size = 8};
        assert_int_equal(hak_android_convert(c, &r, out), 2);
        assert_int_equal(out[0].tid, t);
    }
    hak_android_rec r = {.os_tid = 1000 + 42 * 7, .type = HAK_ANDROID_FREE, .ptr = 16};
    assert_int_equal(hak_android_convert(c, &r, out), 1);
    assert_int_equal(out[0].tid, 42);
    assert_int_equal(hak_android_nthreads(c), 5000);
    hak_android_conv_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_every_type),
        cmocka_unit_test(parses_timestamps),
        cmocka_unit_test(skips_blank_and_comments),
        cmocka_unit_test(rejects_bad_lines),
        cmocka_unit_test(converts_threads_and_ops),
        cmocka_unit_test(converts_timestamps),
        cmocka_unit_test(many_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
