/* sim_bench.c - hak-sim-bench: throughput of the memory-system model alone
 * (no allocator, no replay), in touched addresses per second, on address
 * streams shaped like what `hak sim` feeds it:
 *   lines   every 64-byte line of consecutive 1 KiB blocks (--access full)
 *   blocks  one address per page of random 4 KiB..64 KiB blocks spread over
 *           256 MiB (--touch pages on a large heap: TLB-hostile)
 *   random  uniformly random addresses over 1 GiB (worst case: nearly every
 *           access walks)
 * Usage: hak-sim-bench [MILLION_ADDRESSES] [4k|2m|thp]; prints one line per
 * stream: "STREAM MODE addresses_per_cpu_s addresses_per_wall_s walks".
 * The stream is generated into an array first, so only the model is timed;
 * CPU time is the figure to trust on a shared machine (other load stretches
 * wall time, not the thread's own CPU time). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hak_util.h"
#include "sim_model.h"

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int odd_region(void *ctx, uint64_t addr)
{
    (void)ctx;
    return (int)((addr >> 21) & 1);
}

int main(int argc, char **argv)
{
    uint64_t n = (argc > 1 ? strtoull(argv[1], NULL, 10) : 50) * 1000000ull;
    sim_page_mode mode = SIM_PAGES_4K;
    if (argc > 2 && sim_page_mode_parse(argv[2], &mode)) {
        fprintf(stderr, "hak-sim-bench: mode must be 4k, 2m or thp\n");
        return 2;
    }
    if (n == 0) {
        fprintf(stderr, "usage: hak-sim-bench [MILLION_ADDRESSES] [4k|2m|thp]\n");
        return 2;
    }
    uint64_t *addr = sim_mem_alloc(n * sizeof *addr);
    if (!addr) {
        fprintf(stderr, "hak-sim-bench: out of memory\n");
        return 1;
    }
    const uint64_t base = 0x7f0000000000ull;
    static const char *names[] = {"lines", "blocks", "random"};
    for (int s = 0; s < 3; s++) {
        uint64_t seed = 88172645463325252ull, i = 0;
        if (s == 0) {
            for (uint64_t off = 0; i < n; off += 64)
                addr[i++] = base + (off % (512ull << 20));
        } else if (s == 1) {
            while (i < n) {
                uint64_t b = base + (rng(&seed) % (256ull << 20) & ~15ull);
                uint64_t len = 4096 + rng(&seed) % (60 * 1024);
                addr[i++] = b;
                for (uint64_t p = (b | 4095) + 1; p < b + len && i < n; p += 4096)
                    addr[i++] = p;
            }
        } else {
            while (i < n)
                addr[i++] = base + rng(&seed) % (1ull << 30);
        }
        sim_model m;
        sim_tlb_geom g;
        char err[256];
        sim_tlb_default(&g);
        if (sim_model_init(&m, &g, mode, 1u << 18, err, sizeof err)) {
            fprintf(stderr, "hak-sim-bench: %s\n", err);
            return 1;
        }
        sim_model_set_huge_fn(&m, odd_region, NULL);
        struct timespec c0, c1;
        uint64_t t0 = hak_mono_ns();
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
        for (uint64_t k = 0; k < n; k++)
            sim_access(&m, addr[k]);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
        uint64_t dt = hak_mono_ns() - t0;
        double cpu = (double)(c1.tv_sec - c0.tv_sec) * 1e9 + (double)(c1.tv_nsec - c0.tv_nsec);
        printf("%s %s %.0f %.0f walks=%llu\n", names[s], sim_page_mode_name(mode),
               (double)n * 1e9 / (cpu > 0 ? cpu : 1), (double)n * 1e9 / (double)(dt ? dt : 1),
               (unsigned long long)m.st.stlb_misses);
        sim_model_destroy(&m);
    }
    return 0;
}
