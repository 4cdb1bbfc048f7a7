/* How recorded-threads replay threads wait for each other
 * (replayer/worker/rp_wait.h): a sleeper is woken when the thread it waits
 * for gets to the op it needs, not at every op that thread does.  The
 * check counts sleeps against the time waited (at most one per 1 ms
 * timeout, plus the wake-up itself), not speed: sleeping on the progress
 * counter itself, which moves at every op, returned at once thousands of
 * times a millisecond. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hak_util.h"
#include "rp_wait.h"

enum { NOPS = 3000000 };

static rp_tstate st[3] __attribute__((aligned(64)));   /* producer, two sleepers */

typedef struct waiter { rp_tstate *me; uint32_t count; uint64_t ns; } waiter;

static void *producer(void *arg)
{
    rp_tstate *t = arg;
    volatile uint64_t sink = 0;
    for (uint32_t i = 0; i < NOPS; i++) {
        for (int k = 0; k < 20; k++)      /* an op's worth of work */
            sink += k;
        __atomic_store_n(&t->progress, i + 1, __ATOMIC_RELEASE);
        rp_wake_sleepers(t, i + 1);
    }
    return NULL;
}

static void *sleeper(void *arg)
{
    waiter *w = arg;
    uint64_t t0 = hak_mono_ns();
    rp_wait_progress(w->me, &st[0], w->count);
    w->ns = hak_mono_ns() - t0;
    assert_true(__atomic_load_n(&st[0].progress, __ATOMIC_ACQUIRE) >= w->count);
    return NULL;
}

static void sleepers_wake_where_they_asked(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++)
        st[i] = (rp_tstate){.wake_at = UINT32_MAX, .tid = (uint32_t)i};
    waiter w[2] = {{&st[1], NOPS / 2, 0}, {&st[2], NOPS, 0}};
    pthread_t p, s[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&s[i], NULL, sleeper, &w[i]), 0);
    assert_int_equal(pthread_create(&p, NULL, producer, &st[0]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(s[i], NULL);
    pthread_join(p, NULL);
    for (int i = 0; i < 2; i++) {
        uint64_t ms = w[i].ns / 1000000;
        printf("# sleeper %d: waited %llu ms for op %u, %llu sleeps\n", i, (unsigned long long)ms,
               w[i].count, (unsigned long long)w[i].me->sleeps);
        assert_true(w[i].me->sleeps <= 2 + 2 * ms);
    }
    assert_int_equal(st[0].wake_at, UINT32_MAX);     /* nobody left asking */
}

/* A producer that stalls (descheduled on a loaded machine) keeps its
 * waiter asleep through several 1 ms timeouts: one wait, several sleeps.
 * replay.sleeps is documented as the waits that slept, so it must stay <=
 * replay.waits (it counted the sleeps, and replay_defaults.sh saw more
 * sleeps than waits at load 7-14).  The producer moves on only once the
 * waiter has slept twice (a fixed 10 ms stall was over before the waiter's
 * spins and yields were, under load), or after 5 s. */
static void *stalled_producer(void *arg)
{
    rp_tstate *t = arg;
    struct timespec d = {0, 200000};
    for (int i = 0; i < 25000 && __atomic_load_n(&st[1].sleeps, __ATOMIC_ACQUIRE) < 2; i++)
        nanosleep(&d, NULL);
    __atomic_store_n(&t->progress, 1, __ATOMIC_RELEASE);
    rp_wake_sleepers(t, 1);
    return NULL;
}

static void a_long_wait_is_one_slept_wait(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++)
        st[i] = (rp_tstate){.wake_at = UINT32_MAX, .tid = (uint32_t)i};
    pthread_t p;
    assert_int_equal(pthread_create(&p, NULL, stalled_producer, &st[0]), 0);
    rp_wait_progress(&st[1], &st[0], 1);
    pthread_join(p, NULL);
    printf("# one long wait: %llu sleeps, %llu slept waits\n",
           (unsigned long long)st[1].sleeps, (unsigned long long)st[1].slept_waits);
    assert_int_equal(st[1].waits, 1);
    assert_true(st[1].sleeps >= 2);          /* the 1 ms timeouts */
    assert_int_equal(st[1].slept_waits, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sleepers_wake_where_they_asked),
        cmocka_unit_test(a_long_wait_is_one_slept_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
