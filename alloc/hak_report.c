/* hak_report.c - the allocator's own answers to glibc's malloc_stats() and
 * malloc_info(), which a program or a debugger calls to ask the allocator
 * what it holds.  Without them a preloaded hakmem left glibc's versions
 * in place, and those report glibc's idle arena: "in use bytes = 0" for a
 * program holding megabytes, a silent wrong answer.
 *
 * Both keep glibc's shape so that scripts parsing it go on working:
 * malloc_stats writes glibc's "system bytes" / "in use bytes" lines (then
 * ours) to stderr, but not glibc's "max mmap" high-water lines, which we do
 * not track; malloc_info writes XML with glibc's <sizes>, <total> and
 * <system> elements, one <size> per size class in use.
 *
 * hak_report_stats writes with write(2) from a stack buffer: malloc_stats
 * may be called from a state where allocating is unwelcome (a debugger, a
 * signal-ish context), and glibc's never allocates either.  malloc_info
 * writes to the caller's FILE, which may allocate its buffer: that is
 * the caller's stream and glibc's does the same.
 */
#include "hak_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

/* snprintf into buf at *len, dropping what does not fit (the buffer is
 * sized for every line below). */
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0) *len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

void hak_report_stats(int fd)
{
    struct hak_alloc_stats st = {.struct_size = sizeof st};
    hak_alloc_stats(&st);
    char buf[1024];
    size_t len = 0;
    const unsigned long long mapped = st.bytes_mapped, live = st.bytes_live;
    /* glibc's lines first, same labels and widths. */
    put(buf, sizeof buf, &len, "Arena 0:\nsystem bytes     = %10llu\nin use bytes     = %10llu\n",
        mapped - st.large_bytes, live > st.large_bytes ? live - st.large_bytes : 0ULL);
    put(buf, sizeof buf, &len, "Total (incl. mmap):\nsystem bytes     = %10llu\nin use bytes     = %10llu\n",
        mapped, live);
    put(buf, sizeof buf, &len,
        "%s:\nthread cache bytes = %llu\nsuperslabs         = %llu (%llu cached, %llu abandoned)\n"
        "large blocks       = %llu (%llu bytes, %llu mappings cached)\n"
        "threads            = %llu (%llu exited)\nremote frees       = %llu\n"
        "purged bytes       = %llu in %llu madvise calls\nforeign frees      = %llu\n",
        hak_alloc_version(), (unsigned long long)st.bytes_cached,
        (unsigned long long)st.superslabs, (unsigned long long)st.superslabs_cached,
        (unsigned long long)st.superslabs_abandoned, (unsigned long long)st.large_blocks,
        (unsigned long long)st.large_bytes, (unsigned long long)st.large_cached,
        (unsigned long long)st.threads, (unsigned long long)st.thread_exits,
        (unsigned long long)st.remote_frees, (unsigned long long)st.purged_bytes,
        (unsigned long long)st.purges, (unsigned long long)st.foreign_frees);
    write_all(fd, buf, len);
}

int hak_report_info(int options, FILE *fp)
{
    if (options != 0) return EINVAL;   /* glibc's answer: no option is defined */
    if (!fp) return EINVAL;
    struct hak_alloc_stats st = {.struct_size = sizeof st};
    hak_alloc_stats(&st);
    fprintf(fp, "<malloc version=\"1\" allocator=\"%s\">\n<heap nr=\"0\">\n<sizes>\n",
            hak_alloc_version());
    uint64_t from = 1, free_count = 0, free_bytes = 0;
    for (uint32_t c = 0; c < st.nclass && c < HAK_NCLASS; c++) {
        const struct hak_class_stats *k = &st.cls[c];
        uint64_t idle = k->blocks_total > k->blocks_used ? k->blocks_total - k->blocks_used : 0;
        /* glibc lists free chunks per size range: our free blocks per class
         * (thread caches included), with used and capacity as extra
         * attributes that glibc's readers ignore. */
        if (k->slabs)
            fprintf(fp, "  <size from=\"%llu\" to=\"%llu\" total=\"%llu\" count=\"%llu\""
                    " used=\"%llu\" cached=\"%llu\" slabs=\"%llu\"/>\n",
                    (unsigned long long)from, (unsigned long long)k->block_size,
                    (unsigned long long)(idle * k->block_size), (unsigned long long)idle,
                    (unsigned long long)k->blocks_used, (unsigned long long)k->blocks_cached,
                    (unsigned long long)k->slabs);
        free_count += idle;
        free_bytes += idle * k->block_size;
        from = k->block_size + 1;
    }
    fprintf(fp, "</sizes>\n<total type=\"rest\" count=\"%llu\" size=\"%llu\"/>\n",
            (unsigned long long)free_count, (unsigned long long)free_bytes);
    fprintf(fp, "<system type=\"current\" size=\"%llu\"/>\n</heap>\n",
            (unsigned long long)(st.bytes_mapped - st.large_bytes));
    fprintf(fp, "<total type=\"rest\" count=\"%llu\" size=\"%llu\"/>\n",
            (unsigned long long)free_count, (unsigned long long)free_bytes);
    fprintf(fp, "<total type=\"mmap\" count=\"%llu\" size=\"%llu\"/>\n",
            (unsigned long long)st.large_blocks, (unsigned long long)st.large_bytes);
    fprintf(fp, "<system type=\"current\" size=\"%llu\"/>\n", (unsigned long long)st.bytes_mapped);
    fprintf(fp, "<aspace type=\"total\" size=\"%llu\"/>\n</malloc>\n",
            (unsigned long long)st.bytes_mapped);
    return ferror(fp) ? -1 : 0;
}
