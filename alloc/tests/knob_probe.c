/* knob_probe - runs one scenario under whatever HAKMEM_* environment it was
 * started with and prints "key value" lines; alloc/tests/knobs.sh runs it
 * with different knob settings and checks that each knob changes what it
 * should.  Linked with libhakmem.a whole, so malloc is HAKMEM.
 *
 * usage: knob_probe faults|hugepage|purge|zero|geometry|tcache|large|large_carve|large_step|cache_bounds|remote_first|config|table
 *   table prints, per knob of hak_knobs_table.h, the start of its KNOBS.md
 *   row ("| `NAME` | VALUES |"), generated from the table.
 */
#include "hakmem.h"
#include "hak_knobs_table.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static struct hak_alloc_stats st;
static void stats(void) { st.struct_size = sizeof st; hak_alloc_stats(&st); }

static long minflt(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

static long rss_kb(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = -1;
    fclose(f);
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Faults taken while filling most of the first SuperSlab with 1 KiB
 * blocks (the SuperSlab itself is mapped before the window). */
static int faults(void)
{
    void *first = malloc(1024);
    static void *p[1400];
    long f0 = minflt();
    for (int i = 0; i < 1400; i++) { p[i] = malloc(1024); memset(p[i], 1, 1024); }
    long f1 = minflt();
    stats();
    printf("minflt %ld\nprefault_bytes %llu\n", f1 - f0, (unsigned long long)st.prefault_bytes);
    for (int i = 0; i < 1400; i++) free(p[i]);
    free(first);
    return 0;
}

/* Is the first SuperSlab's mapping advised for THP ("hg" in VmFlags), and
 * did it get huge pages? */
static int hugepage(void)
{
    static void *p[1400];
    for (int i = 0; i < 1400; i++) { p[i] = malloc(1024); memset(p[i], 1, 1024); }
    stats();
    uintptr_t base = (uintptr_t)p[0] & ~(uintptr_t)(st.superslab_size - 1);
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) { perror("smaps"); return 1; }
    char line[512];
    int in = 0, hg = 0;
    long ahp = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in = base >= lo && base < hi;
            continue;
        }
        if (!in) continue;
        if (!strncmp(line, "AnonHugePages:", 14)) sscanf(line + 14, "%ld", &ahp);
        if (!strncmp(line, "VmFlags:", 8)) hg = strstr(line, " hg") != NULL;
    }
    fclose(f);
    printf("hg %d\nanonhuge_kb %ld\n", hg, ahp);
    return 0;
}

/* RSS after freeing most of 48 MiB of 1 KiB blocks (one block in 512 stays,
 * so SuperSlabs stay mapped and only slab purging can release memory). */
static int purge(void)
{
    enum { N = 48 * 1024 };
    void **p = malloc(N * sizeof *p);
    for (int i = 0; i < N; i++) { p[i] = malloc(1024); memset(p[i], 7, 1024); }
    long before = rss_kb();
    for (int i = 0; i < N; i++) if (i % 512) free(p[i]);
    long after = rss_kb();
    stats();
    unsigned long long purges = (unsigned long long)st.purges;
    hak_trim(0);
    long trimmed = rss_kb();
    printf("rss_full_kb %ld\nrss_after_free_kb %ld\nrss_after_trim_kb %ld\npurges %llu\n",
           before, after, trimmed, purges);
    for (int i = 0; i < N; i += 512) free(p[i]);
    free(p);
    return 0;
}

/* calloc of memory fresh from the kernel: skipped or cleared? */
static int zero(void)
{
    static void *p[2000];
    int nonzero = 0;
    for (int i = 0; i < 2000; i++) {
        unsigned char *c = calloc(1, 1000);
        for (int k = 0; k < 1000; k++) nonzero |= c[k];
        p[i] = c;
    }
    stats();
    printf("calloc_skipped %llu\ncalloc_zeroed %llu\nnonzero %d\n",
           (unsigned long long)st.calloc_skipped_bytes,
           (unsigned long long)st.calloc_zeroed_bytes, nonzero);
    for (int i = 0; i < 2000; i++) free(p[i]);
    return 0;
}

/* SuperSlab and slab geometry as seen from pointers and stats. */
static int geometry(void)
{
    static void *p[10000];
    for (int i = 0; i < 10000; i++) p[i] = malloc(1024);
    stats();
    uintptr_t maxoff = 0;
    for (int i = 0; i < 10000; i++) {
        uintptr_t off = (uintptr_t)p[i] & (st.superslab_size - 1);
        if (off > maxoff) maxoff = off;
    }
    printf("superslab_size %llu\nslab_size %llu\nslabs_1k %llu\nsuperslabs %llu\nmax_offset %llu\n",
           (unsigned long long)st.superslab_size, (unsigned long long)st.slab_size,
           (unsigned long long)st.cls[64].slabs, (unsigned long long)st.superslabs,
           (unsigned long long)maxoff);
    for (int i = 0; i < 10000; i++) free(p[i]);
    return 0;
}

/* How many freed 16-byte blocks stay in the thread cache. */
static int tcache(void)
{
    static void *p[1000];
    for (int i = 0; i < 1000; i++) p[i] = malloc(16);
    for (int i = 0; i < 1000; i++) free(p[i]);
    stats();
    printf("cached_16 %llu\n", (unsigned long long)st.cls[1].blocks_cached);
    return 0;
}

/* Cache bounds: blocks a first malloc of a 1 KiB block leaves cached
 * (a refill's worth, ~4 KiB). */
static int cache_bounds(void)
{
    free(malloc(1024));
    stats();
    printf("refill_cached_1024 %llu\n", (unsigned long long)st.cls[64].blocks_cached);
    return 0;
}

/* Freed blocks before new pages: 600 blocks of 768 B carved by the main
 * thread are freed by another thread (most reach the slabs' remote queues
 * when it exits); once main's cache of the class is empty, its next
 * malloc must reuse one of them rather than carve the slab further. */
static void *free_all(void *vp)
{
    void **p = vp;
    for (int i = 0; i < 600; i++) free(p[i]);
    return NULL;
}

static int remote_first(void)
{
    static void *p[600];
    for (int i = 0; i < 600; i++) p[i] = malloc(768);
    stats();
    unsigned long long c = st.cls[48].blocks_cached;    /* main's, before the other heap's */
    pthread_t t;
    pthread_create(&t, NULL, free_all, p);
    pthread_join(t, NULL);
    for (unsigned long long i = 0; i < c; i++) malloc(768);
    void *q = malloc(768);
    int reused = 0;
    for (int i = 0; i < 600; i++) reused |= p[i] == q;
    printf("remote_reused %d\n", reused);
    return 0;
}

/* Large blocks: faults taken by 4 reuses of a freed 4 MiB block (written
 * whole each time), and RSS before and after a large malloc/free that
 * comes 150 ms after an 8 MiB block was freed (HAKMEM_LARGE_DECAY_MS). */
static int large(void)
{
    size_t sz = 4u << 20;
    char *p = malloc(sz);
    memset(p, 1, sz);
    free(p);
    long f0 = minflt();
    for (int i = 0; i < 4; i++) {
        p = malloc(sz);
        memset(p, 2 + i, sz);
        free(p);
    }
    printf("reuse_faults %ld\n", minflt() - f0);
    hak_trim(0);
    p = malloc(8u << 20);
    memset(p, 3, 8u << 20);
    free(p);
    long r0 = rss_kb();
    usleep(150000);
    free(malloc(1u << 20));
    printf("rss_after_free_kb %ld\nrss_after_decay_kb %ld\n", r0, rss_kb());
    return 0;
}

/* Blocks of 2, 4, 6 and 8 MiB, each written and freed: a new bigger
 * mapping grows the cached one (only the added pages fault), 5,120 faults
 * when each size was mapped anew. */
static int large_step(void)
{
    long f0 = minflt();
    for (size_t mb = 2; mb <= 8; mb += 2) {
        char *p = malloc(mb << 20);
        memset(p, (int)mb, mb << 20);
        free(p);
    }
    printf("step_faults %ld\n", minflt() - f0);
    return 0;
}

/* A resident freed large block while the small heap grows: purged once
 * the heap has carved as many new bytes as the block holds; small churn
 * that carves nothing keeps it. */
static int large_carve(void)
{
    size_t sz = 8u << 20;
    char *p = malloc(sz);
    memset(p, 1, sz);
    free(p);
    stats();
    uint64_t s0 = st.purged_bytes;
    for (int i = 0; i < 100000; i++) {
        char *q = malloc(1000);
        q[0] = (char)i;
        free(q);
    }
    stats();
    uint64_t s1 = st.purged_bytes;
    enum { N = 10000 };
    static char *keep[N];
    for (int i = 0; i < N; i++) { keep[i] = malloc(1000); keep[i][0] = 1; }
    stats();
    printf("purged_by_churn %llu\npurged_by_growth %llu\n", (unsigned long long)(s1 - s0),
           (unsigned long long)(st.purged_bytes - s1));
    for (int i = 0; i < N; i++) free(keep[i]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 || !strcmp(argv[1], "--help")) {
        printf("usage: knob_probe faults|hugepage|purge|zero|geometry|tcache|large|large_carve|large_step|cache_bounds|remote_first|config|table\n");
        return argc == 2 ? 0 : 2;
    }
    const char *s = argv[1];
    if (!strcmp(s, "faults")) return faults();
    if (!strcmp(s, "hugepage")) return hugepage();
    if (!strcmp(s, "purge")) return purge();
    if (!strcmp(s, "zero")) return zero();
    if (!strcmp(s, "geometry")) return geometry();
    if (!strcmp(s, "tcache")) return tcache();
    if (!strcmp(s, "large")) return large();
    if (!strcmp(s, "large_carve")) return large_carve();
    if (!strcmp(s, "large_step")) return large_step();
    if (!strcmp(s, "cache_bounds")) return cache_bounds();
    if (!strcmp(s, "remote_first")) return remote_first();
    if (!strcmp(s, "table")) {
        for (size_t i = 0; i < HAK_NKNOBS; i++) {
            char v[256];
            size_t n = 0;
            hak_knob_values_md(&hak_knobs[i], v, sizeof v, &n);
            printf("| `%s` | %s |\n", hak_knobs[i].name, v);
        }
        return 0;
    }
    if (!strcmp(s, "config")) {
        stats();
        printf("%s\n%s\nstats_knobs %u prefault=%u hugepage=%u zero_always=%u purge=%u tcache=%u delay_ms=%llu\n",
               hak_alloc_config(), hak_alloc_version(), st.knobs_valid, st.knob_prefault,
               st.knob_hugepage, st.knob_zero_always, st.knob_purge, st.knob_tcache,
               (unsigned long long)st.knob_purge_delay_ms);
        return 0;
    }
    fprintf(stderr, "knob_probe: unknown scenario '%s'\n", s);
    return 2;
}
