/* The encoder's class stacks (trace_encstk.h: blocks in fixed slots, their
 * order a word of slot numbers) against the format's definition kept the
 * plain way, an array by position (FORMAT.md, "out_ptr"): random pushes,
 * finds and removals, at both depths (16: versions 3 and 4; 8: versions 1
 * and 2), with blocks pushed twice (a double free) so that a find must
 * give the most recently pushed copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "trace_encstk.h"

typedef struct ref_stack {        /* position 0 = most recently pushed */
    uint64_t p[TC_STACK];
    unsigned n;
} ref_stack;

static void ref_push(ref_stack *s, uint64_t p, unsigned depth)
{
    unsigned n = s->n < depth ? s->n : depth - 1;     /* full: the deepest drops */
    memmove(s->p + 1, s->p, n * sizeof *s->p);
    s->p[0] = p;
    s->n = n + 1;
}

static unsigned ref_find(const ref_stack *s, uint64_t p)
{
    for (unsigned i = 0; i < s->n; i++)
        if (s->p[i] == p)
            return i;
    return TC_STACK;
}

static void ref_remove(ref_stack *s, unsigned i)
{
    memmove(s->p + i, s->p + i + 1, (s->n - i - 1) * sizeof *s->p);
    s->n--;
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void run(unsigned depth, unsigned blocks)
{
    enum { NC = 3 };                       /* a few classes, so stacks fill */
    static enc_stacks s;
    ref_stack r[NC] = {{{0}, 0}};
    estk_reset(&s, depth);
    unsigned hits[TC_STACK + 1] = {0};
    for (unsigned step = 0; step < 400000; step++) {
        unsigned c = (unsigned)(rnd() % NC);
        uint64_t p = 16 * (1 + rnd() % blocks);      /* few blocks: repeats */
        if (rnd() & 1) {
            estk_push(&s, c, p);
            ref_push(&r[c], p, depth);
        } else {
            unsigned want = ref_find(&r[c], p), got = estk_find(&s, c, p);
            assert_int_equal(got, want);
            hits[got]++;
            if (got < TC_STACK) {
                estk_remove(&s, c, got);
                ref_remove(&r[c], got);
            }
        }
        for (unsigned k = 0; k < NC; k++)
            assert_true(estk_top(&s, k) == (r[k].n ? r[k].p[0] : 0));
    }
    /* the run reached every position of the stack, and missed too */
    for (unsigned i = 0; i < depth; i++)
        assert_true(hits[i] > 0);
    for (unsigned i = depth; i < TC_STACK; i++)
        assert_int_equal(hits[i], 0);
    assert_true(hits[TC_STACK] > 0);
}

static void depth16(void **state)
{
    (void)state;
    run(16, 24);
    run(16, 200);
}

static void depth8(void **state)
{
    (void)state;
    run(8, 12);
    run(8, 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(depth16),
        cmocka_unit_test(depth8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
