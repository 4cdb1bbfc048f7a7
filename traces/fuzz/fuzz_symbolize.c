/* fuzz_symbolize.c - libFuzzer entry for the symboliser's ELF reader
 * (symbolize.c): a trace's module map names files on this machine, which
 * `hak trace info --modules` and `stats` then parse (program and section
 * headers, build-id notes, .symtab/.dynsym and their string table).  The
 * input is the file; it is loaded through a memfd (/proc/self/fd/N, a real
 * open + mmap), once without and once with a build-id expected, and a few
 * addresses derived from the input are symbolised.  Every formatted name
 * must be a terminated string inside the buffer.
 *
 * Built by `make fuzz` (clang, ASan+UBSan); traces/tests/test_fuzz_symbolize.c
 * #includes it and replays traces/tests/elf-regressions/ under `make check`.
 */
#include "symbolize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void fuzz_sym_one(const char *path, const uint8_t *data, size_t size, int with_id)
{
    hak_module m;
    memset(&m, 0, sizeof m);
    m.path = path;
    m.base = 0;              /* file vaddr = ip, as for a non-PIE program */
    m.size = UINT64_MAX;
    if (with_id) {            /* expect the build-id the file's last bytes would be */
        m.build_id_len = 20;
        if (size >= 20)
            memcpy(m.build_id, data + size - 20, 20);
    }
    hak_symbolizer *s = hak_sym_new(&m, 1);
    if (!s)
        abort();
    size_t nsyms = 0;
    int st = hak_sym_status(s, 0, &nsyms);
    if (st < HAK_SYM_OK || st > HAK_SYM_NO_SYMBOLS || (st == HAK_SYM_OK) != (nsyms > 0))
        abort();
    char buf[128];
    for (size_t i = 0; i + 8 <= size && i < 8 * 16; i += 8) {
        uint64_t v;
        memcpy(&v, data + i, 8);
        /* small addresses, ones near a non-PIE program's 0x400000 (where
         * the seeds' functions are) and anything */
        uint64_t ips[3] = {v & 0xffffff, 0x400000 | (v & 0xfff), v};
        for (int k = 0; k < 3; k++)
            if (strnlen(hak_sym_format(s, ips[k], buf, sizeof buf), sizeof buf) >= sizeof buf)
                abort();
    }
    hak_sym_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz.so", MFD_CLOEXEC);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
        abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    fuzz_sym_one(path, data, size, 0);
    fuzz_sym_one(path, data, size, 1);
    close(fd);
    return 0;
}
