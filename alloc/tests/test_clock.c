/* The allocator's clock (hak_clock.c) reads the vDSO directly, not libc's
 * clock_gettime: calling libc's added ~16 pages of libc text to every
 * hakmem process's resident set (fault-around maps them 16 at a time),
 * about a fifth of the 1.2x peak-RSS margin of the suite's smallest
 * workloads.  Checked here: the vDSO's function is found whenever the
 * kernel maps a vDSO, and the clock agrees with clock_gettime's and never
 * goes back.  alloc/tests/startup.sh checks that the library does not
 * import clock_gettime at all. */
#include "alloc_test.h"
#include "hak_internal.h"

#include <sys/auxv.h>
#include <time.h>

static uint64_t libc_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void vdso_clock_is_found(void **state)
{
    (void)state;
    hak_free(hak_malloc(1));     /* init */
    if (!getauxval(AT_SYSINFO_EHDR)) skip();    /* no vDSO (e.g. valgrind): the syscall */
    assert_true(hak_clock_is_vdso());
}

static void clock_agrees_and_is_monotonic(void **state)
{
    (void)state;
    hak_free(hak_malloc(1));
    uint64_t prev = hak_now_ns();
    for (int i = 0; i < 1000; i++) {
        uint64_t a = libc_ns(CLOCK_MONOTONIC_COARSE), t = hak_now_ns(), b = libc_ns(CLOCK_MONOTONIC_COARSE);
        assert_true(t >= prev);
        if (t < a || t > b) fail_msg("hak_now_ns %llu outside libc's [%llu, %llu]", (unsigned long long)t,
                                     (unsigned long long)a, (unsigned long long)b);
        prev = t;
    }
    uint64_t a = libc_ns(CLOCK_MONOTONIC), t = hak_clock_fine_ns(), b = libc_ns(CLOCK_MONOTONIC);
    assert_true(a <= t && t <= b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vdso_clock_is_found),
        cmocka_unit_test(clock_agrees_and_is_monotonic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
