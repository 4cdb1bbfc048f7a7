/* sim_thp.h - which 2 MiB regions of this process are backed by a
 * transparent huge page, for the simulator's "thp" page mode.
 *
 * Asked right after the first real write to a region, so the kernel has
 * already decided.  Two methods, best first:
 *  - pagemap: the region's 512 pagemap entries are present with contiguous
 *    physical frames starting 512-aligned, and (when /proc/kpageflags is
 *    readable) the first frame is flagged THP.  Exact; needs CAP_SYS_ADMIN
 *    for frame numbers.
 *  - smaps: the AnonHugePages of the mapping holding the region grew since
 *    the previous question about that mapping (or covers all of it).  An
 *    approximation: adjacent mappings merged by the kernel share one figure.
 * Later collapses by khugepaged are not seen.
 */
#ifndef SIM_THP_H
#define SIM_THP_H

#include <stdint.h>

#include "sim_map.h"

typedef struct sim_thp {
    int pagemap_fd, kpageflags_fd;
    int use_pagemap;            /* 1 when frame numbers are visible */
    sim_map vma_huge_kb;        /* smaps method: VMA start page -> last AnonHugePages kB */
    uint64_t queries;
    const char *method;         /* "pagemap", "pagemap+kpageflags" or "smaps" */
} sim_thp;

int sim_thp_init(sim_thp *t);
void sim_thp_destroy(sim_thp *t);
/* sim_huge_fn for sim_model_set_huge_fn: ctx is a sim_thp. */
int sim_thp_is_huge(void *ctx, uint64_t addr);

#endif
