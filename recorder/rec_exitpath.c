/* rec_exitpath.c - every way the process exits gets the final flush.
 *
 * The recording is flushed by exit's handlers (the library destructor,
 * rec_shutdown), after the program's own atexit handlers, whose frees are
 * recorded.  Two things can take that away:
 *
 * - Threads calling exit at once.  glibc 2.36 does not serialise exit: a
 *   thread that finds the handlers taken by another goes on to _exit,
 *   under the first one's flush (three threads calling exit together lost
 *   40 of 40 recordings).  Every exit after the first waits until the
 *   recording is shut down (rec_exit_serialise, REC_EXIT2_WAIT_NS at
 *   most: the first may itself be stuck in a handler).  A return from
 *   main reaches glibc's exit without the interposed exit() (the start
 *   code calls libc's own), so the main thread is also counted by a
 *   thread_local destructor: exit runs the exiting thread's before any
 *   handler.  glibc runs it on a return from main and on exit(), not on
 *   the main thread's pthread_exit (the process goes on: not an exit).
 *
 * - A vfork child calling exit (undefined in POSIX, but done after a
 *   failed exec).  It runs the handlers in our memory and leaves none for
 *   the process's own exit, so nothing would flush the recording.  The
 *   child still runs them (the program's output is unchanged), but marks
 *   it (vfork_exited); the process's own exit then shuts the recording
 *   down itself, from exit() or from the thread_local destructor.  When
 *   the child was the main thread's, it also ran that destructor: our
 *   atexit handler (which runs after every other in the child) registers
 *   it again for the parent.
 *
 * Only for a preloaded recorder: an attached one is not interposed on
 * exit, and its thread_local destructor would belong to whichever thread
 * loaded it. */
#include "rec_internal.h"
#include "hak_util.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define REC_EXIT2_WAIT_NS 5000000000ull

extern int __cxa_thread_atexit_impl(void (*fn)(void *), void *obj, void *dso);
extern int __cxa_atexit(void (*fn)(void *), void *arg, void *dso);
extern void *__dso_handle;

static _Atomic int exit_callers;   /* threads of this process that began exit */
static _Atomic int vfork_exited;   /* a vfork child ran exit's handlers in our memory */
static __thread int exit_counted __attribute__((tls_model("initial-exec")));
static __thread char main_mark __attribute__((tls_model("initial-exec")));
static char *main_tls;             /* &main_mark of the main thread: the destructor's owner */

/* 1 in a vfork child of the recorded process: another pid on our memory.
 * A fork child went through rec_atfork_child, which gave it its own pid
 * or stopped the writer; kcmp confirms the shared memory where it can. */
static int vfork_child(void)
{
    pid_t me = getpid();
    if (me == rec_g.pid || !rec_writer_flush_pending())
        return 0;
#ifdef SYS_kcmp
    enum { KCMP_VM = 1 };
    long r = syscall(SYS_kcmp, (long)me, (long)rec_g.pid, (long)KCMP_VM, 0L, 0L);
    if (r >= 0)
        return r == 0;
#endif
    return 1;
}

void rec_exit_serialise(void)
{
    if (getpid() != rec_g.pid) {
        /* shared memory: nothing of ours but the mark is touched */
        if (vfork_child())
            atomic_store(&vfork_exited, 1);
        return;
    }
    if (exit_counted)                  /* exit(), then its thread_local destructor */
        return;
    exit_counted = 1;
    if (atomic_load(&vfork_exited)) {
        rec_shutdown("exit");          /* no handler is left to do it */
        return;
    }
    if (atomic_fetch_add(&exit_callers, 1) == 0)
        return;
    uint64_t end = hak_mono_ns() + REC_EXIT2_WAIT_NS;
    while (rec_writer_flush_pending() && hak_mono_ns() < end) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
}

static void main_exit_dtor(void *arg)
{
    (void)arg;
    rec_exit_serialise();
}

static void watch_main(void)
{
    int busy = rec_tls_v.busy;
    rec_tls_v.busy = 1;                /* its list entry is the recorder's memory */
    __cxa_thread_atexit_impl(main_exit_dtor, NULL, &__dso_handle);
    rec_tls_v.busy = busy;
}

/* Registered before the dynamic linker's own handler, so it runs last. */
static void after_handlers(void *arg)
{
    (void)arg;
    if (&main_mark == main_tls && getpid() != rec_g.pid && vfork_child())
        watch_main();                  /* the child ran the parent's main thread's */
}

void rec_exit_watch(void)
{
    if ((pid_t)gettid() != getpid())
        return;                        /* not the main thread (a constructor's thread?) */
    main_tls = &main_mark;
    watch_main();
    __cxa_atexit(after_handlers, NULL, &__dso_handle);
}

void rec_exitpath_atfork_child(void)
{
    atomic_store(&exit_callers, 0);    /* the child's threads: this one */
    exit_counted = 0;
}
