/* test_report.c - malloc_stats() and malloc_info() report this allocator's
 * blocks, not glibc's idle arena (which is what a preloaded hakmem printed
 * before it defined them: "in use bytes = 0" while the program held
 * megabytes).  The internal (ASan) build has no libc names and calls the
 * hak_report_* functions the overrides forward to. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "alloc_test.h"

#ifdef HAK_INTERNAL_ONLY
void hak_report_stats(int fd);
int hak_report_info(int options, FILE *fp);
#define STATS_TO(fd) hak_report_stats(fd)
#define INFO(opt, fp) hak_report_info(opt, fp)
#define ALLOC(n) hak_malloc(n)
#define FREE(p) hak_free(p)
#else
/* malloc_stats writes to stderr: point fd 2 at the file for the call. */
static void stats_to(int fd)
{
    int saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fd, 2) == 2);
    malloc_stats();
    assert_true(dup2(saved, 2) == 2);
    close(saved);
}
#define STATS_TO(fd) stats_to(fd)
#define INFO(opt, fp) malloc_info(opt, fp)
#define ALLOC(n) malloc(n)
#define FREE(p) free(p)
#endif

#define NBLOCKS 300
#define BLOCK 100   /* rounds to the 112-byte class */

static void *blocks[NBLOCKS];

static void hold_blocks(void)
{
    for (int i = 0; i < NBLOCKS; i++) {
        blocks[i] = ALLOC(BLOCK);
        assert_non_null(blocks[i]);
    }
}

static void release_blocks(void)
{
    for (int i = 0; i < NBLOCKS; i++) FREE(blocks[i]);
}

/* The whole output of fn(fp) as a string (static buffer). */
static const char *read_back(FILE *fp)
{
    static char text[65536];
    fflush(fp);
    rewind(fp);
    size_t n = fread(text, 1, sizeof text - 1, fp);
    text[n] = 0;
    return text;
}

static void stats_count_the_blocks_held(void **state)
{
    (void)state;
    hold_blocks();
    FILE *fp = tmpfile();
    assert_non_null(fp);
    STATS_TO(fileno(fp));
    const char *text = read_back(fp);
    const char *total = strstr(text, "Total (incl. mmap):");
    assert_non_null(total);
    unsigned long long system = 0, in_use = 0;
    assert_int_equal(sscanf(total, "Total (incl. mmap):\nsystem bytes = %llu\nin use bytes = %llu",
                            &system, &in_use), 2);
    assert_true(in_use >= (unsigned long long)NBLOCKS * BLOCK);
    assert_true(system >= in_use);
    assert_non_null(strstr(text, "hakmem "));
    fclose(fp);
    release_blocks();
}

static void info_lists_the_class_in_use(void **state)
{
    (void)state;
    hold_blocks();
    FILE *fp = tmpfile();
    assert_non_null(fp);
    assert_int_equal(INFO(0, fp), 0);
    const char *text = read_back(fp);
    assert_true(strncmp(text, "<malloc version=\"1\" allocator=\"hakmem ", 38) == 0);
    assert_non_null(strstr(text, "</malloc>\n"));
    const char *size = strstr(text, " to=\"112\" ");
    assert_non_null(size);
    unsigned long long used = 0;
    const char *u = strstr(size, "used=\"");
    assert_non_null(u);
    assert_int_equal(sscanf(u, "used=\"%llu\"", &used), 1);
    assert_true(used >= NBLOCKS);
    fclose(fp);
    release_blocks();
}

static void info_rejects_options_like_glibc(void **state)
{
    (void)state;
    FILE *fp = tmpfile();
    assert_non_null(fp);
    assert_int_equal(INFO(1, fp), EINVAL);
    assert_int_equal(ftell(fp), 0);
    fclose(fp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stats_count_the_blocks_held),
        cmocka_unit_test(info_lists_the_class_in_use),
        cmocka_unit_test(info_rejects_options_like_glibc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
