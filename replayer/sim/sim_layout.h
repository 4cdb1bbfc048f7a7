/* sim_layout.h - layout figures of the live data: how many 4 KiB pages and
 * 2 MiB regions ("SuperSlabs") hold at least one live byte, and how densely
 * (occupancy = live bytes / bytes of the pages they span).
 *
 * Invariants:
 *  - Fed with every allocation and free in replay order, with the address
 *    the allocator returned and the requested size (allocator headers and
 *    rounding are not live data, so they lower occupancy).
 *  - Per 2 MiB region seen, a slot holds live bytes of each of its 512
 *    pages, how many of them are nonzero, and which ever were;
 *    pages_spanned / regions_spanned count nonzero pages / regions.  A
 *    zero-size block spans nothing.  Regions map to slots through a small
 *    hash (sim_map) and a direct-mapped cache, so an update costs about one
 *    array access per page the block covers.
 *  - Peaks are maxima over time; occ_at_peak is the occupancy at the moment
 *    live bytes peaked.  Tables are mmap'd (see sim_map.h); growth calls
 *    the regions map's grow hook.
 */
#ifndef SIM_LAYOUT_H
#define SIM_LAYOUT_H

#include <stdint.h>

#include "sim_map.h"

typedef struct sim_layout_slot {
    uint16_t live[512];         /* live bytes on each 4 KiB page (<= 4096) */
    uint64_t ever[8];           /* pages that ever held live data */
    uint32_t live_pages;        /* pages with live[] > 0 */
} sim_layout_slot;

typedef struct sim_layout {
    sim_map regions;            /* 2 MiB region -> slot index + 1 */
    sim_layout_slot *slots;
    uint64_t nslots, cap_slots;
    uint64_t cache_tag[1024];   /* direct-mapped region (+1) -> slot */
    uint32_t cache_idx[1024];
    uint64_t live_bytes, live_blocks;
    uint64_t pages_spanned, regions_spanned;
    uint64_t peak_live_bytes, peak_pages, peak_regions;
    double occ_at_peak;
    uint64_t pages_ever;        /* distinct 4 KiB pages that ever held live data */
} sim_layout;

int sim_layout_init(sim_layout *L, uint64_t expect_pages);
void sim_layout_destroy(sim_layout *L);
/* 0, or -1 when a table could not grow. */
int sim_layout_alloc(sim_layout *L, uint64_t addr, uint64_t size);
int sim_layout_free(sim_layout *L, uint64_t addr, uint64_t size);
/* A program's own mapping (--mmap traces) given back: the pages of
 * [addr, addr + size) lose their live bytes (pages already given back stay
 * at zero), live_bytes drops by `live` (what of it was still mapped) and,
 * when `whole`, the mapping stops being a block. */
int sim_layout_unmap(sim_layout *L, uint64_t addr, uint64_t size, uint64_t live, int whole);
/* live_bytes / (pages_spanned * 4096); 0 when nothing is live. */
double sim_layout_occupancy(const sim_layout *L);

#endif
