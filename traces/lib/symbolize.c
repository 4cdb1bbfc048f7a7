/* symbolize.c - see symbolize.h. */
#include "symbolize.h"
#include "hak_util.h"

#include <dlfcn.h>
#include <elf.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct sym { uint64_t addr, size; const char *name; } sym;

typedef struct modsyms {
    int loaded;            /* 0 not tried yet, 1 tried */
    int status;            /* hak_sym_status of the last load */
    void *map;             /* the mmapped file (names point into it) */
    size_t map_len;
    uint64_t bias;         /* ip - bias = file vaddr */
    sym *syms;
    size_t nsyms;
    int dynsym_only;       /* names from .dynsym: the file is stripped */
    void *dwfl;            /* libdw session for file:line, or NULL */
    void *dwmod;           /* the module in it */
    int dwfl_tried;
} modsyms;

/* Demangled names, cached by the address of the mangled string (names
 * point into the mapped file, so each distinct symbol has one address). */
typedef struct demangled { const char *mangled; char *name; } demangled;

/* libstdc++'s demangler (the Itanium C++ ABI's __cxa_demangle), loaded with
 * dlopen on first use: the trace library stays libc-only and C-only, and a
 * machine without libstdc++ just shows mangled names. */
typedef char *(*cxa_demangle_fn)(const char *, char *, size_t *, int *);

struct hak_symbolizer {
    const hak_module *mods;
    size_t n;
    modsyms *ms;
    int demangle;              /* 1 on, 0 off, -1 demangler unavailable */
    void *cxx_lib;             /* dlopen handle of libstdc++ */
    cxa_demangle_fn cxa_demangle;
    demangled *dm;             /* open-addressing cache, capdm a power of 2 */
    size_t ndm, capdm;
    int lines;                 /* 1 on, 0 off, -1 libdw unavailable */
    struct dw_api *dw;         /* libdw's functions, loaded by hak_sym_lines */
    demangled *vn;             /* libdw name -> unversioned copy, as dm */
    size_t nvn, capvn;
    char *sysroot;             /* prefix of every module path, or NULL */
    char *debug_path;          /* libdw's search path of debug files, or NULL */
};

/* elfutils' libdw, loaded with dlopen("libdw.so.1") on first use for the
 * same reason as libstdc++ above: the trace library links nothing beyond
 * libc and libzstd, and without libdw there are simply no file:line.  Only
 * its header (libdw-dev) is needed to build. */
typedef struct dw_api {
    void *lib;
    Dwfl_Callbacks cb;
    char *debug_path;          /* the default search path of separate debug files */
    Dwfl *(*begin)(const Dwfl_Callbacks *);
    void (*end)(Dwfl *);
    Dwfl_Module *(*report_elf)(Dwfl *, const char *, const char *, int, GElf_Addr, bool);
    int (*report_end)(Dwfl *, int (*)(Dwfl_Module *, void *, const char *, Dwarf_Addr, void *),
                      void *);
    Dwfl_Module *(*addrmodule)(Dwfl *, Dwarf_Addr);
    Dwfl_Line *(*getsrc)(Dwfl_Module *, Dwarf_Addr);
    const char *(*lineinfo)(Dwfl_Line *, Dwarf_Addr *, int *, int *, Dwarf_Word *, Dwarf_Word *);
    const char *(*addrinfo)(Dwfl_Module *, GElf_Addr, GElf_Off *, GElf_Sym *, GElf_Word *,
                            Elf **, Dwarf_Addr *);
    /* inlined frames (optional: without them, frames are not expanded) */
    Dwarf_Die *(*addrdie)(Dwfl_Module *, Dwarf_Addr, Dwarf_Addr *);
    int (*getscopes)(Dwarf_Die *, Dwarf_Addr, Dwarf_Die **);
    int (*getscopes_die)(Dwarf_Die *, Dwarf_Die **);
    int (*tag)(Dwarf_Die *);
    Dwarf_Attribute *(*attr_integrate)(Dwarf_Die *, unsigned int, Dwarf_Attribute *);
    int (*formudata)(Dwarf_Attribute *, Dwarf_Word *);
    const char *(*formstring)(Dwarf_Attribute *);
    const char *(*diename)(Dwarf_Die *);
    int (*getsrcfiles)(Dwarf_Die *, Dwarf_Files **, size_t *);
    const char *(*filesrc)(Dwarf_Files *, size_t, Dwarf_Word *, Dwarf_Word *);
    int inlines;
} dw_api;

static dw_api *dw_load(void)
{
    dw_api *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->lib = dlopen("libdw.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (!d->lib) {
        free(d);
        return NULL;
    }
#define DW_SYM(field, name) (*(void **)&d->field = dlsym(d->lib, name))
    int ok = DW_SYM(begin, "dwfl_begin") && DW_SYM(end, "dwfl_end") &&
             DW_SYM(report_elf, "dwfl_report_elf") && DW_SYM(report_end, "dwfl_report_end") &&
             DW_SYM(addrmodule, "dwfl_addrmodule") && DW_SYM(getsrc, "dwfl_module_getsrc") &&
             DW_SYM(lineinfo, "dwfl_lineinfo") && DW_SYM(addrinfo, "dwfl_module_addrinfo") &&
             DW_SYM(cb.find_elf, "dwfl_build_id_find_elf") &&
             DW_SYM(cb.find_debuginfo, "dwfl_standard_find_debuginfo") &&
             DW_SYM(cb.section_address, "dwfl_offline_section_address");
    d->inlines = DW_SYM(addrdie, "dwfl_module_addrdie") && DW_SYM(getscopes, "dwarf_getscopes") &&
                 DW_SYM(getscopes_die, "dwarf_getscopes_die") &&
                 DW_SYM(tag, "dwarf_tag") && DW_SYM(attr_integrate, "dwarf_attr_integrate") &&
                 DW_SYM(formudata, "dwarf_formudata") && DW_SYM(formstring, "dwarf_formstring") &&
                 DW_SYM(diename, "dwarf_diename") && DW_SYM(getsrcfiles, "dwarf_getsrcfiles") &&
                 DW_SYM(filesrc, "dwarf_filesrc");
#undef DW_SYM
    /* NULL debuginfo_path: libdw's default, which looks for the separate
     * debug file next to the binary, in .debug/ and in /usr/lib/debug,
     * by debuglink name and by build-id (/usr/lib/debug/.build-id/xx/...) */
    d->cb.debuginfo_path = &d->debug_path;
    if (!ok) {
        dlclose(d->lib);
        free(d);
        return NULL;
    }
    return d;
}

hak_symbolizer *hak_sym_new(const hak_module *mods, size_t n)
{
    hak_symbolizer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->mods = mods;
    s->n = n;
    s->ms = calloc(n ? n : 1, sizeof *s->ms);
    if (!s->ms) {
        free(s);
        return NULL;
    }
    return s;
}

void hak_sym_free(hak_symbolizer *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->capdm; i++)
        free(s->dm[i].name);
    free(s->dm);
    if (s->cxx_lib)
        dlclose(s->cxx_lib);
    for (size_t i = 0; i < s->n; i++) {
        if (s->ms[i].map)
            munmap(s->ms[i].map, s->ms[i].map_len);
        free(s->ms[i].syms);
        if (s->ms[i].dwfl)
            s->dw->end(s->ms[i].dwfl);
    }
    if (s->dw) {
        dlclose(s->dw->lib);
        free(s->dw);
    }
    for (size_t i = 0; i < s->capvn; i++)
        free(s->vn[i].name);
    free(s->vn);
    free(s->sysroot);
    free(s->debug_path);
    free(s->ms);
    free(s);
}

int hak_sym_paths(hak_symbolizer *s, const char *sysroot, const char *debug_dir)
{
    free(s->sysroot);
    free(s->debug_path);
    s->sysroot = s->debug_path = NULL;
    /* absolute: libdw takes relative entries as relative to each file */
    char *dd = debug_dir && *debug_dir ? realpath(debug_dir, NULL) : NULL;
    if (debug_dir && *debug_dir && !dd && !(dd = strdup(debug_dir)))
        return -1;
    debug_dir = dd;
    if (sysroot && *sysroot && !(s->sysroot = realpath(sysroot, NULL)) &&
        !(s->sysroot = strdup(sysroot))) {
        free(dd);
        return -1;
    }
    /* libdw's format: ':'-separated; "" = next to the file, ".debug" = in
     * its .debug/, absolute = a tree mirroring the file's path and holding
     * .build-id/ */
    if ((debug_dir && *debug_dir) || s->sysroot) {
        size_t n = 64 + (dd ? strlen(dd) : 0) + (s->sysroot ? strlen(s->sysroot) : 0);
        if (!(s->debug_path = malloc(n))) {
            free(dd);
            return -1;
        }
        snprintf(s->debug_path, n, ":.debug%s%s:%s/usr/lib/debug", dd ? ":" : "", dd ? dd : "",
                 s->sysroot ? s->sysroot : "");
    }
    free(dd);
    return 0;
}

/* The file of module m on this machine (under the sysroot when set). */
static const char *module_file(const hak_symbolizer *s, const hak_module *m, char *buf, size_t len)
{
    if (!s->sysroot)
        return m->path;
    snprintf(buf, len, "%s%s", s->sysroot, m->path);
    return buf;
}

void hak_sym_lines(hak_symbolizer *s, int on)
{
    if (!s || s->lines < 0 || !on) {
        if (s && s->lines > 0)
            s->lines = 0;
        return;
    }
    if (!s->dw && !(s->dw = dw_load())) {
        s->lines = -1;
        return;
    }
    s->lines = 1;
}

int hak_sym_lines_on(const hak_symbolizer *s)
{
    return s && s->lines == 1;
}

void hak_sym_demangle(hak_symbolizer *s, int on)
{
    if (!s || s->demangle < 0 || !on) {
        if (s && s->demangle > 0)
            s->demangle = 0;
        return;
    }
    if (!s->cxa_demangle) {
        s->cxx_lib = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
        if (s->cxx_lib)
            *(void **)&s->cxa_demangle = dlsym(s->cxx_lib, "__cxa_demangle");
        if (!s->cxa_demangle) {
            s->demangle = -1;
            return;
        }
    }
    s->demangle = 1;
}

int hak_sym_demangling(const hak_symbolizer *s)
{
    return s && s->demangle == 1;
}

static size_t dm_slot(const demangled *dm, size_t cap, const char *name)
{
    size_t i = (size_t)(((uintptr_t)name >> 3) * 0x9e3779b97f4a7c15ull >> 16) & (cap - 1);
    while (dm[i].mangled && dm[i].mangled != name)
        i = (i + 1) & (cap - 1);
    return i;
}

/* The demangled form of a C++ name, or the name itself. */
static const char *demangle(hak_symbolizer *s, const char *name)
{
    if (s->demangle != 1 || strncmp(name, "_Z", 2))
        return name;
    if ((s->ndm + 1) * 2 > s->capdm) {
        size_t cap = s->capdm ? s->capdm * 2 : 64;
        demangled *d = calloc(cap, sizeof *d);
        if (!d)
            return name;
        for (size_t i = 0; i < s->capdm; i++)
            if (s->dm[i].mangled)
                d[dm_slot(d, cap, s->dm[i].mangled)] = s->dm[i];
        free(s->dm);
        s->dm = d;
        s->capdm = cap;
    }
    demangled *d = &s->dm[dm_slot(s->dm, s->capdm, name)];
    if (!d->mangled) {
        int st = -1;
        d->mangled = name;
        d->name = s->cxa_demangle(name, NULL, NULL, &st);
        if (st != 0) {             /* not a valid mangled name: shown as is */
            free(d->name);
            d->name = NULL;
        }
        s->ndm++;
    }
    return d->name ? d->name : name;
}

/* "name@@VERSION" -> "name" (a copy kept per distinct libdw string, whose
 * address stays valid while its session lives). */
static const char *unversioned(hak_symbolizer *s, const char *n)
{
    const char *at = strchr(n, '@');
    if (!at || at == n)
        return n;
    if ((s->nvn + 1) * 2 > s->capvn) {
        size_t cap = s->capvn ? s->capvn * 2 : 64;
        demangled *d = calloc(cap, sizeof *d);
        if (!d)
            return n;
        for (size_t i = 0; i < s->capvn; i++)
            if (s->vn[i].mangled)
                d[dm_slot(d, cap, s->vn[i].mangled)] = s->vn[i];
        free(s->vn);
        s->vn = d;
        s->capvn = cap;
    }
    demangled *d = &s->vn[dm_slot(s->vn, s->capvn, n)];
    if (!d->mangled) {
        d->mangled = n;
        d->name = strndup(n, (size_t)(at - n));
        s->nvn++;
    }
    return d->name ? d->name : n;
}

static int in_file(size_t len, uint64_t off, uint64_t n)
{
    return off <= len && n <= len - off;
}

static int cmp_sym(const void *a, const void *b)
{
    const sym *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Returns the build-id note of the file, or 0 when it has none. */
static size_t file_build_id(const uint8_t *f, size_t len, const Elf64_Ehdr *eh,
                            const uint8_t **id)
{
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const void *)(f + eh->e_phoff + (uint64_t)i * eh->e_phentsize);
        /* notes are read in place (4-byte fields, entries padded to 4) */
        if (ph->p_type != PT_NOTE || !in_file(len, ph->p_offset, ph->p_filesz) ||
            ph->p_offset % 4)
            continue;
        uint64_t off = ph->p_offset, end = ph->p_offset + ph->p_filesz;
        while (off + sizeof(Elf64_Nhdr) <= end) {
            const Elf64_Nhdr *nh = (const void *)(f + off);
            uint64_t name_off = off + sizeof *nh;
            uint64_t desc_off = name_off + ((nh->n_namesz + 3ull) & ~3ull);
            uint64_t next = desc_off + ((nh->n_descsz + 3ull) & ~3ull);
            if (next > end)
                break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
                !memcmp(f + name_off, "GNU", 4)) {
                *id = f + desc_off;
                return nh->n_descsz;
            }
            off = next;
        }
    }
    return 0;
}

/* Loads function symbols of one module; leaves nsyms 0 on any problem. */
static void load(const hak_symbolizer *s, modsyms *ms, const hak_module *m)
{
    ms->loaded = 1;
    ms->status = HAK_SYM_MISSING;
    if (!m->path || m->path[0] != '/')
        return;
    char pbuf[4096];
    /* The path comes from the trace: O_NONBLOCK so that a FIFO there (no
     * writer) cannot block the open forever; fstat then refuses it. */
    int fd = open(module_file(s, m, pbuf, sizeof pbuf), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return;
    ms->status = HAK_SYM_NOT_ELF;
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
        close(fd);
        return;
    }
    size_t len = (size_t)st.st_size;
    uint8_t *f = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (f == MAP_FAILED)
        return;
    ms->map = f;
    ms->map_len = len;
    const Elf64_Ehdr *eh = (const void *)f;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_shentsize != sizeof(Elf64_Shdr) ||
        !in_file(len, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)) ||
        !in_file(len, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)) ||
        eh->e_phoff % 8 || eh->e_shoff % 8)   /* the tables are read in place: aligned */
        return;
    if (m->build_id_len) {
        const uint8_t *id = NULL;
        size_t n = file_build_id(f, len, eh, &id);
        if (n != m->build_id_len || memcmp(id, m->build_id, n)) {
            ms->status = HAK_SYM_BUILD_ID_DIFFERS;   /* not the file that was mapped */
            return;
        }
    }
    ms->bias = m->base;            /* the load bias: see symbolize.h */
    ms->status = HAK_SYM_NO_SYMBOLS;
    const Elf64_Shdr *sh = (const void *)(f + eh->e_shoff);
    const Elf64_Shdr *tab = NULL;
    for (int pass = 0; pass < 2 && !tab; pass++)
        for (unsigned i = 0; i < eh->e_shnum; i++)
            if (sh[i].sh_type == (pass == 0 ? SHT_SYMTAB : SHT_DYNSYM) && sh[i].sh_size) {
                tab = &sh[i];
                ms->dynsym_only = pass == 1;
            }
    if (!tab || tab->sh_link >= eh->e_shnum || tab->sh_entsize != sizeof(Elf64_Sym) ||
        !in_file(len, tab->sh_offset, tab->sh_size) || tab->sh_offset % 8)
        return;
    const Elf64_Shdr *str = &sh[tab->sh_link];
    if (!in_file(len, str->sh_offset, str->sh_size) || str->sh_size == 0 ||
        f[str->sh_offset + str->sh_size - 1] != '\0')
        return;
    size_t n = tab->sh_size / sizeof(Elf64_Sym);
    const Elf64_Sym *es = (const void *)(f + tab->sh_offset);
    ms->syms = malloc((n ? n : 1) * sizeof *ms->syms);
    if (!ms->syms)
        return;
    for (size_t i = 0; i < n; i++) {
        if (ELF64_ST_TYPE(es[i].st_info) != STT_FUNC || es[i].st_shndx == SHN_UNDEF ||
            es[i].st_name >= str->sh_size || !es[i].st_value)
            continue;
        sym *y = &ms->syms[ms->nsyms++];
        y->addr = es[i].st_value;
        y->size = es[i].st_size;
        y->name = (const char *)f + str->sh_offset + es[i].st_name;
    }
    qsort(ms->syms, ms->nsyms, sizeof *ms->syms, cmp_sym);
    if (ms->nsyms)
        ms->status = HAK_SYM_OK;
}

int hak_sym_status(hak_symbolizer *s, size_t i, size_t *nsyms)
{
    if (!s || i >= s->n)
        return HAK_SYM_MISSING;
    if (!s->ms[i].loaded)
        load(s, &s->ms[i], &s->mods[i]);
    if (nsyms)
        *nsyms = s->ms[i].nsyms;
    return s->ms[i].status;
}

const char *hak_sym_status_name(int st)
{
    switch (st) {
    case HAK_SYM_OK: return "symbols";
    case HAK_SYM_MISSING: return "file missing";
    case HAK_SYM_NOT_ELF: return "not a 64-bit ELF file";
    case HAK_SYM_BUILD_ID_DIFFERS: return "build-id differs (file changed since recording)";
    case HAK_SYM_NO_SYMBOLS: return "no function symbols";
    default: return "?";
    }
}

/* A module's file name for display; "?" when the trace names none. */
static const char *base_name(const char *p)
{
    return p ? hak_base_name(p) : "?";
}

/* libdw's view of module k (a session of its own, created on first use at
 * the recorded load bias, so runtime addresses look up directly); NULL
 * when libdw is off or the file is missing, foreign or another build. */
static Dwfl_Module *dw_module(hak_symbolizer *s, size_t k)
{
    modsyms *ms = &s->ms[k];
    const hak_module *m = &s->mods[k];
    if (s->lines != 1)
        return NULL;
    if (!ms->loaded)
        load(s, ms, m);
    if (ms->status != HAK_SYM_OK && ms->status != HAK_SYM_NO_SYMBOLS)
        return NULL;
    if (!ms->dwfl_tried) {
        ms->dwfl_tried = 1;
        s->dw->debug_path = s->debug_path;
        char pbuf[4096];
        Dwfl *d = s->dw->begin(&s->dw->cb);
        Dwfl_Module *dm = d ? s->dw->report_elf(d, base_name(m->path),
                                                module_file(s, m, pbuf, sizeof pbuf), -1, m->base,
                                                false) : NULL;
        if (d && (!dm || s->dw->report_end(d, NULL, NULL))) {
            s->dw->end(d);
            d = NULL;
            dm = NULL;
        }
        ms->dwfl = d;
        ms->dwmod = dm;
    }
    return ms->dwmod;
}

/* Finds ip: *mod = its module (NULL: none); *name = the function (NULL:
 * none) at offset *off, else *off = ip - the module's base. */
static void lookup(hak_symbolizer *s, uint64_t ip, const hak_module **mod,
                   const char **name, uint64_t *off)
{
    *mod = NULL;
    *name = NULL;
    *off = 0;
    size_t k = 0;
    for (size_t i = 0; s && i < s->n; i++)
        if (ip >= s->mods[i].base && ip - s->mods[i].base < s->mods[i].size) {
            *mod = &s->mods[i];
            k = i;
            break;
        }
    if (!*mod)
        return;
    modsyms *ms = &s->ms[k];
    if (!ms->loaded)
        load(s, ms, *mod);
    *off = ip - (*mod)->base;
    uint64_t va = ip - ms->bias;
    /* the last symbol starting at or below va */
    size_t lo = 0, hi = ms->nsyms;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ms->syms[mid].addr <= va)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0) {
        const sym *y = &ms->syms[lo - 1];
        /* sized symbols must contain va; unsized ones (asm) are taken as is */
        if (!y->size || va - y->addr < y->size) {
            *name = demangle(s, y->name);
            *off = va - y->addr;
        }
    }
    /* a stripped file: its separate debug file (libdw finds it by build-id
     * or debuglink) has the local functions .dynsym lacks */
    if ((!*name || ms->dynsym_only) && s->lines == 1) {
        Dwfl_Module *dm = dw_module(s, k);
        GElf_Off o = 0;
        GElf_Sym es;
        const char *n = dm ? s->dw->addrinfo(dm, ip, &o, &es, NULL, NULL, NULL) : NULL;
        if (n && *n) {
            /* a versioned name ("__libc_start_main@@GLIBC_2.34") as the
             * unversioned one, as .dynsym names are shown */
            n = unversioned(s, n);
            *name = demangle(s, n);
            *off = o;
        }
    }
}

const char *hak_sym_format(hak_symbolizer *s, uint64_t ip, char *buf, size_t len)
{
    const hak_module *m;
    const char *name;
    uint64_t off;
    if (ip == HAK_SITE_CUT) {          /* the recorder's mark of a cut stack */
        snprintf(buf, len, "[cut: no unwind info]");
        return buf;
    }
    lookup(s, ip, &m, &name, &off);
    if (!m)
        snprintf(buf, len, "0x%" PRIx64, ip);
    else if (name)
        snprintf(buf, len, "%s+0x%" PRIx64 " (%s)", name, off, base_name(m->path));
    else
        snprintf(buf, len, "%s+0x%" PRIx64, base_name(m->path), off);
    return buf;
}

const char *hak_sym_func(hak_symbolizer *s, uint64_t ip, int with_module, char *buf, size_t len)
{
    const hak_module *m;
    const char *name;
    uint64_t off;
    if (ip == HAK_SITE_CUT) {          /* the recorder's mark of a cut stack */
        snprintf(buf, len, "[cut: no unwind info]");
        return buf;
    }
    lookup(s, ip, &m, &name, &off);
    if (!m)
        snprintf(buf, len, "0x%" PRIx64, ip);
    else if (!name)
        snprintf(buf, len, "%s+0x%" PRIx64, base_name(m->path), off);
    else if (with_module)
        snprintf(buf, len, "%s (%s)", name, base_name(m->path));
    else
        snprintf(buf, len, "%s", name);
    return buf;
}

const char *hak_sym_srcline(hak_symbolizer *s, uint64_t ip, char *buf, size_t len)
{
    if (!s || s->lines != 1 || !ip)
        return NULL;
    const hak_module *m;
    const char *name;
    uint64_t off;
    lookup(s, ip, &m, &name, &off);    /* loads the module, checks its build-id */
    if (!m)
        return NULL;
    Dwfl_Module *dm = dw_module(s, (size_t)(m - s->mods));
    if (!dm)
        return NULL;
    /* a recorded frame is a return address: the call is the byte before */
    Dwfl_Line *l = s->dw->getsrc(dm, ip - 1);
    int line = 0;
    const char *file = l ? s->dw->lineinfo(l, NULL, &line, NULL, NULL, NULL) : NULL;
    if (!file || line <= 0)
        return NULL;
    snprintf(buf, len, "%s:%d", file, line);
    return buf;
}

/* The name of a function DIE: its linkage name demangled (the qualified
 * C++ name), else DW_AT_name. */
static const char *die_name(hak_symbolizer *s, Dwarf_Die *die)
{
    Dwarf_Attribute a;
    const char *n = NULL;
    if (s->dw->attr_integrate(die, DW_AT_linkage_name, &a) ||
        s->dw->attr_integrate(die, DW_AT_MIPS_linkage_name, &a))
        n = s->dw->formstring(&a);
    if (n)
        return demangle(s, n);
    n = s->dw->diename(die);
    return n ? n : "??";
}

int hak_sym_frames(hak_symbolizer *s, uint64_t ip, hak_sym_frame_fn fn, void *ctx)
{
    char full[1024], loc[1024];
    hak_sym_format(s, ip, full, sizeof full);
    const char *l = hak_sym_srcline(s, ip, loc, sizeof loc);
    const hak_module *m;
    const char *name;
    uint64_t off;
    lookup(s, ip, &m, &name, &off);
    Dwfl_Module *dm = m && s->lines == 1 && s->dw->inlines ? dw_module(s, (size_t)(m - s->mods)) : NULL;
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = dm ? s->dw->addrdie(dm, ip - 1, &bias) : NULL;
    Dwarf_Die *scopes = NULL;
    int n = cu ? s->dw->getscopes(cu, ip - 1 - bias, &scopes) : 0;
    Dwarf_Files *files = NULL;
    size_t nfiles = 0;
    int nout = 0;
    if (n > 0 && s->dw->getsrcfiles(cu, &files, &nfiles) != 0)
        files = NULL;
    /* innermost first: each inlined subroutine is a frame at the location
     * inside it; its call site is the location in the next one out.  The
     * scopes after an inlined instance are its abstract definition's, so
     * the walk goes on from the instance's own parents (getscopes_die), as
     * eu-addr2line -i does; it ends at the concrete function. */
    for (int i = 0, guard = 0; i < n && files && guard < 256; i++) {
        int tag = s->dw->tag(&scopes[i]);
        if (tag == DW_TAG_subprogram)
            break;
        if (tag != DW_TAG_inlined_subroutine)
            continue;
        guard++;
        fn(ctx, die_name(s, &scopes[i]), l, 1);
        nout++;
        Dwarf_Attribute a;
        Dwarf_Word file = 0, line = 0;
        const char *f = NULL;
        if (s->dw->attr_integrate(&scopes[i], DW_AT_call_file, &a) &&
            !s->dw->formudata(&a, &file) && file < nfiles)
            f = s->dw->filesrc(files, file, NULL, NULL);
        if (s->dw->attr_integrate(&scopes[i], DW_AT_call_line, &a))
            s->dw->formudata(&a, &line);
        if (f && line) {
            snprintf(loc, sizeof loc, "%s:%llu", f, (unsigned long long)line);
            l = loc;
        } else {
            l = NULL;
        }
        Dwarf_Die *parents = NULL;
        int np = s->dw->getscopes_die(&scopes[i], &parents);
        free(scopes);
        scopes = parents;
        n = np > 0 ? np : 0;
        i = 0;                 /* parents[0] is the instance itself */
    }
    free(scopes);
    fn(ctx, full, l, 0);
    return nout + 1;
}
