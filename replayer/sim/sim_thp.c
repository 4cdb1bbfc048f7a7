/* sim_thp.c - see sim_thp.h. */
#include "sim_thp.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PM_PRESENT (1ull << 63)
#define PM_PFN     ((1ull << 55) - 1)
#define KPF_THP    22

/* Frame numbers are only visible with CAP_SYS_ADMIN: probe on a page of
 * our own. */
static int pagemap_has_pfns(int fd)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 0;
    *(volatile char *)p = 1;
    uint64_t e = 0;
    int ok = pread(fd, &e, 8, (off_t)((uintptr_t)p >> 12) * 8) == 8 &&
             (e & PM_PRESENT) && (e & PM_PFN);
    munmap(p, 4096);
    return ok;
}

int sim_thp_init(sim_thp *t)
{
    memset(t, 0, sizeof *t);
    t->kpageflags_fd = -1;
    t->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (t->pagemap_fd >= 0 && pagemap_has_pfns(t->pagemap_fd)) {
        t->use_pagemap = 1;
        t->kpageflags_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
        t->method = t->kpageflags_fd >= 0 ? "pagemap+kpageflags" : "pagemap";
    } else {
        t->method = "smaps";
    }
    return sim_map_init(&t->vma_huge_kb, 64);
}

void sim_thp_destroy(sim_thp *t)
{
    if (t->pagemap_fd >= 0)
        close(t->pagemap_fd);
    if (t->kpageflags_fd >= 0)
        close(t->kpageflags_fd);
    if (t->vma_huge_kb.keys)
        sim_map_destroy(&t->vma_huge_kb);
    t->pagemap_fd = t->kpageflags_fd = -1;
}

static int huge_by_pagemap(sim_thp *t, uint64_t region_base)
{
    static uint64_t ents[512];   /* not malloc: we may be inside the window */
    off_t off = (off_t)(region_base >> 12) * 8;
    if (pread(t->pagemap_fd, ents, sizeof ents, off) != (ssize_t)sizeof ents)
        return 0;
    uint64_t pfn0 = ents[0] & PM_PFN;
    if (!(ents[0] & PM_PRESENT) || !pfn0 || (pfn0 & 511))
        return 0;
    for (int i = 1; i < 512; i++)
        if (!(ents[i] & PM_PRESENT) || (ents[i] & PM_PFN) != pfn0 + (uint64_t)i)
            return 0;
    if (t->kpageflags_fd >= 0) {
        uint64_t fl = 0;
        if (pread(t->kpageflags_fd, &fl, 8, (off_t)pfn0 * 8) == 8)
            return (int)((fl >> KPF_THP) & 1);
    }
    return 1;
}

/* smaps: finds the mapping holding addr and compares its AnonHugePages with
 * the value seen last time.  Parses with a fixed buffer, no stdio. */
static int huge_by_smaps(sim_thp *t, uint64_t addr)
{
    int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    static char buf[1 << 16];
    char line[512];
    size_t ll = 0;
    int in_vma = 0, result = 0, done = 0;
    uint64_t lo = 0, hi = 0;
    ssize_t n;
    while (!done && (n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n && !done; i++) {
            if (buf[i] != '\n') {
                if (ll < sizeof line - 1)
                    line[ll++] = buf[i];
                continue;
            }
            line[ll] = '\0';
            ll = 0;
            unsigned long long a, b;
            unsigned long long kb;
            if (sscanf(line, "%llx-%llx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' ')) {
                if (in_vma)
                    done = 1;           /* passed our VMA without the field */
                in_vma = addr >= a && addr < b;
                lo = a;
                hi = b;
            } else if (in_vma && sscanf(line, "AnonHugePages: %llu kB", &kb) == 1) {
                int ins;
                uint32_t *last = sim_map_upsert(&t->vma_huge_kb, lo >> 12, &ins);
                uint64_t whole = ((hi & ~((2ull << 20) - 1)) > ((lo + (2ull << 20) - 1) & ~((2ull << 20) - 1)))
                    ? ((hi & ~((2ull << 20) - 1)) - ((lo + (2ull << 20) - 1) & ~((2ull << 20) - 1))) >> 10 : 0;
                result = kb > 0 && ((last && kb > *last) || (whole && kb >= whole));
                if (last)
                    *last = (uint32_t)kb;
                done = 1;
            }
        }
    }
    close(fd);
    return result;
}

int sim_thp_is_huge(void *ctx, uint64_t addr)
{
    sim_thp *t = ctx;
    t->queries++;
    uint64_t base = addr & ~((2ull << 20) - 1);
    if (t->use_pagemap)
        return huge_by_pagemap(t, base);
    return huge_by_smaps(t, addr);
}
