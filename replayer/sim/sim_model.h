/* sim_model.h - a deterministic memory-system model fed with the addresses a
 * workload touches: first-touch page faults and a two-level set-associative
 * LRU data TLB.
 *
 * Model (what is counted, and why it is explainable):
 *  - Pages are 4 KiB, 2 MiB, or "thp": per 2 MiB region, whatever the kernel
 *    actually gave the allocator (a region backed by a huge page is one 2 MiB
 *    page; the region's class is asked of a callback the first time the model
 *    sees the region, right after the real first write to it).
 *  - A fault is the first access ever to a page (first touch).  Pages the
 *    allocator later returns to the kernel and touches again are not
 *    faulted again: the model cannot see madvise/munmap.
 *  - L1 dTLB: `l1` for 4 KiB pages and `l1_2m` for 2 MiB pages (when l1_2m
 *    has 0 entries, 2 MiB pages share `l1`).  STLB (`l2`) is shared by both
 *    page sizes (as on Skylake and later); 0 entries = no STLB.  Every level
 *    is set-associative with true LRU; set index = page number mod sets
 *    (sets must be a power of two).  An L1 miss looks up the STLB; an STLB
 *    miss is a page walk and fills both levels (non-inclusive, no prefetch).
 *  - Every access is a load/store to one address; the model does not
 *    distinguish them (dTLB-load + dTLB-store misses together).
 *
 * Speed: one access costs a compare when it hits the page of the previous
 * access, otherwise an L1 set scan; the first-touch set is consulted only
 * on page walks (a page present in any TLB level has been touched).  That
 * set is per 2 MiB region (a small hash of regions, cache resident) with a
 * 512-bit bitmap of its 4 KiB pages and a flag for the huge page.
 */
#ifndef SIM_MODEL_H
#define SIM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "sim_map.h"

#define SIM_PAGE_SHIFT   12
#define SIM_HUGE_SHIFT   21
#define SIM_LINE         64

typedef enum sim_page_mode {
    SIM_PAGES_4K = 0,
    SIM_PAGES_2M = 1,
    SIM_PAGES_THP = 2,
} sim_page_mode;

typedef struct sim_level_geom {
    uint32_t entries, ways;     /* entries = 0: level absent */
} sim_level_geom;

typedef struct sim_tlb_geom {
    sim_level_geom l1;          /* 4 KiB L1 dTLB */
    sim_level_geom l1_2m;       /* 2 MiB L1 dTLB (0 entries: share l1) */
    sim_level_geom l2;          /* unified STLB (0 entries: none) */
} sim_tlb_geom;

/* The default geometry of a current x86 core (Skylake..Raptor Lake class):
 * l1=64:4, l1_2m=32:4, l2=1536:12. */
void sim_tlb_default(sim_tlb_geom *g);
/* Parses "l1=64:4,l2=1536:12,l1_2m=32:4" on top of *g (keys not named keep
 * their value; "default" alone is allowed).  ENTRIES:WAYS; "l2=0" or
 * "l1_2m=0" switch a level off; ways = entries is fully associative.  On
 * error returns -1 with a one-line reason naming the bad part in err. */
int sim_tlb_parse(const char *spec, sim_tlb_geom *g, char *err, size_t errlen);
/* Canonical spec text of g, e.g. "l1=64:4,l1_2m=32:4,l2=1536:12". */
void sim_tlb_format(const sim_tlb_geom *g, char *buf, size_t len);

int sim_page_mode_parse(const char *s, sim_page_mode *out); /* "4k","2m","thp" */
const char *sim_page_mode_name(sim_page_mode m);

typedef struct sim_stats {
    uint64_t accesses;          /* addresses fed */
    uint64_t faults;            /* first touches, any page size */
    uint64_t faults_4k, faults_2m;
    uint64_t l1_misses;         /* L1 dTLB misses (both page sizes) */
    uint64_t stlb_misses;       /* = page walks */
    uint64_t huge_regions, small_regions;  /* thp mode: classified regions */
} sim_stats;

/* Returns 1 when the 2 MiB region containing addr is backed by a huge page. */
typedef int (*sim_huge_fn)(void *ctx, uint64_t addr);

typedef struct sim_touch_slot {
    uint64_t bits[8];           /* 4 KiB pages of the region touched */
    uint64_t huge;              /* the region's 2 MiB page touched */
} sim_touch_slot;

typedef struct sim_tlb_level {
    uint32_t ways, sets, set_mask;
    uint64_t *tags;             /* [sets][ways], MRU first; 0 = empty */
    size_t bytes;
} sim_tlb_level;

typedef struct sim_model {
    sim_tlb_geom geom;
    sim_page_mode mode;
    sim_tlb_level l1, l1_2m, l2;
    int has_l1_2m, has_l2;
    sim_stats st;
    /* The page of the previous access: [last_lo, last_hi). */
    uint64_t last_lo, last_hi;
    sim_map touched;            /* first-touch set: region -> slot index + 1 */
    struct sim_touch_slot *slots;   /* [nslots]: per region, pages touched */
    uint64_t nslots, cap_slots;
    uint64_t scache_tag[1024];  /* direct-mapped region (+1) -> slot cache */
    uint32_t scache_idx[1024];
    sim_map regions;            /* thp: region -> 1 small, 2 huge */
    uint64_t rcache_tag[1024];  /* thp: direct-mapped region cache (region+1) */
    uint8_t  rcache_huge[1024];
    sim_huge_fn huge_fn;
    void *huge_ctx;
} sim_model;

/* Builds a model (tables mmap'd, sized for about expect_pages distinct
 * pages).  Returns 0, or -1 with a reason. */
int sim_model_init(sim_model *m, const sim_tlb_geom *g, sim_page_mode mode,
                   uint64_t expect_pages, char *err, size_t errlen);
void sim_model_destroy(sim_model *m);

void sim_model_set_huge_fn(sim_model *m, sim_huge_fn fn, void *ctx);
/* Fixes the class of the 2 MiB region containing addr (thp mode). */
int sim_model_set_region(sim_model *m, uint64_t addr, int huge);

void sim_access_slow(sim_model *m, uint64_t addr);

/* One touched address. */
static inline void sim_access(sim_model *m, uint64_t addr)
{
    m->st.accesses++;
    if (addr - m->last_lo < m->last_hi - m->last_lo)
        return;                 /* same page as last time: MRU L1 hit */
    sim_access_slow(m, addr);
}

#endif
