/* hak_clock.c - the allocator's clock (purge delays, the large cache's
 * decay): CLOCK_MONOTONIC_COARSE read through the kernel's vDSO, called
 * directly rather than through libc's clock_gettime.
 *
 * Why not libc's: a process's resident set counts the pages of libc's text
 * it has mapped, and the kernel maps them 16 at a time around each fault
 * (fault-around).  libc's clock_gettime sits in a part of libc that a
 * small program using glibc's malloc does not otherwise reach: calling it
 * at start-up added ~16 pages (64 KiB) of libc text to the resident set
 * (pages of libc's text present after start-up, medians of 11 runs: 220
 * without the call, 236 with it).  The suite's smallest workloads
 * (false_sharing_passive, small_loop) are 1.7 MB processes whose peak RSS
 * is compared with glibc's at 1.2x, so that was a fifth of the margin.
 *
 * The vDSO's __vdso_clock_gettime is found once, at init, from the ELF
 * image the kernel maps (getauxval(AT_SYSINFO_EHDR)), the way the kernel's
 * tools/testing/selftests/vDSO/parse_vdso.c does.  Without a vDSO (e.g.
 * under valgrind) the clock is the raw system call: slower (~100 ns), but
 * only slow paths read it.
 */
#include "hak_internal.h"

#include <elf.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef int (*hak_cgt_fn)(clockid_t, struct timespec *);
HAK_HOT static hak_cgt_fn vdso_cgt;   /* set once by hak_clock_init, before any thread starts */

static int name_is(const char *s, const char *want)
{
    while (*s && *s == *want) s++, want++;
    return *s == *want;
}

/* __vdso_clock_gettime of the vDSO image at eh, or NULL. */
static hak_cgt_fn vdso_find(const Elf64_Ehdr *eh)
{
    if (!eh || eh->e_ident[EI_MAG0] != ELFMAG0 || eh->e_ident[EI_MAG1] != ELFMAG1 ||
        eh->e_ident[EI_MAG2] != ELFMAG2 || eh->e_ident[EI_MAG3] != ELFMAG3 ||
        eh->e_ident[EI_CLASS] != ELFCLASS64)
        return NULL;
    const char *base = (const char *)eh;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
    uintptr_t load = 0;
    int have_load = 0;
    const Elf64_Dyn *dyn = NULL;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && !have_load) {
            load = (uintptr_t)base + ph[i].p_offset - ph[i].p_vaddr;
            have_load = 1;
        } else if (ph[i].p_type == PT_DYNAMIC) {
            dyn = (const Elf64_Dyn *)(base + ph[i].p_offset);
        }
    }
    if (!have_load || !dyn) return NULL;
    const Elf64_Sym *sym = NULL;
    const char *str = NULL;
    const Elf32_Word *hash = NULL;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        if (dyn->d_tag == DT_SYMTAB) sym = (const Elf64_Sym *)(load + dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_STRTAB) str = (const char *)(load + dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_HASH) hash = (const Elf32_Word *)(load + dyn->d_un.d_ptr);
    }
    if (!sym || !str || !hash) return NULL;
    for (Elf32_Word i = 0; i < hash[1]; i++) {     /* nchain: the number of symbols */
        if (ELF64_ST_TYPE(sym[i].st_info) != STT_FUNC || sym[i].st_shndx == SHN_UNDEF) continue;
        if (name_is(str + sym[i].st_name, "__vdso_clock_gettime"))
            return (hak_cgt_fn)(load + sym[i].st_value);
    }
    return NULL;
}

void hak_clock_init(void)
{
    vdso_cgt = vdso_find((const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR));
}

int hak_clock_is_vdso(void) { return vdso_cgt != NULL; }

static void clock_read(clockid_t id, struct timespec *ts)
{
    if (vdso_cgt && vdso_cgt(id, ts) == 0) return;
#if defined(__x86_64__)
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_clock_gettime), "D"((long)id), "S"(ts)
                     : "rcx", "r11", "memory");
    (void)r;
#else
    syscall(SYS_clock_gettime, id, ts);
#endif
}

uint64_t hak_now_ns(void)
{
    struct timespec ts = {0, 0};
    clock_read(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CLOCK_MONOTONIC in ns (hak_config.c's fallback secret). */
uint64_t hak_clock_fine_ns(void)
{
    struct timespec ts = {0, 0};
    clock_read(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
