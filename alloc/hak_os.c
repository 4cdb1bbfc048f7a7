/* hak_os.c - everything that talks to the kernel: aligned mappings, the
 * prefault and hugepage policies, purging, and the registry bitmap of our
 * mappings.  Nothing here allocates.
 *
 * The registry has one byte per 1 MiB of the 47-bit address space (128 MiB,
 * untouched except for the few pages in use: one 4 KiB page covers 4 GiB
 * of address space).  Bytes and not bits: free() tests one byte with one
 * shift of the address, where a bit needed a second shift, a word load and
 * a bit test (3 instructions more on its fast path).  A byte is set for the
 * base of every SuperSlab and large mapping before any pointer into it
 * escapes, and cleared before the mapping is unmapped.
 *
 * It is a read-only mapping whose pages are made writable one by one, as
 * mappings of ours first land in the 4 GiB each covers.  It used to be
 * .bss: resident only where touched, but private writable memory, which
 * the kernel charges in full against the commit limit: with
 * vm.overcommit_memory=2 (PostgreSQL's advice, for one) every process
 * preloading hakmem was charged 128 MiB more than under glibc (133.6 MB of
 * private writable mappings for `sleep`, glibc 0.4, mimalloc 33.3).  A
 * read-only mapping is not charged; each page made writable is, 4 KiB.
 * The reservation still counts in VmSize and against RLIMIT_AS.
 */
#include "hak_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

const uint8_t hak_registry_none[1];

/* Registry pages made writable: one bit per 4 KiB page (32768 pages). */
#define REG_PAGES (HAK_REG_BITS / HAK_PAGE)
static uint64_t reg_page_rw[REG_PAGES / 64];

int hak_registry_init(void)
{
    void *r = mmap(NULL, HAK_REG_BITS, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED) return -1;
    /* Before ss_mask (hak_config_init): a thread that sees the new mask
     * sees this pointer (x86 keeps stores in order; elsewhere the release
     * pairs with the data dependency of free()'s load). */
    __atomic_store_n(&hak_cfg.registry, (const uint8_t *)r, __ATOMIC_RELEASE);
    return 0;
}

/* Makes the registry byte of base writable; 0, or -1 when the kernel
 * refuses (the commit limit: the mapping at base cannot be used).
 * Concurrent callers may both call mprotect: it is idempotent, and a
 * page's bit is set only after its mprotect succeeded, so no one writes
 * to a page still read-only. */
static int registry_writable(uintptr_t base)
{
    uintptr_t bit = base >> HAK_REG_SHIFT;
    if (bit >= HAK_REG_BITS) return 0;   /* never set: free() treats it as foreign */
    uintptr_t page = bit / HAK_PAGE;
    uint64_t mask = 1ull << (page % 64);
    if (__atomic_load_n(&reg_page_rw[page / 64], __ATOMIC_ACQUIRE) & mask) return 0;
    if (mprotect((void *)(hak_cfg.registry + page * HAK_PAGE), HAK_PAGE, PROT_READ | PROT_WRITE))
        return -1;
    __atomic_fetch_or(&reg_page_rw[page / 64], mask, __ATOMIC_RELEASE);
    return 0;
}

/* getpid as a raw system call: libc's sits in a part of libc a program
 * using glibc's malloc does not otherwise reach (hak_clock.c explains
 * why that costs resident pages). */
int hak_os_getpid(void)
{
#if defined(__x86_64__)
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_getpid) : "rcx", "r11", "memory");
    return (int)r;
#else
    return (int)getpid();
#endif
}
HAK_HOT static uintptr_t next_hint;   /* where the last aligned mapping ended */

void hak_registry_set(uintptr_t base, int on)
{
    uintptr_t bit = base >> HAK_REG_SHIFT;
    if (bit >= HAK_REG_BITS) return;
    /* Writable: hak_os_map_aligned made it so before base escaped. */
    __atomic_store_n((uint8_t *)&hak_cfg.registry[bit], (uint8_t)(on != 0), __ATOMIC_RELEASE);
}

static void *map_raw(void *hint, size_t size)
{
    void *p = mmap(hint, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Writes one zero byte per page: faults the pages in without MAP_POPULATE
 * (the content stays zero, so "fresh" memory stays known-zero). */
static void touch_pages(void *p, size_t size)
{
    volatile char *c = p;
    for (size_t off = 0; off < size; off += HAK_PAGE) c[off] = 0;
}

void hak_os_prefault(void *p, size_t size)
{
    switch (hak_cfg.prefault) {
    case PF_POPULATE:
        /* MAP_POPULATE only exists at mmap time; a remap in place would drop
         * the hugepage advice, so later prefaults use POPULATE_WRITE. */
    case PF_POPULATE_WRITE:
        if (madvise(p, size, MADV_POPULATE_WRITE) != 0) touch_pages(p, size);
        break;
    case PF_TOUCH:
        touch_pages(p, size);
        break;
    default:
        return;
    }
    HAK_ADD(prefault_bytes, size);
}

/* Maps size bytes aligned to align (a power of two >= size's SuperSlab
 * granule), applying the hugepage and prefault policies when asked. */
void *hak_os_map_aligned(size_t size, size_t align, int apply_policy)
{
    void *p = NULL;
    uintptr_t hint = __atomic_load_n(&next_hint, __ATOMIC_RELAXED);
    if (hint && !(hint & (align - 1))) {
        p = map_raw((void *)hint, size);
        if (p && ((uintptr_t)p & (align - 1))) { munmap(p, size); p = NULL; }
    }
    if (!p) {
        if (size + align < size) { errno = ENOMEM; return NULL; }
        char *raw = map_raw(NULL, size + align);
        if (!raw) { errno = ENOMEM; return NULL; }
        uintptr_t a = ((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1);
        if (a > (uintptr_t)raw) munmap(raw, a - (uintptr_t)raw);
        uintptr_t end = (uintptr_t)raw + size + align;
        if (end > a + size) munmap((void *)(a + size), end - (a + size));
        p = (void *)a;
    }
    if (registry_writable((uintptr_t)p)) {
        munmap(p, size);
        errno = ENOMEM;
        return NULL;
    }
    __atomic_store_n(&next_hint, (uintptr_t)p + ((size + align - 1) & ~(align - 1)), __ATOMIC_RELAXED);
    if (apply_policy) {
        if (hak_cfg.hugepage) {
            /* Advice first, then fault: pages faulted before MADV_HUGEPAGE
             * (e.g. by MAP_POPULATE) are 4 KiB pages and stay so until
             * khugepaged collapses them, if ever.  So with hugepages on every
             * prefault mode, MAP_POPULATE included, faults after the advice
             * (MADV_POPULATE_WRITE, falling back to touching). */
            madvise(p, size, MADV_HUGEPAGE);
            hak_os_prefault(p, size);
        } else if (hak_cfg.prefault == PF_POPULATE) {
            /* Re-map in place with MAP_POPULATE: the kernel faults every page now. */
            void *q = mmap(p, size, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE, -1, 0);
            if (q == MAP_FAILED) { munmap(p, size); errno = ENOMEM; return NULL; }
            HAK_ADD(prefault_bytes, size);
        } else {
            hak_os_prefault(p, size);
        }
    }
    HAK_ADD(bytes_mapped, size);
    return p;
}

void hak_os_unmap(void *p, size_t size)
{
    munmap(p, size);
    HAK_SUB(bytes_mapped, size);
}

/* Metadata (thread-cache arrays): zero pages, faulted as used or now per
 * the prefault policy; not SuperSlab memory, so not in bytes_mapped. */
void *hak_os_map_meta(size_t size)
{
    void *p = map_raw(NULL, size);
    if (p && hak_cfg.prefault != PF_OFF) hak_os_prefault(p, size);
    return p;
}

/* Releases the pages of [p, p+size) (page aligned) to the kernel. */
void hak_os_purge(void *p, size_t size, int how)
{
    if (size == 0 || how == PURGE_OFF) return;
    int adv = how == PURGE_FREE ? MADV_FREE : MADV_DONTNEED;
    if (madvise(p, size, adv) != 0 && adv == MADV_FREE)
        madvise(p, size, MADV_DONTNEED);
    HAK_ADD(purges, 1);
    HAK_ADD(purged_bytes, size);
}
