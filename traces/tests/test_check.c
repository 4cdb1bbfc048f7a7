/* HAK_CHECK (traces/common/hak_check.h): with HAK_DEBUG >= 1 a false
 * check aborts naming the expression and where it is; with HAK_DEBUG 0 it
 * compiles to nothing and its expression is not evaluated. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define HAK_DEBUG 1
#include "hak_check.h"

static int checked_true(int x) { HAK_CHECK(x + 1 == 2); return x; }
static void checked_false(void) { int x = 2; HAK_CHECK(x + 1 == 2); }

/* The release form, from the same header. */
#undef HAK_CHECK_H
#undef HAK_CHECK
#undef HAK_DEBUG
#define HAK_DEBUG 0
#include "hak_check.h"
static int evaluated;
static int side_effect(void) { evaluated = 1; return 0; }
static void release_check(void) { HAK_CHECK(side_effect()); }

static void true_check_passes(void **state)
{
    (void)state;
    assert_int_equal(checked_true(1), 1);
}

static void false_check_aborts_naming_it(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 2);
        checked_false();
        _exit(0);
    }
    close(p[1]);
    char buf[512] = "";
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
    assert_non_null(strstr(buf, "internal check failed: x + 1 == 2"));
    assert_non_null(strstr(buf, "test_check.c:"));
    assert_non_null(strstr(buf, "checked_false"));
}

static void release_check_evaluates_nothing(void **state)
{
    (void)state;
    release_check();
    assert_int_equal(evaluated, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(true_check_passes),
        cmocka_unit_test(false_check_aborts_naming_it),
        cmocka_unit_test(release_check_evaluates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
