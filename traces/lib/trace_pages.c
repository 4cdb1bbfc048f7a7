/* trace_pages.c - see trace_pages.h. */
#include "trace_pages.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22           /* Linux 5.14 */
#endif

static uint64_t page_size(void)
{
    static uint64_t ps;
    if (!ps) {
        long v = sysconf(_SC_PAGESIZE);
        ps = v > 0 ? (uint64_t)v : 4096;
    }
    return ps;
}

void tr_pages_init(tr_pages *p, const void *base, uint64_t size, int ours)
{
    p->base = ours && size ? base : NULL;
    p->size = size;
    p->ahead = p->dropped = 0;
}

void tr_pages_scan(tr_pages *p, uint64_t off, uint64_t len)
{
    if (!p->base || off >= p->size)
        return;
    const uint64_t ps = page_size();
    if (len > p->size - off)
        len = p->size - off;
    if (off + len > p->ahead) {
        uint64_t from = (p->ahead > off ? p->ahead : off) & ~(ps - 1);
        uint64_t to = off + len > from + TR_PAGES_WINDOW ? off + len : from + TR_PAGES_WINDOW;
        if (to > p->size)
            to = p->size;
        /* Kernels before 5.14 refuse POPULATE_READ: start the read-ahead
         * instead and let the faults map the pages. */
        if (madvise((void *)(p->base + from), to - from, MADV_POPULATE_READ))
            madvise((void *)(p->base + from), to - from, MADV_WILLNEED);
        p->ahead = to;
    }
    if (off >= p->dropped + 2 * (uint64_t)TR_PAGES_WINDOW) {
        /* Keep the window just behind off (the chunk at off may start
         * there); start a window before the last drop, whose pages
         * fault-around may have mapped back. */
        uint64_t to = (off - TR_PAGES_WINDOW) & ~(ps - 1);
        uint64_t from = p->dropped > TR_PAGES_WINDOW ? p->dropped - TR_PAGES_WINDOW : 0;
        madvise((void *)(p->base + from), to - from, MADV_DONTNEED);
        p->dropped = to;
    }
}

void tr_pages_drop_all(tr_pages *p)
{
    if (p->base)
        madvise((void *)p->base, p->size, MADV_DONTNEED);
    p->ahead = p->dropped = 0;
}

const char *tr_file_read(int fd, uint64_t off, void *buf, size_t len)
{
    uint8_t *b = buf;
    while (len) {
        ssize_t n = pread(fd, b, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return strerror(errno);
        if (n == 0)
            return "the file ends early (shortened after it was opened?)";
        b += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return NULL;
}
