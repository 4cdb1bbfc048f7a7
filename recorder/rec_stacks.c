/* rec_stacks.c - call-site capture and deduplication.
 *
 * Every allocation's stack is walked exactly, to the configured depth,
 * from the interposed function's frame outwards: a frame's return
 * address gives its unwind rule from the program's .eh_frame (rec_cfi.h:
 * CFA = RSP or RBP + offset, where RBP is saved), the rule gives the
 * caller's return address, RSP and RBP.  That is the DWARF unwind
 * libunwind does, minus its generality.  Rules are cached per return
 * address (a lock-free table and a per-thread cache), and how a frame is
 * stepped out of per (return address, RSP, RBP if the rule reads it),
 * of which it is a function; the words a step reads (return address,
 * saved RBP) are read afresh every time.  No stack is ever taken from
 * another call, so two different stacks never share a site.
 *
 * What the rules do not cover (a signal frame, a CFA expression, a stack
 * outside the thread's own) goes to libunwind (unw_backtrace), as
 * --stacks-exact does for every call.  A frame without any unwind
 * information cannot be stepped out of exactly: the stack is cut after
 * it and marked HAK_SITE_CUT, libunwind's stacks likewise (cut_guessed).
 * dlclose is interposed: rules of an unloaded object must not outlive it.
 *
 * The walked IP array is deduplicated into a site id: the thread's
 * previous array (same frames: same site), else a lock-free table keyed
 * by a hash of the array whose hit is confirmed by comparing the stored
 * array, else the site table under site_mu, which stores each distinct
 * array once with dense ids 1, 2, ...; the writer reads ids below
 * `nsites` (acquire) and writes them with hak_tw_site.
 *
 * The hash tables start small and grow by 4x at half load: hashing
 * spreads even a few thousand entries over every page of a big table, and
 * those pages are the recorded program's RSS.  A lock-free table grows by
 * copying under site_mu and publishing the copy; a reader still probing
 * the old one finds it emptied (MADV_DONTNEED pages read as zero), which
 * is a miss, and the miss path looks again in the new table. */
#include "rec_internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "rec_cfi.h"
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

static key_table *_Atomic keys;      /* hash of an IP array -> site id */
static key_table *_Atomic rules;     /* return address -> rec_cfi rule */
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
static int unloaded;                 /* under unwind_mu: dlclose was called */
/* --stacks-verify (test aid): events checked against libunwind, of
 * those walked by the rules, and mismatches */
static _Atomic uint64_t verified, verified_walked, mismatches;
/* Threads' cached rules are valid while their gen equals this; it moves
 * when the rules table is emptied (an object was unloaded, dlclose). */
static _Atomic uint32_t rules_gen = 1;
#define RULE_CACHE_BITS 8
#define FRAME_CACHE_BITS 8
_Static_assert(REC_RULE_CACHE == 1u << RULE_CACHE_BITS, "rule cache size");
_Static_assert(REC_FRAME_CACHE == 1u << FRAME_CACHE_BITS, "frame cache size");
static int ready;

static void *map_lazy(size_t len)
{
    void *p = rec_os_mmap(len, MAP_NORESERVE);
    if (p == MAP_FAILED)
        return NULL;
    rec_own(p, len);
    return p;
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
    atomic_store(&rules, r);
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
    /* Readers still in the old table now see empty slots: a miss.  (Its
     * whole pages only: madvise wants a page-aligned start, and the slots
     * begin just after the header.) */
    uintptr_t lo = ((uintptr_t)old->slot + 4095) & ~(uintptr_t)4095;
    uintptr_t hi = (uintptr_t)(old->slot + ((size_t)1 << old->bits)) & ~(uintptr_t)4095;
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_DONTNEED);
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

/* The hash of an IP array, in steps so the walk can fold each frame in
 * as it goes. */
#define HASH_START 0xcbf29ce484222325ull
static inline uint64_t hash_step(uint64_t h, uint64_t ip)
{
    return (h ^ ip) * 0x100000001b3ull ^ (h >> 29);
}
static inline uint64_t hash_end(uint64_t h, uint32_t depth)
{
    h ^= depth;
    return h ^ (h >> 32);
}

static uint64_t ips_hash(const uint64_t *ips, uint32_t depth)
{
    uint64_t h = HASH_START;
    for (uint32_t i = 0; i < depth; i++)
        h = hash_step(h, ips[i]);
    return hash_end(h, depth);
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
    rec_unmap_own(hash_tab, ((size_t)1 << hash_bits) * sizeof *hash_tab);
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

/* ---- the walk ------------------------------------------------------------- */

/* The rule of return address ip, read from the unwind tables once and
 * published (unwind_mu: dl_iterate_phdr takes the loader's lock, which a
 * fork must not find held). */
static __attribute__((noinline)) uint32_t rule_learn(uintptr_t ip)
{
    int e = errno;
    pthread_mutex_lock(&unwind_mu);
    uint32_t r = rec_cfi_rule(ip);
    pthread_mutex_unlock(&unwind_mu);
    pthread_mutex_lock(&site_mu);
    table_insert(&rules, ip, r);
    pthread_mutex_unlock(&site_mu);
    errno = e;
    return r;
}

/* The rule of return address ip: the thread's cache, the shared table,
 * else the unwind tables. */
static uint32_t rule_of(rec_thread *th, uintptr_t ip)
{
    unsigned i = rec_hash_bits(ip, RULE_CACHE_BITS);
    if (th->rule_cache[i].ip == ip)
        return th->rule_cache[i].rule;
    uint32_t r = table_lookup(&rules, ip);
    if (!r)
        r = rule_learn(ip);
    th->rule_cache[i].ip = ip;
    th->rule_cache[i].rule = r;
    return r;
}

/* Fills f with how the frame (return address ip, entered with sp and rbp)
 * is stepped out of, from its rule.  0: stepped, or the walk stops there
 * (f->cfa 0: the outermost frame, or with f->rbp_at 1 a frame without
 * unwind information, where the stack is cut); -1: not a plain step (then
 * libunwind unwinds the stack). */
static __attribute__((noinline)) int frame_learn(rec_thread *th, rec_walk_frame *f, uintptr_t ip,
                                                 uintptr_t sp, uintptr_t rbp)
{
    f->ip = 0;                       /* not reusable unless completed below */
    uint32_t r = rule_of(th, ip);
    uintptr_t cfa = 0, at = 0;
    if (rec_cfi_kind(r) == REC_CFI_NONE) {
        at = 1;                      /* cfa 0: stop; rbp_at 1: cut there */
    } else if (rec_cfi_kind(r) == REC_CFI_OK) {
        cfa = (rec_cfi_cfa_rbp(r) ? rbp : sp) + rec_cfi_cfa_off(r);
        if (cfa <= sp || cfa > th->stack_top)
            return -1;
        unsigned slot = rec_cfi_rbp_slot(r);
        if (slot) {
            at = cfa - 8u * slot;
            if (at < sp)
                return -1;
        }
    } else if (rec_cfi_kind(r) != REC_CFI_END) {
        return -1;
    }
    f->rbp_mask = rec_cfi_cfa_rbp(r) ? ~(uintptr_t)0 : 0;
    f->rbp_in = rbp & f->rbp_mask;
    f->cfa = cfa;
    f->rbp_at = at;
    f->sp = sp;
    f->ip = ip;
    return 0;
}

/* Walks the stack of the interposed function's caller (return address ra;
 * the interposer's frame at fp holds the caller's RBP) into th->walk_ip,
 * up to depth frames.  Returns the number of frames, 0 when a frame needs
 * libunwind; *hash: ips_hash of the frames (folded in as they are read);
 * *same: they are the thread's previous walk's, word for word.
 *
 * How a frame is stepped out of (its CFA, where RBP is saved) is a
 * function of its return address, its RSP and, for RBP-based rules, its
 * RBP, so it is cached by those; the words the step reads (the return
 * address, the saved RBP) are read afresh on every walk.  Every word read
 * lies in [fp, stack_top) of the thread's own stack: a CFA outside it is
 * handed to libunwind. */
static inline uint32_t walk(rec_thread *th, uintptr_t ra, uintptr_t fp, uint32_t depth,
                            uint64_t *hash, int *same)
{
    if (REC_UNLIKELY(fp < th->stack_lo || fp + 16 > th->stack_top))
        return 0;
    uint32_t gen = atomic_load_explicit(&rules_gen, memory_order_acquire);
    if (REC_UNLIKELY(th->walk_gen != gen)) {
        memset(th->frame_cache, 0, sizeof th->frame_cache);
        memset(th->rule_cache, 0, sizeof th->rule_cache);
        th->walk_gen = gen;
        th->walk_n = 0;
    }
    uintptr_t ip = ra, sp = fp + 16, rbp = *(const uintptr_t *)fp;
    uint64_t h = HASH_START;
    uint32_t n = 0;
    uintptr_t cut = 0, diff = 0;
    for (;;) {
        diff |= th->walk_ip[n] ^ ip;
        th->walk_ip[n] = ip;
        h = hash_step(h, ip);
        if (++n == depth)
            break;
        rec_walk_frame *f = &th->frame_cache[rec_hash_bits(ip ^ sp << 16, FRAME_CACHE_BITS)];
        if (REC_UNLIKELY(f->ip != ip || f->sp != sp || (rbp & f->rbp_mask) != f->rbp_in) &&
            frame_learn(th, f, ip, sp, rbp) != 0)
            return 0;
        if (!f->cfa) {
            cut = f->rbp_at;         /* outermost frame, or no unwind info */
            break;
        }
        if (f->rbp_at)
            rbp = *(const uintptr_t *)f->rbp_at;
        sp = f->cfa;
        ip = *(const uintptr_t *)(sp - 8);
        if (ip == 0)
            break;
    }
    if (cut) {
        diff |= th->walk_ip[n] ^ HAK_SITE_CUT;
        th->walk_ip[n++] = HAK_SITE_CUT;
        h = hash_step(h, HAK_SITE_CUT);
    }
    *hash = hash_end(h, n);
    *same = !diff && n == th->walk_n;
    return n;
}

/* The stack from ra outwards by libunwind, at most depth frames (the
 * recorder's own frames skipped); 0 when ra is not on it. */
static uint32_t unwind_full(uintptr_t ra, uint64_t *ips, int depth)
{
    void *buf[REC_MAX_DEPTH + 16];
    int got = 0, max = depth + 16;
    int e = errno;                   /* libunwind may make syscalls */
    pthread_mutex_lock(&unwind_mu);
    rec_tls_v.unwinding = 1;
    if (!unloaded) {
        got = unw_backtrace(buf, max);
    } else {
        /* unw_backtrace keeps per-IP frame data that unw_flush_cache does
         * not reach, stale once an object was unloaded: step instead */
        unw_context_t uc;
        unw_cursor_t c;
        if (unw_getcontext(&uc) == 0 && unw_init_local(&c, &uc) == 0) {
            do {
                unw_word_t ip;
                if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || ip == 0)
                    break;
                buf[got++] = (void *)(uintptr_t)ip;
            } while (got < max && unw_step(&c) > 0);
        }
    }
    unwinds++;
    rec_tls_v.unwinding = 0;
    pthread_mutex_unlock(&unwind_mu);
    errno = e;
    int k = 0;
    while (k < got && (uintptr_t)buf[k] != ra)
        k++;
    uint32_t n = 0;
    for (; k < got && n < (uint32_t)depth; k++)
        ips[n++] = (uint64_t)(uintptr_t)buf[k];
    return n;
}

static int same_ips(uint32_t id, const uint64_t *ips, uint32_t n)
{
    return sites[id].depth == n && !memcmp(arena + sites[id].off, ips, n * sizeof *ips);
}

/* Site id of an IP array: the lock-free table (a hit is confirmed against
 * the stored array, so a hash collision can never merge two stacks), else
 * interned under site_mu.  0 when the tables are full. */
static uint32_t site_of(const uint64_t *ips, uint32_t n, uint64_t h)
{
    h |= 1;                                  /* 0 is an empty slot */
    uint32_t id = table_lookup(&keys, h);
    if (REC_LIKELY(id) && REC_LIKELY(same_ips(id, ips, n)))
        return id;
    pthread_mutex_lock(&site_mu);
    id = site_intern(ips, n);
    if (id)
        table_insert(&keys, h, id);          /* on a collision the first stays */
    pthread_mutex_unlock(&site_mu);
    return id;
}

/* Where a frame has no unwind information libunwind guesses its caller
 * from RBP; the walk cuts the stack after that frame instead (HAK_SITE_CUT),
 * and so does this, on libunwind's frames.  A frame right after one
 * libunwind steps through by other means (a signal frame) is not a
 * return address, so its "caller" is not judged by the tables. */
static uint32_t cut_guessed(uint64_t *ips, uint32_t n, int depth)
{
    int after_other = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t r = table_lookup(&rules, ips[k]);
        if (!r)
            r = rule_learn(ips[k]);
        if (rec_cfi_kind(r) == REC_CFI_NONE && !after_other) {
            if (k + 1 < (uint32_t)depth) {
                ips[k + 1] = HAK_SITE_CUT;
                return k + 2;
            }
            return k + 1;
        }
        after_other = rec_cfi_kind(r) == REC_CFI_OTHER;
    }
    return n;
}

/* The stack by libunwind (the walk's fallback, --stacks-exact, and the
 * verifier's reference); at least ra. */
static uint32_t stack_by_libunwind(uintptr_t ra, uint64_t *ips, int depth)
{
    uint32_t n = depth > 1 ? unwind_full(ra, ips, depth) : 0;
    if (n == 0)
        ips[n++] = ra;
    return cut_guessed(ips, n, depth);
}

static uint32_t site_by_libunwind(uintptr_t ra, int depth)
{
    uint64_t ips[REC_MAX_DEPTH];
    uint32_t n = stack_by_libunwind(ra, ips, depth);
    return site_of(ips, n, ips_hash(ips, n));
}

static void verify(uintptr_t ra, uint32_t id, int walked)
{
    uint64_t ref[REC_MAX_DEPTH];
    uint32_t n = stack_by_libunwind(ra, ref, rec_g.cfg.stacks), got_n = 0;
    const uint64_t *got = id ? rec_site_ips(id, &got_n) : NULL;
    atomic_fetch_add(&verified, 1);
    if (walked)
        atomic_fetch_add(&verified_walked, 1);
    if (got && got_n == n && !memcmp(got, ref, n * sizeof *ref))
        return;
    if (atomic_fetch_add(&mismatches, 1) >= 10)
        return;
    char line[2048];
    int len = snprintf(line, sizeof line, "hakrec[%d]: stack mismatch (%s):",
                       (int)getpid(), walked ? "walked" : "libunwind");
    for (uint32_t i = 0; i < got_n && len < 1800; i++)
        len += snprintf(line + len, sizeof line - (size_t)len, " %llx", (unsigned long long)got[i]);
    len += snprintf(line + len, sizeof line - (size_t)len, " | libunwind:");
    for (uint32_t i = 0; i < n && len < 2000; i++)
        len += snprintf(line + len, sizeof line - (size_t)len, " %llx", (unsigned long long)ref[i]);
    if (len > (int)sizeof line - 2)
        len = (int)sizeof line - 2;
    line[len++] = '\n';
    if (write(2, line, (size_t)len) < 0) { /* nothing to do */ }
}

/* One line per process under --stacks-verify (HAKREC_STACKS_VERIFY=1). */
__attribute__((destructor)) static void verify_report(void)
{
    if (!rec_g.cfg.stacks_verify || !atomic_load(&verified))
        return;
    char line[256];
    int len = snprintf(line, sizeof line,
                       "hakrec[%d]: stacks verified: %llu events, %llu walked, %llu mismatches\n",
                       (int)getpid(), (unsigned long long)atomic_load(&verified),
                       (unsigned long long)atomic_load(&verified_walked),
                       (unsigned long long)atomic_load(&mismatches));
    if (write(2, line, (size_t)len) < 0) { /* nothing to do */ }
}

uint32_t rec_site(rec_thread *th, uintptr_t ra, uintptr_t fp)
{
    int depth = rec_g.cfg.stacks;
    if (depth == 0 || REC_UNLIKELY(!ready))
        return 0;
    uint32_t id, n = 0;
    if (REC_UNLIKELY(rec_g.cfg.stacks_exact)) {
        id = site_by_libunwind(ra, depth);
    } else {
        uint64_t h;
        int same;
        n = walk(th, ra, fp, (uint32_t)depth, &h, &same);
        if (REC_LIKELY(n)) {
            id = same && th->last_site ? th->last_site : site_of(th->walk_ip, n, h);
        } else {
            id = site_by_libunwind(ra, depth);
        }
        th->walk_n = n;
        th->last_site = id;
    }
    if (REC_UNLIKELY(rec_g.cfg.stacks_verify))
        verify(ra, id, n != 0);
    return id;
}

/* ---- unloading ------------------------------------------------------------ */

/* Once an object is unloaded, the next one loaded may take its addresses:
 * every rule learned so far is forgotten (the table emptied in place; a
 * new generation empties the threads' caches at their next walk), and
 * learned again.  In place, not a fresh table: a new mapping here would
 * take the very addresses the unloaded object freed. */
static void rules_forget(void)
{
    if (!ready)
        return;
    int e = errno;
    pthread_mutex_lock(&unwind_mu);
    unw_flush_cache(unw_local_addr_space, 0, 0);   /* libunwind's own, likewise */
    unloaded = 1;
    pthread_mutex_unlock(&unwind_mu);
    pthread_mutex_lock(&site_mu);
    key_table *t = atomic_load_explicit(&rules, memory_order_relaxed);
    /* readers probing meanwhile find empty slots or a rule of 0: a miss */
    for (size_t i = 0; i < (size_t)1 << t->bits; i++) {
        atomic_store_explicit(&t->slot[i].key, 0, memory_order_relaxed);
        atomic_store_explicit(&t->slot[i].site, 0, memory_order_relaxed);
    }
    t->used = 0;
    atomic_fetch_add_explicit(&rules_gen, 1, memory_order_release);
    pthread_mutex_unlock(&site_mu);
    errno = e;
}

/* dlclose, interposed for rules_forget after the real one returns. */
__attribute__((visibility("default"))) int dlclose(void *handle)
{
    static int (*_Atomic real)(void *);
    int (*f)(void *) = atomic_load(&real);
    if (!f) {
        int busy = rec_tls_v.busy;
        rec_tls_v.busy = 1;          /* dlsym's allocations are not the program's */
        *(void **)&f = dlsym(RTLD_NEXT, "dlclose");
        rec_tls_v.busy = busy;
        if (!f)
            return -1;
        atomic_store(&real, f);
    }
    int rc = f(handle);
    rules_forget();
    return rc;
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
    atomic_store(&verified, 0);          /* the child reports its own */
    atomic_store(&verified_walked, 0);
    atomic_store(&mismatches, 0);
}
