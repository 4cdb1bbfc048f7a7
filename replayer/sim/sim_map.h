/* sim_map.h - open-addressing hash map from a page or region number to a
 * 32-bit counter, used by the simulator for first-touch sets and per-page
 * live-byte counts.
 *
 * Invariants:
 *  - Memory comes from mmap, never malloc: the simulator runs in the same
 *    process as the allocator under test (or glibc's malloc), and its own
 *    tables must not change that allocator's layout or counters.
 *  - Capacity is a power of two and the load stays <= 1/2; keys are stored
 *    as key+1 so 0 marks an empty slot (keys up to UINT64_MAX-1).
 *  - Entries are never deleted (a counter may go back to 0): the tables
 *    only grow with the number of distinct pages ever seen.
 *  - Growth calls an optional hook with the bytes newly mapped, so callers
 *    can keep the model's own page faults out of measured figures.
 */
#ifndef SIM_MAP_H
#define SIM_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_map {
    uint64_t *keys;      /* key+1, 0 = empty */
    uint32_t *vals;
    uint64_t cap;        /* power of two */
    uint64_t n;          /* occupied slots */
    unsigned bits;       /* log2(cap) */
    void (*grow_hook)(void *ctx, int before);  /* called around a rehash */
    void *grow_ctx;
} sim_map;

/* Creates a map with room for at least `expect` keys.  0 or -1 (ENOMEM). */
int sim_map_init(sim_map *m, uint64_t expect);
void sim_map_destroy(sim_map *m);

/* Returns a pointer to the value slot of key, inserting it with value 0
 * when absent (*inserted = 1).  NULL only when growing failed. */
uint32_t *sim_map_upsert(sim_map *m, uint64_t key, int *inserted);
/* Returns the value slot of key, or NULL when absent. */
uint32_t *sim_map_find(const sim_map *m, uint64_t key);

/* mmap-backed zeroed allocation helpers shared by the simulator modules. */
void *sim_mem_alloc(size_t bytes);
void sim_mem_free(void *p, size_t bytes);

#endif
