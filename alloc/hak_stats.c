/* hak_stats.c - hak_alloc_stats(), hak_alloc_config(), hak_alloc_version().
 *
 * Stats walk every mapped SuperSlab and every live thread heap under the
 * global lock.  Slab counters belong to their owning threads and are read
 * without stopping them, so figures are exact only when the process is
 * quiescent (which is how the tests and the replayer read them).
 */
#include "hak_internal.h"

#include <string.h>

#if __has_include("build_id.h")
#include "build_id.h"
#endif
#ifndef HAKMEM_BUILD_ID
#define HAKMEM_BUILD_ID "unknown"
#endif
#ifndef HAKMEM_VERSION   /* the Makefile passes HAK_VERSION (traces/common/hak_util.h) */
#error "build with -DHAKMEM_VERSION (alloc/module.mk)"
#endif

#define RD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* Another thread's bin count, read while it runs: the fields are read one
 * by one, so a bin being reset at thread exit can pair a new top with an
 * old base; such a mix (count > cap) counts as empty. */
static uint64_t bin_count_racy(hak_bin *b)
{
    uint32_t top = hak_lo32(RD(b->top)), e = RD(b->empty_lo), f = RD(b->full_lo);
    uint32_t n = (top - e) / sizeof(void *), cap = (f - e) / sizeof(void *);
    return n <= cap ? n : 0;
}

HAK_API int hak_alloc_stats(struct hak_alloc_stats *out)
{
    if (atomic_load_explicit(&hak_init_state, memory_order_acquire) != 2)
        hak_global_init();
    struct hak_alloc_stats st;
    memset(&st, 0, sizeof st);
    size_t want = out->struct_size ? out->struct_size : sizeof st;
    if (want > sizeof st) want = sizeof st;
    st.struct_size = (uint32_t)want;
    st.nclass = hak_cfg.ncls;
    st.superslab_size = hak_cfg.ss_size;
    st.slab_size = hak_cfg.slab_size;
    for (unsigned c = 1; c < hak_cfg.ncls; c++) st.cls[c].block_size = hak_cfg.cls_size[c];

    hak_lock();
    for (hak_ss *ss = hak_all_ss; ss; ss = ss->all_next) {
        for (unsigned u = 0; u < hak_cfg.nunits; u++) {
            unsigned cls = RD(ss->unit_cls[u]);
            if (!cls || ss->unit_head[u] != u) continue;
            hak_slab *s = &hak_ss_slabs(ss)[u];
            st.cls[cls].slabs++;
            st.cls[cls].blocks_total += RD(s->capacity);
            st.cls[cls].blocks_used += RD(s->used);   /* includes cached, fixed below */
        }
    }
    uint64_t remote = 0, zeroed = 0, skipped = 0;
    for (hak_heap *h = hak_heaps; h; h = h->reg_next) {
        for (unsigned c = 1; c < hak_cfg.ncls; c++)
            st.cls[c].blocks_cached += bin_count_racy(&h->bins[c]);
        remote += RD(h->remote_frees);
        zeroed += RD(h->calloc_zeroed);
        skipped += RD(h->calloc_skipped);
    }
    hak_unlock();
    for (unsigned c = 1; c < hak_cfg.ncls; c++) {
        struct hak_class_stats *k = &st.cls[c];
        k->blocks_used = k->blocks_used > k->blocks_cached ? k->blocks_used - k->blocks_cached : 0;
        st.bytes_live += k->blocks_used * k->block_size;
        st.bytes_cached += k->blocks_cached * k->block_size;
    }
    st.large_blocks = HAK_GET(large_blocks);
    st.large_bytes = HAK_GET(large_bytes);
    st.large_cached = HAK_GET(large_cached);
    st.bytes_live += st.large_bytes;
    st.bytes_mapped = HAK_GET(bytes_mapped);
    st.superslabs = HAK_GET(superslabs);
    st.superslabs_cached = HAK_GET(ss_cached);
    st.superslabs_abandoned = HAK_GET(ss_abandoned);
    st.purges = HAK_GET(purges);
    st.purged_bytes = HAK_GET(purged_bytes);
    st.calloc_zeroed_bytes = zeroed + HAK_GET(dead_calloc_zeroed);
    st.calloc_skipped_bytes = skipped + HAK_GET(dead_calloc_skipped);
    st.remote_frees = remote + HAK_GET(dead_remote_frees);
    st.foreign_frees = HAK_GET(foreign_frees);
    st.threads = HAK_GET(threads);
    st.thread_exits = HAK_GET(thread_exits);
    st.adopted = HAK_GET(adopted);
    st.prefault_bytes = HAK_GET(prefault_bytes);
    st.knobs_valid = 1;
    st.knob_prefault = (uint32_t)hak_cfg.prefault;
    st.knob_hugepage = (uint32_t)hak_cfg.hugepage;
    st.knob_zero_always = (uint32_t)hak_cfg.zero_always;
    st.knob_purge = (uint32_t)hak_cfg.purge;
    st.knob_tcache = hak_cfg.tcache;
    st.knob_purge_delay_ms = hak_cfg.purge_delay_ns / 1000000ull;
    st.heaps_adopted = HAK_GET(heaps_adopted);
    st.heaps_parked = hak_heaps_parked();
    memcpy(out, &st, want);
    return 0;
}

HAK_API const char *hak_alloc_config(void)
{
    if (atomic_load_explicit(&hak_init_state, memory_order_acquire) != 2)
        hak_global_init();
    return hak_config_string();
}

HAK_API const char *hak_alloc_version(void)
{
    return "hakmem " HAKMEM_VERSION " build " HAKMEM_BUILD_ID;
}
