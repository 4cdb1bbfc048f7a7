/* live_run.c - a live run under an allocator, sampled from outside
 * (live_run.h). */
#include "live_run.h"
#include "fault_map.h"
#include "heap_rss.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The child: LD_PRELOAD (in front of any the user set), stdin, quiet
 * stdout, then exec.  127 + a message when exec fails. */
static void child(const rp_live_spec *s, int errpipe)
{
    if (s->preload) {
        const char *old = getenv("LD_PRELOAD");
        char buf[8192];
        if (old && *old)
            snprintf(buf, sizeof buf, "%s:%s", s->preload, old);
        else
            snprintf(buf, sizeof buf, "%s", s->preload);
        setenv("LD_PRELOAD", buf, 1);
    }
    int in = open(s->stdin_path ? s->stdin_path : "/dev/null", O_RDONLY | O_CLOEXEC);
    int out = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0) {
        dprintf(errpipe, "%s: %s", s->stdin_path ? s->stdin_path : "/dev/null", strerror(errno));
        _exit(127);
    }
    /* Traced by the parent only to stop once more at exit, with the
     * memory still mapped, for an exact final heap figure. */
    ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    execvp(s->argv[0], s->argv);
    dprintf(errpipe, "cannot run %s: %s", s->argv[0], strerror(errno));
    _exit(127);
}

/* The exit stop: the program's memory is still mapped.  Its final heap,
 * and its heap faults (every fault is in; fm is closed). */
static void exit_stop(pid_t pid, rp_live_result *out, rp_fault_map *fm)
{
    hak_heap_rss h;
    if (hak_heap_rss_read(pid, &h) == 0) {
        out->final_heap = hak_heap_rss_bytes(&h);
        if (out->final_heap > out->peak_heap)
            out->peak_heap = out->final_heap;
        out->samples++;
        out->exact_final = 1;
    }
    if (fm) {
        rp_fault_counts fc;
        rp_fault_map_close(fm, &fc);
        out->heap_minflt = fc.heap;
        out->heap_faults_ok = !fc.lost;
        if (fc.lost)
            snprintf(out->heap_faults_why, sizeof out->heap_faults_why,
                     "%llu page-fault samples lost", (unsigned long long)fc.lost);
    }
}

int rp_live_run(const rp_live_spec *s, rp_live_result *out)
{
    memset(out, 0, sizeof *out);
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        snprintf(out->error, sizeof out->error, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    uint64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(out->error, sizeof out->error, "fork: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        close(pfd[0]);
        child(s, pfd[1]);
    }
    close(pfd[1]);
    /* Wait for the exec (the pipe closes on it): until then /proc/PID is
     * a copy of this process, whose heap is not the program's. */
    char msg[400];
    ssize_t k;
    while ((k = read(pfd[0], msg, sizeof msg - 1)) < 0 && errno == EINTR)
        ;
    close(pfd[0]);
    msg[k > 0 ? k : 0] = 0;
    struct rusage ru;
    int status = 0;
    uint64_t deadline = s->timeout_s > 0 ? t0 + (uint64_t)(s->timeout_s * 1e9) : 0;
    int killed = 0, traced = 0;
    rp_fault_map *fm = NULL;
    snprintf(out->heap_faults_why, sizeof out->heap_faults_why, "%s",
             s->heap_faults ? "the program ended before its exit stop" : "not asked for");
    for (;;) {
        pid_t r = wait4(pid, &status, WNOHANG, &ru);
        if (r == pid && WIFSTOPPED(status)) {
            int sig = WSTOPSIG(status), fwd = 0;
            if (sig == SIGTRAP && (status >> 16) == PTRACE_EVENT_EXIT) {
                exit_stop(pid, out, fm);
                fm = NULL;
            } else if (sig == SIGTRAP && (status >> 16) == PTRACE_EVENT_EXEC) {
                /* the program exec'd again (a wrapper script, a shim):
                 * without TRACEEXEC this would be a SIGTRAP that kills it */
                rp_fault_map_exec(fm);
            } else if (sig == SIGTRAP && !traced) {    /* the first exec */
                traced = 1;
                if (s->heap_faults)
                    fm = rp_fault_map_open(pid, out->heap_faults_why, sizeof out->heap_faults_why);
                ptrace(PTRACE_SETOPTIONS, pid, NULL,
                       (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC));
            } else {
                fwd = sig;                             /* the program's own signal */
            }
            ptrace(PTRACE_CONT, pid, NULL, (void *)(long)fwd);
            continue;
        }
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            snprintf(out->error, sizeof out->error, "wait4: %s", strerror(errno));
            rp_fault_map_close(fm, &(rp_fault_counts){0});
            return -1;
        }
        rp_fault_map_drain(fm);
        hak_heap_rss h;
        /* after the exit stop the kernel is unmapping: a read now would
         * see a half-empty process */
        if (!out->exact_final && hak_heap_rss_read(pid, &h) == 0) {
            uint64_t b = hak_heap_rss_bytes(&h);
            if (b > out->peak_heap)
                out->peak_heap = b;
            out->final_heap = b;
            out->samples++;
        }
        if (deadline && now_ns() > deadline && !killed) {
            kill(pid, SIGKILL);
            killed = 1;
        }
        struct timespec ts = {(time_t)(s->interval_ns / 1000000000ull),
                              (long)(s->interval_ns % 1000000000ull)};
        nanosleep(&ts, NULL);
    }
    out->wall_ns = now_ns() - t0;
    out->minflt = (uint64_t)ru.ru_minflt;
    if (fm)                          /* no exit stop (killed): not counted */
        rp_fault_map_close(fm, &(rp_fault_counts){0});
    if (killed)
        snprintf(out->error, sizeof out->error, "timed out after %.0f s", s->timeout_s);
    else if (k > 0)
        snprintf(out->error, sizeof out->error, "%s", msg);
    else if (WIFSIGNALED(status))
        snprintf(out->error, sizeof out->error, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else if (WEXITSTATUS(status) != 0)
        snprintf(out->error, sizeof out->error, "exited with status %d", WEXITSTATUS(status));
    else if (!out->samples)
        snprintf(out->error, sizeof out->error,
                 "ended before its heap could be sampled once (a shorter --interval-ms?)");
    else
        out->ok = 1;
    return 0;
}
