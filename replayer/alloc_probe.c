/* alloc_probe.c - copies HAKMEM's introspection into the result page (see
 * alloc_probe.h).  Resolved at run time so the worker runs with any
 * allocator and with HAKMEM builds from other revisions. */
#include "alloc_probe.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

void rp_alloc_probe(rp_wresult *res)
{
    const char *(*version)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "hakmem_version");
    if (version) {
        const char *v = version();
        if (v)
            snprintf(res->alloc_version, sizeof res->alloc_version, "%s", v);
    }
}
