/* The touch policies' names (replayer/common/touch.c), with the part of
 * each block that `--touch auto` fits ("pages:F"): what parses, what is
 * refused, and that the label a run stores parses back to the same part. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "touch.h"

static void names_and_parts(void **state)
{
    (void)state;
    hak_touch t = HAK_TOUCH_NONE;
    unsigned part = 7;
    assert_int_equal(hak_touch_parse_part("first", &t, &part), 0);
    assert_int_equal(t, HAK_TOUCH_FIRST);
    assert_int_equal(part, HAK_TOUCH_WHOLE);
    assert_int_equal(hak_touch_parse_part("pages:0.5", &t, &part), 0);
    assert_int_equal(t, HAK_TOUCH_PAGES);
    assert_int_equal(part, HAK_TOUCH_PART_ONE / 2);
    assert_int_equal(hak_touch_parse_part("pages:0.05", &t, &part), 0);
    assert_int_equal(part, (5 * HAK_TOUCH_PART_ONE + 50) / 100);
    const char *bad[] = {"pages:", "pages:1", "pages:0", "pages:1.0", "pages:0.0", "pages:0.123",
                         "pages:-0.5", "pages:5e-1", "pages:0.5x", "pages:.5.", "first:0.5", "prefix"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (hak_touch_parse_part(bad[i], &t, &part) == 0)
            fail_msg("'%s' parsed", bad[i]);
}

static void labels_round_trip(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(hak_touch_label(HAK_TOUCH_PAGES, HAK_TOUCH_WHOLE, buf, sizeof buf), "pages");
    assert_string_equal(hak_touch_label(HAK_TOUCH_FIRST, 100, buf, sizeof buf), "first");
    for (int h = 1; h < 100; h++) {
        unsigned part = hak_touch_part_of(h / 100.0), back;
        hak_touch t;
        hak_touch_label(HAK_TOUCH_PAGES, part, buf, sizeof buf);
        assert_int_equal(hak_touch_parse_part(buf, &t, &back), 0);
        assert_int_equal(back, part);
    }
    /* rounding to hundredths, and the ends */
    assert_int_equal(hak_touch_part_of(0.424), hak_touch_part_of(0.42));
    assert_int_equal(hak_touch_part_of(0.996), HAK_TOUCH_WHOLE);
    assert_int_equal(hak_touch_part_of(0.001), hak_touch_part_of(0.01));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_and_parts),
        cmocka_unit_test(labels_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
