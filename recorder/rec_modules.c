/* rec_modules.c - the module map (loaded objects with build-ids) for offline
 * symbolisation.  The writer calls rec_modules_emit each pass; it re-walks
 * dl_iterate_phdr only when the loader's add/remove counters changed, and
 * writes each (path, base) once per trace file. */
#include "rec_internal.h"

#include <elf.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#define MOD_MAX 1024

typedef struct mod_ent {
    uint64_t base, size;
    uint8_t build_id[32];
    uint8_t build_id_len;
    char path[512];
} mod_ent;

static mod_ent seen[MOD_MAX];        /* written to this trace */
static unsigned nseen;
static unsigned long long last_adds = ~0ull, last_subs = ~0ull;

typedef struct walk {
    mod_ent found[MOD_MAX];
    unsigned n;
    unsigned long long adds, subs;
} walk;
static walk w_;                      /* writer thread only: too big for its stack */

static void build_id_of(const struct dl_phdr_info *info, mod_ent *m)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        const uint8_t *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
            const uint8_t *name = p + sizeof *nh;
            const uint8_t *desc = name + ((nh->n_namesz + 3) & ~3u);
            const uint8_t *next = desc + ((nh->n_descsz + 3) & ~3u);
            if (next > end)
                break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
                !memcmp(name, "GNU", 4) && nh->n_descsz > 0) {
                unsigned len = nh->n_descsz > 32 ? 32 : nh->n_descsz;
                memcpy(m->build_id, desc, len);
                m->build_id_len = (uint8_t)len;
                return;
            }
            p = next;
        }
    }
}

static int walk_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    walk *w = arg;
    w->adds = info->dlpi_adds;
    w->subs = info->dlpi_subs;
    if (w->n >= MOD_MAX)
        return 0;
    mod_ent *m = &w->found[w->n];
    memset(m, 0, sizeof *m);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uint64_t a = info->dlpi_addr + ph->p_vaddr;
        if (a < lo)
            lo = a;
        if (a + ph->p_memsz > hi)
            hi = a + ph->p_memsz;
    }
    if (hi == 0)
        return 0;
    m->base = info->dlpi_addr;
    m->size = hi - m->base;
    const char *path = info->dlpi_name;
    if (!path || !*path) {
        if (w->n == 0) {             /* the main program */
            ssize_t k = readlink("/proc/self/exe", m->path, sizeof m->path - 1);
            if (k > 0)
                m->path[k] = 0;
        }
    } else {
        size_t k = strlen(path);
        if (k >= sizeof m->path)
            k = sizeof m->path - 1;
        memcpy(m->path, path, k);
    }
    if (!m->path[0])
        return 0;                    /* vdso etc.: no file to symbolise from */
    build_id_of(info, m);
    w->n++;
    return 0;
}

static int peek_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    unsigned long long *c = arg;
    c[0] = info->dlpi_adds;
    c[1] = info->dlpi_subs;
    return 1;                        /* the counters are global: stop */
}

int rec_modules_emit(hak_trace_writer *tw)
{
    unsigned long long c[2] = {0, 0};
    dl_iterate_phdr(peek_cb, c);
    if (c[0] == last_adds && c[1] == last_subs)
        return 0;
    walk *w = &w_;
    w->n = 0;
    dl_iterate_phdr(walk_cb, w);
    last_adds = w->adds;
    last_subs = w->subs;
    for (unsigned i = 0; i < w->n; i++) {
        mod_ent *m = &w->found[i];
        unsigned j;
        for (j = 0; j < nseen; j++)
            if (seen[j].base == m->base && !strcmp(seen[j].path, m->path))
                break;
        if (j < nseen)
            continue;
        hak_module hm = {.path = m->path, .base = m->base, .size = m->size,
                         .build_id_len = m->build_id_len};
        memcpy(hm.build_id, m->build_id, sizeof hm.build_id);
        if (hak_tw_module(tw, &hm) != 0)
            return -1;
        if (nseen < MOD_MAX)
            seen[nseen++] = *m;
    }
    return 0;
}

void rec_modules_reset(void)
{
    nseen = 0;
    last_adds = last_subs = ~0ull;
}
