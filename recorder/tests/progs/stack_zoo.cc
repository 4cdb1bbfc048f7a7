// stack_zoo: allocations whose call stacks a call-site cache could confuse,
// for recorder/tests/stacks.sh, which records it with every stack checked
// against a full libunwind unwind (HAKREC_STACKS_VERIFY=1) and compares its
// sites with a --stacks-exact recording.
//
// - wrappers at depths 1..5 (w1 calls malloc, w2 calls w1, ...) reached from
//   eight callers with identical frames, directly and through one shared
//   helper (the xmalloc <- g <- f1/f2 pattern), and through function
//   pointers;
// - recursion through two functions in a data-dependent order;
// - C++ operator new and std containers (vector, map, string, list,
//   unordered_map) from different functions;
// - callbacks: qsort's comparator and std::function allocate;
// - signal handlers that allocate, raised from different callers, on the
//   thread's stack and on an alternate signal stack;
// - longjmp and C++ exceptions out of allocating frames, then allocating
//   again from other depths;
// - a wrapper called from a frame without unwind information (hand-written
//   code without CFI), where the stack must be cut and marked;
// - three threads running all of it, then a fork whose child runs it too.
#include <csetjmp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
#define KEEP() __asm__ volatile("" ::: "memory")   // no tail calls, no merging

static void *volatile sink;

// ---- wrappers at depths 1..5 ------------------------------------------------
extern "C" {
NOINLINE void *w1(size_t n) { void *p = malloc(n); KEEP(); return p; }
NOINLINE void *w2(size_t n) { void *p = w1(n + 1); KEEP(); return p; }
NOINLINE void *w3(size_t n) { void *p = w2(n + 1); KEEP(); return p; }
NOINLINE void *w4(size_t n) { void *p = w3(n + 1); KEEP(); return p; }
NOINLINE void *w5(size_t n) { void *p = w4(n + 1); KEEP(); return p; }
NOINLINE void *helper(size_t n) { void *p = w3(n); KEEP(); return p; }
}
typedef void *(*alloc_fn)(size_t);
static alloc_fn volatile wraps[5] = {w1, w2, w3, w4, w5};

// Eight callers with the same frame: each calls every wrapper directly,
// the shared helper, and the wrappers through pointers.
#define CALLER(k)                                                         \
    NOINLINE void caller##k(int reps)                                     \
    {                                                                     \
        for (int i = 0; i < reps; i++) {                                  \
            free(w1(16 + k)); KEEP();                                     \
            free(w2(16 + k)); KEEP();                                     \
            free(w3(16 + k)); KEEP();                                     \
            free(w4(16 + k)); KEEP();                                     \
            free(w5(16 + k)); KEEP();                                     \
            free(helper(32 + k)); KEEP();                                 \
            for (int d = 0; d < 5; d++)                                   \
                free(wraps[d](48 + k));                                   \
            KEEP();                                                       \
        }                                                                 \
    }
CALLER(0) CALLER(1) CALLER(2) CALLER(3) CALLER(4) CALLER(5) CALLER(6) CALLER(7)

NOINLINE static void wrappers(int reps)
{
    caller0(reps); caller1(reps); caller2(reps); caller3(reps);
    caller4(reps); caller5(reps); caller6(reps); caller7(reps);
    KEEP();
}

// ---- recursion -------------------------------------------------------------------
NOINLINE void *rec_b(int d, unsigned path);
NOINLINE void *rec_a(int d, unsigned path)
{
    void *p = d == 0 ? w1(64) : (path & 1) ? rec_a(d - 1, path >> 1) : rec_b(d - 1, path >> 1);
    KEEP();
    return p;
}
NOINLINE void *rec_b(int d, unsigned path)
{
    void *p = d == 0 ? malloc(80) : (path & 1) ? rec_a(d - 1, path >> 1) : rec_b(d - 1, path >> 1);
    KEEP();
    return p;
}

NOINLINE static void recursion(int reps)
{
    for (int i = 0; i < reps; i++)
        for (int d = 0; d < 10; d++)
            free(rec_a(d, (unsigned)(i * 7 + d)));
    KEEP();
}

// ---- C++ --------------------------------------------------------------------------
struct Obj { long a[4]; std::string s; };

NOINLINE static std::vector<int> grow_vector(int n)
{
    std::vector<int> v;
    for (int i = 0; i < n; i++)
        v.push_back(i);
    return v;
}

NOINLINE static size_t map_work(int n)
{
    std::map<int, std::string> m;
    for (int i = 0; i < n; i++)
        m[i] = "value number " + std::to_string(i);
    return m.size();
}

NOINLINE static size_t hash_work(int n)
{
    std::unordered_map<std::string, int> h;
    std::list<Obj> l;
    for (int i = 0; i < n; i++) {
        h["key-" + std::to_string(i)] = i;
        l.push_back(Obj{{i, i, i, i}, std::string(40, 'x')});
    }
    return h.size() + l.size();
}

NOINLINE static Obj *new_here() { Obj *o = new Obj(); KEEP(); return o; }
NOINLINE static Obj *new_there() { Obj *o = new Obj(); KEEP(); return o; }

NOINLINE static void cxx(int reps)
{
    size_t t = 0;
    for (int i = 0; i < reps; i++) {
        t += grow_vector(100 + i).size();
        t += map_work(20);
        t += hash_work(20);
        delete new_here();
        delete new_there();
        auto u = std::make_unique<Obj>();
        t += u->s.size();
    }
    sink = (void *)t;
}

// ---- callbacks ------------------------------------------------------------------
static int cmp_alloc(const void *a, const void *b)
{
    free(w2(24));
    return *(const int *)a - *(const int *)b;
}

NOINLINE static void callbacks(int reps)
{
    std::function<void(int)> f = [](int k) { free(w4(100 + k)); };
    for (int i = 0; i < reps; i++) {
        int v[16];
        for (int j = 0; j < 16; j++)
            v[j] = (j * 7919 + i) % 16;
        qsort(v, 16, sizeof v[0], cmp_alloc);
        f(i);
        f(i + 1);
    }
    KEEP();
}

// ---- signals ------------------------------------------------------------------------
static void on_signal(int)
{
    void *p = w2(200);
    void *q = malloc(300);
    free(p);
    free(q);
}

NOINLINE static void raise_one() { raise(SIGUSR1); KEEP(); }
NOINLINE static void raise_two() { raise(SIGUSR1); raise(SIGUSR2); KEEP(); }

NOINLINE static void signals(int reps)
{
    for (int i = 0; i < reps; i++) {
        raise_one();
        raise_two();
    }
    KEEP();
}

static void install_handlers()
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, nullptr);
    sa.sa_flags = SA_ONSTACK;                  // SIGUSR2 on the alternate stack
    sigaction(SIGUSR2, &sa, nullptr);
}

static void alt_stack()                        // per thread
{
    stack_t ss;
    ss.ss_size = 1 << 16;
    ss.ss_sp = malloc(ss.ss_size);
    ss.ss_flags = 0;
    sigaltstack(&ss, nullptr);
}

// ---- a frame without unwind information ---------------------------------------------------
// nocfi_call(f, n) returns f(n), called from hand-written code with no CFI:
// nothing can step out of that frame exactly, so its stacks are cut there.
__asm__(".pushsection .text\n"
        ".globl nocfi_call\n"
        ".type nocfi_call, @function\n"
        "nocfi_call:\n"
        "  push %rbp\n"
        "  mov %rsp, %rbp\n"
        "  mov %rdi, %rax\n"
        "  mov %rsi, %rdi\n"
        "  call *%rax\n"
        "  pop %rbp\n"
        "  ret\n"
        ".size nocfi_call, . - nocfi_call\n"
        ".popsection\n");
extern "C" void *nocfi_call(alloc_fn f, size_t n);

NOINLINE static void no_unwind_info(int reps)
{
    for (int i = 0; i < reps; i++)
        free(nocfi_call(w2, 700));
    KEEP();
}

// ---- longjmp and exceptions ------------------------------------------------------------
static volatile int throw_at;                  // 0, opaque to the compiler
static thread_local jmp_buf jump_env;
static thread_local void *jump_held[32];

// Ends in longjmp, which GCC counts as never returning.
#pragma GCC diagnostic ignored "-Winfinite-recursion"
NOINLINE static void jump_deep(int d)
{
    jump_held[d] = w3(128 + d);
    if (d == throw_at)
        longjmp(jump_env, 1);
    jump_deep(d - 1);
    KEEP();
}

NOINLINE static void thrower(int d)
{
    std::unique_ptr<Obj> held(new_here());     // freed while unwinding
    void *p = w2(256);
    free(p);
    if (d == throw_at)
        throw std::runtime_error("thrown from an allocating frame");
    thrower(d - 1);
    KEEP();
}

NOINLINE static void escape_once(int d)
{
    if (setjmp(jump_env) == 0)
        jump_deep(d);
    for (int k = 0; k <= d; k++)
        free(jump_held[k]);
    free(w1(512));                            // after the jump, shallower
    try {
        thrower(d);
    } catch (const std::exception &e) {
        free(w5(strlen(e.what())));            // in the handler
    }
    free(w1(640));
    KEEP();
}

NOINLINE static void escapes(int reps)
{
    for (int i = 0; i < reps; i++)
        escape_once(i % 8);
    KEEP();
}

static void work(int reps)
{
    alt_stack();
    wrappers(reps);
    recursion(reps);
    cxx(reps / 4 + 1);
    callbacks(reps);
    signals(reps);
    escapes(reps);
    no_unwind_info(reps);
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 40;
    install_handlers();
    work(reps);
    std::vector<std::thread> ts;
    for (int i = 0; i < 3; i++)
        ts.emplace_back(work, reps);
    for (auto &t : ts)
        t.join();
    pid_t pid = fork();
    if (pid == 0) {
        work(reps);
        exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    std::printf("stack_zoo: done, child %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok" : "failed");
    return 0;
}
