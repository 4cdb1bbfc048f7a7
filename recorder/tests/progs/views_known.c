/* views_known.c - a program whose leaks, temporaries and peak are known,
 * for the memory-profiler views (traces/tests/views.sh checks `hak trace
 * leaks|peak|temporaries|flame|diff` on its recording, number for number).
 *
 * Usage: views_known [N]   (N: blocks leak_small leaks, default 5)
 *
 * In this order, each in its own function (one malloc call each, so one
 * call site each):
 *   leak_small   N blocks of 1000 bytes, never freed
 *   leak_big     3 blocks of 4096, 8192 and 2048 bytes, never freed
 *   temp_loop    7 times malloc(64) then free: 7 temporaries
 *   short_pairs  4 times: a = malloc(32), b = malloc(32), free a, free b:
 *                8 short-lived blocks (lifetime 2 events), no temporary
 *   peak_build   10 blocks of 100000 bytes, then all freed in allocation
 *                order: the heap peak is right after the 10th, with these
 *                1,000,000 bytes in 10 blocks plus the leaks so far
 * Nothing is printed (stdio's buffer would be one more block never freed).
 * Loop counters are volatile so the compiler keeps one call per loop, and
 * every pointer goes through a volatile sink so no malloc/free pair is
 * optimised away. */
#include <stdlib.h>

static void *volatile sink;

__attribute__((noinline)) static void leak_small(int n)
{
    for (volatile int i = 0; i < n; i++)
        sink = malloc(1000);
}

__attribute__((noinline)) static void leak_big(void)
{
    static const size_t sizes[3] = {4096, 8192, 2048};
    for (volatile int i = 0; i < 3; i++)
        sink = malloc(sizes[i]);
}

__attribute__((noinline)) static void temp_loop(void)
{
    for (volatile int i = 0; i < 7; i++) {
        sink = malloc(64);
        free(sink);
    }
}

/* not a tail call (the store after it), so alloc32 keeps its frame at any
 * optimisation level and two builds have the same stacks */
__attribute__((noinline)) static void *alloc32(void)
{
    void *p = malloc(32);
    sink = p;
    return p;
}

__attribute__((noinline)) static void short_pairs(void)
{
    for (volatile int i = 0; i < 4; i++) {
        void *p[2];
        for (volatile int j = 0; j < 2; j++)
            p[j] = alloc32();
        for (volatile int j = 0; j < 2; j++)
            free(p[j]);
    }
}

__attribute__((noinline)) static void peak_build(void)
{
    void *p[10];
    for (volatile int i = 0; i < 10; i++)
        p[i] = sink = malloc(100000);
    for (volatile int i = 0; i < 10; i++)
        free(p[i]);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 5;
    leak_small(n);
    leak_big();
    temp_loop();
    short_pairs();
    peak_build();
    return 0;
}
