/* Unit tests for the ELF symboliser (symbolize.h): symbolises functions of
 * this very test binary through a module entry built like the recorder's,
 * and degrades cleanly for unknown addresses and unreadable modules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbolize.h"

__attribute__((noinline)) int hak_test_marker_function(int x)
{
    return x * 3 + 1;
}

/* A C function with a C++ mangled name: hak::demangled(int). */
int mangled_marker(int x) __asm__("_ZN3hak9demangledEi");
__attribute__((noinline)) int mangled_marker(int x)
{
    return x * 5 + 2;
}

/* The main program's module, as the recorder builds it: base = load bias
 * (dlpi_addr), size = up to the end of the last PT_LOAD. */
static int main_module(struct dl_phdr_info *info, size_t sz, void *data)
{
    (void)sz;
    hak_module *m = data;
    uint64_t hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_LOAD) {
            uint64_t a = info->dlpi_phdr[i].p_vaddr + info->dlpi_phdr[i].p_memsz;
            if (a > hi) hi = a;
        }
    m->base = info->dlpi_addr;
    m->size = hi;
    return 1;                     /* the first object is the program */
}

static char exe[4096];

static void symbolises_own_function(void **state)
{
    (void)state;
    hak_module m;
    memset(&m, 0, sizeof m);
    dl_iterate_phdr(main_module, &m);
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(n > 0);
    exe[n] = 0;
    m.path = exe;
    hak_symbolizer *s = hak_sym_new(&m, 1);
    assert_non_null(s);
    char buf[512];
    uint64_t ip = (uint64_t)(uintptr_t)&hak_test_marker_function + 2;
    hak_sym_format(s, ip, buf, sizeof buf);
    if (strncmp(buf, "hak_test_marker_function+0x2 (", 30))
        fail_msg("got '%s'", buf);
    hak_sym_format(s, 0x10, buf, sizeof buf);           /* below every module */
    assert_string_equal(buf, "0x10");
    hak_sym_free(s);
}

/* file:line through libdw: the first instruction of the marker function
 * (ip - 1 of ip = start + 1) is on the line of its opening. */
static void source_lines_from_dwarf(void **state)
{
    (void)state;
    hak_module m;
    memset(&m, 0, sizeof m);
    dl_iterate_phdr(main_module, &m);
    m.path = exe;
    hak_symbolizer *s = hak_sym_new(&m, 1);
    char buf[512];
    uint64_t ip = (uint64_t)(uintptr_t)&hak_test_marker_function + 1;
    assert_null(hak_sym_srcline(s, ip, buf, sizeof buf));        /* off by default */
    hak_sym_lines(s, 1);
    if (!hak_sym_lines_on(s)) {
        hak_sym_free(s);
        skip();                   /* no libdw.so.1 on this machine */
        return;
    }
    const char *l = hak_sym_srcline(s, ip, buf, sizeof buf);
    if (!l || !strstr(l, "test_symbolize.c:") ||
        atoi(strrchr(l, ':') + 1) < 19 || atoi(strrchr(l, ':') + 1) > 21)
        fail_msg("got '%s'", l ? l : "(null)");
    assert_null(hak_sym_srcline(s, 0x10, buf, sizeof buf));     /* no module */
    hak_sym_free(s);
}

static void build_id_mismatch_gives_offsets(void **state)
{
    (void)state;
    hak_module m;
    memset(&m, 0, sizeof m);
    dl_iterate_phdr(main_module, &m);
    m.path = exe;
    m.build_id_len = 20;
    memset(m.build_id, 0xab, 20);                     /* not this file's build-id */
    hak_symbolizer *s = hak_sym_new(&m, 1);
    char buf[512], want[512];
    uint64_t ip = (uint64_t)(uintptr_t)&hak_test_marker_function;
    hak_sym_format(s, ip, buf, sizeof buf);
    const char *base = strrchr(exe, '/') + 1;
    snprintf(want, sizeof want, "%s+0x%llx", base, (unsigned long long)(ip - m.base));
    assert_string_equal(buf, want);
    hak_sym_free(s);
}

static void demangles_cxx_names(void **state)
{
    (void)state;
    hak_module m;
    memset(&m, 0, sizeof m);
    dl_iterate_phdr(main_module, &m);
    m.path = exe;
    hak_symbolizer *s = hak_sym_new(&m, 1);
    char buf[512];
    uint64_t ip = (uint64_t)(uintptr_t)&mangled_marker + 1;
    hak_sym_format(s, ip, buf, sizeof buf);
    if (strncmp(buf, "_ZN3hak9demangledEi+0x1 (", 25))
        fail_msg("without demangling: '%s'", buf);
    hak_sym_demangle(s, 1);
    if (!hak_sym_demangling(s)) {
        hak_sym_free(s);
        skip();                   /* no libstdc++.so.6 on this machine */
        return;
    }
    hak_sym_format(s, ip, buf, sizeof buf);
    if (strncmp(buf, "hak::demangled(int)+0x1 (", 25))
        fail_msg("with demangling: '%s'", buf);
    hak_sym_format(s, ip, buf, sizeof buf);          /* cached */
    assert_int_equal(strncmp(buf, "hak::demangled(int)+0x1 (", 25), 0);
    /* the function alone, as flame graphs and diffs key frames */
    assert_string_equal(hak_sym_func(s, ip, 0, buf, sizeof buf), "hak::demangled(int)");
    char want[512];
    snprintf(want, sizeof want, "hak::demangled(int) (%s)", strrchr(exe, '/') + 1);
    assert_string_equal(hak_sym_func(s, ip, 1, buf, sizeof buf), want);
    hak_sym_demangle(s, 0);
    assert_string_equal(hak_sym_func(s, ip, 0, buf, sizeof buf), "_ZN3hak9demangledEi");
    hak_sym_free(s);
}

static void missing_or_bad_file(void **state)
{
    (void)state;
    hak_module mods[2];
    memset(mods, 0, sizeof mods);
    mods[0].path = "/nonexistent/libgone.so";
    mods[0].base = 0x10000;
    mods[0].size = 0x1000;
    mods[1].path = "/proc/self/status";        /* not an ELF file */
    mods[1].base = 0x20000;
    mods[1].size = 0x1000;
    hak_symbolizer *s = hak_sym_new(mods, 2);
    char buf[256];
    assert_string_equal(hak_sym_format(s, 0x10010, buf, sizeof buf), "libgone.so+0x10");
    assert_string_equal(hak_sym_format(s, 0x20020, buf, sizeof buf), "status+0x20");
    hak_sym_free(s);
}

/* A trace's module map names any path: a FIFO without a writer must be
 * refused, not block the open forever. */
static void fifo_module_does_not_block(void **state)
{
    (void)state;
    char dir[] = "/tmp/hak-symfifo.XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/fifo.so", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    alarm(60);    /* a hang guard (the unfixed open blocks forever), not a timing check */
    hak_module m;
    memset(&m, 0, sizeof m);
    m.path = path;
    m.base = 0x10000;
    m.size = 0x1000;
    hak_symbolizer *s = hak_sym_new(&m, 1);
    assert_int_equal(hak_sym_status(s, 0, NULL), HAK_SYM_NOT_ELF);
    char buf[256];
    assert_string_equal(hak_sym_format(s, 0x10010, buf, sizeof buf), "fifo.so+0x10");
    hak_sym_free(s);
    alarm(0);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(symbolises_own_function),
        cmocka_unit_test(source_lines_from_dwarf),
        cmocka_unit_test(build_id_mismatch_gives_offsets),
        cmocka_unit_test(demangles_cxx_names),
        cmocka_unit_test(missing_or_bad_file),
        cmocka_unit_test(fifo_module_does_not_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
