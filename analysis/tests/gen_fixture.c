/* gen_fixture.c - builds a run-history database with known content through
 * the hakdb API, for the query and CLI tests (analysis/tests/queries.sh and friends).
 *
 * usage: gen_fixture DB TRACE_OUT
 *
 * Content (every figure below is asserted by the tests):
 *  traces  "redis" (hash aaaa...), "python" (bbbb...), and "fixture-prog"
 *          (written to TRACE_OUT with three call sites, then imported).
 *  builds  glibc, hakmem, mimalloc.
 *  labels  v1, v2; 3 repeats each (repeat noise about 1%).
 *  ops_per_s (millions):          v1              v2
 *     redis  glibc              100             100   (noise only)
 *     redis  hakmem             120             100   (real regression, -16.7%)
 *     redis  mimalloc           130             130
 *     python glibc               50              50
 *     python hakmem              60              66   (real improvement, +10%)
 *     python mimalloc            55           crashed (status 'crashed')
 *  minor_faults: glibc 1000, hakmem 800, mimalloc 900 (+-1%).
 *  Knob runs (label "knobs", sweep 1, redis, hakmem, 3 repeats):
 *     env ''                          minor_faults 800  sim.dtlb_misses 5000
 *     HAKMEM_HUGEPAGE=madvise         minor_faults 300  sim.dtlb_misses 1200
 *     HAKMEM_HUGEPAGE=never           minor_faults 820  sim.dtlb_misses 5100
 *  Every run has cycles = NULL ("no PMU") and a 4-sample timeline.
 */
#include "hakdb_import.h"
#include "hakdb.h"
#include "trace.h"

#include <link.h>

int main(int argc, char **argv);
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Call sites the fixture trace attributes its allocations to. */
__attribute__((noinline)) void fixture_parse_request(void) { __asm__ volatile(""); }
__attribute__((noinline)) void fixture_build_response(void) { __asm__ volatile(""); }
__attribute__((noinline)) void fixture_load_config(void) { __asm__ volatile(""); }

static uint64_t exe_base;

static int find_base(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    exe_base = info->dlpi_addr;   /* the first entry is the executable */
    return 1;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "gen_fixture: %s: %s\n", what, why);
    exit(1);
}

static void write_trace(const char *path)
{
    char *argv0 = "fixture-prog";
    hak_trace_meta meta = {0};
    meta.argc = 1;
    meta.argv = &argv0;
    meta.page_size = 4096;
    meta.recorder = "gen_fixture";
    char err[256];
    hak_trace_writer *w = hak_tw_open(path, &meta, err, sizeof err);
    if (!w)
        die(path, err);
    dl_iterate_phdr(find_base, NULL);
    char exe[512];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0)
        die("/proc/self/exe", "unreadable");
    exe[n] = 0;
    hak_module mod = {.path = exe, .base = exe_base, .size = 1 << 24};
    hak_tw_module(w, &mod);
    uint64_t ips[3][2] = {
        {(uint64_t)(uintptr_t)fixture_parse_request, (uint64_t)(uintptr_t)main + 1},
        {(uint64_t)(uintptr_t)fixture_build_response, (uint64_t)(uintptr_t)main + 1},
        {(uint64_t)(uintptr_t)fixture_load_config, (uint64_t)(uintptr_t)main + 1},
    };
    for (int s = 0; s < 3; s++)
        hak_tw_site(w, (uint32_t)s + 1, ips[s], 2);
    hak_event ev[512];
    size_t k = 0;
    uint64_t seq = 0, ts = 1000;
    /* site 1: 100 x 64 B, each freed 500 ns later (short-lived). */
    for (int i = 0; i < 100; i++) {
        uint64_t a = 0x100000 + (uint64_t)i * 0x100;
        ev[k++] = (hak_event){.seq = seq++, .ts_ns = ts, .size = 64, .out_ptr = a, .site = 1, .op = HAK_OP_MALLOC};
        ev[k++] = (hak_event){.seq = seq++, .ts_ns = ts + 500, .in_ptr = a, .site = 1, .op = HAK_OP_FREE};
        ts += 1000;
    }
    /* site 2: 10 x 8 KiB, freed 10 ms later. */
    for (int i = 0; i < 10; i++)
        ev[k++] = (hak_event){.seq = seq++, .ts_ns = ts + (uint64_t)i, .size = 8192,
                              .out_ptr = 0x200000 + (uint64_t)i * 0x4000, .site = 2, .op = HAK_OP_MALLOC};
    ts += 10000000;
    for (int i = 0; i < 10; i++)
        ev[k++] = (hak_event){.seq = seq++, .ts_ns = ts + (uint64_t)i,
                              .in_ptr = 0x200000 + (uint64_t)i * 0x4000, .site = 2, .op = HAK_OP_FREE};
    /* site 3: 2 x 1 MiB, never freed. */
    for (int i = 0; i < 2; i++)
        ev[k++] = (hak_event){.seq = seq++, .ts_ns = ts + 100 + (uint64_t)i, .size = 1 << 20,
                              .out_ptr = 0x10000000 + (uint64_t)i * 0x200000, .site = 3, .op = HAK_OP_MALLOC};
    if (hak_tw_events(w, 0, ev, k) != 0)
        die(path, hak_tw_error(w));
    hak_rss_sample rss[3] = {{0, 1 << 20}, {5000000, 3 << 20}, {ts, 4 << 20}};
    hak_tw_rss(w, rss, 3);
    if (hak_tw_close(w) != 0)
        die(path, "close failed");
}

static hakdb *db;
static int64_t machine, sweep = HAKDB_NULL;

static void add_runs(int64_t trace, int64_t build, const char *label, const char *env,
                     double ops_m, double faults, double dtlb, const char *status)
{
    static const double noise[3] = {0.99, 1.0, 1.01};
    for (int i = 0; i < 3; i++) {
        hakdb_run r;
        hakdb_run_init(&r);
        r.trace_id = trace;
        r.build_id = build;
        r.machine_id = machine;
        r.label = label;
        r.env = env;
        r.threads_mode = "serial";
        r.touch = "pages";
        r.pace = "asap";
        r.repeat_idx = i;
        r.status = status;
        r.sweep_id = strcmp(label, "knobs") ? HAKDB_NULL : sweep;
        r.start_wall_ns = (int64_t)1764000000 * 1000000000 + (int64_t)i * 1000000000;
        hakdb_metric m[2] = {
            {.name = "cycles", .is_null = 1, .unit = "count", .source = "hw", .reason = "no PMU"},
            {.name = "sim.dtlb_misses", .value = dtlb, .unit = "count", .source = "sim"},
        };
        hakdb_sample tl[4] = {{0, 1 << 20, 0}, {1000000, 2 << 20, 1 << 20},
                              {2000000, 3 << 20, 2 << 20}, {3000000, 3 << 20, 1 << 20}};
        if (strcmp(status, "ok") == 0) {
            r.ops = 1000000;
            r.ops_per_s = ops_m * 1e6 * noise[i];
            r.wall_ns = (int64_t)(1e9 * (double)r.ops / r.ops_per_s);
            r.minor_faults = (int64_t)llround(faults * noise[2 - i]);
            r.major_faults = 0;
            r.peak_rss_bytes = (int64_t)(8 << 20) + (int64_t)faults * 4096;
            r.final_rss_bytes = 4 << 20;
            r.metrics = m;
            r.nmetrics = dtlb > 0 ? 2 : 1;
            r.timeline = tl;
            r.ntimeline = 4;
        } else {
            r.error = "killed by SIGSEGV";
        }
        if (hakdb_insert_run(db, &r) < 0)
            die("insert run", hakdb_error(db));
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_fixture DB TRACE_OUT\n");
        return 2;
    }
    char err[600];
    db = hakdb_open(argv[1], err, sizeof err);
    if (!db)
        die(argv[1], err);
    machine = hakdb_upsert_machine(db);
    hakdb_trace tr = {.hash = "aaaaaaaaaaaaaaaa", .path = "redis.hkt", .program = "redis",
                      .events = 2000000, .threads = 1, .duration_ns = 5000000000, .file_bytes = 1 << 20};
    hakdb_trace tp = {.hash = "bbbbbbbbbbbbbbbb", .path = "python.hkt", .program = "python",
                      .events = 1000000, .threads = 1, .duration_ns = 3000000000, .file_bytes = 1 << 19};
    int64_t redis = hakdb_upsert_trace(db, &tr), python = hakdb_upsert_trace(db, &tp);
    hakdb_build bg = {.name = "glibc", .hash = "glibc-2.36"};
    hakdb_build bh = {.name = "hakmem", .path = "build/lib/libhakmem.so", .hash = "hakmemhash", .version = "0.1.0"};
    hakdb_build bm = {.name = "mimalloc", .path = "/usr/lib/libmimalloc.so.2", .hash = "mimallochash"};
    int64_t g = hakdb_upsert_build(db, &bg), h = hakdb_upsert_build(db, &bh), m = hakdb_upsert_build(db, &bm);
    if (redis < 0 || python < 0 || g < 0 || h < 0 || m < 0 || machine < 0)
        die("upsert", hakdb_error(db));
    add_runs(redis, g, "v1", "", 100, 1000, 0, "ok");
    add_runs(redis, h, "v1", "", 120, 800, 0, "ok");
    add_runs(redis, m, "v1", "", 130, 900, 0, "ok");
    add_runs(python, g, "v1", "", 50, 1000, 0, "ok");
    add_runs(python, h, "v1", "", 60, 800, 0, "ok");
    add_runs(python, m, "v1", "", 55, 900, 0, "ok");
    add_runs(redis, g, "v2", "", 100, 1000, 0, "ok");
    add_runs(redis, h, "v2", "", 100, 800, 0, "ok");
    add_runs(redis, m, "v2", "", 130, 900, 0, "ok");
    add_runs(python, g, "v2", "", 50, 1000, 0, "ok");
    add_runs(python, h, "v2", "", 66, 800, 0, "ok");
    add_runs(python, m, "v2", "", 0, 0, 0, "crashed");
    sweep = hakdb_new_sweep(db, "hak sweep redis.hkt --alloc hakmem --grid HAKMEM_HUGEPAGE=never,madvise",
                            "HAKMEM_HUGEPAGE=,never,madvise");
    if (sweep < 0)
        die("new sweep", hakdb_error(db));
    add_runs(redis, h, "knobs", "", 120, 800, 5000, "ok");
    add_runs(redis, h, "knobs", "HAKMEM_HUGEPAGE=madvise", 118, 300, 1200, "ok");
    add_runs(redis, h, "knobs", "HAKMEM_HUGEPAGE=never", 121, 820, 5100, "ok");

    write_trace(argv[2]);
    hakdb_import_opts o = {1000000};
    hakdb_import_result res;
    if (hakdb_import_trace(db, argv[2], &o, &res, err, sizeof err) != 0)
        die("import", err);
    hakdb_close(db);
    return 0;
}
