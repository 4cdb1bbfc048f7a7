/* alloc_probe.c - copies HAKMEM's introspection into the result page (see
 * alloc_probe.h).  Everything is resolved at run time with dlsym, so the
 * worker runs with any allocator, and with HAKMEM builds from other
 * revisions: struct hak_alloc_stats carries its own size (the library fills
 * at most struct_size bytes), so an older or newer build stays safe. */
#include "alloc_probe.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#if __has_include("hakmem.h")
#include "hakmem.h"
#define RP_HAVE_HAKMEM_H 1
#endif

__attribute__((unused))
static void put(rp_wresult *res, const char *name, double v, const char *unit)
{
    if (res->nastats >= RP_MAX_ASTATS)
        return;
    rp_astat *a = &res->astats[res->nastats++];
    snprintf(a->name, sizeof a->name, "alloc.%s", name);
    snprintf(a->unit, sizeof a->unit, "%s", unit);
    a->value = v;
}

void rp_alloc_probe(rp_wresult *res)
{
    const char *(*version)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "hak_alloc_version");
    const char *(*config)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "hak_alloc_config");
    if (version) {
        const char *v = version();
        if (v)
            snprintf(res->alloc_version, sizeof res->alloc_version, "%s", v);
    }
    if (config) {
        const char *c = config();
        if (c)
            snprintf(res->alloc_config, sizeof res->alloc_config, "%s", c);
    }
#ifdef RP_HAVE_HAKMEM_H
    int (*stats)(struct hak_alloc_stats *) =
        (int (*)(struct hak_alloc_stats *))dlsym(RTLD_DEFAULT, "hak_alloc_stats");
    if (!stats)
        return;
    static struct hak_alloc_stats st;    /* static: no malloc, no big stack */
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    if (stats(&st) != 0)
        return;
#define B(f) put(res, #f, (double)st.f, "bytes")
#define C(f) put(res, #f, (double)st.f, "count")
    B(bytes_mapped); B(bytes_live); B(bytes_cached);
    C(superslabs); C(superslabs_cached); C(superslabs_abandoned);
    B(superslab_size); B(slab_size);
    C(large_blocks); B(large_bytes); C(large_cached);
    C(purges); B(purged_bytes);
    B(calloc_zeroed_bytes); B(calloc_skipped_bytes);
    C(remote_frees); C(foreign_frees);
    C(threads); C(thread_exits); C(adopted);
    B(prefault_bytes);
#undef B
#undef C
    uint64_t slabs = 0, total = 0, used = 0, cached = 0;
    for (uint32_t i = 0; i < st.nclass && i < HAK_NCLASS; i++) {
        slabs += st.cls[i].slabs;
        total += st.cls[i].blocks_total * st.cls[i].block_size;
        used += st.cls[i].blocks_used * st.cls[i].block_size;
        cached += st.cls[i].blocks_cached * st.cls[i].block_size;
    }
    put(res, "slabs", (double)slabs, "count");
    put(res, "class_capacity_bytes", (double)total, "bytes");
    put(res, "class_used_bytes", (double)used, "bytes");
    put(res, "class_cached_bytes", (double)cached, "bytes");
#endif
}
