/* symbolize.c - see symbolize.h. */
#include "symbolize.h"

#include <elf.h>
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
} modsyms;

typedef struct demangled { const char *mangled; char *name; } demangled;

struct hak_symbolizer {
    const hak_module *mods;
    size_t n;
    modsyms *ms;
    int demangle;              /* 1 on, 0 off, -1 c++filt unavailable */
    demangled *dm;             /* cache: one c++filt run per distinct name */
    size_t ndm, capdm;
};

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
    for (size_t i = 0; i < s->ndm; i++)
        free(s->dm[i].name);
    free(s->dm);
    for (size_t i = 0; i < s->n; i++) {
        if (s->ms[i].map)
            munmap(s->ms[i].map, s->ms[i].map_len);
        free(s->ms[i].syms);
    }
    free(s->ms);
    free(s);
}

void hak_sym_demangle(hak_symbolizer *s, int on)
{
    if (s && s->demangle >= 0)
        s->demangle = on ? 1 : 0;
}

/* The demangled form of a C++ name, or the name itself. */
static const char *demangle(hak_symbolizer *s, const char *name)
{
    if (s->demangle != 1 || strncmp(name, "_Z", 2))
        return name;
    for (size_t i = 0; i < s->ndm; i++)
        if (s->dm[i].mangled == name)
            return s->dm[i].name ? s->dm[i].name : name;
    /* mangled names are [A-Za-z0-9_.$]: safe inside single quotes */
    size_t len = strlen(name);
    if (len > 1024 || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789_.$") != len)
        return name;
    if (s->ndm == s->capdm) {
        size_t cap = s->capdm ? s->capdm * 2 : 32;
        demangled *d = realloc(s->dm, cap * sizeof *d);
        if (!d)
            return name;
        s->dm = d;
        s->capdm = cap;
    }
    demangled *d = &s->dm[s->ndm++];
    d->mangled = name;
    d->name = NULL;
    char cmd[1100], out[4096];
    snprintf(cmd, sizeof cmd, "c++filt -- '%s' 2>/dev/null", name);
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    if (!p) {
        s->demangle = -1;
        return name;
    }
    int got = fgets(out, sizeof out, p) != NULL;
    int st = pclose(p);
    if (st != 0) {                 /* 127: no c++filt; anything else: give up too */
        s->demangle = -1;
        return name;
    }
    if (got) {
        out[strcspn(out, "\n")] = 0;
        if (out[0])
            d->name = strdup(out);
    }
    return d->name ? d->name : name;
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
static void load(modsyms *ms, const hak_module *m)
{
    ms->loaded = 1;
    ms->status = HAK_SYM_MISSING;
    if (!m->path || m->path[0] != '/')
        return;
    /* The path comes from the trace: O_NONBLOCK so that a FIFO there (no
     * writer) cannot block the open forever; fstat then refuses it. */
    int fd = open(m->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
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
            if (sh[i].sh_type == (pass == 0 ? SHT_SYMTAB : SHT_DYNSYM) && sh[i].sh_size)
                tab = &sh[i];
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
        load(&s->ms[i], &s->mods[i]);
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

static const char *base_name(const char *p)
{
    const char *s = p ? strrchr(p, '/') : NULL;
    return s ? s + 1 : (p ? p : "?");
}

const char *hak_sym_format(hak_symbolizer *s, uint64_t ip, char *buf, size_t len)
{
    const hak_module *m = NULL;
    size_t k = 0;
    for (size_t i = 0; s && i < s->n; i++)
        if (ip >= s->mods[i].base && ip - s->mods[i].base < s->mods[i].size) {
            m = &s->mods[i];
            k = i;
            break;
        }
    if (ip == HAK_SITE_CUT) {
        snprintf(buf, len, "[cut: no unwind info]");
        return buf;
    }
    if (!m) {
        snprintf(buf, len, "0x%" PRIx64, ip);
        return buf;
    }
    modsyms *ms = &s->ms[k];
    if (!ms->loaded)
        load(ms, m);
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
            snprintf(buf, len, "%s+0x%" PRIx64 " (%s)", demangle(s, y->name), va - y->addr,
                     base_name(m->path));
            return buf;
        }
    }
    snprintf(buf, len, "%s+0x%" PRIx64, base_name(m->path), ip - m->base);
    return buf;
}
