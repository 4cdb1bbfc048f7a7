/* rec_stacks.c - call-site capture and deduplication.
 *
 * Two tables, both in mmap'd memory:
 * - the key cache maps a cheap per-call key (return address, plus the stack
 *   depth when --stacks > 1) to a site id.  Lookups are lock-free (a
 *   release-published key after its site); inserts happen under site_mu.
 * - the site table stores each distinct IP array once (hashed), with dense
 *   ids 1, 2, ...; the writer reads ids below `nsites` (acquire) and writes
 *   them with hak_tw_site.
 * A key miss unwinds with libunwind (unw_backtrace) and takes the frames
 * from the caller's return address outwards, so the recorder's own frames
 * never appear.  With the cache a call site costs one unwind per distinct
 * (return address, stack depth) pair; --stacks-exact unwinds every call.
 *
 * The hash tables start small and grow by 4x at half load: hashing
 * spreads even a few thousand entries over every page of a big table, and
 * those pages are the recorded program's RSS.  A lock-free table grows by
 * copying under site_mu and publishing the copy; a reader still probing
 * the old one finds it emptied (MADV_DONTNEED pages read as zero), which
 * is a miss, and the miss path looks again in the new table. */
#include "rec_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "rec_config.h"

#define KEY_BITS0   12               /* key tables: 64 KiB at first ... */
#define KEY_BITS_MAX 22              /* ... up to 64 MiB */
#define KEY_PROBE   32
#define SITE_MAX    (1u << 20)       /* distinct stacks */
#define HASH_BITS0  12               /* site hash: 16 KiB at first ... */
#define HASH_BITS_MAX 22             /* ... up to 16 MiB */
#define ARENA_WORDS (1u << 24)       /* IP storage: 128 MiB virtual */

typedef struct key_slot {
    _Atomic uint64_t key;
    _Atomic uint32_t site;
    uint32_t pad_;
} key_slot;

/* A lock-free-read hash table: 2^bits slots, linear probing. */
typedef struct key_table {
    uint32_t bits;
    uint32_t used;                   /* under site_mu */
    key_slot slot[];
} key_table;

typedef struct site_rec {
    uint32_t off;                    /* into arena */
    uint32_t depth;
} site_rec;

static key_table *_Atomic keys;      /* call-site key -> site id */
static key_table *_Atomic ras;       /* return address -> caller-frame offset */
static uint32_t *hash_tab;           /* site id per slot, 0 = empty (site_mu) */
static uint32_t hash_bits, hash_used;
static site_rec *sites;              /* [SITE_MAX], index = id */
static uint64_t *arena;
static uint32_t arena_used;
static _Atomic uint32_t nsites = 1;  /* next id; ids < nsites are complete */
static pthread_mutex_t site_mu = PTHREAD_MUTEX_INITIALIZER;
/* Held across unw_backtrace so fork() never lands while a thread is inside
 * libunwind or the loader's dl_iterate_phdr lock: a forked child would
 * otherwise block forever on a lock owned by a thread it does not have. */
static pthread_mutex_t unwind_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t unwinds;             /* under unwind_mu */
static int ready;

static void *map_lazy(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static key_table *table_new(uint32_t bits)
{
    key_table *t = map_lazy(sizeof *t + ((size_t)1 << bits) * sizeof(key_slot));
    if (t)
        t->bits = bits;
    return t;
}

void rec_stacks_init(void)
{
    if (ready || rec_g.cfg.stacks == 0)
        return;
    key_table *k = table_new(KEY_BITS0), *r = table_new(KEY_BITS0);
    hash_bits = HASH_BITS0;
    hash_used = 0;
    hash_tab = map_lazy(((size_t)1 << hash_bits) * sizeof *hash_tab);
    sites = map_lazy(SITE_MAX * sizeof *sites);
    arena = map_lazy((size_t)ARENA_WORDS * sizeof *arena);
    if (!k || !r || !hash_tab || !sites || !arena) {
        rec_g.cfg.stacks = 0;        /* no memory: record without sites */
        return;
    }
    atomic_store(&keys, k);
    atomic_store(&ras, r);
    ready = 1;
}

static uint32_t table_lookup(key_table *_Atomic *tp, uint64_t key)
{
    const key_table *t = atomic_load_explicit(tp, memory_order_acquire);
    uint32_t mask = (1u << t->bits) - 1, i = rec_hash_bits(key, t->bits);
    for (unsigned p = 0; p < KEY_PROBE; p++) {
        const key_slot *s = &t->slot[(i + p) & mask];
        uint64_t k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == key)
            return atomic_load_explicit(&s->site, memory_order_relaxed);
        if (k == 0)
            return 0;
    }
    return 0;
}

uint32_t rec_site_lookup(uintptr_t key)
{
    if (REC_UNLIKELY(!ready))
        return 0;
    return table_lookup(&keys, key);
}

int32_t rec_ra_offset(uintptr_t ra)
{
    if (REC_UNLIKELY(!ready))
        return 0;
    return (int32_t)table_lookup(&ras, ra);
}

/* Under site_mu.  0 = inserted (or present), -1 = probe window full. */
static int slot_insert(key_table *t, uint64_t key, uint32_t site)
{
    uint32_t mask = (1u << t->bits) - 1, i = rec_hash_bits(key, t->bits);
    for (unsigned p = 0; p < KEY_PROBE; p++) {
        key_slot *s = &t->slot[(i + p) & mask];
        uint64_t k = atomic_load_explicit(&s->key, memory_order_relaxed);
        if (k == key)
            return 0;
        if (k == 0) {
            atomic_store_explicit(&s->site, site, memory_order_relaxed);
            atomic_store_explicit(&s->key, key, memory_order_release);
            t->used++;
            return 0;
        }
    }
    return -1;
}

/* Under site_mu: a 4x bigger copy of *tp, published; the old one emptied.
 * NULL when it cannot grow (then the key stays uncached). */
static key_table *table_grow(key_table *_Atomic *tp)
{
    key_table *old = atomic_load_explicit(tp, memory_order_relaxed);
    if (old->bits + 2 > KEY_BITS_MAX)
        return NULL;
    key_table *t = table_new(old->bits + 2);
    if (!t)
        return NULL;
    for (size_t j = 0; j < (size_t)1 << old->bits; j++) {
        uint64_t k = atomic_load_explicit(&old->slot[j].key, memory_order_relaxed);
        if (k)
            slot_insert(t, k, atomic_load_explicit(&old->slot[j].site, memory_order_relaxed));
    }
    atomic_store_explicit(tp, t, memory_order_release);
    /* Readers still in the old table now see empty slots: a miss. */
    madvise(old->slot, ((size_t)1 << old->bits) * sizeof(key_slot), MADV_DONTNEED);
    return t;
}

static void table_insert(key_table *_Atomic *tp, uintptr_t key, uint32_t site)
{
    key_table *t = atomic_load_explicit(tp, memory_order_relaxed);
    if (t->used + 1 > (1u << t->bits) / 2 && !(t = table_grow(tp)))
        t = atomic_load_explicit(tp, memory_order_relaxed);
    while (slot_insert(t, key, site) != 0)
        if (!(t = table_grow(tp)))
            return;      /* probe window full at the largest size: uncached */
}

static uint64_t ips_hash(const uint64_t *ips, uint32_t depth)
{
    uint64_t h = 0xcbf29ce484222325ull ^ depth;
    for (uint32_t i = 0; i < depth; i++)
        h = (h ^ ips[i]) * 0x100000001b3ull ^ (h >> 29);
    return h ^ (h >> 32);
}

/* Under site_mu: the site hash 4x bigger (only site_mu holders read it). */
static void hash_grow(void)
{
    if (hash_bits + 2 > HASH_BITS_MAX)
        return;
    uint32_t bits = hash_bits + 2, mask = (1u << bits) - 1;
    uint32_t *t = map_lazy(((size_t)1 << bits) * sizeof *t);
    if (!t)
        return;
    for (size_t j = 0; j < (size_t)1 << hash_bits; j++) {
        uint32_t id = hash_tab[j];
        if (!id)
            continue;
        uint32_t slot = (uint32_t)ips_hash(arena + sites[id].off, sites[id].depth) & mask;
        while (t[slot])
            slot = (slot + 1) & mask;
        t[slot] = id;
    }
    munmap(hash_tab, ((size_t)1 << hash_bits) * sizeof *hash_tab);
    hash_tab = t;
    hash_bits = bits;
}

/* Site id of an IP array (under site_mu); 0 when the tables are full. */
static uint32_t site_intern(const uint64_t *ips, uint32_t depth)
{
    if (hash_used + 1 > (1u << hash_bits) / 2)
        hash_grow();
    uint32_t mask = (1u << hash_bits) - 1;
    uint32_t slot = (uint32_t)ips_hash(ips, depth) & mask;
    for (unsigned p = 0; p <= mask; p++, slot = (slot + 1) & mask) {
        uint32_t id = hash_tab[slot];
        if (id == 0)
            break;
        if (sites[id].depth == depth &&
            !memcmp(arena + sites[id].off, ips, depth * sizeof *ips))
            return id;
    }
    if (hash_tab[slot] != 0)
        return 0;                    /* full at the largest size */
    uint32_t id = atomic_load_explicit(&nsites, memory_order_relaxed);
    if (id >= SITE_MAX || arena_used + depth > ARENA_WORDS)
        return 0;
    memcpy(arena + arena_used, ips, depth * sizeof *ips);
    sites[id].off = arena_used;
    sites[id].depth = depth;
    arena_used += depth;
    hash_tab[slot] = id;
    hash_used++;
    atomic_store_explicit(&nsites, id + 1, memory_order_release);
    return id;
}

/* Learns where the caller's return address (ra2) sits above fp: the first
 * word equal to it within 4 KiB of the caller's frame. -1 = not found. */
static int32_t learn_offset(rec_thread *th, uintptr_t fp, uint64_t ra2)
{
    if (fp < th->stack_lo || fp + 16 > th->stack_top)
        return -1;
    uintptr_t end = th->stack_top - 8;
    if (end > fp + 4096)
        end = fp + 4096;
    for (uintptr_t a = fp + 16; a <= end; a += 8)
        if (*(const uint64_t *)a == ra2)
            return (int32_t)(a - fp);
    return -1;
}

static uint32_t site_slow(rec_thread *th, uintptr_t ra, uintptr_t fp, uintptr_t key);

/* rec_site when the call is not the thread's previous one (rec_internal.h):
 * the key, then the thread's last key, the lock-free table, or an unwind.
 * Arms rec_site's fast path only when the key used a validated ra2 read. */
uint32_t rec_site_miss(rec_thread *th, uintptr_t ra, uintptr_t fp)
{
    int depth = rec_g.cfg.stacks;
    if (depth == 0)
        return 0;
    th->site_fp = 0;                  /* disarmed until proven below */
    uintptr_t key = ra;
    if (depth > 1) {
        if (REC_UNLIKELY(rec_g.cfg.stacks_exact))
            return rec_site_slow(th, ra, fp, 0);
        int32_t off;
        if (ra == th->last_ra) {
            off = th->last_off;
        } else {
            off = rec_ra_offset(ra);
            th->last_ra = ra;
            th->last_off = off;
        }
        uintptr_t ra2 = 0;
        int armed = 0;
        if (off > 0 && fp >= th->stack_lo && fp + (uintptr_t)off + 8 <= th->stack_top) {
            ra2 = *(const uintptr_t *)(fp + (uintptr_t)off);
            armed = 1;
        }
        key = ra ^ ((th->stack_top - fp) * 0x9E3779B97F4A7C15ull) ^ (ra2 * 0xC2B2AE3D27D4EB4Full);
        if (armed) {
            th->site_ra = ra;
            th->site_off = off;
            th->site_ra2 = ra2;
        }
        if (key != th->last_key) {
            uint32_t s = rec_site_lookup(key);
            if (REC_UNLIKELY(!s)) {
                s = rec_site_slow(th, ra, fp, key);
                armed = 0;            /* the offset may just have been learned */
            }
            th->last_key = key;
            th->last_site = s;
        }
        if (armed)
            th->site_fp = fp;
        return th->last_site;
    }
    if (key != th->last_key) {
        uint32_t s = rec_site_lookup(key);
        if (REC_UNLIKELY(!s))
            s = rec_site_slow(th, ra, fp, key);
        th->last_key = key;
        th->last_site = s;
    }
    return th->last_site;
}

uint32_t rec_site_slow(rec_thread *th, uintptr_t ra, uintptr_t fp, uintptr_t key)
{
    int e = errno;          /* libunwind may make syscalls */
    uint32_t id = site_slow(th, ra, fp, key);
    errno = e;
    return id;
}

static uint32_t site_slow(rec_thread *th, uintptr_t ra, uintptr_t fp, uintptr_t key)
{
    if (!ready)
        return 0;
    int depth = rec_g.cfg.stacks;
    uint64_t ips[REC_MAX_DEPTH];
    uint32_t n = 0;
    if (depth > 1) {
        void *buf[REC_MAX_DEPTH + 16];
        pthread_mutex_lock(&unwind_mu);
        int got = unw_backtrace(buf, depth + 16);
        unwinds++;
        pthread_mutex_unlock(&unwind_mu);
        int k = 0;
        while (k < got && (uintptr_t)buf[k] != ra)
            k++;
        if (k < got)
            for (; k < got && n < (uint32_t)depth; k++)
                ips[n++] = (uint64_t)(uintptr_t)buf[k];
    }
    if (n == 0)
        ips[n++] = ra;
    pthread_mutex_lock(&site_mu);
    if (depth > 1 && !rec_ra_offset(ra)) {
        int32_t off = n >= 2 ? learn_offset(th, fp, ips[1]) : -1;
        table_insert(&ras, ra, (uint32_t)off);   /* -1: never read */
        th->last_ra = 0;              /* the thread's cached offset is stale */
    }
    uint32_t id = key ? rec_site_lookup(key) : 0;
    if (!id) {
        id = site_intern(ips, n);
        if (id && key)
            table_insert(&keys, key, id);
    }
    pthread_mutex_unlock(&site_mu);
    return id;
}

uint64_t rec_stacks_unwinds(void)
{
    pthread_mutex_lock(&unwind_mu);
    uint64_t n = unwinds;
    pthread_mutex_unlock(&unwind_mu);
    return n;
}

uint32_t rec_sites_count(void)
{
    return atomic_load_explicit(&nsites, memory_order_acquire);
}

const uint64_t *rec_site_ips(uint32_t id, uint32_t *depth)
{
    *depth = sites[id].depth;
    return arena + sites[id].off;
}

/* Lock order: unwind_mu, then site_mu (site_slow never holds both). */
void rec_stacks_atfork_prepare(void)
{
    pthread_mutex_lock(&unwind_mu);
    pthread_mutex_lock(&site_mu);
}

void rec_stacks_atfork_parent(void)
{
    pthread_mutex_unlock(&site_mu);
    pthread_mutex_unlock(&unwind_mu);
}

void rec_stacks_atfork_child(void)
{
    pthread_mutex_init(&site_mu, NULL);
    pthread_mutex_init(&unwind_mu, NULL);
}
