/* hak_trim.c - giving back what a thread's caches hold and no longer use.
 *
 * A bin fills with the blocks a program frees of its class and empties
 * only as the program allocates that class again.  A program that moves
 * on to other sizes (strings grown by realloc pass through every class on
 * the way) leaves full bins behind, and every block in them pins its
 * slab, whose pages then serve no other class: the classes in use carve
 * new ones (256 strings grown to 1.7 KB: 2.5 MiB cached for 0.45 MiB
 * live, peak RSS 2.3x glibc's).  Smaller caches do not help
 * (HAKMEM_TCACHE=32: the same peak): what a cache does not hold, the slab
 * keeps, since each class keeps one empty slab (hak_block_return).
 *
 * So every TRIM_STEP bytes a heap carves (a heap that reuses what it has
 * never trims, and pays nothing), its bins of blocks up to a page are
 * looked at: the bottom of a bin (the blocks below its count at the last
 * look) was not used since if the bin was not refilled, is no emptier,
 * and still holds the block that was on top then at the same place (a
 * pop below would most likely have put another one there): the low-water
 * mark jemalloc's tcache GC keeps, guessed, since our fast paths keep
 * none.  A bin idle so at TRIM_IDLE_LOOKS looks in a row gives back three
 * quarters of that bottom, all of it if nothing was pushed either; a
 * class whose bin stayed empty and idle for TRIM_RETIRE_LOOKS gives back
 * the empty slab it keeps, and the slab's units serve the classes in use.
 * A bin given back to a class still in use costs a refill, which takes
 * the freed blocks without carving more (hak_heap_refill).
 *
 * Measured limits: after one idle look, thread churn (classes used once
 * in 100 operations look idle for a while) flushed 840K blocks in 8M
 * operations and lost a third of its speed; after three, ~100K.  Blocks
 * above a page are left alone, and empty slabs go back only after a
 * longer idle time: a program that touches only the first bytes of its
 * blocks (a 2-thread mixed-size loop) has only their first pages
 * resident, and another class's slab carved on those units touched new
 * ones between them (peak RSS 5.5 -> 9.7 MB; 5.7 retiring after 6 looks,
 * 5.4 after 12).  Giving the slab's pages back as well (MADV_DONTNEED)
 * kept every peak down and doubled those programs' CPU time (faults).
 */
#include "hak_guard.h"

#include <string.h>

#define TRIM_IDLE_LOOKS 3
#define TRIM_RETIRE_LOOKS 12

/* Sends the k oldest blocks of bin cls (the bottom of its stack) home,
 * and moves the rest down. */
static void flush_bottom(hak_heap *h, unsigned cls, uint32_t k)
{
    hak_bin *b = &h->bins[cls];
    uint32_t n = hak_bin_count(b);
    void **base = b->top - n;
    for (uint32_t i = 0; i < k; i++)
        hak_block_return(h, base[i], (hak_ss *)((uintptr_t)base[i] & hak_cfg.ss_mask));
    memmove(base, base + k, (size_t)(n - k) * sizeof *base);
    b->top -= k;
}

void hak_tcache_trim(hak_heap *h, unsigned skip)
{
    h->trim_carved = 0;
    for (unsigned c = 1; c < hak_cfg.ncls && hak_cfg.cls_size[c] <= HAK_PAGE; c++) {
        hak_bin *b = &h->bins[c];
        uint32_t n = hak_bin_count(b), low = h->trim_count[c];
        /* (base[low - 1] is top[low - n - 1]) */
        if (c != skip && n >= low && !h->trim_refilled[c] &&
            (!low || hak_lo32(b->top[(int)low - (int)n - 1]) == h->trim_top[c])) {
            if (h->trim_idle[c] < 255) h->trim_idle[c]++;
            if (low && h->trim_idle[c] >= TRIM_IDLE_LOOKS) {
                flush_bottom(h, c, n == low ? n : low - low / 4);
                n = hak_bin_count(b);
            }
        } else {
            h->trim_idle[c] = 0;
        }
        h->trim_count[c] = (uint16_t)n;
        h->trim_top[c] = n ? hak_lo32(b->top[-1]) : 0;
        h->trim_refilled[c] = 0;
        hak_slab *s = h->partial[c].first;
        if (!n && h->trim_idle[c] >= TRIM_RETIRE_LOOKS && s && s->used == 0 && !s->next)
            hak_slab_retire(h, s);
    }
}

