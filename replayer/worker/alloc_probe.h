/* alloc_probe.h - the allocator's own view of a run.  After the window the
 * worker looks up (dlsym, RTLD_DEFAULT) the introspection entry points that
 * alloc/hakmem.h declares and copies the version string, the effective
 * configuration and the statistics counters into the result page.  Other
 * allocators simply lack the symbols and leave those fields empty. */
#ifndef RP_ALLOC_PROBE_H
#define RP_ALLOC_PROBE_H

#include "result.h"

void rp_alloc_probe(rp_wresult *res);

#endif
