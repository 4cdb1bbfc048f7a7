/* misuse - what allocators do with a hostile program: double frees,
 * interior pointers, free-list poisoning, usable size of a non-block
 * pointer, many huge alignments, overflows and writes after free.
 *
 *   misuse CASE                  runs one case here (malloc is whatever is
 *                                preloaded) and prints "ptr 0x..." for the
 *                                pointer the allocator should name, then one
 *                                "verdict: harmful|harmless|ok|fails: ..."
 *                                line, unless the allocator stops it first
 *   misuse --list                the case names, one a line
 *   misuse --run NAME=LIB[,ENV=V] CASE
 *                                runs CASE in a child process under
 *                                LD_PRELOAD=LIB (empty: glibc) and prints
 *                                one line: "NAME CASE OUTCOME"
 *   misuse --compare NAME=LIB[,ENV=V]...
 *                                every case under every allocator, each in
 *                                its own child process, as a markdown table
 *
 * OUTCOME is "abort: <the allocator's last stderr line>" when the child
 * died of SIGABRT, "signal N: ..." for any other signal, otherwise the
 * verdict.  Built against plain libc (no hakmem) and compiled without
 * builtin malloc folding, so every call reaches the preloaded allocator.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")

static void say(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 1) n = sizeof buf - 1;
    if (n > 0 && write(1, buf, (size_t)n) < 0) _exit(3);
}

/* Opaque to the compiler: no use-after-free reasoning, no folding. */
static void *volatile sink;
static void *launder(void *p) { sink = p; return sink; }

static void double_free(size_t n)
{
    char *p = malloc(n);
    say("ptr %p\n", (void *)p);
    free(p);
    free(launder(p));
    void *a = malloc(n), *b = malloc(n);
    KEEP(a); KEEP(b);
    if (a == b) say("verdict: harmful: the next two malloc(%zu) returned the same block %p\n", n, a);
    else say("verdict: harmless: distinct blocks after the double free\n");
}

static void case_double_free_32(void) { double_free(32); }
static void case_double_free_5000(void) { double_free(5000); }
static void case_double_free_1m(void) { double_free(1u << 20); }

/* A double free, then the program's own ordinary use: does a live block
 * get overwritten? */
static void case_double_free_overwrite(void)
{
    char *p = malloc(48);
    say("ptr %p\n", (void *)p);
    free(p);
    free(launder(p));
    char *a = malloc(48);
    memset(a, 'A', 48);                 /* live block a */
    char *b = malloc(48);
    memset(b, 'B', 48);
    free(b);                            /* ordinary frees and mallocs */
    char *c = malloc(48);
    memset(c, 'C', 48);
    int bad = 0;
    for (int i = 0; i < 48; i++) bad += a[i] != 'A';
    if (bad) say("verdict: harmful: live block overwritten (%d of 48 bytes)\n", bad);
    else say("verdict: harmless: no live block overwritten\n");
}

/* A use after free overwrites the freed block's second word, then the
 * block is freed again: the second word is where allocators keep links or
 * bookkeeping, so a double-free check that trusts it is blinded. */
static void case_double_free_uaf_word1(void)
{
    uintptr_t *p = malloc(32);
    say("ptr %p\n", (void *)p);
    free(p);
    ((uintptr_t *volatile)launder(p))[1] = (uintptr_t)0x4141414141414141ull;
    free(launder(p));
    void *a = malloc(32), *b = malloc(32);
    KEEP(a); KEEP(b);
    if (a == b) say("verdict: harmful: the next two malloc(32) returned the same block %p\n", a);
    else say("verdict: harmless: distinct blocks after the double free\n");
}

static int overlaps(const char *x, size_t xn, const char *y, size_t yn)
{
    return x < y + yn && y < x + xn;
}

static void case_interior_free(void)
{
    char *p = malloc(64), *q = malloc(64);
    memset(p, 'P', 64);
    memset(q, 'Q', 64);
    say("ptr %p\n", (void *)(p + 16));
    free(launder(p + 16));
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        char *a = malloc(64);
        if (overlaps(a, 64, p, 64) || overlaps(a, 64, q, 64)) bad++;
    }
    if (bad) say("verdict: harmful: malloc returned memory overlapping a live block (%d of 4)\n", bad);
    else say("verdict: harmless: the interior pointer was not reused\n");
}

static void case_interior_realloc(void)
{
    char *p = malloc(64), *q = malloc(64);
    memset(p, 'P', 64);
    memset(q, 'Q', 64);
    say("ptr %p\n", (void *)(p + 16));
    char *r = realloc(launder(p + 16), 100);
    int bad = r && (overlaps(r, 100, p, 64) || overlaps(r, 100, q, 64));
    for (int i = 0; i < 4; i++) {
        char *a = malloc(64);
        if (overlaps(a, 64, p, 64) || overlaps(a, 64, q, 64)) bad++;
    }
    if (bad) say("verdict: harmful: memory overlapping a live block was handed out again\n");
    else say("verdict: harmless: realloc returned %s, no overlap\n", r ? "a new block" : "NULL");
}

/* An interior pointer 6 MiB into a 24 MiB block whose bytes are all 0xff.
 * With HAKMEM_SUPERSLAB_SIZE >= 8 MiB it lies in the block's first
 * SuperSlab granule, where free()'s fast path reads the class byte of its
 * page from the header; a one-page header ended before that byte, so it
 * came from the block (0xff: past the last class), and the free was cached
 * through an index past the thread's bins into the lists of a mid class
 * (a 200 KiB block is held so that one has a slab listed).  With smaller
 * SuperSlabs the pointer lies past the first granule: not ours as far as
 * the registry knows, ignored like any foreign pointer. */
static void interior_large(int re)
{
    size_t n = 24u << 20, m = 200u << 10;
    char *hold = malloc(m);
    memset(hold, 'H', m);
    char *p = malloc(n);
    memset(p, 0xff, n);
    char *q = p + (6u << 20);
    say("ptr %p\n", (void *)q);
    char *r = NULL;
    if (re) r = realloc(launder(q), 100);
    else free(launder(q));
    int bad = r && overlaps(r, 100, p, n);
    for (int i = 0; i < 8; i++) {
        char *a = malloc(m);
        if (a && (overlaps(a, m, p, n) || overlaps(a, m, hold, m))) bad++;
    }
    if (bad) say("verdict: harmful: memory overlapping a live block was handed out again\n");
    else say("verdict: harmless: %s returned, no overlap\n", re ? "realloc" : "free");
}

static void case_interior_free_large(void) { interior_large(0); }
static void case_interior_realloc_large(void) { interior_large(1); }

/* realloc of a block freed already: glibc stops it ("realloc(): invalid
 * pointer"); an allocator that accepts it hands the block out twice. */
static void case_realloc_after_free(void)
{
    char *p = malloc(48);
    memset(p, 'P', 48);
    say("ptr %p\n", (void *)p);
    free(p);
    char *r = realloc(launder(p), 40);
    char *a = malloc(48), *b = malloc(48);
    KEEP(a); KEEP(b);
    if (r && (r == a || r == b))
        say("verdict: harmful: realloc of the freed block and a malloc returned the same block %p\n", (void *)r);
    else if (r == p)
        say("verdict: harmful: realloc returned the freed block %p as live\n", (void *)r);
    else say("verdict: harmless: realloc returned %s\n", r ? "a new block" : "NULL");
}

/* Use after free: the first (or second) word of freed blocks is
 * overwritten with an address of the writer's choice; does malloc ever
 * return it? */
static char target[8192] __attribute__((aligned(4096)));

static void freelist_poison(int word)
{
    enum { N = 3000 };
    static char *blk[N];
    char *want = target + 4096;
    say("ptr %p\n", (void *)want);
    for (int i = 0; i < N; i++) blk[i] = malloc(64);
    for (int i = 0; i < N; i++) free(blk[i]);
    for (int i = 0; i < N; i++)      /* one 8-byte write into each freed block */
        memcpy((char *)launder(blk[i]) + 8 * word, &want, sizeof want);
    int hit = 0;
    for (int i = 0; i < 2 * N; i++) {
        char *a = malloc(64);
        if (a >= target && a < target + sizeof target) hit++;
    }
    if (hit) say("verdict: harmful: malloc returned the writer's address %p (%d times)\n", (void *)want, hit);
    else say("verdict: harmless: the writer's address was never returned\n");
}

static void case_freelist_poison_word0(void) { freelist_poison(0); }
static void case_freelist_poison_word1(void) { freelist_poison(1); }

static void case_usable_interior(void)
{
    char *p = malloc(64);
    say("ptr %p\n", (void *)(p + 16));
    size_t u = malloc_usable_size(launder(p + 16));
    char local[32];
    size_t v = malloc_usable_size(launder(local));
    if (u || v) say("verdict: harmful: malloc_usable_size(p+16) = %zu, of a stack buffer = %zu\n", u, v);
    else say("verdict: harmless: malloc_usable_size(p+16) = 0, of a stack buffer = 0\n");
}

static void case_aligned_200(void)
{
    enum { N = 200 };
    static void *blk[N];
    int ok = 0;
    for (int i = 0; i < N; i++) {
        size_t align = (i & 1) ? (4u << 20) : (2u << 20);
        void *p = NULL;
        if (i & 1) { if (posix_memalign(&p, align, 4096) != 0) p = NULL; }
        else p = aligned_alloc(align, 4096);
        if (p && ((uintptr_t)p & (align - 1)) == 0) { memset(p, i, 64); ok++; }
        blk[i] = p;
    }
    for (int i = 0; i < N; i++) free(blk[i]);
    say("ptr %p\n", NULL);
    if (ok == N) say("verdict: ok: %d of %d aligned_alloc/posix_memalign(2-4 MiB) succeeded\n", ok, N);
    else say("verdict: fails: only %d of %d aligned_alloc/posix_memalign(2-4 MiB) succeeded\n", ok, N);
}

static void case_overflow_1byte(void)
{
    char *p = malloc(40);
    say("ptr %p\n", (void *)p);
    memset(p, 'x', 40);
    ((char *)launder(p))[40] = 'y';      /* one byte past the request */
    free(p);
    say("verdict: harmful: a one-byte overflow went unnoticed\n");
}

static void case_write_after_free(void)
{
    char *p = malloc(100);
    say("ptr %p\n", (void *)p);
    free(p);
    ((char *)launder(p))[50] = 'y';
    void *q = malloc(100);
    KEEP(q);
    say("verdict: harmful: a write after free went unnoticed\n");
}

static const struct { const char *name; void (*fn)(void); } cases[] = {
    {"double_free_32", case_double_free_32},
    {"double_free_5000", case_double_free_5000},
    {"double_free_1m", case_double_free_1m},
    {"double_free_overwrite", case_double_free_overwrite},
    {"double_free_uaf_word1", case_double_free_uaf_word1},
    {"interior_free", case_interior_free},
    {"interior_realloc", case_interior_realloc},
    {"interior_free_large", case_interior_free_large},
    {"interior_realloc_large", case_interior_realloc_large},
    {"realloc_after_free", case_realloc_after_free},
    {"freelist_poison_word0", case_freelist_poison_word0},
    {"freelist_poison_word1", case_freelist_poison_word1},
    {"usable_interior", case_usable_interior},
    {"aligned_200", case_aligned_200},
    {"overflow_1byte", case_overflow_1byte},
    {"write_after_free", case_write_after_free},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* Runs CASE under spec "NAME=LIB[,ENV=V...]"; writes the outcome into out. */
static void run_case(const char *self, const char *spec, const char *name, char *out, size_t outn)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", spec);
    char *eq = strchr(buf, '=');
    char *lib = eq ? eq + 1 : buf + strlen(buf);
    char *envs = strchr(lib, ',');
    if (envs) *envs++ = 0;
    int po[2], pe[2];
    if (pipe(po) || pipe(pe)) { snprintf(out, outn, "error: pipe"); return; }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(po[1], 1); dup2(pe[1], 2);
        close(po[0]); close(pe[0]);
        if (*lib) setenv("LD_PRELOAD", lib, 1); else unsetenv("LD_PRELOAD");
        for (char *e = envs; e && *e;) {
            char *next = strchr(e, ',');
            if (next) *next++ = 0;
            putenv(e);
            e = next;
        }
        alarm(30);
        execl(self, self, name, (char *)NULL);
        _exit(127);
    }
    close(po[1]); close(pe[1]);
    static char so[65536], se[65536];
    size_t no = 0, ne = 0;
    ssize_t r;
    while ((r = read(po[0], so + no, sizeof so - 1 - no)) > 0) no += (size_t)r;
    while ((r = read(pe[0], se + ne, sizeof se - 1 - ne)) > 0) ne += (size_t)r;
    so[no] = se[ne] = 0;
    close(po[0]); close(pe[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    /* the allocator's message: the last non-empty stderr line */
    char *msg = "";
    for (char *l = strtok(se, "\n"); l; l = strtok(NULL, "\n")) msg = l;
    char *ptr = strstr(so, "ptr ");
    char ptrs[64] = "";
    if (ptr) sscanf(ptr, "ptr %63s", ptrs);
    char *v = strstr(so, "verdict: ");
    if (v) { char *nl = strchr(v, '\n'); if (nl) *nl = 0; }
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT)
        snprintf(out, outn, "[%s] abort: %s", ptrs, msg);
    else if (WIFSIGNALED(st))
        snprintf(out, outn, "[%s] signal %d (%s)%s%s", ptrs, WTERMSIG(st), strsignal(WTERMSIG(st)),
                 *msg ? ": " : "", msg);
    else if (v)
        snprintf(out, outn, "[%s] %s", ptrs, v + 9);
    else
        snprintf(out, outn, "[%s] exit %d: %s", ptrs, WIFEXITED(st) ? WEXITSTATUS(st) : -1, msg);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: misuse CASE | --list | --run NAME=LIB[,ENV=V] CASE | --compare NAME=LIB[,ENV=V]...\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help")) { usage(stdout); return 0; }
    if (!strcmp(argv[1], "--list")) {
        for (size_t i = 0; i < NCASES; i++) printf("%s\n", cases[i].name);
        return 0;
    }
    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) { fprintf(stderr, "misuse: cannot read /proc/self/exe\n"); return 2; }
    self[sl] = 0;
    if (!strcmp(argv[1], "--run")) {
        if (argc != 4) { usage(stderr); return 2; }
        char out[1200];
        run_case(self, argv[2], argv[3], out, sizeof out);
        char name[256];
        snprintf(name, sizeof name, "%s", argv[2]);
        char *eq = strchr(name, '=');
        if (eq) *eq = 0;
        printf("%s %s %s\n", name, argv[3], out);
        return 0;
    }
    if (!strcmp(argv[1], "--compare")) {
        printf("| case |");
        for (int a = 2; a < argc; a++) {
            char name[256];
            snprintf(name, sizeof name, "%s", argv[a]);
            char *eq = strchr(name, '=');
            if (eq) *eq = 0;
            printf(" %s |", name);
        }
        printf("\n|---|");
        for (int a = 2; a < argc; a++) printf("---|");
        printf("\n");
        for (size_t i = 0; i < NCASES; i++) {
            printf("| %s |", cases[i].name);
            for (int a = 2; a < argc; a++) {
                char out[1200];
                run_case(self, argv[a], cases[i].name, out, sizeof out);
                char *o = strchr(out, ']');          /* drop the [ptr] prefix */
                o = o ? o + 2 : out;
                for (char *c = o; *c; c++) if (*c == '|') *c = '/';
                printf(" %s |", o);
            }
            printf("\n");
            fflush(stdout);
        }
        return 0;
    }
    for (size_t i = 0; i < NCASES; i++)
        if (!strcmp(argv[1], cases[i].name)) { cases[i].fn(); return 0; }
    fprintf(stderr, "misuse: unknown case '%s' (misuse --list)\n", argv[1]);
    return 2;
}
