/* hak_knobs_table.h - the HAKMEM_* knobs the allocator reads, in one table:
 * name, kind, valid values and default.  It drives
 *   - parsing (hak_config.c reads each knob through hak_knob_parse; an
 *     invalid value keeps the default and is warned about on stderr, as is
 *     an unknown HAKMEM_* name),
 *   - the effective-config string hak_alloc_config() (one NAME=VALUE per
 *     knob, in table order, hak_knob_format),
 *   - the "values (default first)" column of alloc/KNOBS.md
 *     (hak_knob_values_md; alloc/tests/knobs_md.sh fails when the file and
 *     the table disagree),
 *   - `hak replay|sim|sweep --env`, which refuses unknown names and invalid
 *     values before a run (replayer/replay/knob_check.c).
 * A new knob: a row here (and its HAK_K_ id, in the same order), its
 * effect in hak_config_init, a row in KNOBS.md.
 *
 * Header-only and libc-only (string.h), no allocation, no stdio: the
 * allocator calls it during its own initialisation. */
#ifndef HAK_KNOBS_TABLE_H
#define HAK_KNOBS_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum hak_knob_kind {
    HAK_KNOB_CHOICE,   /* one of choices[]; the value is its index */
    HAK_KNOB_SIZE,     /* bytes: N, NK, NM (K/M may be followed by iB); a power of two in [min, max] */
    HAK_KNOB_COUNT,    /* a decimal count in [min, max] */
    HAK_KNOB_BYTES,    /* bytes: N, NK, NM (K/M may be followed by iB) in [min, max] */
};

typedef struct hak_knob {
    const char *name;
    int kind;
    const char *const *choices;   /* HAK_KNOB_CHOICE: NULL-terminated, in the order of
                                   * hak_config's enum (the value is the index) */
    uint64_t min, max;            /* HAK_KNOB_SIZE, HAK_KNOB_BYTES, HAK_KNOB_COUNT */
    const char *valid;            /* the valid values, for messages and KNOBS.md */
    uint64_t dflt;                /* the default value (CHOICE: an index) */
} hak_knob;

/* Indexes into hak_knobs[] (the same order). */
enum hak_knob_id {
    HAK_K_PREFAULT, HAK_K_HUGEPAGE, HAK_K_SUPERSLAB_SIZE, HAK_K_SLAB_SIZE,
    HAK_K_ZERO, HAK_K_PURGE, HAK_K_PURGE_DELAY_MS, HAK_K_TCACHE, HAK_K_CHECK,
    HAK_K_LARGE_CACHE, HAK_K_LARGE_DECAY_MS, HAK_K_NUM
};

/* Choice names in the order of hak_internal.h's enums (PF_*, PURGE_*). */
static const char *const hak_knob_prefault[] = {"off", "populate", "populate_write", "touch", NULL};
static const char *const hak_knob_hugepage[] = {"off", "madvise", NULL};
static const char *const hak_knob_zero[] = {"lazy", "always", NULL};
static const char *const hak_knob_purge[] = {"off", "dontneed", "free", NULL};
static const char *const hak_knob_check_values[] = {"0", "1", NULL};

#define HAK_MS_MAX (UINT64_MAX / 1000000)
static const hak_knob hak_knobs[] = {
    [HAK_K_PREFAULT] = {"HAKMEM_PREFAULT", HAK_KNOB_CHOICE, hak_knob_prefault, 0, 0,
                           "off, populate, populate_write, touch", 0},
    [HAK_K_HUGEPAGE] = {"HAKMEM_HUGEPAGE", HAK_KNOB_CHOICE, hak_knob_hugepage, 0, 0,
                           "off, madvise", 0},
    [HAK_K_SUPERSLAB_SIZE] = {"HAKMEM_SUPERSLAB_SIZE", HAK_KNOB_SIZE, NULL, 1u << 20, 32u << 20,
                                 "a power of two from 1M to 32M", 2u << 20},
    [HAK_K_SLAB_SIZE] = {"HAKMEM_SLAB_SIZE", HAK_KNOB_SIZE, NULL, 16u << 10, 8u << 20,
                            "a power of two from 16K to a quarter of the SuperSlab size", 64u << 10},
    [HAK_K_ZERO] = {"HAKMEM_ZERO", HAK_KNOB_CHOICE, hak_knob_zero, 0, 0, "lazy, always", 0},
    [HAK_K_PURGE] = {"HAKMEM_PURGE", HAK_KNOB_CHOICE, hak_knob_purge, 0, 0,
                        "dontneed, free, off", 1},
    [HAK_K_PURGE_DELAY_MS] = {"HAKMEM_PURGE_DELAY_MS", HAK_KNOB_COUNT, NULL, 0, HAK_MS_MAX,
                                 "milliseconds (0 = at once)", 100},
    [HAK_K_TCACHE] = {"HAKMEM_TCACHE", HAK_KNOB_COUNT, NULL, 0, 4096, "a count from 0 to 4096", 256},
    [HAK_K_CHECK] = {"HAKMEM_CHECK", HAK_KNOB_CHOICE, hak_knob_check_values, 0, 0, "0, 1", 0},
    [HAK_K_LARGE_CACHE] = {"HAKMEM_LARGE_CACHE", HAK_KNOB_BYTES, NULL, 0, 1ull << 40,
                              "bytes (N, NK, NM), 0 to 1T", 64u << 20},
    [HAK_K_LARGE_DECAY_MS] = {"HAKMEM_LARGE_DECAY_MS", HAK_KNOB_COUNT, NULL, 0, HAK_MS_MAX,
                                 "milliseconds (0 = at the next large allocation or free)", 1000},
};
#define HAK_NKNOBS (sizeof hak_knobs / sizeof *hak_knobs)
_Static_assert(sizeof hak_knobs / sizeof *hak_knobs == HAK_K_NUM, "one row per hak_knob_id");

/* The knob called name (the first n bytes of it), or NULL. */
static inline const hak_knob *hak_knob_find(const char *name, size_t n)
{
    for (size_t i = 0; i < HAK_NKNOBS; i++)
        if (strlen(hak_knobs[i].name) == n && !strncmp(hak_knobs[i].name, name, n))
            return &hak_knobs[i];
    return NULL;
}

/* Parses v as a value of knob k into *out (CHOICE: the index).  Returns 1
 * when v is valid, 0 otherwise (*out untouched). */
static inline int hak_knob_parse(const hak_knob *k, const char *v, uint64_t *out)
{
    if (k->kind == HAK_KNOB_CHOICE) {
        for (int i = 0; k->choices[i]; i++)
            if (!strcmp(v, k->choices[i])) {
                *out = (uint64_t)i;
                return 1;
            }
        return 0;
    }
    uint64_t x = 0;
    const char *s = v;
    if (*s < '0' || *s > '9')
        return 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (x > (UINT64_MAX - 9) / 10)
            return 0;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    if (k->kind == HAK_KNOB_SIZE || k->kind == HAK_KNOB_BYTES) {
        uint64_t mul = 1;
        if (*s == 'k' || *s == 'K') mul = 1024, s++;
        else if (*s == 'm' || *s == 'M') mul = 1024 * 1024, s++;
        if (mul > 1 && *s == 'i' && (s[1] == 'B' || s[1] == 'b')) s += 2;
        if (x > UINT64_MAX / mul)
            return 0;
        x *= mul;
        if (k->kind == HAK_KNOB_SIZE && (x & (x - 1)))
            return 0;
    }
    if (*s || x < k->min || x > k->max)
        return 0;
    *out = x;
    return 1;
}

/* 1 when v is a valid value of knob k. */
static inline int hak_knob_value_ok(const hak_knob *k, const char *v)
{
    uint64_t x;
    return hak_knob_parse(k, v, &x);
}

/* Checks one "NAME=VALUE" environment entry.  Returns 0 when it is not a
 * HAKMEM_* variable or a valid knob setting; 1 for an unknown HAKMEM_*
 * name; 2 for an invalid value (*knob then says which knob). */
static inline int hak_knob_check(const char *kv, const hak_knob **knob)
{
    *knob = NULL;
    if (strncmp(kv, "HAKMEM_", 7) != 0)
        return 0;
    const char *eq = strchr(kv, '=');
    size_t n = eq ? (size_t)(eq - kv) : strlen(kv);
    const hak_knob *k = hak_knob_find(kv, n);
    if (!k)
        return 1;
    *knob = k;
    return eq && hak_knob_value_ok(k, eq + 1) ? 0 : 2;
}

/* Appends s to buf (size cap, length *n), always NUL-terminated. */
static inline void hak_knob_cat(char *buf, size_t cap, size_t *n, const char *s)
{
    while (*s && *n + 1 < cap) buf[(*n)++] = *s++;
    if (cap) buf[*n < cap ? *n : cap - 1] = 0;
}

static inline void hak_knob_cat_u64(char *buf, size_t cap, size_t *n, uint64_t v)
{
    char d[24];
    int i = (int)sizeof d;
    d[--i] = 0;
    do { d[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    hak_knob_cat(buf, cap, n, d + i);
}

/* Appends value v of knob k as the config string shows it: a choice's
 * name, else the number (bytes for sizes). */
static inline void hak_knob_format(const hak_knob *k, uint64_t v, char *buf, size_t cap, size_t *n)
{
    if (k->kind == HAK_KNOB_CHOICE) hak_knob_cat(buf, cap, n, k->choices[v]);
    else hak_knob_cat_u64(buf, cap, n, v);
}

/* Appends a byte count the way KNOBS.md writes it: 2M, 64K, or bytes. */
static inline void hak_knob_cat_bytes(char *buf, size_t cap, size_t *n, uint64_t v)
{
    if (v && v % (1u << 20) == 0) { hak_knob_cat_u64(buf, cap, n, v >> 20); hak_knob_cat(buf, cap, n, "M"); }
    else if (v && v % 1024 == 0) { hak_knob_cat_u64(buf, cap, n, v >> 10); hak_knob_cat(buf, cap, n, "K"); }
    else hak_knob_cat_u64(buf, cap, n, v);
}

/* Appends KNOBS.md's "values (default first)" cell of knob k: choices in
 * backquotes, the default first; else "`DEFAULT`; VALID". */
static inline void hak_knob_values_md(const hak_knob *k, char *buf, size_t cap, size_t *n)
{
    if (k->kind == HAK_KNOB_CHOICE) {
        hak_knob_cat(buf, cap, n, "`");
        hak_knob_cat(buf, cap, n, k->choices[k->dflt]);
        hak_knob_cat(buf, cap, n, "`");
        for (uint64_t i = 0; k->choices[i]; i++) {
            if (i == k->dflt) continue;
            hak_knob_cat(buf, cap, n, ", `");
            hak_knob_cat(buf, cap, n, k->choices[i]);
            hak_knob_cat(buf, cap, n, "`");
        }
        return;
    }
    hak_knob_cat(buf, cap, n, "`");
    if (k->kind == HAK_KNOB_COUNT) hak_knob_cat_u64(buf, cap, n, k->dflt);
    else hak_knob_cat_bytes(buf, cap, n, k->dflt);
    hak_knob_cat(buf, cap, n, "`; ");
    hak_knob_cat(buf, cap, n, k->valid);
}

#endif
