/* free(), realloc() and malloc_usable_size() of block slots that were never
 * handed out: slots still in a slab's bump area (in a page carving has
 * entered, and in one it has not), and a slab's tail slot (the last
 * multiple of the block size, with less than a block behind it).  Each
 * passes the block-start test, and before pages were entered one by one
 * (hak_slab_enter) free() cached them and malloc handed the same memory out
 * twice (or a block running into the next slab).  Each must abort naming
 * the pointer, in a child process; the usable size must be 0. */
#include "alloc_test.h"
#include "hak_guard.h"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

enum { OP_FREE, OP_REALLOC };

/* Runs the op on p in a child; asserts it died of SIGABRT with "WHAT:
 * invalid pointer: P" on stderr. */
static void expect_abort(int op, void *p)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd[1], 2);
        if (op == OP_FREE) hak_free(p);
        else (void)hak_realloc(p, 100);
        _exit(0);
    }
    close(fd[1]);
    char buf[512] = "";
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(fd[0], buf + n, sizeof buf - 1 - n)) > 0) n += (size_t)r;
    buf[n] = 0;
    close(fd[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    char want[128];
    snprintf(want, sizeof want, "%s(): invalid pointer: %p", op == OP_FREE ? "free" : "realloc", p);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGABRT || !strstr(buf, want))
        fail_msg("%s(%p) of a slot never handed out: %s (stderr: '%s', wanted '%s')",
                 op == OP_FREE ? "free" : "realloc", p,
                 WIFSIGNALED(st) ? "a signal other than SIGABRT" : "accepted", buf, want);
}

static void expect_refused(void *p)
{
    assert_int_equal(hak_usable_size(p), 0);
    expect_abort(OP_FREE, p);
    expect_abort(OP_REALLOC, p);
}

static hak_slab *slab_of(void *p) { return hak_slab_of(hak_ss_of(p), p); }

static int page_entered(void *p)
{
    hak_ss *ss = hak_ss_of(p);
    return ss->gran_cls[((uintptr_t)p - (uintptr_t)ss) >> HAK_GRAN_SHIFT] != 0;
}

/* The first slot of s's bump area whose page is (entered = 1) or is not
 * (0) entered, or NULL. */
static char *uncarved_slot(hak_slab *s, int entered)
{
    for (char *x = s->bump; x < s->end; x += s->block)
        if (page_entered(x) == entered) return x;
    return NULL;
}

/* For a few block sizes: the first refill carves a few blocks, so the
 * bump area starts in or after the last page carving entered and goes on
 * into pages it has not.  Both kinds must be met and refused. */
static void uncarved_slots_are_refused(void **state)
{
    (void)state;
    static const size_t sizes[] = {400, 208, 720, 1500, 2900};
    int met_entered = 0, met_new = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        char *p = hak_malloc(sizes[i]);
        assert_non_null(p);
        hak_slab *s = slab_of(p);
        char *in_entered = uncarved_slot(s, 1), *in_new = uncarved_slot(s, 0);
        if (in_entered && !met_entered++) expect_refused(in_entered);
        if (in_new && !met_new++) expect_refused(in_new);
        hak_free(p);
    }
    if (!met_entered || !met_new)
        fail_msg("geometry changed: no uncarved slot %s for these sizes; pick others",
                 met_entered ? "in a page not entered" : "in an entered page");
}

/* Carves whole slabs of classes above 256 B until one has a tail slot,
 * which is then refused: its page is entered, so it carries the mark. */
static void tail_slot_is_refused(void **state)
{
    (void)state;
    enum { MAX = 4096 };
    static void *held[MAX];
    for (unsigned c = 1; c < hak_cfg.ncls; c++) {
        size_t b = hak_cfg.cls_size[c];
        if (b <= 256 || b > 4096) continue;
        held[0] = hak_malloc(b);
        assert_non_null(held[0]);
        hak_slab *s = slab_of(held[0]);
        unsigned n = 1;
        while (s->bump < s->end && n < MAX) held[n++] = hak_malloc(b);
        assert_true(s->bump == s->end);
        hak_ss *ss = hak_ss_of(held[0]);
        uintptr_t units_end = (uintptr_t)(s->unit + s->units) << hak_cfg.slab_shift;
        char *tail = s->end;
        int has_tail = (uintptr_t)(tail - (char *)ss) < units_end;
        if (has_tail) {
            assert_true(page_entered(tail));
            expect_refused(tail);
        }
        for (unsigned i = 0; i < n; i++) hak_free(held[i]);
        if (has_tail) return;
    }
    fail_msg("no class between 256 B and 4 KiB has a tail slot: geometry changed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uncarved_slots_are_refused),
        cmocka_unit_test(tail_slot_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
