/* hak_knobs_table.h - the HAKMEM_* knobs the allocator reads: their names
 * and valid values, in one table that the allocator (to warn about unknown
 * names and invalid values) and `hak replay|sim|sweep --env` (to refuse
 * them before a run) both use.  alloc/KNOBS.md describes what each does;
 * hak_config.c applies them (an invalid value keeps the default).
 *
 * Header-only and libc-only (string.h), no allocation, no stdio: the
 * allocator calls it during its own initialisation. */
#ifndef HAK_KNOBS_TABLE_H
#define HAK_KNOBS_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum hak_knob_kind {
    HAK_KNOB_CHOICE,   /* one of choices[] */
    HAK_KNOB_SIZE,     /* bytes: N, NK, NM (K/M may be followed by iB); a power of two in [min, max] */
    HAK_KNOB_COUNT,    /* a decimal count in [min, max] */
    HAK_KNOB_BYTES,    /* bytes: N, NK, NM (K/M may be followed by iB) in [min, max] */
};

typedef struct hak_knob {
    const char *name;
    int kind;
    const char *const *choices;   /* HAK_KNOB_CHOICE: NULL-terminated, default first */
    uint64_t min, max;            /* HAK_KNOB_SIZE, HAK_KNOB_COUNT */
    const char *valid;            /* the valid values, for messages */
} hak_knob;

static const char *const hak_knob_prefault[] = {"off", "populate", "populate_write", "touch", NULL};
static const char *const hak_knob_hugepage[] = {"off", "madvise", NULL};
static const char *const hak_knob_zero[] = {"lazy", "always", NULL};
static const char *const hak_knob_purge[] = {"dontneed", "free", "off", NULL};
static const char *const hak_knob_check_values[] = {"0", "1", NULL};

static const hak_knob hak_knobs[] = {
    {"HAKMEM_PREFAULT", HAK_KNOB_CHOICE, hak_knob_prefault, 0, 0, "off, populate, populate_write, touch"},
    {"HAKMEM_HUGEPAGE", HAK_KNOB_CHOICE, hak_knob_hugepage, 0, 0, "off, madvise"},
    {"HAKMEM_SUPERSLAB_SIZE", HAK_KNOB_SIZE, NULL, 1u << 20, 32u << 20, "a power of two from 1M to 32M"},
    {"HAKMEM_SLAB_SIZE", HAK_KNOB_SIZE, NULL, 16u << 10, 8u << 20,
     "a power of two from 16K to a quarter of the SuperSlab size"},
    {"HAKMEM_ZERO", HAK_KNOB_CHOICE, hak_knob_zero, 0, 0, "lazy, always"},
    {"HAKMEM_PURGE", HAK_KNOB_CHOICE, hak_knob_purge, 0, 0, "dontneed, free, off"},
    {"HAKMEM_PURGE_DELAY_MS", HAK_KNOB_COUNT, NULL, 0, UINT64_MAX / 1000000, "milliseconds (0 = at once)"},
    {"HAKMEM_TCACHE", HAK_KNOB_COUNT, NULL, 0, 4096, "a count from 0 to 4096"},
    {"HAKMEM_CHECK", HAK_KNOB_CHOICE, hak_knob_check_values, 0, 0, "0, 1"},
    {"HAKMEM_LARGE_CACHE", HAK_KNOB_BYTES, NULL, 0, 1ull << 40, "bytes (N, NK, NM), 0 to 1T"},
    {"HAKMEM_LARGE_DECAY_MS", HAK_KNOB_COUNT, NULL, 0, UINT64_MAX / 1000000,
     "milliseconds (0 = at the next large allocation or free)"},
};
#define HAK_NKNOBS (sizeof hak_knobs / sizeof *hak_knobs)

/* The knob called name (the first n bytes of it), or NULL. */
static inline const hak_knob *hak_knob_find(const char *name, size_t n)
{
    for (size_t i = 0; i < HAK_NKNOBS; i++)
        if (strlen(hak_knobs[i].name) == n && !strncmp(hak_knobs[i].name, name, n))
            return &hak_knobs[i];
    return NULL;
}

/* 1 when v is a valid value of knob k. */
static inline int hak_knob_value_ok(const hak_knob *k, const char *v)
{
    if (k->kind == HAK_KNOB_CHOICE) {
        for (int i = 0; k->choices[i]; i++)
            if (!strcmp(v, k->choices[i]))
                return 1;
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
    return !*s && x >= k->min && x <= k->max;
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

#endif
