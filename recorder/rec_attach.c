/* rec_attach.c - recording a process that is already running.
 *
 * `hak record -p PID` has gdb load this library into the process with
 * dlopen and call hakrec_attach (recorder/cli/record_attach.c).  Loaded
 * that way, our malloc is not the one the process calls: every object
 * bound malloc & co. to the C library when it was loaded.  As heaptrack's
 * runtime attach does, we redirect them by rewriting each loaded object's
 * GOT slots for the malloc family (the JUMP_SLOT and GLOB_DAT relocations
 * naming them) to our wrappers; the real functions are what the process's
 * global symbol scope gives (RTLD_DEFAULT: the C library's, or an
 * allocator the program links or preloads).  Detaching writes the old
 * slot values back; the library stays loaded (a thread may still be inside
 * a wrapper), idle, and can attach again.
 *
 * Limits, stated in the README: objects loaded after the attach keep the
 * real functions (their calls are not recorded); children are not
 * recorded; mmap is not recorded; blocks allocated before the attach are
 * the window's pre-existing blocks (rec_window.c). */
#include "rec_internal.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* One rewritten slot and what it held. */
typedef struct patch { void **slot; void *old; int relro; } patch;
#define MAX_PATCHES 4096
static patch patches[MAX_PATCHES];
static unsigned npatches;
static uintptr_t self_base;
static char attach_err[512];
static char cfg_buf[8192];

static void set_err(const char *fmt, const char *a, const char *b)
{
    snprintf(attach_err, sizeof attach_err, fmt, a, b);
}

static int page_write(void **slot, void *value, int relro)
{
    uintptr_t pg = (uintptr_t)slot & ~(uintptr_t)4095;
    if (relro && mprotect((void *)pg, 4096, PROT_READ | PROT_WRITE) != 0)
        return -1;
    __atomic_store_n(slot, value, __ATOMIC_RELEASE);
    if (relro)
        mprotect((void *)pg, 4096, PROT_READ);
    return 0;
}

/* d_ptr of a dynamic entry as an address: glibc relocates most of them in
 * place, some objects' (the vDSO's) are offsets. */
static uintptr_t dyn_addr(uintptr_t base, uintptr_t v)
{
    return v < base ? base + v : v;
}

typedef struct walk { int failed; } walk;

static void patch_relocs(const struct dl_phdr_info *info, const ElfW(Rela) *rel, size_t n,
                         const ElfW(Sym) *symtab, const char *strtab,
                         uintptr_t relro_lo, uintptr_t relro_hi, walk *w)
{
    for (size_t i = 0; i < n; i++) {
        unsigned type = (unsigned)ELF64_R_TYPE(rel[i].r_info);
        if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
            continue;
        const char *name = strtab + symtab[ELF64_R_SYM(rel[i].r_info)].st_name;
        void *mine = rec_self_function(name);
        if (!mine)
            continue;
        void **slot = (void **)(info->dlpi_addr + rel[i].r_offset);
        if (*slot == mine)
            continue;
        if (npatches == MAX_PATCHES) {
            w->failed = 1;
            set_err("more than %s GOT slots to rewrite%s", "4096", "");
            return;
        }
        int relro = (uintptr_t)slot >= relro_lo && (uintptr_t)slot < relro_hi;
        patch *p = &patches[npatches];
        p->slot = slot;
        p->old = *slot;
        p->relro = relro;
        if (page_write(slot, mine, relro) != 0) {
            w->failed = 1;
            set_err("cannot make the GOT of %s writable: %s", info->dlpi_name, strerror(errno));
            return;
        }
        npatches++;
    }
}

static int patch_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    walk *w = arg;
    if (w->failed || info->dlpi_addr == self_base)
        return 0;
    const ElfW(Dyn) *dyn = NULL;
    uintptr_t relro_lo = 0, relro_hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
        else if (ph->p_type == PT_GNU_RELRO) {
            relro_lo = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)4095;
            relro_hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
        }
    }
    if (!dyn)
        return 0;
    const ElfW(Sym) *symtab = NULL;
    const char *strtab = NULL;
    const ElfW(Rela) *jmprel = NULL, *rela = NULL;
    size_t jmpsz = 0, relasz = 0;
    long pltrel = DT_RELA;
    for (const ElfW(Dyn) *d = dyn; d->d_tag != DT_NULL; d++) {
        switch (d->d_tag) {
        case DT_SYMTAB: symtab = (const void *)dyn_addr(info->dlpi_addr, d->d_un.d_ptr); break;
        case DT_STRTAB: strtab = (const void *)dyn_addr(info->dlpi_addr, d->d_un.d_ptr); break;
        case DT_JMPREL: jmprel = (const void *)dyn_addr(info->dlpi_addr, d->d_un.d_ptr); break;
        case DT_PLTRELSZ: jmpsz = d->d_un.d_val; break;
        case DT_PLTREL: pltrel = (long)d->d_un.d_val; break;
        case DT_RELA: rela = (const void *)dyn_addr(info->dlpi_addr, d->d_un.d_ptr); break;
        case DT_RELASZ: relasz = d->d_un.d_val; break;
        default: break;
        }
    }
    if (!symtab || !strtab || pltrel != DT_RELA)
        return 0;
    if (jmprel)
        patch_relocs(info, jmprel, jmpsz / sizeof *jmprel, symtab, strtab, relro_lo, relro_hi, w);
    if (rela)
        patch_relocs(info, rela, relasz / sizeof *rela, symtab, strtab, relro_lo, relro_hi, w);
    return 0;
}

void rec_attach_undo(void)
{
    while (npatches) {
        patch *p = &patches[--npatches];
        page_write(p->slot, p->old, p->relro);
    }
}

unsigned rec_attach_slots(void) { return npatches; }

/* Why the last hakrec_attach failed (gdb prints it: hak record -p). */
EXPORT const char *hakrec_attach_error(void)
{
    return attach_err;
}

/* Called by gdb inside the process: cfg holds "NAME=VALUE" lines
 * (HAKREC_* settings, hak record -p).  0 when recording; -1 with the
 * reason in hakrec_attach_error(). */
EXPORT int hakrec_attach(const char *cfg)
{
    attach_err[0] = 0;
    int busy = rec_tls_v.busy;
    rec_tls_v.busy = 1;
    int rc = -1;
    int st = atomic_load(&rec_g.state);
    if (st == REC_ON || st == REC_SWITCHING || npatches) {
        set_err("already attached and recording (hak record --stop first)%s%s", "", "");
        goto out;
    }
    if (strlen(cfg) >= sizeof cfg_buf) {
        set_err("settings too long%s%s", "", "");
        goto out;
    }
    Dl_info di;
    if (!dladdr((void *)&hakrec_attach, &di)) {
        set_err("dladdr of the recorder failed%s%s", "", "");
        goto out;
    }
    self_base = (uintptr_t)di.dli_fbase;
    snprintf(cfg_buf, sizeof cfg_buf, "%s", cfg);
    if (rec_attach_init(cfg_buf, attach_err, sizeof attach_err) != 0)
        goto out;
    walk w = {0};
    dl_iterate_phdr(patch_cb, &w);
    if (w.failed || !npatches) {
        if (!w.failed)
            set_err("no object of the process calls malloc through its GOT (statically "
                    "linked?)%s%s", "", "");
        rec_attach_undo();
        rec_attach_abort();
        goto out;
    }
    rc = 0;
out:
    rec_tls_v.busy = busy;
    return rc;
}
