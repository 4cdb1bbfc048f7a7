/* sim_map.c - see sim_map.h. */
#include "sim_map.h"

#include <string.h>
#include <sys/mman.h>

void *sim_mem_alloc(size_t bytes)
{
    if (bytes == 0)
        bytes = 1;
    /* Populated now: the model's tables must not fault inside a measured
     * window (growth is bracketed by the map's grow hook instead). */
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void sim_mem_free(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes ? bytes : 1);
}

/* Fibonacci hashing: the top `bits` bits of key * golden ratio. */
static inline uint64_t slot_of(uint64_t key, unsigned bits)
{
    return (key * 0x9E3779B97F4A7C15ull) >> (64 - bits);
}

static int alloc_tables(sim_map *m, unsigned bits)
{
    uint64_t cap = 1ull << bits;
    uint64_t *k = sim_mem_alloc(cap * sizeof *k);
    uint32_t *v = sim_mem_alloc(cap * sizeof *v);
    if (!k || !v) {
        sim_mem_free(k, cap * sizeof *k);
        sim_mem_free(v, cap * sizeof *v);
        return -1;
    }
    m->keys = k;
    m->vals = v;
    m->cap = cap;
    m->bits = bits;
    return 0;
}

int sim_map_init(sim_map *m, uint64_t expect)
{
    memset(m, 0, sizeof *m);
    unsigned bits = 10;
    while (bits < 40 && (1ull << bits) < 2 * expect)
        bits++;
    return alloc_tables(m, bits);
}

void sim_map_destroy(sim_map *m)
{
    sim_mem_free(m->keys, m->cap * sizeof *m->keys);
    sim_mem_free(m->vals, m->cap * sizeof *m->vals);
    memset(m, 0, sizeof *m);
}

static int grow(sim_map *m)
{
    if (m->grow_hook)
        m->grow_hook(m->grow_ctx, 1);
    sim_map old = *m;
    int rc = alloc_tables(m, old.bits + 1);
    if (rc == 0) {
        for (uint64_t i = 0; i < old.cap; i++) {
            uint64_t k = old.keys[i];
            if (!k)
                continue;
            uint64_t mask = m->cap - 1, s = slot_of(k - 1, m->bits);
            while (m->keys[s])
                s = (s + 1) & mask;
            m->keys[s] = k;
            m->vals[s] = old.vals[i];
        }
        sim_mem_free(old.keys, old.cap * sizeof *old.keys);
        sim_mem_free(old.vals, old.cap * sizeof *old.vals);
    } else {
        *m = old;
    }
    if (m->grow_hook)
        m->grow_hook(m->grow_ctx, 0);
    return rc;
}

uint32_t *sim_map_find(const sim_map *m, uint64_t key)
{
    uint64_t mask = m->cap - 1, s = slot_of(key, m->bits), k1 = key + 1;
    for (;;) {
        uint64_t k = m->keys[s];
        if (k == k1)
            return &m->vals[s];
        if (!k)
            return NULL;
        s = (s + 1) & mask;
    }
}

uint32_t *sim_map_upsert(sim_map *m, uint64_t key, int *inserted)
{
    uint64_t k1 = key + 1;
    for (;;) {
        uint64_t mask = m->cap - 1, s = slot_of(key, m->bits);
        for (;;) {
            uint64_t k = m->keys[s];
            if (k == k1) {
                if (inserted)
                    *inserted = 0;
                return &m->vals[s];
            }
            if (!k)
                break;
            s = (s + 1) & mask;
        }
        if (2 * (m->n + 1) > m->cap) {
            if (grow(m) != 0)
                return NULL;
            continue;   /* slot positions changed */
        }
        m->keys[s] = k1;
        m->vals[s] = 0;
        m->n++;
        if (inserted)
            *inserted = 1;
        return &m->vals[s];
    }
}
