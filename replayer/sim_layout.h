/* sim_layout.h - layout figures of the live data: how many 4 KiB pages and
 * 2 MiB regions ("SuperSlabs") hold at least one live byte, and how densely
 * (occupancy = live bytes / bytes of the pages they span).
 *
 * Invariants:
 *  - Fed with every allocation and free in replay order, with the address
 *    the allocator returned and the requested size (allocator headers and
 *    rounding are not live data, so they lower occupancy).
 *  - page_live[p] = live bytes on 4 KiB page p; region_pages[r] = pages of
 *    region r with page_live > 0.  pages_spanned / regions_spanned count the
 *    nonzero entries; a zero-size block spans nothing.
 *  - Peaks are maxima over time; occ_at_peak is the occupancy at the moment
 *    live bytes peaked.  Tables are mmap'd (see sim_map.h).
 */
#ifndef SIM_LAYOUT_H
#define SIM_LAYOUT_H

#include <stdint.h>

#include "sim_map.h"

typedef struct sim_layout {
    sim_map page_live;          /* 4 KiB page -> live bytes */
    sim_map region_pages;       /* 2 MiB region -> live pages */
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
/* live_bytes / (pages_spanned * 4096); 0 when nothing is live. */
double sim_layout_occupancy(const sim_layout *L);

#endif
