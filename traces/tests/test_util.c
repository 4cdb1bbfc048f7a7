/* Unit tests for hak_util: number and duration parsing, hashing, formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hak_util.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_u64_suffixes),
        cmocka_unit_test(parse_u64_rejects_junk),
        cmocka_unit_test(parse_duration),
        cmocka_unit_test(hash_differs_and_is_stable),
        cmocka_unit_test(format_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
