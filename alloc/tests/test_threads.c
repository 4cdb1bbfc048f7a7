/* Multi-threaded tests: a stress test with cross-thread frees and content
 * checks (2..16 threads), thread exit handing the heap over (parked for the
 * next thread, or dissolved: caches returned, SuperSlabs abandoned and
 * adopted), fork from a multi-threaded parent, and another thread's
 * small blocks kept apart from the freeing thread's (false sharing). */
#include "alloc_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- stress: every thread allocates, hands blocks to the next thread
 * through a lock-protected mailbox, and frees what it receives after
 * checking the content written by the allocating thread. ---- */
enum { MAILBOX = 256 };
typedef struct mailbox {
    pthread_mutex_t mu;
    void *item[MAILBOX];
    size_t len[MAILBOX];
    int n;
} mailbox;

typedef struct stress_arg {
    int id, nthreads, iters;
    mailbox *boxes;
    atomic_int *bad;
} stress_arg;

static void check_and_free(void *p, size_t n, atomic_int *bad)
{
    uint64_t seed = (uint64_t)(uintptr_t)p ^ n;
    if (!pat_check(p, n, seed)) atomic_fetch_add(bad, 1);
    hak_free(p);
}

static void *stress_thread(void *vp)
{
    stress_arg *a = vp;
    uint64_t r = 0x9E3779B97F4A7C15ull * (uint64_t)(a->id + 1);
    enum { LOCAL = 512 };
    void *local[LOCAL] = {0};
    size_t llen[LOCAL] = {0};
    mailbox *out = &a->boxes[(a->id + 1) % a->nthreads];
    mailbox *in = &a->boxes[a->id];
    for (int it = 0; it < a->iters; it++) {
        unsigned sh = (unsigned)(rng_next(&r) % 12);
        size_t n = rng_next(&r) % ((size_t)16 << sh) + 1;
        if (rng_next(&r) % 64 == 0) n = 300000 + rng_next(&r) % 100000;   /* some large */
        void *p = hak_malloc(n);
        if (!p) { atomic_fetch_add(a->bad, 1); continue; }
        pat_fill(p, n, (uint64_t)(uintptr_t)p ^ n);
        if (rng_next(&r) % 2) {          /* keep locally for a while */
            int k = (int)(rng_next(&r) % LOCAL);
            if (local[k]) check_and_free(local[k], llen[k], a->bad);
            local[k] = p;
            llen[k] = n;
        } else {                          /* send to the next thread */
            pthread_mutex_lock(&out->mu);
            if (out->n < MAILBOX) {
                out->item[out->n] = p;
                out->len[out->n++] = n;
                p = NULL;
            }
            pthread_mutex_unlock(&out->mu);
            if (p) check_and_free(p, n, a->bad);
        }
        if (it % 16 == 0) {               /* drain what others sent us */
            void *got[MAILBOX];
            size_t glen[MAILBOX];
            pthread_mutex_lock(&in->mu);
            int m = in->n;
            memcpy(got, in->item, (size_t)m * sizeof *got);
            memcpy(glen, in->len, (size_t)m * sizeof *glen);
            in->n = 0;
            pthread_mutex_unlock(&in->mu);
            for (int i = 0; i < m; i++) check_and_free(got[i], glen[i], a->bad);
        }
    }
    for (int k = 0; k < LOCAL; k++)
        if (local[k]) check_and_free(local[k], llen[k], a->bad);
    return NULL;
}

static void run_stress(int nthreads, int iters)
{
    mailbox boxes[16];
    pthread_t tid[16];
    stress_arg args[16];
    atomic_int bad = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_mutex_init(&boxes[i].mu, NULL);
        boxes[i].n = 0;
    }
    for (int i = 0; i < nthreads; i++) {
        args[i] = (stress_arg){i, nthreads, iters, boxes, &bad};
        assert_int_equal(pthread_create(&tid[i], NULL, stress_thread, &args[i]), 0);
    }
    for (int i = 0; i < nthreads; i++) pthread_join(tid[i], NULL);
    for (int i = 0; i < nthreads; i++)
        for (int k = 0; k < boxes[i].n; k++) check_and_free(boxes[i].item[k], boxes[i].len[k], &bad);
    assert_int_equal(atomic_load(&bad), 0);
}

static void stress_2(void **s)  { (void)s; run_stress(2, 30000 / SCALE); }
static void stress_4(void **s)  { (void)s; run_stress(4, 15000 / SCALE); }
static void stress_8(void **s)  { (void)s; run_stress(8, 8000 / SCALE); }
static void stress_16(void **s) { (void)s; run_stress(16, 4000 / SCALE); }

static void stress_cross_thread_frees_counted(void **s)
{
    (void)s;
    struct hak_alloc_stats a, b;
    stats_now(&a);
    run_stress(4, 10000 / SCALE);
    stats_now(&b);
    assert_true(b.remote_frees > a.remote_frees);
    assert_true(b.thread_exits >= a.thread_exits + 4);
}

/* ---- false sharing: a block smaller than a cache line that another
 * thread frees in free()'s slow path (here: a new thread's first free,
 * no parked heap to adopt) goes home; the freeing thread's next blocks
 * never share a cache line with the owner's live blocks (the owner keeps
 * writing those).  A thread whose cache is warm still caches it: free()'s
 * fast path has no owner test (alloc/README.md, Ownership). */
enum { FS_OWNED = 32, FS_TAKEN = 256 };
typedef struct fs_arg { void **owned; size_t size; int bad; } fs_arg;

static void *free_one_then_alloc(void *vp)
{
    fs_arg *a = vp;
    hak_free(a->owned[FS_OWNED / 2]);          /* the owner's block, freed here */
    void *mine[FS_TAKEN];
    for (int i = 0; i < FS_TAKEN; i++) {
        mine[i] = hak_malloc(a->size);
        uintptr_t line = (uintptr_t)mine[i] / 64;
        for (int k = 0; k < FS_OWNED; k++) {
            if (k == FS_OWNED / 2) continue;
            uintptr_t o = (uintptr_t)a->owned[k];
            if (line == o / 64 || line == (o + a->size - 1) / 64) a->bad++;
        }
    }
    for (int i = 0; i < FS_TAKEN; i++) hak_free(mine[i]);
    return NULL;
}

static void foreign_small_block_first_free_goes_home(void **s)
{
    (void)s;
    static const size_t sizes[] = {8, 16, 24, 40, 48};
    for (unsigned z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        void *owned[FS_OWNED];
        /* Empty caches (ours held other threads' blocks from earlier tests)
         * and no parked heap: the new thread starts with a fresh one. */
        hak_trim(0);
        for (int k = 0; k < FS_OWNED; k++) owned[k] = hak_malloc(sizes[z]);
        fs_arg a = {owned, sizes[z], 0};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, free_one_then_alloc, &a), 0);
        pthread_join(t, NULL);
        if (a.bad) fprintf(stderr, "size %zu: %d blocks share a line with the owner's\n", sizes[z], a.bad);
        assert_int_equal(a.bad, 0);
        for (int k = 0; k < FS_OWNED; k++) if (k != FS_OWNED / 2) hak_free(owned[k]);
    }
}

/* ---- thread exit ---- */
typedef struct keep_arg { void **ptrs; int n; size_t size; } keep_arg;

static void *alloc_and_keep(void *vp)
{
    keep_arg *k = vp;
    for (int i = 0; i < k->n; i++) {
        k->ptrs[i] = hak_malloc(k->size);
        pat_fill(k->ptrs[i], k->size, (uint64_t)i);
    }
    return NULL;
}

static void *alloc_and_free(void *vp)
{
    keep_arg *k = vp;
    for (int i = 0; i < k->n; i++) k->ptrs[i] = hak_malloc(k->size);
    for (int i = 0; i < k->n; i++) hak_free(k->ptrs[i]);
    return NULL;
}

static int ptr_cmp(const void *x, const void *y)
{
    uintptr_t a = (uintptr_t)*(void *const *)x, b = (uintptr_t)*(void *const *)y;
    return (a > b) - (a < b);
}

static void thread_exit_returns_caches(void **s)
{
    (void)s;
    enum { N = 3000 };
    static void *ptrs[N];
    struct hak_alloc_stats a, b;
    hak_trim(0);        /* no parked heap from the tests before */
    stats_now(&a);
    assert_int_equal(a.heaps_parked, 0);
    /* A thread that frees everything parks its heap with its cache cut to
     * a quarter of its capacity (48 B: cap 256, so at most 64 blocks). */
    keep_arg k = {ptrs, N, 48};
    pthread_t t;
    pthread_create(&t, NULL, alloc_and_free, &k);
    pthread_join(t, NULL);
    stats_now(&b);
    assert_int_equal(b.thread_exits, a.thread_exits + 1);
    assert_int_equal(b.threads, a.threads);
    assert_int_equal(b.heaps_parked, 1);
    unsigned cls = 3;   /* 48 bytes */
    assert_true(b.cls[cls].blocks_cached <= a.cls[cls].blocks_cached + 64);
    /* malloc_trim dissolves it: the cache goes back to the slabs. */
    hak_trim(0);
    stats_now(&b);
    assert_int_equal(b.heaps_parked, 0);
    assert_int_equal(b.cls[cls].blocks_cached, 0);
    /* <=: the heap may also have drained earlier remote frees */
    assert_true(b.cls[cls].blocks_used <= a.cls[cls].blocks_used);

    /* A thread that exits holding blocks parks its heap; the main thread
     * frees the blocks (remote frees onto the parked heap's slabs); the
     * next thread takes the whole heap over and reuses them: no new
     * SuperSlab. */
    k.size = 4000;
    pthread_create(&t, NULL, alloc_and_keep, &k);
    pthread_join(t, NULL);
    for (int i = 0; i < N; i++) {
        assert_true(pat_check(ptrs[i], 4000, (uint64_t)i));
        hak_free(ptrs[i]);
    }
    {   /* main's cache to the remote queues, without malloc_trim (which
         * would dissolve the parked heap) */
        static void *fill[300];
        for (int i = 0; i < 300; i++) fill[i] = hak_malloc(4000);
        for (int i = 0; i < 300; i++) hak_free(fill[i]);
    }
    stats_now(&a);
    assert_int_equal(a.heaps_parked, 1);
    static void *old[N];
    memcpy(old, ptrs, sizeof old);
    pthread_create(&t, NULL, alloc_and_free, &k);
    pthread_join(t, NULL);
    stats_now(&b);
    assert_int_equal(b.heaps_adopted, a.heaps_adopted + 1);
    /* Every block the new thread could reach came back: all but those
     * still in a thread cache (main's, which the new thread cannot take).
     * Counted by address, not as "no new SuperSlab": the blocks main
     * caches (~30) must come from free units of the heap's SuperSlabs,
     * and whether any are left depends on what earlier tests' threads
     * (their races) left in the SuperSlabs this heap adopted: under load
     * 1 run in 5 mapped one more with every reachable block reused. */
    unsigned big = 1;
    while (big + 1 < a.nclass && a.cls[big].block_size < 4000) big++;
    qsort(old, N, sizeof *old, ptr_cmp);
    int reused = 0;
    for (int i = 0; i < N; i++)
        if (bsearch(&ptrs[i], old, N, sizeof *old, ptr_cmp)) reused++;
    assert_true((uint64_t)reused + a.cls[big].blocks_cached >= N);

    /* A parked heap dissolved while its blocks are live abandons its
     * SuperSlabs; the main thread frees the blocks, a new thread adopts
     * the SuperSlabs. */
    pthread_create(&t, NULL, alloc_and_keep, &k);
    pthread_join(t, NULL);
    hak_trim(0);
    stats_now(&b);
    assert_int_equal(b.heaps_parked, 0);
    assert_true(b.superslabs_abandoned >= 1);
    for (int i = 0; i < N; i++) {
        assert_true(pat_check(ptrs[i], 4000, (uint64_t)i));
        hak_free(ptrs[i]);
    }
    hak_trim(0);    /* flush main's cache: the blocks go to the remote queues */
    uint64_t abandoned_before = b.superslabs_abandoned;
    pthread_create(&t, NULL, alloc_and_free, &k);
    pthread_join(t, NULL);
    stats_now(&b);
    assert_true(b.adopted >= 1);
    /* Not necessarily 0: glibc keeps small blocks (a dead thread's DTV in
     * its stack cache) alive in some abandoned SuperSlabs. */
    assert_true(b.superslabs_abandoned < abandoned_before);
}

/* Threads that exit together park at most 4 heaps; the rest hand their
 * memory back the old way, and nothing is lost either way. */
static pthread_barrier_t park_barrier;
static void *alloc_wait_free(void *vp)
{
    keep_arg *k = vp;
    for (int i = 0; i < k->n; i++) { k->ptrs[i] = hak_malloc(k->size); pat_fill(k->ptrs[i], k->size, (uint64_t)i); }
    pthread_barrier_wait(&park_barrier);
    for (int i = 0; i < k->n; i++) hak_free(k->ptrs[i]);
    return NULL;
}

static void parked_heaps_are_bounded(void **s)
{
    (void)s;
    enum { T = 10, N = 200 };
    static void *ptrs[T][N];
    keep_arg k[T];
    pthread_t t[T];
    hak_trim(0);
    struct hak_alloc_stats a, b;
    stats_now(&a);
    pthread_barrier_init(&park_barrier, NULL, T);
    for (int i = 0; i < T; i++) {
        k[i] = (keep_arg){ptrs[i], N, (size_t)(16 + 40 * i)};
        pthread_create(&t[i], NULL, alloc_wait_free, &k[i]);
    }
    for (int i = 0; i < T; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&park_barrier);
    stats_now(&b);
    assert_int_equal(b.thread_exits, a.thread_exits + T);
    assert_int_equal(b.heaps_parked, 4);
    /* New threads take parked heaps first. */
    keep_arg k1 = {ptrs[0], N, 100};
    for (int i = 0; i < 4; i++) {
        pthread_create(&t[0], NULL, alloc_and_free, &k1);
        pthread_join(t[0], NULL);
    }
    stats_now(&b);
    assert_true(b.heaps_adopted >= a.heaps_adopted + 4);
    hak_trim(0);
    stats_now(&b);
    assert_int_equal(b.heaps_parked, 0);
}

/* A block freed by a thread that then exits sits in its parked heap's
 * cache: freeing it again is still a double free. */
static void *free_one(void *vp)
{
    hak_free(vp);
    return NULL;
}

static void double_free_into_parked_heap(void **s)
{
    (void)s;
    hak_trim(0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        void *p = hak_malloc(40);
        pthread_t t;
        pthread_create(&t, NULL, free_one, p);
        pthread_join(t, NULL);
        struct hak_alloc_stats st;
        if (stats_now(&st)->heaps_parked != 1) _exit(3);
        hak_free(p);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

static size_t vm_size_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    size_t kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %zu", &kb) == 1) break;
    fclose(f);
    return kb;
}

/* Each thread maps its thread-cache arrays (~160 KiB); exit must unmap
 * them: 200 short-lived threads may not grow the address space by 200x. */
static void thread_exit_unmaps_cache_arrays(void **s)
{
    (void)s;
    static void *ptrs[64];
    keep_arg k = {ptrs, 64, 48};
    pthread_t t;
    pthread_create(&t, NULL, alloc_and_free, &k);   /* warm glibc's stack cache */
    pthread_join(t, NULL);
    size_t before = vm_size_kb();
    if (!before) skip();
    for (int i = 0; i < 200; i++) {
        pthread_create(&t, NULL, alloc_and_free, &k);
        pthread_join(t, NULL);
    }
    size_t after = vm_size_kb();
    assert_true(after < before + 8192);
}

/* Memory allocated after a thread's exit destructor (other destructors may
 * allocate) still works, through the orphan heap. */
static pthread_key_t late_key;
static void late_destructor(void *p)
{
    hak_free(p);
    void *q = hak_malloc(100);
    memset(q, 1, 100);
    hak_free(q);
}
static void *late_thread(void *vp)
{
    (void)vp;
    pthread_setspecific(late_key, hak_malloc(64));
    return NULL;
}
static void allocation_after_thread_exit(void **s)
{
    (void)s;
    pthread_key_create(&late_key, late_destructor);
    for (int i = 0; i < 8; i++) {
        pthread_t t;
        pthread_create(&t, NULL, late_thread, NULL);
        pthread_join(t, NULL);
    }
}

/* ---- fork from a multi-threaded parent ---- */
static atomic_int fork_stop;
static void *churn(void *vp)
{
    uint64_t r = (uint64_t)(uintptr_t)vp | 1;
    void *slots[64] = {0};
    while (!atomic_load(&fork_stop)) {
        int k = (int)(rng_next(&r) % 64);
        hak_free(slots[k]);
        slots[k] = hak_malloc(rng_next(&r) % 3000 + 1);
    }
    for (int k = 0; k < 64; k++) hak_free(slots[k]);
    return NULL;
}

static void fork_from_threaded_parent(void **s)
{
    (void)s;
    pthread_t t[4];
    atomic_store(&fork_stop, 0);
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1));
    void *before = hak_malloc(1000);
    pat_fill(before, 1000, 5);
    for (int f = 0; f < 10; f++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            int ok = pat_check(before, 1000, 5);
            hak_free(before);
            uint64_t r = 7;
            void *slots[256] = {0};
            for (int i = 0; i < 20000; i++) {
                int k = (int)(rng_next(&r) % 256);
                if (slots[k] && !pat_check(slots[k], 64, (uint64_t)k)) ok = 0;
                hak_free(slots[k]);
                slots[k] = hak_malloc(64 + rng_next(&r) % 2000);
                pat_fill(slots[k], 64, (uint64_t)k);
            }
            pthread_t ct;                /* threads work in the child too */
            keep_arg k = {slots, 100, 100};
            pthread_create(&ct, NULL, alloc_and_free, &k);
            pthread_join(ct, NULL);
            _exit(ok ? 0 : 3);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    atomic_store(&fork_stop, 1);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    assert_true(pat_check(before, 1000, 5));
    hak_free(before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stress_2),
        cmocka_unit_test(stress_4),
        cmocka_unit_test(stress_8),
        cmocka_unit_test(stress_16),
        cmocka_unit_test(stress_cross_thread_frees_counted),
        cmocka_unit_test(foreign_small_block_first_free_goes_home),
        cmocka_unit_test(thread_exit_returns_caches),
        cmocka_unit_test(parked_heaps_are_bounded),
        cmocka_unit_test(double_free_into_parked_heap),
        cmocka_unit_test(allocation_after_thread_exit),
        cmocka_unit_test(fork_from_threaded_parent),
        /* last: under ASan, fork after 200 thread lifetimes sometimes left
         * the child waiting forever on a lock of ASan's own allocator */
        cmocka_unit_test(thread_exit_unmaps_cache_arrays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
