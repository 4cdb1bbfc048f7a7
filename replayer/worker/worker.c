/* worker.c - `hak-replay-worker`: the child process of one replay run.
 *
 * `hak replay` execs this program once per run, with the allocator under
 * test preloaded the way a user would (LD_PRELOAD), the replay image in an
 * inherited memfd and a shared result page in another.  The worker:
 *   1. checks that malloc really comes from the expected library
 *      (a preload that fails is only a warning from ld.so);
 *   2. maps the image and its own tables (object table, thread states)
 *      from memfds with MAP_POPULATE, opens the perf counters, creates the
 *      replay threads and parks them: all before the window;
 *   3. measures the window: rusage, clocks and counters around the replay
 *      loop only; peak RSS via VmHWM after a clear_refs reset;
 *   4. writes everything into the result page and _exits (the allocator's
 *      exit-time work is not part of the run).
 * Its own memory never comes from malloc after step 1 except what libc does
 * for pthread_create before the window.
 *
 * Usage (internal): hak-replay-worker --image-fd N --result-fd N
 *   [--threads serial|recorded] [--touch none|first|pages|pages:F|all]
 *   [--pace asap|recorded] [--bump] [--expect-lib PATH] [--lat-every K]
 */
#include "worker.h"
#include "hak_util.h"
#include "trace.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "alloc_probe.h"
#include "rss.h"
#include "heap_rss.h"

static rp_wresult *res;

static void fail(int kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (res) {
        vsnprintf(res->error, sizeof res->error, fmt, ap);
        res->fail = kind;
    } else {
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
    va_end(ap);
    _exit(3);
}

static uint64_t tv_ns(struct timeval tv)
{
    return (uint64_t)tv.tv_sec * 1000000000ull + (uint64_t)tv.tv_usec * 1000ull;
}

/* A harness table: shared memory from a memfd, populated now, so it is
 * resident before the window and counted as shared, not anonymous, RSS. */
static void *harness_map(const char *name, uint64_t bytes)
{
    if (bytes == 0)
        bytes = 64;
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)bytes) != 0)
        fail(RP_FAIL_ERROR, "memfd for %s (%llu bytes): %s", name,
             (unsigned long long)bytes, strerror(errno));
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        fail(RP_FAIL_ERROR, "mmap %s (%llu bytes): %s", name,
             (unsigned long long)bytes, strerror(errno));
    return p;
}

static int parse_choice(const char *v, const char *const *names, int n, const char *opt)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v, names[i]))
            return i;
    fail(RP_FAIL_ERROR, "worker: bad %s '%s'", opt, v);
    return -1;
}

static void check_allocator(const char *expect)
{
    void *m = dlsym(RTLD_DEFAULT, "malloc");
    Dl_info di;
    char have[PATH_MAX] = "?", want[PATH_MAX];
    if (m && dladdr(m, &di) && di.dli_fname) {
        if (!realpath(di.dli_fname, have))
            snprintf(have, sizeof have, "%s", di.dli_fname);
    }
    /* A longer path is cut: malloc_from is for display. */
    snprintf(res->malloc_from, sizeof res->malloc_from, "%.*s", (int)sizeof res->malloc_from - 1, have);
    if (!expect)
        return;
    if (!realpath(expect, want))
        fail(RP_FAIL_LOAD, "%s: %s", expect, strerror(errno));
    if (strcmp(have, want) != 0)
        fail(RP_FAIL_LOAD, "malloc comes from %s, not %s (the preload did not take)", have, want);
}

static const rp_image_hdr *map_image(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(rp_image_hdr))
        fail(RP_FAIL_ERROR, "worker: image fd %d unusable", fd);
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
    if (p == MAP_FAILED)
        fail(RP_FAIL_ERROR, "worker: mmap image: %s", strerror(errno));
    const rp_image_hdr *h = p;
    if (h->magic != RP_IMG_MAGIC || h->total_bytes != (uint64_t)st.st_size)
        fail(RP_FAIL_ERROR, "worker: image fd %d: bad magic or size", fd);
    return h;
}

/* --min-time: which objects are still live after one pass (1: from the
 * malloc family, 2: mmap), so the next pass starts from an empty heap
 * like the program did.  Computed before the window. */
static uint8_t *live_at_end(const rp_wctx *w)
{
    const rp_image_hdr *img = w->img;
    uint8_t *live = harness_map("hak-replay-live", img->nobjects ? img->nobjects : 1);
    /* Each object is created once and consumed at most once, so this is
     * independent of the order the ops are stored in (grouped by thread
     * for --threads recorded, where a free may be stored before its
     * allocation): created ones first, then the consumed ones cleared. */
    for (uint64_t i = 0; i < img->nops; i++) {
        const rp_wop *o = &w->ops[i];
        if (o->obj != RP_NO_OBJ)
            live[o->obj] = o->op == HAK_OP_MMAP || o->op == HAK_OP_MREMAP ? 2 : 1;
    }
    for (uint64_t i = 0; i < img->nops; i++) {
        const rp_wop *o = &w->ops[i];
        if (o->in_obj != RP_NO_OBJ)
            switch (o->op) {
            case HAK_OP_FREE: case HAK_OP_REALLOC: case HAK_OP_REALLOCARRAY:
            case HAK_OP_MUNMAP: case HAK_OP_MREMAP:
                live[o->in_obj] = 0;
                break;
            default:
                break;
            }
    }
    return live;
}

/* Frees what one pass left live (the trace's leaks); not timed. */
static void release_live(rp_wctx *w, const uint8_t *live)
{
    for (uint64_t k = 0; k < w->img->nobjects; k++) {
        void *p = w->tbl[k];
        if (!live[k] || !p)
            continue;
        if (live[k] == 2)
            munmap(p, w->obj_size[k]);
        else
            free(p);
        w->tbl[k] = NULL;
    }
}

/* Recorded mode: one replay thread per recorded thread, each waiting for
 * w->start (created before the window: thread creation is not timed). */
static void start_threads(rp_wctx *w, pthread_t *threads, uint32_t nth)
{
    for (uint32_t t = 0; t < nth; t++) {
        int e = pthread_create(&threads[t], NULL, rp_run_thread, &w->ts_arr[t]);
        if (e)
            fail(RP_FAIL_ERROR, "worker: pthread_create (thread %u of %u): %s",
                 t, nth, strerror(e));
    }
}

/* Recorded mode: lets the threads go and waits until all are done. */
static void run_recorded_pass(rp_wctx *w, uint32_t nth)
{
    __atomic_store_n(&w->start, 1, __ATOMIC_RELEASE);
    syscall(SYS_futex, &w->start, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    uint32_t d;
    while ((d = __atomic_load_n(&w->done, __ATOMIC_ACQUIRE)) < nth)
        syscall(SYS_futex, &w->done, FUTEX_WAIT_PRIVATE, d, NULL, NULL, 0);
}

/* Recorded mode: the timeline's first and last samples, taken before any
 * thread starts and after every thread is done.  The sampler thread's own
 * samples start at its first op and end at its last, while the others may
 * already, or still, be running: mt_churn's replays began their timeline
 * with 9.8 MiB already live (the growth fidelity measures started 1.7 MiB
 * high, the whole curve 2-3 MiB under the recording's) and ended it with
 * 51 MiB live where the program ended with none (the main thread's frees
 * after its joins). */
static void edge_sample(rp_wctx *w, uint32_t nth, int end)
{
    if (w->no_samples)
        return;
    int64_t live = 0;
    for (uint32_t t = 0; end && t < nth; t++)
        live += w->ts_arr[t].live;
    rp_take_sample(w, live + (int64_t)w->pre_bytes, end ? (int64_t)w->img->nops : 0);
}

/* ---- the command line (run by hak replay: replay/run.c) ----------------- */

typedef struct worker_args {
    int image_fd, result_fd, recorded, pace, bump;
    hak_touch touch;
    unsigned touch_part;         /* touch.h: pages over a part of each block */
    int calloc_first;            /* --calloc-touch first */
    const char *expect;          /* the library malloc must come from */
    uint64_t lat_every, min_time_ns;
    double pace_scale;           /* recorded gaps times this (--pace recorded) */
} worker_args;

static void parse_args(int argc, char **argv, worker_args *a)
{
    static const char *const mode_names[] = {"serial", "recorded"};
    static const char *const pace_names[] = {"asap", "recorded"};
    *a = (worker_args){.image_fd = -1, .result_fd = -1, .touch = HAK_TOUCH_PAGES,
                       .lat_every = 64, .pace_scale = 1};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--bump")) { a->bump = 1; continue; }
        if (!v)
            fail(RP_FAIL_ERROR, "worker: %s needs a value", o);
        i++;
        if (!strcmp(o, "--image-fd")) a->image_fd = atoi(v);
        else if (!strcmp(o, "--result-fd")) a->result_fd = atoi(v);
        else if (!strcmp(o, "--touch")) {
            if (hak_touch_parse_part(v, &a->touch, &a->touch_part))
                fail(RP_FAIL_ERROR, "worker: --touch %s: expected " HAK_TOUCH_CHOICES
                     " or pages:F", v);
        }
        else if (!strcmp(o, "--calloc-touch")) {
            static const char *const ct_names[] = {"same", "first"};
            a->calloc_first = parse_choice(v, ct_names, 2, o);
        }
        else if (!strcmp(o, "--threads")) a->recorded = parse_choice(v, mode_names, 2, o);
        else if (!strcmp(o, "--pace")) a->pace = parse_choice(v, pace_names, 2, o);
        else if (!strcmp(o, "--pace-scale")) {
            char *end;
            a->pace_scale = strtod(v, &end);
            if (*end || !(a->pace_scale > 0 && a->pace_scale <= 1000))
                fail(RP_FAIL_ERROR, "worker: --pace-scale %s: expected a factor above 0, at most 1000", v);
        }
        else if (!strcmp(o, "--expect-lib")) a->expect = v;
        else if (!strcmp(o, "--lat-every")) a->lat_every = strtoull(v, NULL, 10);
        else if (!strcmp(o, "--min-time-ns")) a->min_time_ns = strtoull(v, NULL, 10);
        else fail(RP_FAIL_ERROR, "worker: unknown option %s", o);
    }
    if (a->result_fd < 0 || a->image_fd < 0)
        fail(RP_FAIL_ERROR, "worker: needs --image-fd and --result-fd (run by 'hak replay')");
}

/* Maps the result page the parent reads (res). */
static void map_result(int result_fd)
{
    void *rp = mmap(NULL, sizeof(rp_wresult), PROT_READ | PROT_WRITE, MAP_SHARED, result_fd, 0);
    if (rp == MAP_FAILED)
        fail(RP_FAIL_ERROR, "worker: mmap result: %s", strerror(errno));
    res = rp;
    if (res->magic != RP_RES_MAGIC)
        fail(RP_FAIL_ERROR, "worker: result page has a bad magic");
    close(result_fd);
    res->phase = RP_PH_MAIN;
}

/* ---- preparation: everything the loop touches, faulted in now ---------- */

/* Fills w from the image and the arguments; returns the replay's threads. */
static uint32_t prepare(const worker_args *a, rp_wctx *w)
{
    const rp_image_hdr *img = map_image(a->image_fd);
    close(a->image_fd);
    if (a->recorded == (int)(img->flags & RP_IMG_SERIAL))
        fail(RP_FAIL_ERROR, "worker: image was built for the other threads mode");
    if (a->pace && !(img->flags & RP_IMG_HAS_TS))
        fail(RP_FAIL_ERROR, "worker: --pace recorded needs timestamps in the image");
    rp_wctx_global = w;
    w->img = img;
    w->ops = RP_AT(img, img->ops_off, const rp_wop);
    w->deps = RP_AT(img, img->deps_off, const rp_wdep);
    w->obj_size = RP_AT(img, img->obj_size_off, const uint64_t);
    w->big = RP_AT(img, img->big_off, const rp_wbig);
    w->sched = RP_AT(img, img->sched_off, const rp_wsched);
    w->ts = a->pace ? RP_AT(img, img->ts_off, const uint64_t) : NULL;
    w->touch = a->touch;
    w->touch_part = a->touch_part;
    w->calloc_first = a->calloc_first;
    w->bump = a->bump;
    w->pace = a->pace;
    w->pace_scale = a->pace_scale;
    w->serial = !a->recorded;
    w->lat_every = a->lat_every;
    w->res = res;
    w->tbl = harness_map("hak-replay-objects", img->nobjects * sizeof(void *));
    uint32_t nth = a->recorded ? img->nthreads : 1;
    w->ts_arr = harness_map("hak-replay-threads", nth * sizeof(rp_tstate));
    for (uint32_t t = 0; t < nth; t++) {
        w->ts_arr[t].tid = t;
        w->ts_arr[t].wake_at = UINT32_MAX;
        if (a->bump) {
            /* A small ring (cache-resident for small requests), faulted in
             * now: bump measures the harness, not the memory system.  It
             * holds the largest request four times over. */
            uint64_t cap = 256ull << 10;
            while (cap < 4 * img->max_size + 4096)
                cap *= 2;
            void *b = mmap(NULL, cap, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_POPULATE, -1, 0);
            if (b == MAP_FAILED)
                fail(RP_FAIL_ERROR, "worker: bump arena of %llu bytes: %s",
                     (unsigned long long)cap, strerror(errno));
            w->ts_arr[t].bump = (rp_bump){b, cap, 0};
        }
    }
    return nth;
}

/* The statm reader and the timer's own cost, measured before the window. */
static void prepare_measuring(rp_wctx *w)
{
    w->statm_fd = rp_rss_open();
    if (w->statm_fd < 0)
        fail(RP_FAIL_ERROR, "worker: /proc/self/statm: %s", strerror(errno));
    /* Timer overhead: the cheapest back-to-back reading, removed from samples. */
    uint64_t ovh = UINT64_MAX;
    for (int i = 0; i < 2000; i++) {
        uint64_t t0 = rp_ticks(), t1 = rp_ticks();
        if (t1 - t0 < ovh) ovh = t1 - t0;
    }
    w->timer_overhead = ovh;
}

/* ---- the measured window ------------------------------------------------ */

/* What the window measured, read at its two ends. */
typedef struct window {
    hak_heap_rss h0, h1;
    int heap_ok, clear_err;
    uint64_t rss0, shared0, rss1, shared1;
    struct rusage ru0, ru1, ru_first;   /* ru_first: after the first pass */
    uint64_t tick0, tick1, t1;
    int64_t hwm;
    int ends_read;                      /* hwm, rss1, h1 taken after the first pass */
    uint64_t passes, paused_ns;
    uint64_t waits, sleeps;             /* the first pass's, recorded threads */
} window;

/* Memory figures (peak and final RSS, the heap) and the perf counters are
 * the first pass's, like the faults: a later pass replays on a heap the
 * earlier passes shaped (an allocator that keeps what a pass freed peaks
 * higher with every pass), and how many passes fit in --min-time depends on
 * the allocator's and the machine's speed, so whole-window figures would
 * answer neither "how much does the program hold" nor the same thing twice.
 * Read before the second pass starts, inside its untimed pause; a single
 * pass is read at the window's end as before. */
static void read_memory_ends(rp_wctx *w, window *m)
{
    /* The perf counters too: stopped here, read when the worker ends (their
     * threads' counts fold in at the join); threads of later passes inherit
     * them stopped.  A faster allocator fits more passes in --min-time, so a
     * whole-window page-faults count ranked it worse for being fast. */
    rp_counters_disable(&res->counters);
    m->hwm = rp_status_kb_field("VmHWM");
    rp_rss_read(w->statm_fd, &m->rss1, &m->shared1);
    m->heap_ok = m->heap_ok && hak_heap_rss_read(0, &m->h1) == 0;
    m->ends_read = 1;
}

/* Runs the replay between the window's two readings: one pass, then more
 * (untimed restarts in between) until min_time_ns when repeat_passes. */
static void measure(rp_wctx *w, uint32_t nth, int recorded, int repeat_passes,
                    uint64_t min_time_ns, uint8_t *live, pthread_t *threads, window *m)
{
    m->heap_ok = hak_heap_rss_read(0, &m->h0) == 0;
    rp_rss_read(w->statm_fd, &m->rss0, &m->shared0);
    w->harness_shared = m->shared0;
    m->clear_err = rp_rss_reset_peak();
    getrusage(RUSAGE_SELF, &m->ru0);
    res->phase = RP_PH_WINDOW;
    rp_counters_enable(&res->counters);
    m->tick0 = rp_ticks();
    w->t0_ns = hak_mono_ns();
    uint64_t passes = 1, paused_ns = 0;
    if (!recorded) {
        rp_run_serial(w);
        getrusage(RUSAGE_SELF, &m->ru_first);
        w->no_samples = 1;
        while (repeat_passes && hak_mono_ns() - w->t0_ns - paused_ns < min_time_ns && passes < 1000000) {
            uint64_t p0 = hak_mono_ns();
            if (!m->ends_read)
                read_memory_ends(w, m);
            if (live) {
                release_live(w, live);
                rp_prologue(w);       /* the pass freed them: again */
            }
            paused_ns += hak_mono_ns() - p0;
            rp_run_serial(w);
            passes++;
        }
    } else {
        edge_sample(w, nth, 0);
        run_recorded_pass(w, nth);
        edge_sample(w, nth, 1);
        getrusage(RUSAGE_SELF, &m->ru_first);
        for (uint32_t t = 0; t < nth; t++) {     /* the threads are done with them */
            m->waits += __atomic_load_n(&w->ts_arr[t].waits, __ATOMIC_ACQUIRE);
            m->sleeps += __atomic_load_n(&w->ts_arr[t].slept_waits, __ATOMIC_ACQUIRE);
        }
        while (repeat_passes && hak_mono_ns() - w->t0_ns - paused_ns < min_time_ns && passes < 1000000) {
            /* untimed: joining, freeing what the pass left live, and new
             * threads (a pass's dependencies count each thread's ops from 0) */
            uint64_t p0 = hak_mono_ns();
            if (!m->ends_read)
                read_memory_ends(w, m);
            w->no_samples = 1;
            for (uint32_t t = 0; t < nth; t++)
                pthread_join(threads[t], NULL);
            if (live) {
                release_live(w, live);
                rp_prologue(w);
            }
            for (uint32_t t = 0; t < nth; t++) {
                w->ts_arr[t].progress = 0;
                w->ts_arr[t].wake_at = UINT32_MAX;
                w->ts_arr[t].live = 0;
            }
            w->done = 0;
            w->start = 0;
            start_threads(w, threads, nth);
            paused_ns += hak_mono_ns() - p0;
            run_recorded_pass(w, nth);
            passes++;
        }
    }
    m->t1 = hak_mono_ns();
    m->tick1 = rp_ticks();
    rp_counters_disable(&res->counters);
    getrusage(RUSAGE_SELF, &m->ru1);
    /* ---- end of window ---- */
    if (!m->ends_read)
        read_memory_ends(w, m);
    m->passes = passes;
    m->paused_ns = paused_ns;
}

/* ---- the result page the parent reads ----------------------------------- */

static void report(rp_wctx *w, uint32_t nth, int recorded, const window *m)
{
    res->heap_offset = res->heap_start = res->heap_final = -1;
    if (m->heap_ok) {
        int64_t anon0 = (int64_t)m->rss0 - (int64_t)m->shared0;
        res->heap_start = (int64_t)hak_heap_rss_bytes(&m->h0);
        res->heap_offset = anon0 > res->heap_start ? anon0 - res->heap_start : 0;
        res->heap_final = (int64_t)hak_heap_rss_bytes(&m->h1);
    }
    res->wall_ns = m->t1 - w->t0_ns - m->paused_ns;
    res->passes = m->passes;
    res->recorded = (uint32_t)recorded;
    res->waits = m->waits;
    res->sleeps = m->sleeps;
    res->user_ns = tv_ns(m->ru1.ru_utime) - tv_ns(m->ru0.ru_utime);
    res->sys_ns = tv_ns(m->ru1.ru_stime) - tv_ns(m->ru0.ru_stime);
    res->minflt = (uint64_t)(m->ru_first.ru_minflt - m->ru0.ru_minflt);
    res->majflt = (uint64_t)(m->ru_first.ru_majflt - m->ru0.ru_majflt);
    res->nvcsw = (uint64_t)(m->ru_first.ru_nvcsw - m->ru0.ru_nvcsw);
    res->nivcsw = (uint64_t)(m->ru_first.ru_nivcsw - m->ru0.ru_nivcsw);
    res->harness_rss = (int64_t)m->shared0;
    res->vmhwm_raw = m->hwm;
    res->final_rss = m->rss1 > m->shared1 ? (int64_t)(m->rss1 - m->shared1) : 0;
    if (m->hwm < 0) {
        res->peak_rss = -1;
        snprintf(res->peak_note, sizeof res->peak_note, "VmHWM not in /proc/self/status");
    } else {
        res->peak_rss = m->hwm > (int64_t)m->shared0 ? m->hwm - (int64_t)m->shared0 : 0;
        if (m->clear_err)
            snprintf(res->peak_note, sizeof res->peak_note,
                     "clear_refs: %s; peak covers the whole worker, not just the window",
                     rp_errno_name(m->clear_err));
        else
            snprintf(res->peak_note, sizeof res->peak_note,
                     "VmHWM reset by clear_refs at the window start, minus harness shared memory");
    }
    uint64_t ops = 0;
    for (uint32_t t = 0; t < nth; t++) {
        ops += w->ts_arr[t].ops_done;
        for (unsigned b = 0; b < RP_LAT_BUCKETS; b++)
            res->lat[b] += w->ts_arr[t].lat[b];
        res->lat_nsamples += w->ts_arr[t].lat_n;
    }
    res->ops = ops;
    if (!recorded) {
        /* Addresses only repeat with randomisation off (the parent asked
         * for it; a seccomp policy may have refused): no digest otherwise. */
        int pers = personality(0xffffffff);
        res->has_digest = pers != -1 && (pers & ADDR_NO_RANDOMIZE) ? 1 : 0;
        res->digest = w->ts_arr[0].digest;
    }
    res->ns_per_tick = RP_TICKS_ARE_TSC && m->tick1 > m->tick0
        ? (double)(m->t1 - w->t0_ns) / (double)(m->tick1 - m->tick0) : 1.0;
}

int main(int argc, char **argv)
{
    /* Process start-up alone, for `hak validate`: an empty program that
     * calls the allocator once (its first-call set-up), run under each
     * allocator to take start-up out of the live figures (validate_cli.c). */
    if (argc == 2 && !strcmp(argv[1], "--startup")) {
        void *volatile p = malloc(1);
        free(p);
        return 0;
    }
    worker_args a;
    parse_args(argc, argv, &a);
    map_result(a.result_fd);
    check_allocator(a.expect);
    /* The allocator's first-call set-up (arenas, thread caches) happens
     * here, before the window: start-up is no part of what a replay
     * measures, and `hak validate` leaves it out of the live runs too. */
    {
        void *volatile p = malloc(1);
        free(p);
    }

    static rp_wctx ctx;
    rp_wctx *w = &ctx;
    uint32_t nth = prepare(&a, w);
    /* Repeated passes: unpaced (serial, or recorded threads started again
     * for each pass), malloc family (the bump ring needs no cleanup but
     * its figures are the harness's anyway). */
    int repeat_passes = a.min_time_ns && !a.pace;
    uint8_t *live = repeat_passes && !a.bump ? live_at_end(w) : NULL;
    prepare_measuring(w);
    rp_counters_open(&res->counters, NULL);

    /* A window's trace starts on a heap it did not build: its blocks are
     * allocated now, outside the window (image.h, pre[]). */
    const uint32_t *pre = RP_AT(w->img, w->img->pre_off, const uint32_t);
    for (uint64_t i = 0; i < w->img->npre; i++)
        w->pre_bytes += w->obj_size[pre[i]];
    rp_prologue(w);

    pthread_t *threads = NULL;
    if (a.recorded) {
        const rp_wthread *th = RP_AT(w->img, w->img->thread_off, const rp_wthread);
        uint64_t most = 0;
        for (uint32_t t = 0; t < nth; t++)
            if (th[t].nops > most) { most = th[t].nops; w->sampler_tid = t; }
        /* ~256 samples; each reads statm (~1 us), so at least 4096 ops apart */
        w->sample_every = most / 256 > 4096 ? most / 256 : 4096;
        threads = harness_map("hak-replay-pthreads", nth * sizeof(pthread_t));
        start_threads(w, threads, nth);
    }
    res->phase = RP_PH_READY;

    window m;
    memset(&m, 0, sizeof m);
    measure(w, nth, a.recorded, repeat_passes, a.min_time_ns, live, threads, &m);
    for (uint32_t t = 0; a.recorded && t < nth; t++)
        pthread_join(threads[t], NULL);
    rp_counters_read_close(&res->counters);
    report(w, nth, a.recorded, &m);
    rp_alloc_probe(res);
    res->phase = RP_PH_DONE;
    _exit(0);
}
