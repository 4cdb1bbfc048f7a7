/* Unit tests for hak_util: number and duration parsing, hashing, formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hak_util.h"

#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void parse_u64_suffixes(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(hak_parse_u64("42", &v), 0);      assert_int_equal(v, 42);
    assert_int_equal(hak_parse_u64("1M", &v), 0);      assert_int_equal(v, 1048576);
    assert_int_equal(hak_parse_u64("20m", &v), 0);     assert_int_equal(v, 20000000);
    assert_int_equal(hak_parse_u64("4K", &v), 0);      assert_int_equal(v, 4096);
}

static void parse_u64_rejects_junk(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(hak_parse_u64("", &v), -1);
    assert_int_equal(hak_parse_u64("-1", &v), -1);
    assert_int_equal(hak_parse_u64(" -1", &v), -1);   /* was 2^64-1: strtoull skips blanks */
    assert_int_equal(hak_parse_u64(" 5", &v), -1);
    assert_int_equal(hak_parse_u64("\t+5", &v), -1);
    assert_int_equal(hak_parse_u64("12x", &v), -1);
    assert_int_equal(hak_parse_u64("1MM", &v), -1);
    assert_int_equal(hak_parse_u64("99999999999999999999", &v), -1);
    assert_int_equal(hak_parse_u64("20000000000G", &v), -1);
}

static void parse_duration(void **state)
{
    (void)state;
    uint64_t ns;
    assert_int_equal(hak_parse_duration_ns("100ms", &ns), 0); assert_int_equal(ns, 100000000);
    assert_int_equal(hak_parse_duration_ns("2", &ns), 0);     assert_int_equal(ns, 2000000000);
    assert_int_equal(hak_parse_duration_ns("1.5s", &ns), 0);  assert_int_equal(ns, 1500000000);
    assert_int_equal(hak_parse_duration_ns("3 parsecs", &ns), -1);
    /* not finite: "nan" used to reach an undefined double->u64 conversion */
    assert_int_equal(hak_parse_duration_ns("nan", &ns), -1);
    assert_int_equal(hak_parse_duration_ns("NaNs", &ns), -1);
    assert_int_equal(hak_parse_duration_ns("inf", &ns), -1);
}

static void hash_differs_and_is_stable(void **state)
{
    (void)state;
    assert_true(hak_hash64("abc", 3, 0) == hak_hash64("abc", 3, 0));
    assert_true(hak_hash64("abc", 3, 0) != hak_hash64("abd", 3, 0));
    assert_true(hak_hash64("abc", 3, 0) != hak_hash64("abc", 3, 1));
    assert_true(hak_hash64("", 0, 0) != hak_hash64("\0", 1, 0));
}

static void format_counts(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(hak_fmt_count(1234567, b, sizeof b), "1,234,567");
    assert_string_equal(hak_fmt_count(999, b, sizeof b), "999");
    assert_string_equal(hak_fmt_bytes(1536, b, sizeof b), "1.5 KiB");
    assert_string_equal(hak_fmt_bytes(10, b, sizeof b), "10 B");
}

static void msg_names_path_is_a_prefix_test(void **state)
{
    (void)state;
    assert_true(hak_msg_names_path("a.hkt: offset 3: bad", "a.hkt"));
    /* substring matches must not count: a file named "empty" or "trace" */
    assert_false(hak_msg_names_path("offset 0: empty file, not a hakmem trace", "empty"));
    assert_false(hak_msg_names_path("offset 0: not a hakmem trace", "trace"));
    assert_false(hak_msg_names_path("a.hkt.bak: x", "a.hkt"));
}

/* Runs getopt_long over argv as a command would, then captures what
 * hak_cmd_bad_option prints on stderr for the first '?' result. */
static int bad_option_line(char **argv, int argc, char *line, size_t len)
{
    static const struct option lo[] = {{"db", required_argument, NULL, 'd'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {NULL, 0, NULL, 0}};
    char path[] = "/tmp/hak_util_testXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    int c, rc = -1;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "qo:", lo, NULL)) != -1)
        if (c == '?') {
            rc = hak_cmd_bad_option("frob", argc, argv);
            break;
        }
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    line[0] = 0;
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    if (!fgets(line, (int)len, f))
        line[0] = 0;
    int extra = fgetc(f) != EOF;   /* exactly one line */
    fclose(f);
    close(fd);
    unlink(path);
    assert_false(extra);
    return rc;
}

static void bad_option_names_the_argument(void **state)
{
    (void)state;
    char line[512];
    char *a1[] = {"frob", "x", "--bogus=3", NULL};
    assert_int_equal(bad_option_line(a1, 3, line, sizeof line), 2);
    assert_string_equal(line, "hak frob: unknown option or missing value '--bogus'; "
                              "see 'hak frob --help'\n");
    char *a2[] = {"frob", "--db", NULL};
    assert_int_equal(bad_option_line(a2, 2, line, sizeof line), 2);
    assert_non_null(strstr(line, "'--db'"));
    char *a3[] = {"frob", "-qx", NULL};
    assert_int_equal(bad_option_line(a3, 2, line, sizeof line), 2);
    assert_non_null(strstr(line, "'-x'"));
    char *a4[] = {"frob", "-o", NULL};
    assert_int_equal(bad_option_line(a4, 2, line, sizeof line), 2);
    assert_non_null(strstr(line, "'-o'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_u64_suffixes),
        cmocka_unit_test(parse_u64_rejects_junk),
        cmocka_unit_test(parse_duration),
        cmocka_unit_test(hash_differs_and_is_stable),
        cmocka_unit_test(format_counts),
        cmocka_unit_test(msg_names_path_is_a_prefix_test),
        cmocka_unit_test(bad_option_names_the_argument),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
