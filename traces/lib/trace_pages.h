/* trace_pages.h - how the reader touches a trace file's bytes without
 * holding the file in its memory.
 *
 * The reader used to map the whole file and fault it in at open: a mapped
 * page that was read stays in the process's RSS until unmapped, so reading
 * a 10^9-event trace (1.6 GB) grew the RSS by the file's size.  Now:
 *  - the open scan (checksums, chunk index, side records) still reads the
 *    mapping, but brings it in a window at a time ahead of itself (one
 *    MADV_POPULATE_READ instead of a fault per 64 KiB) and drops what it
 *    has passed with MADV_DONTNEED.  The mapping is private and read-only,
 *    so a dropped page read again is faulted back from the page cache with
 *    the same bytes: dropping never changes what is read.  The kernel's
 *    fault-around maps pages near a fault, also behind it, so each drop
 *    starts a window before the previous one ended.  At most about three
 *    windows are resident.
 *  - event chunks are read with pread into the cursor's own buffer
 *    (tr_file_read), not from the mapping: per-chunk drops from a mapping
 *    leak the neighbours' pages that fault-around maps back, and a file
 *    cut short after open is then a read error, not a SIGBUS.
 * A buffer given by the caller (hak_tr_open_mem) is not ours to advise:
 * the tr_pages calls are then no-ops.
 */
#ifndef HAK_TRACE_PAGES_H
#define HAK_TRACE_PAGES_H

#include <stddef.h>
#include <stdint.h>

#define TR_PAGES_WINDOW (2u << 20)   /* bytes brought in / dropped at a time */

typedef struct tr_pages {
    const uint8_t *base;    /* the mapping; NULL when not ours */
    uint64_t size;
    uint64_t ahead;         /* populated up to here */
    uint64_t dropped;       /* dropped up to here */
} tr_pages;

void tr_pages_init(tr_pages *p, const void *base, uint64_t size, int ours);
/* The sequential scan is about to read [off, off + len): populates the
 * window(s) ahead that cover it and drops what lies more than a window
 * behind off. */
void tr_pages_scan(tr_pages *p, uint64_t off, uint64_t len);
/* Drops every page of the mapping (end of the scan). */
void tr_pages_drop_all(tr_pages *p);

/* Reads len bytes at off of fd into buf.  NULL, or why not (a short read
 * means the file shrank after it was opened). */
const char *tr_file_read(int fd, uint64_t off, void *buf, size_t len);

#endif
