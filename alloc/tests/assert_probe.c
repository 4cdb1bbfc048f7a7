/* assert_probe - breaks one allocator invariant on purpose and then uses
 * the heap, to show what hak_assert.h does with it.  Built twice from the
 * allocator sources (hak_* names, no libc overrides): assert_probe with
 * HAK_DEBUG=3 must abort with "hakmem: assertion failed: ..." naming the
 * invariant; assert_probe_release with HAK_DEBUG=0 carries no checks and
 * runs on ("survived").  alloc/tests/debug.sh runs both.
 *
 *   slab_count   a slab's used count off by 3 (capacity != used + nfree +
 *                bump area): the next refill from it
 *   unit_state   a free unit marked used behind free_units' back: the next
 *                slab carved from that SuperSlab (HAK_DEBUG=3 walk)
 *   large_cache  a cached large block no longer counted as resident
 *                although the resident total includes it: the next large
 *                allocation
 */
#include <stdio.h>
#include <string.h>

#include "hak_guard.h"

static int slab_count(void)
{
    void *p = hak_malloc(48);
    hak_ss *ss = hak_ss_of(p);
    hak_slab *s = hak_slab_of(ss, p);
    s->used += 3;
    for (int i = 0; i < 20000; i++) hak_malloc(48);
    return 0;
}

static int unit_state(void)
{
    void *p = hak_malloc(100);
    hak_ss *ss = hak_ss_of(p);
    for (unsigned u = hak_cfg.nunits - 1; u > 0; u--)
        if (ss->unit_state[u] != U_USED) { ss->unit_state[u] = U_USED; break; }
    for (size_t n = 2000; n < 60000; n += 1000) hak_malloc(n);   /* new slabs of other classes */
    return 0;
}

static int large_cache(void)
{
    hak_free(hak_malloc(1u << 20));
    /* The cache's only entry (resident: 1 MiB is within HAKMEM_LARGE_CACHE). */
    void *q = hak_malloc(1u << 20);
    hak_ss *ss = hak_ss_of(q);
    hak_free(q);
    ss->large_resident = 0;
    hak_free(hak_malloc(3u << 20));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 || !strcmp(argv[1], "--help")) {
        printf("usage: assert_probe slab_count|unit_state|large_cache\n");
        return argc == 2 ? 0 : 2;
    }
    int r;
    if (!strcmp(argv[1], "slab_count")) r = slab_count();
    else if (!strcmp(argv[1], "unit_state")) r = unit_state();
    else if (!strcmp(argv[1], "large_cache")) r = large_cache();
    else { fprintf(stderr, "assert_probe: unknown scenario '%s'\n", argv[1]); return 2; }
    printf("survived (HAK_DEBUG=%d)\n", HAK_DEBUG);
    return r;
}
