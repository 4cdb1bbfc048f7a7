/* sim_layout.c - see sim_layout.h. */
#include "sim_layout.h"

#include <string.h>

#define PG_SHIFT 12
#define RG_SHIFT 21

int sim_layout_init(sim_layout *L, uint64_t expect_pages)
{
    memset(L, 0, sizeof *L);
    if (sim_map_init(&L->page_live, expect_pages))
        return -1;
    if (sim_map_init(&L->region_pages, expect_pages / 64 + 64)) {
        sim_map_destroy(&L->page_live);
        return -1;
    }
    return 0;
}

void sim_layout_destroy(sim_layout *L)
{
    if (L->page_live.keys)
        sim_map_destroy(&L->page_live);
    if (L->region_pages.keys)
        sim_map_destroy(&L->region_pages);
    memset(L, 0, sizeof *L);
}

double sim_layout_occupancy(const sim_layout *L)
{
    if (!L->pages_spanned)
        return 0.0;
    return (double)L->live_bytes / ((double)L->pages_spanned * (1 << PG_SHIFT));
}

/* Adds (sign > 0) or removes the block's bytes page by page. */
static int update(sim_layout *L, uint64_t addr, uint64_t size, int sign)
{
    if (size == 0)
        return 0;
    uint64_t end = addr + size;
    for (uint64_t p = addr >> PG_SHIFT; p <= (end - 1) >> PG_SHIFT; p++) {
        uint64_t lo = p << PG_SHIFT, hi = lo + (1 << PG_SHIFT);
        uint64_t a = addr > lo ? addr : lo, b = end < hi ? end : hi;
        uint32_t part = (uint32_t)(b - a);
        int ins;
        uint32_t *v = sim_map_upsert(&L->page_live, p, &ins);
        if (!v)
            return -1;
        if (ins)
            L->pages_ever++;
        uint32_t before = *v;
        if (sign > 0)
            *v += part;
        else
            *v = *v >= part ? *v - part : 0;   /* a foreign free cannot underflow */
        int delta = (before == 0 && *v > 0) - (before > 0 && *v == 0);
        if (!delta)
            continue;
        L->pages_spanned += delta;
        uint32_t *r = sim_map_upsert(&L->region_pages, p >> (RG_SHIFT - PG_SHIFT), NULL);
        if (!r)
            return -1;
        if (delta > 0 && (*r)++ == 0)
            L->regions_spanned++;
        if (delta < 0 && *r > 0 && --(*r) == 0)
            L->regions_spanned--;
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
