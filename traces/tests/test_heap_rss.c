/* test_heap_rss.c - heap-only RSS (traces/common/heap_rss.h): which
 * mappings count, on a fixed smaps text fed in awkward pieces, and on this
 * process's own smaps while it maps heap, a file and shared memory. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "heap_rss.h"

static const char smaps[] =
    "55d4a0000000-55d4a0001000 r--p 00000000 08:01 1234   /usr/bin/prog\n"
    "Size:                  4 kB\n"
    "Rss:                   4 kB\n"
    "55d4a0001000-55d4a0003000 rw-p 00001000 08:01 1234   /usr/bin/prog\n"
    "Rss:                   8 kB\n"
    "55d4a0003000-55d4a0005000 rw-p 00000000 00:00 0 \n"          /* .bss */
    "Rss:                   8 kB\n"
    "55d4a1000000-55d4a1100000 rw-p 00000000 00:00 0          [heap]\n"
    "Rss:                 100 kB\n"
    "Pss:                 100 kB\n"
    "7f0000000000-7f0000400000 rw-p 00000000 00:00 0 \n"          /* allocator mmap */
    "Rss:                2048 kB\n"
    "7f0000400000-7f0000500000 rw-p 00000000 00:00 0          [anon:hakrec]\n"
    "Rss:                 512 kB\n"
    "7f0000500000-7f0000600000 rw-p 00000000 00:00 0          [anon:mimalloc]\n"
    "Rss:                  16 kB\n"
    "7f0000600000-7f0000700000 rw-s 00000000 00:01 77         /memfd:img (deleted)\n"
    "Rss:                1024 kB\n"
    "7f0000700000-7f0000800000 rw-s 00000000 00:01 78         /dev/zero (deleted)\n"
    "Rss:                  64 kB\n"
    "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0          [stack]\n"
    "Rss:                  32 kB\n"
    "7ffd00100000-7ffd00102000 r-xp 00000000 00:00 0          [vdso]\n"
    "Rss:                   4 kB";                                /* no final newline */

static void classifies_each_kind(void **st)
{
    (void)st;
    /* every piece size, so a line cut anywhere is put back together */
    for (size_t piece = 1; piece <= 97; piece += 8) {
        hak_heap_rss_parser p;
        hak_heap_rss_begin(&p);
        for (size_t i = 0; i < sizeof smaps - 1; i += piece) {
            size_t n = sizeof smaps - 1 - i < piece ? sizeof smaps - 1 - i : piece;
            hak_heap_rss_feed(&p, smaps + i, n);
        }
        hak_heap_rss h = hak_heap_rss_end(&p);
        assert_int_equal(h.mappings, 11);
        assert_int_equal(h.brk, 100 * 1024);
        assert_int_equal(h.anon, (2048 + 16) * 1024);
        assert_int_equal(h.bss, 8 * 1024);
        assert_int_equal(h.own, 512 * 1024);
        assert_int_equal(h.stack, 32 * 1024);
        assert_int_equal(h.total, (4 + 8 + 8 + 100 + 2048 + 512 + 16 + 1024 + 64 + 32 + 4) * 1024);
        assert_int_equal(hak_heap_rss_bytes(&h), (100 + 2048 + 16) * 1024);
    }
}

static void long_lines_are_cut_not_fatal(void **st)
{
    (void)st;
    char text[2000];
    int n = snprintf(text, sizeof text, "7f0000000000-7f0000100000 rw-p 00000000 08:01 9 /");
    memset(text + n, 'a', 1500);
    snprintf(text + n + 1500, sizeof text - (size_t)n - 1500, "\nRss: 40 kB\n"
             "7f0000100000-7f0000200000 rw-p 00000000 00:00 0 \nRss: 12 kB\n");
    hak_heap_rss_parser p;
    hak_heap_rss_begin(&p);
    hak_heap_rss_feed(&p, text, strlen(text));
    hak_heap_rss h = hak_heap_rss_end(&p);
    assert_int_equal(h.mappings, 2);
    assert_int_equal(h.bss, 12 * 1024);      /* right after the file mapping */
    assert_int_equal(h.anon, 0);
}

/* This process: 32 MiB of touched malloc memory shows as heap; 16 MiB of
 * a touched shared memfd mapping and of a read file mapping do not. */
static void own_process(void **st)
{
    (void)st;
    hak_heap_rss a, b, c;
    assert_int_equal(hak_heap_rss_read(0, &a), 0);
    size_t big = 32u << 20;
    char *m = malloc(big);
    assert_non_null(m);
    memset(m, 1, big);
    assert_int_equal(hak_heap_rss_read(0, &b), 0);
    assert_true(hak_heap_rss_bytes(&b) >= hak_heap_rss_bytes(&a) + big - (1u << 20));
    int fd = memfd_create("heap_rss_test", 0);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 16 << 20), 0);
    char *s = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(s != MAP_FAILED);
    memset(s, 1, 16 << 20);
    assert_int_equal(hak_heap_rss_read(0, &c), 0);
    assert_true(c.total >= b.total + (15u << 20));
    assert_true(hak_heap_rss_bytes(&c) < hak_heap_rss_bytes(&b) + (1u << 20));
    munmap(s, 16 << 20);
    close(fd);
    free(m);
    assert_int_equal(hak_heap_rss_read(999999999, &c), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(classifies_each_kind),
        cmocka_unit_test(long_lines_are_cut_not_fatal),
        cmocka_unit_test(own_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
