/* hak_huge.c - blocks aligned above ss_size / 2.
 *
 * Their user pointer is the mapping's start and is aligned beyond a
 * SuperSlab, so p & ss_mask is p itself and no header can be found from
 * it; these rare blocks are not in the registry (free() takes them for
 * foreign) and are recorded in a side table instead, searched by the
 * foreign-pointer slow path.  The table is a hash table with linear probing
 * in its own mapping, doubled when 3/4 full, so there is no fixed limit on
 * live blocks.  Under the global lock; a relaxed count of live entries
 * lets a foreign free skip the lock when there are none.
 */
#include "hak_internal.h"

#include <errno.h>
#include <sys/mman.h>

typedef struct { void *user; size_t len; } huge_ent;

HAK_HOT static huge_ent *tab;
HAK_HOT static size_t tab_cap, tab_used;        /* cap is 0 or a power of two */
HAK_HOT static _Atomic size_t tab_live;

static size_t page_round(size_t n) { return (n + HAK_PAGE - 1) & ~(size_t)(HAK_PAGE - 1); }

static size_t home(const void *p, size_t cap)
{
    uint64_t x = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull;
    return (size_t)(x >> 32) & (cap - 1);
}

static size_t find(const void *p)   /* index of p, or tab_cap */
{
    if (!tab_cap) return 0;
    for (size_t i = home(p, tab_cap);; i = (i + 1) & (tab_cap - 1)) {
        if (tab[i].user == p) return i;
        if (!tab[i].user) return tab_cap;
    }
}

static void put(huge_ent *t, size_t cap, huge_ent e)
{
    size_t i = home(e.user, cap);
    while (t[i].user) i = (i + 1) & (cap - 1);
    t[i] = e;
}

static int grow(void)
{
    size_t cap = tab_cap ? tab_cap * 2 : 64;
    huge_ent *t = hak_os_map_meta(cap * sizeof *t);
    if (!t) return 0;
    for (size_t i = 0; i < tab_cap; i++)
        if (tab[i].user) put(t, cap, tab[i]);
    if (tab) munmap(tab, tab_cap * sizeof *tab);
    tab = t;
    tab_cap = cap;
    return 1;
}

/* Removes entry i, shifting later entries of its probe run back. */
static void erase(size_t i)
{
    size_t m = tab_cap - 1;
    tab[i].user = NULL;
    for (size_t j = (i + 1) & m; tab[j].user; j = (j + 1) & m) {
        size_t h = home(tab[j].user, tab_cap);
        /* j's entry may move to the hole at i unless its home lies in (i, j]. */
        if (((j - h) & m) >= ((j - i) & m)) {
            tab[i] = tab[j];
            tab[j].user = NULL;
            i = j;
        }
    }
}

void *hak_huge_aligned_alloc(size_t size, size_t align)
{
    if (size > (SIZE_MAX >> 2) || align > (SIZE_MAX >> 2)) { errno = ENOMEM; return NULL; }
    size_t len = page_round(size ? size : 1);
    char *base = hak_os_map_aligned(len, align, 1);
    if (!base) return NULL;
    hak_lock();
    if ((tab_used + 1) * 4 > tab_cap * 3 && !grow()) {
        hak_unlock();
        hak_os_unmap(base, len);
        errno = ENOMEM;
        return NULL;
    }
    put(tab, tab_cap, (huge_ent){base, len});
    tab_used++;
    atomic_fetch_add_explicit(&tab_live, 1, memory_order_relaxed);
    hak_unlock();
    HAK_ADD(large_blocks, 1);
    HAK_ADD(large_bytes, len);
    return base;
}

/* 1 if p is a huge-aligned block: with usable, its size is stored there;
 * without, the block is freed. */
int hak_huge_aligned_free(void *p, size_t *usable)
{
    if (!p || !atomic_load_explicit(&tab_live, memory_order_relaxed)) return 0;
    hak_lock();
    size_t i = find(p);
    if (i == tab_cap) { hak_unlock(); return 0; }
    size_t len = tab[i].len;
    if (usable) { *usable = len; hak_unlock(); return 1; }
    erase(i);
    tab_used--;
    atomic_fetch_sub_explicit(&tab_live, 1, memory_order_relaxed);
    hak_unlock();
    HAK_SUB(large_blocks, 1);
    HAK_SUB(large_bytes, len);
    hak_os_unmap(p, len);
    return 1;
}
