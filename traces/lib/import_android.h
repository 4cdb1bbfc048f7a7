/* import_android.h - Android malloc_debug `record_allocs` text traces.
 *
 * Format (one record per line; bionic libc/malloc_debug, memory_replay):
 *   TID: malloc   PTR SIZE              [START_NS END_NS]
 *   TID: calloc   PTR NMEMB SIZE        [START_NS END_NS]
 *   TID: realloc  NEW_PTR OLD_PTR SIZE  [START_NS END_NS]
 *   TID: memalign PTR ALIGN SIZE        [START_NS END_NS]
 *   TID: free     PTR                   [START_NS END_NS]
 *   TID: thread_done 0x0                [END_NS]
 * TID is the OS thread id (decimal), pointers are hex as printed by %p
 * ("0x..."; "(nil)" is accepted for NULL), sizes and times are decimal.
 * The timestamps (CLOCK_MONOTONIC ns) appear in newer Android versions:
 * both or neither.  Blank lines and lines starting with '#' are skipped.
 * posix_memalign/aligned_alloc/valloc/pvalloc are recorded as memalign by
 * bionic, so they come back as HAK_OP_MEMALIGN.
 *
 * Conversion to hak_event (hak_android_convert):
 *  - OS tids map to dense thread indices in order of first appearance; the
 *    first record of a thread is preceded by HAK_OP_THREAD_START (size = OS
 *    tid, in_ptr = 0: the creator is not recorded).  thread_done gives
 *    HAK_OP_THREAD_EXIT and retires the mapping, so a reused OS tid becomes
 *    a new thread.
 *  - seq is the event's position in the file (the file is in global order).
 *  - ts_ns: START_NS (END_NS for thread_done) minus the first timestamp in
 *    the file, clamped so it never goes backwards within the file; without
 *    timestamps each event is 1 ns after the previous one.
 *  - A NULL result of malloc/calloc/memalign, or of realloc with SIZE > 0,
 *    is a failed call: err = ENOMEM.  realloc(p, 0) returning NULL frees p.
 */
#ifndef HAK_IMPORT_ANDROID_H
#define HAK_IMPORT_ANDROID_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace.h"

typedef enum hak_android_type {
    HAK_ANDROID_MALLOC, HAK_ANDROID_CALLOC, HAK_ANDROID_REALLOC,
    HAK_ANDROID_MEMALIGN, HAK_ANDROID_FREE, HAK_ANDROID_THREAD_DONE,
} hak_android_type;

typedef struct hak_android_rec {
    uint64_t os_tid;
    hak_android_type type;
    uint64_t ptr;        /* result pointer (free: the pointer freed) */
    uint64_t old_ptr;    /* realloc */
    uint64_t size;
    uint64_t nmemb;      /* calloc */
    uint64_t align;      /* memalign */
    int has_time;
    uint64_t start_ns, end_ns;   /* thread_done: only end_ns */
} hak_android_rec;

/* Parses one line (without or with its trailing newline).  Returns 1 with
 * *rec filled, 0 for a blank or comment line, -1 with a one-line reason in
 * err (the reason names the column and what was expected). */
int hak_android_parse(const char *line, hak_android_rec *rec, char *err, size_t errlen);

typedef struct hak_android_conv hak_android_conv;

hak_android_conv *hak_android_conv_new(void);
void hak_android_conv_free(hak_android_conv *c);
/* Turns one record into 1 or 2 events (THREAD_START first when the thread
 * is new).  Returns the number of events, or -1 on out of memory. */
int hak_android_convert(hak_android_conv *c, const hak_android_rec *rec, hak_event out[2]);
uint32_t hak_android_nthreads(const hak_android_conv *c);  /* dense indices handed out */
uint32_t hak_android_live_threads(const hak_android_conv *c);

/* ---- whole files ------------------------------------------------------- */

#define HAK_ANDROID_MAX_LINE 4096   /* longest line accepted, newline included */

/* Receives the converted events in file order; nonzero stops the import. */
typedef int (*hak_android_put_fn)(void *ctx, const hak_event *ev);

typedef struct hak_android_result {
    uint64_t lines;       /* lines read (the failing one included) */
    uint64_t records;     /* records converted */
    uint32_t nthreads;    /* dense thread indices handed out */
    uint64_t err_line;    /* line the error is about; 0 = not one line */
    int put_failed;       /* the error is put's: its reason is the caller's */
} hak_android_result;

/* Reads f to its end, converting every record and passing the events to
 * put.  Lines are read into a fixed buffer of HAK_ANDROID_MAX_LINE bytes,
 * so memory and work stay bounded whatever f holds: a file without
 * newlines (/dev/zero) fails after its first 4 KiB, not after memory runs
 * out.  Returns 0, or -1 with a one-line reason in err (for a line:
 * "column N: ...", with res->err_line set); a file without records, a
 * NUL byte, an over-long line, more threads than the format's 65536 and
 * read errors are errors too. */
int hak_android_import(FILE *f, hak_android_put_fn put, void *ctx,
                       hak_android_result *res, char *err, size_t errlen);

#endif
