/* test_counters.c - the perf counter decision logic with a fake
 * perf_event_open: a counter that cannot be opened is "not measured" with
 * the reason, never 0; a permission refusal is retried user-only; a counter
 * that never ran is not measured; a multiplexed one is scaled. */
#include <errno.h>
#include <linux/perf_event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "counters.h"

/* Behaviour of the fake, per counter type. */
static int hw_errno;            /* errno for hardware counters, 0 = open */
static int kernel_refused;      /* EACCES unless exclude_kernel */
static uint64_t fake_read[3];   /* value, time enabled, time running */
static int opens;

/* An fd whose read() yields fake_read: a pipe with the bytes written in. */
static int fake_fd(void)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    if (write(p[1], fake_read, sizeof fake_read) != (ssize_t)sizeof fake_read)
        return -1;
    close(p[1]);
    return p[0];
}

static int fake_open(struct perf_event_attr *a, pid_t pid, int cpu, int group, unsigned long flags)
{
    (void)pid; (void)cpu; (void)group; (void)flags;
    opens++;
    if (kernel_refused && !a->exclude_kernel) {
        errno = EACCES;
        return -1;
    }
    if (a->type != PERF_TYPE_SOFTWARE && hw_errno) {
        errno = hw_errno;
        return -1;
    }
    return fake_fd();
}

static void setup(int hw, int refused, uint64_t v, uint64_t en, uint64_t run)
{
    hw_errno = hw;
    kernel_refused = refused;
    fake_read[0] = v; fake_read[1] = en; fake_read[2] = run;
    opens = 0;
}

static const rp_counter *find(const rp_counters *cs, const char *prefix)
{
    for (int i = 0; i < RP_NCOUNTERS; i++)
        if (!strncmp(cs->c[i].name, prefix, strlen(prefix)))
            return &cs->c[i];
    return NULL;
}

static void missing_pmu_is_null_with_reason(void **state)
{
    (void)state;
    setup(ENOENT, 0, 1234, 100, 100);
    rp_counters cs;
    rp_counters_open(&cs, fake_open);
    rp_counters_enable(&cs);
    rp_counters_disable(&cs);
    rp_counters_read_close(&cs);
    const rp_counter *pf = find(&cs, "page-faults");
    assert_non_null(pf);
    assert_int_equal(pf->ok, 1);
    assert_int_equal(pf->value, 1234);
    const char *hw[] = {"cycles", "instructions", "dTLB-load-misses",
                        "dTLB-store-misses", "iTLB-load-misses"};
    for (size_t i = 0; i < 5; i++) {
        const rp_counter *c = find(&cs, hw[i]);
        assert_non_null(c);
        assert_int_equal(c->ok, 0);
        assert_int_equal(c->value, 0);
        char want[96];
        snprintf(want, sizeof want, "perf_event_open(%s): ENOENT", hw[i]);
        assert_string_equal(c->reason, want);
        assert_int_equal(c->fd, -1);
    }
    /* ENOENT is not retried: one open per counter */
    assert_int_equal(opens, RP_NCOUNTERS);
}

static void permission_refusal_retries_user_only(void **state)
{
    (void)state;
    setup(0, 1, 77, 10, 10);
    rp_counters cs;
    rp_counters_open(&cs, fake_open);
    rp_counters_read_close(&cs);
    const rp_counter *c = find(&cs, "cycles");
    assert_string_equal(c->name, "cycles:u");
    assert_int_equal(c->ok, 1);
    assert_int_equal(c->value, 77);
    assert_int_equal(opens, 2 * RP_NCOUNTERS);
}

static void never_scheduled_is_not_measured(void **state)
{
    (void)state;
    setup(0, 0, 0, 100, 0);
    rp_counters cs;
    rp_counters_open(&cs, fake_open);
    rp_counters_read_close(&cs);
    const rp_counter *c = find(&cs, "instructions");
    assert_int_equal(c->ok, 0);
    assert_non_null(strstr(c->reason, "never scheduled"));
}

static void multiplexed_is_scaled(void **state)
{
    (void)state;
    setup(0, 0, 500, 100, 50);
    rp_counters cs;
    rp_counters_open(&cs, fake_open);
    rp_counters_read_close(&cs);
    const rp_counter *c = find(&cs, "dTLB-load-misses");
    assert_int_equal(c->ok, 1);
    assert_int_equal(c->value, 1000);
    assert_non_null(strstr(c->reason, "scaled"));
}

static void real_syscall_never_reports_zero_for_missing(void **state)
{
    (void)state;
    rp_counters cs;
    rp_counters_open(&cs, NULL);
    rp_counters_enable(&cs);
    volatile char buf[1 << 16];
    for (size_t i = 0; i < sizeof buf; i += 64) buf[i] = 1;
    rp_counters_disable(&cs);
    rp_counters_read_close(&cs);
    for (int i = 0; i < RP_NCOUNTERS; i++) {
        if (!cs.c[i].ok)
            assert_true(strlen(cs.c[i].reason) > 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(missing_pmu_is_null_with_reason),
        cmocka_unit_test(permission_refusal_retries_user_only),
        cmocka_unit_test(never_scheduled_is_not_measured),
        cmocka_unit_test(multiplexed_is_scaled),
        cmocka_unit_test(real_syscall_never_reports_zero_for_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
