/* pprof_out.h - a siteview's per-call-site results written as a pprof
 * profile: gzipped profile.proto (traces/lib/profile.proto, pprof's own
 * message and field numbers), encoded with Debian's protobuf-c and
 * compressed with zlib, for `hak trace export --pprof`.
 *
 * Sample types, one value each per call site (a site's recorded stack is
 * one Sample, leaf first):
 *   alloc_objects  count   allocations made there (realloc results too)
 *   alloc_space    bytes   their requested bytes
 *   inuse_objects  count   of those, blocks still live at the end of the
 *                          trace (the leaks of `hak trace leaks`)
 *   inuse_space    bytes   their requested bytes
 * so the profile's totals are the trace's (hak trace stats).  The default
 * sample type is inuse_space, as in Go's heap profiles.  Every recorded
 * frame address is one Location with its Mapping (the recorded module);
 * its Lines are the functions inlined there (innermost first, when DWARF
 * line info is read) and then the frame's own function, with file:line
 * when known.  Sites without a stack get a pseudo-frame
 * "[no call site recorded]" / "[no stack in the trace]".
 */
#ifndef HAK_PPROF_OUT_H
#define HAK_PPROF_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "siteview.h"
#include "symbolize.h"
#include "trace.h"

typedef struct hak_pprof_info {
    uint64_t depth;              /* frames per stack; 0 = all recorded */
    int64_t time_nanos;          /* wall-clock start of the recording; 0 = unknown */
    int64_t duration_nanos;
    const char *const *comments; /* notes stored in the profile (pprof -comments) */
    size_t ncomments;
} hak_pprof_info;

/* Writes the profile of v (after hak_sv_finish) to path ("-": standard
 * output), frames from r's call sites named by sym.  0; -1 with a
 * one-line reason in err (out of memory, cannot write). */
int hak_pprof_write(const char *path, const hak_siteview *v, hak_trace_reader *r,
                    hak_symbolizer *sym, const hak_pprof_info *info, char *err, size_t errlen);

#endif
