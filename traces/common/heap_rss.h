/* heap_rss.h - the resident memory a process's allocator holds ("heap-only
 * RSS"), from /proc/PID/smaps, read the same way by the recorder (its
 * samples in the trace), the replay worker and `hak validate`'s live runs,
 * so that replay and reality are compared like with like.
 *
 * Heap-only RSS is the Rss of
 *   - the brk heap ([heap]), and
 *   - private anonymous mappings (no file; unnamed or [anon:NAME]),
 * and not of
 *   - the main stack ([stack]), mapped files, shared memory (memfd, SysV),
 *     [vdso]/[vvar];
 *   - .bss: an anonymous mapping that starts where a file mapping ends
 *     (the zero-filled tail of a program's or library's data segment;
 *     tcmalloc's static page-heap metadata lives there too);
 *   - the measuring tool's own mappings, named [anon:hakrec...] by the
 *     recorder (PR_SET_VMA_ANON_NAME), counted apart as `own`.
 * Thread stacks are anonymous mappings the kernel does not label; they
 * count as heap (a few pages each for most programs; said in README).
 *
 * Reading needs no malloc: a fixed buffer on the stack, so the recorder's
 * writer thread and the replay worker can call it.  Cost grows with the
 * number of mappings and resident pages (page-table walk in the kernel):
 * ~0.1 ms for a small process, milliseconds for gigabytes. */
#ifndef HAK_HEAP_RSS_H
#define HAK_HEAP_RSS_H

#include <stddef.h>
#include <stdint.h>

typedef struct hak_heap_rss {
    uint64_t brk;      /* [heap] */
    uint64_t anon;     /* private anonymous, not .bss, not own */
    uint64_t bss;      /* anonymous right after a file mapping */
    uint64_t stack;    /* [stack] */
    uint64_t own;      /* [anon:hakrec*]: the recorder's memory */
    uint64_t total;    /* every mapping's Rss */
    uint32_t mappings;
} hak_heap_rss;

/* Heap-only bytes: brk + anon. */
static inline uint64_t hak_heap_rss_bytes(const hak_heap_rss *h) { return h->brk + h->anon; }

/* Streaming parser, fed smaps text in pieces of any size. */
typedef struct hak_heap_rss_parser {
    hak_heap_rss out;
    int cur;                    /* class of the mapping whose fields follow */
    uint64_t prev_end;          /* end of the previous mapping */
    int prev_file;              /* it was backed by a file */
    size_t len;                 /* bytes of the pending line in line[] */
    char line[256];             /* longer lines are cut (only their start matters) */
} hak_heap_rss_parser;

void hak_heap_rss_begin(hak_heap_rss_parser *p);
void hak_heap_rss_feed(hak_heap_rss_parser *p, const char *buf, size_t n);
/* Finishes a last line without a newline and returns the totals. */
hak_heap_rss hak_heap_rss_end(hak_heap_rss_parser *p);

/* Reads /proc/PID/smaps (pid 0: /proc/self/smaps).  0, or -1 with errno
 * (ENOENT: the process is gone). */
int hak_heap_rss_read(int pid, hak_heap_rss *out);

#endif /* HAK_HEAP_RSS_H */
