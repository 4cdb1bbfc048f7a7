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
 * (return address, stack depth) pair; --stacks-exact unwinds every call. */
#include "rec_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "rec_config.h"

#define KEY_SLOTS   (1u << 18)       /* key cache: 4 MiB virtual */
#define KEY_PROBE   32
#define SITE_MAX    (1u << 20)       /* distinct stacks */
#define HASH_SLOTS  (1u << 21)       /* site hash: 8 MiB virtual */
#define ARENA_WORDS (1u << 24)       /* IP storage: 128 MiB virtual */

typedef struct key_slot {
    _Atomic uint64_t key;
    _Atomic uint32_t site;
    uint32_t pad_;
} key_slot;

typedef struct site_rec {
    uint32_t off;                    /* into arena */
    uint32_t depth;
} site_rec;

static key_slot *keys;
static key_slot *ras;                /* return address -> caller-frame offset */
static uint32_t *hash_tab;           /* site id per slot, 0 = empty */
static site_rec *sites;              /* [SITE_MAX], index = id */
static uint64_t *arena;
static uint32_t arena_used;
static _Atomic uint32_t nsites = 1;  /* next id; ids < nsites are complete */
static pthread_mutex_t site_mu = PTHREAD_MUTEX_INITIALIZER;
/* Held across unw_backtrace so fork() never lands while a thread is inside
 * libunwind or the loader's dl_iterate_phdr lock: a forked child would
 * otherwise block forever on a lock owned by a thread it does not have. */
static pthread_mutex_t unwind_mu = PTHREAD_MUTEX_INITIALIZER;
static int ready;

static void *map_lazy(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void rec_stacks_init(void)
{
    if (ready || rec_g.cfg.stacks == 0)
        return;
    keys = map_lazy(KEY_SLOTS * sizeof *keys);
    ras = map_lazy(KEY_SLOTS * sizeof *ras);
    hash_tab = map_lazy(HASH_SLOTS * sizeof *hash_tab);
    sites = map_lazy(SITE_MAX * sizeof *sites);
    arena = map_lazy((size_t)ARENA_WORDS * sizeof *arena);
    if (!keys || !ras || !hash_tab || !sites || !arena) {
        rec_g.cfg.stacks = 0;        /* no memory: record without sites */
        return;
    }
    ready = 1;
}

static inline uint32_t key_index(uint64_t key)
{
    return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 46) & (KEY_SLOTS - 1);
}

uint32_t rec_site_lookup(uintptr_t key)
{
    if (REC_UNLIKELY(!ready))
        return 0;
    uint32_t i = key_index(key);
    for (unsigned p = 0; p < KEY_PROBE; p++) {
        key_slot *s = &keys[(i + p) & (KEY_SLOTS - 1)];
        uint64_t k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == key)
            return atomic_load_explicit(&s->site, memory_order_relaxed);
        if (k == 0)
            return 0;
    }
    return 0;
}

int32_t rec_ra_offset(uintptr_t ra)
{
    if (REC_UNLIKELY(!ready))
        return 0;
    uint32_t i = key_index(ra);
    for (unsigned p = 0; p < KEY_PROBE; p++) {
        key_slot *s = &ras[(i + p) & (KEY_SLOTS - 1)];
        uint64_t k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == ra)
            return (int32_t)atomic_load_explicit(&s->site, memory_order_relaxed);
        if (k == 0)
            return 0;
    }
    return 0;
}

static void table_insert(key_slot *tab, uintptr_t key, uint32_t site)
{
    uint32_t i = key_index(key);
    for (unsigned p = 0; p < KEY_PROBE; p++) {
        key_slot *s = &tab[(i + p) & (KEY_SLOTS - 1)];
        uint64_t k = atomic_load_explicit(&s->key, memory_order_relaxed);
        if (k == key)
            return;
        if (k == 0) {
            atomic_store_explicit(&s->site, site, memory_order_relaxed);
            atomic_store_explicit(&s->key, key, memory_order_release);
            return;
        }
    }
    /* Probe window full: this key stays uncached (unwinds every time). */
}

/* Site id of an IP array (under site_mu); 0 when the tables are full. */
static uint32_t site_intern(const uint64_t *ips, uint32_t depth)
{
    uint64_t h = 0xcbf29ce484222325ull ^ depth;
    for (uint32_t i = 0; i < depth; i++)
        h = (h ^ ips[i]) * 0x100000001b3ull ^ (h >> 29);
    uint32_t slot = (uint32_t)(h ^ (h >> 32)) & (HASH_SLOTS - 1);
    for (unsigned p = 0; p < HASH_SLOTS; p++, slot = (slot + 1) & (HASH_SLOTS - 1)) {
        uint32_t id = hash_tab[slot];
        if (id == 0)
            break;
        if (sites[id].depth == depth &&
            !memcmp(arena + sites[id].off, ips, depth * sizeof *ips))
            return id;
    }
    uint32_t id = atomic_load_explicit(&nsites, memory_order_relaxed);
    if (id >= SITE_MAX || arena_used + depth > ARENA_WORDS)
        return 0;
    memcpy(arena + arena_used, ips, depth * sizeof *ips);
    sites[id].off = arena_used;
    sites[id].depth = depth;
    arena_used += depth;
    hash_tab[slot] = id;
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
        table_insert(ras, ra, (uint32_t)off);    /* -1: never read */
        th->last_ra = 0;              /* the thread's cached offset is stale */
    }
    uint32_t id = key ? rec_site_lookup(key) : 0;
    if (!id) {
        id = site_intern(ips, n);
        if (id && key)
            table_insert(keys, key, id);
    }
    pthread_mutex_unlock(&site_mu);
    return id;
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
