/* sim_layout.c - see sim_layout.h. */
#include "sim_layout.h"

#include <string.h>

#define PG_SHIFT 12
#define RG_SHIFT 21

int sim_layout_init(sim_layout *L, uint64_t expect_pages)
{
    memset(L, 0, sizeof *L);
    return sim_map_init(&L->regions, expect_pages / 512 + 64);
}

void sim_layout_destroy(sim_layout *L)
{
    if (L->regions.keys)
        sim_map_destroy(&L->regions);
    sim_mem_free(L->slots, L->cap_slots * sizeof *L->slots);
    memset(L, 0, sizeof *L);
}

double sim_layout_occupancy(const sim_layout *L)
{
    if (!L->pages_spanned)
        return 0.0;
    return (double)L->live_bytes / ((double)L->pages_spanned * (1 << PG_SHIFT));
}

static sim_layout_slot *slot_of(sim_layout *L, uint64_t region)
{
    unsigned c = region & 1023;
    if (L->cache_tag[c] == region + 1)
        return &L->slots[L->cache_idx[c]];
    int ins;
    uint32_t *v = sim_map_upsert(&L->regions, region, &ins);
    if (!v)
        return NULL;
    if (ins) {
        if (L->nslots == L->cap_slots) {
            uint64_t cap = L->cap_slots ? 2 * L->cap_slots : 64;
            if (L->regions.grow_hook)
                L->regions.grow_hook(L->regions.grow_ctx, 1);
            sim_layout_slot *ns = sim_mem_alloc(cap * sizeof *ns);
            if (ns && L->slots)
                memcpy(ns, L->slots, L->nslots * sizeof *ns);
            if (L->regions.grow_hook)
                L->regions.grow_hook(L->regions.grow_ctx, 0);
            if (!ns)
                return NULL;
            sim_mem_free(L->slots, L->cap_slots * sizeof *L->slots);
            L->slots = ns;
            L->cap_slots = cap;
        }
        *v = (uint32_t)(++L->nslots);
    }
    L->cache_tag[c] = region + 1;
    L->cache_idx[c] = *v - 1;
    return &L->slots[*v - 1];
}

/* Adds (sign > 0) or removes the block's bytes page by page. */
static int update(sim_layout *L, uint64_t addr, uint64_t size, int sign)
{
    if (size == 0)
        return 0;
    uint64_t end = addr + size;
    sim_layout_slot *s = NULL;
    uint64_t cur_region = UINT64_MAX;
    for (uint64_t p = addr >> PG_SHIFT; p <= (end - 1) >> PG_SHIFT; p++) {
        uint64_t region = p >> (RG_SHIFT - PG_SHIFT);
        if (region != cur_region) {
            if (!(s = slot_of(L, region)))
                return -1;
            cur_region = region;
        }
        uint64_t lo = p << PG_SHIFT, hi = lo + (1 << PG_SHIFT);
        uint32_t part = (uint32_t)((end < hi ? end : hi) - (addr > lo ? addr : lo));
        unsigned i = (unsigned)(p & 511);
        uint32_t before = s->live[i], after;
        if (sign > 0) {
            after = before + part;
            if (after > 4096)
                after = 4096;      /* overlapping blocks from a confused allocator */
            uint64_t bit = 1ull << (i & 63);
            if (!(s->ever[i >> 6] & bit)) {
                s->ever[i >> 6] |= bit;
                L->pages_ever++;
            }
        } else {
            after = before >= part ? before - part : 0;   /* a foreign free cannot underflow */
        }
        s->live[i] = (uint16_t)after;
        if (!before && after) {
            L->pages_spanned++;
            if (s->live_pages++ == 0)
                L->regions_spanned++;
        } else if (before && !after) {
            L->pages_spanned--;
            if (--s->live_pages == 0)
                L->regions_spanned--;
        }
    }
    return 0;
}

int sim_layout_alloc(sim_layout *L, uint64_t addr, uint64_t size)
{
    int rc = update(L, addr, size, +1);
    L->live_bytes += size;
    L->live_blocks++;
    if (L->pages_spanned > L->peak_pages)
        L->peak_pages = L->pages_spanned;
    if (L->regions_spanned > L->peak_regions)
        L->peak_regions = L->regions_spanned;
    if (L->live_bytes > L->peak_live_bytes) {
        L->peak_live_bytes = L->live_bytes;
        L->occ_at_peak = sim_layout_occupancy(L);
    }
    return rc;
}

int sim_layout_free(sim_layout *L, uint64_t addr, uint64_t size)
{
    int rc = update(L, addr, size, -1);
    L->live_bytes = L->live_bytes >= size ? L->live_bytes - size : 0;
    if (L->live_blocks)
        L->live_blocks--;
    return rc;
}

int sim_layout_unmap(sim_layout *L, uint64_t addr, uint64_t size, uint64_t live, int whole)
{
    int rc = update(L, addr, size, -1);
    L->live_bytes = L->live_bytes >= live ? L->live_bytes - live : 0;
    if (whole && L->live_blocks)
        L->live_blocks--;
    return rc;
}
