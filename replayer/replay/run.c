/* run.c - one replay run in a fresh worker process (see replay.h).
 *
 * The child: its own process group (a timeout kills everything it made),
 * address randomisation off in serial mode (same trace, build and knobs give
 * the same addresses), LD_PRELOAD set to the allocator under test and
 * nothing else preloaded, stdout discarded (allocators may print stats),
 * stderr captured in a memfd whose tail becomes the error text of a failed
 * run.  The parent waits on a pidfd with the timeout.
 */
#include "replay.h"
#include "supervise.h"

/* Messages are cut to their buffers on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *phase_name(uint32_t ph)
{
    switch (ph) {
    case RP_PH_EXEC: return "while loading (before the worker's main)";
    case RP_PH_MAIN: return "while preparing the replay";
    case RP_PH_READY: return "just before the measured window";
    case RP_PH_WINDOW: return "inside the measured window";
    default: return "after the measured window";
    }
}

/* Last line(s) of what the worker wrote to stderr, flattened to one line. */
static void stderr_tail(int fd, char *out, size_t len)
{
    out[0] = 0;
    off_t end = lseek(fd, 0, SEEK_END);
    if (end <= 0)
        return;
    char buf[400];
    off_t start = end > (off_t)sizeof buf - 1 ? end - (off_t)sizeof buf + 1 : 0;
    ssize_t n = pread(fd, buf, sizeof buf - 1, start);
    if (n <= 0)
        return;
    buf[n] = 0;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = 0;
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t')
            buf[i] = ' ';
    snprintf(out, len, "%s%s", start > 0 ? "..." : "", buf);
}

const char *rp_worker_path(void)
{
    static char path[PATH_MAX];
    const char *env = getenv("HAK_REPLAY_WORKER");
    if (env && *env)
        return env;
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
    if (n <= 0)
        return "hak-replay-worker";
    path[n] = 0;
    char *slash = strrchr(path, '/');
    strcpy(slash ? slash + 1 : path, "hak-replay-worker");
    return path;
}

void rp_outcome_free(rp_outcome *out)
{
    if (out->res)
        munmap(out->res, sizeof(rp_wresult));
    out->res = NULL;
}

int rp_run(const rp_image *im, const rp_alloc *a, const rp_opts *o, rp_outcome *out)
{
    memset(out, 0, sizeof *out);
    if (a->error[0]) {
        snprintf(out->status, sizeof out->status, "load_failed");
        snprintf(out->error, sizeof out->error, "%s", a->error);
        return 0;
    }
    int rfd = memfd_create("hak-replay-result", MFD_CLOEXEC);
    int efd = memfd_create("hak-replay-stderr", MFD_CLOEXEC);
    if (rfd < 0 || efd < 0 || ftruncate(rfd, sizeof(rp_wresult)) != 0) {
        snprintf(out->status, sizeof out->status, "error");
        snprintf(out->error, sizeof out->error, "memfd: %s", strerror(errno));
        if (rfd >= 0) close(rfd);
        if (efd >= 0) close(efd);
        return 0;
    }
    rp_wresult *res = mmap(NULL, sizeof *res, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0);
    if (res == MAP_FAILED) {
        snprintf(out->status, sizeof out->status, "error");
        snprintf(out->error, sizeof out->error, "mmap result: %s", strerror(errno));
        close(rfd);
        close(efd);
        return 0;
    }
    res->magic = RP_RES_MAGIC;
    res->phase = RP_PH_EXEC;
    const char *worker = o->worker ? o->worker : rp_worker_path();
    char lat[32];
    /* Reading the TSC costs ~25 ns on some VMs: time every 64th op, or
     * fewer on long traces (still >= 65536 samples per run). */
    uint64_t every = o->lat_every;
    if (!every)
        every = im->nops / 65536 > 64 ? im->nops / 65536 : 64;
    snprintf(lat, sizeof lat, "%llu", (unsigned long long)every);
    const char *argv[32];
    int ac = 0;
    argv[ac++] = worker;
    argv[ac++] = "--image-fd"; argv[ac++] = "3";
    argv[ac++] = "--result-fd"; argv[ac++] = "4";
    argv[ac++] = "--threads"; argv[ac++] = o->recorded ? "recorded" : "serial";
    char touch[32];
    argv[ac++] = "--touch"; argv[ac++] = hak_touch_label(o->touch, o->touch_part, touch, sizeof touch);
    argv[ac++] = "--pace"; argv[ac++] = o->pace_recorded ? "recorded" : "asap";
    if (o->calloc_first) {
        argv[ac++] = "--calloc-touch"; argv[ac++] = "first";
    }
    char scale[32];
    if (o->pace_recorded && o->pace_scale > 0 && o->pace_scale != 1) {
        snprintf(scale, sizeof scale, "%.6g", o->pace_scale);
        argv[ac++] = "--pace-scale"; argv[ac++] = scale;
    }
    argv[ac++] = "--lat-every"; argv[ac++] = lat;
    char mt[32];
    if (o->min_time_ns) {
        snprintf(mt, sizeof mt, "%llu", (unsigned long long)o->min_time_ns);
        argv[ac++] = "--min-time-ns"; argv[ac++] = mt;
    }
    if (a->kind == RP_ALLOC_BUMP)
        argv[ac++] = "--bump";
    if (a->kind == RP_ALLOC_PRELOAD) {
        argv[ac++] = "--expect-lib";
        argv[ac++] = a->path;
    }
    argv[ac] = NULL;

    fflush(NULL);
    pid_t pid = hak_child_fork();
    if (pid < 0) {
        snprintf(out->status, sizeof out->status, "error");
        snprintf(out->error, sizeof out->error, "fork: %s", strerror(errno));
        munmap(res, sizeof *res);
        close(rfd);
        close(efd);
        return 0;
    }
    if (pid == 0) {
        /* A killed hak must take its worker with it, not leave it
         * replaying for up to a run (hak_child_fork). */
        if (!o->recorded)
            personality((unsigned long)personality(0xffffffff) | ADDR_NO_RANDOMIZE);
        int devnull = open("/dev/null", O_RDWR);
        /* Move fds out of the way before placing them at 3 and 4. */
        int ifd = fcntl(im->fd, F_DUPFD, 10), rfd2 = fcntl(rfd, F_DUPFD, 10);
        if (ifd < 0 || rfd2 < 0 || dup2(ifd, 3) < 0 || dup2(rfd2, 4) < 0)
            _exit(126);
        dup2(efd, 2);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
        }
        if (close_range(5, ~0u, 0) != 0)
            for (int fd = 5; fd < 1024; fd++)
                close(fd);
        unsetenv("LD_PRELOAD");
        if (a->kind == RP_ALLOC_PRELOAD)
            setenv("LD_PRELOAD", a->path, 1);
        for (size_t i = 0; i < o->nenv; i++)
            putenv((char *)o->env[i]);
        execv(worker, (char *const *)argv);
        snprintf(res->error, sizeof res->error, "exec %.300s: %s", worker, strerror(errno));
        res->fail = RP_FAIL_ERROR;
        _exit(127);
    }
    close(rfd);
    int st = 0;
    int timed_out = hak_child_wait(pid, o->timeout_s, 0, NULL, NULL, &st);
    int wait_errno = errno;
    char tail[512];
    stderr_tail(efd, tail, sizeof tail);
    close(efd);
    uint32_t ph = res->phase;
    out->res = res;
    if (timed_out < 0) {
        kill(-pid, SIGKILL);
        snprintf(out->status, sizeof out->status, "error");
        snprintf(out->error, sizeof out->error, "waitpid: %s", strerror(wait_errno));
    } else if (timed_out) {
        snprintf(out->status, sizeof out->status, "timeout");
        snprintf(out->error, sizeof out->error, "no result after %gs: killed %s",
                 o->timeout_s, phase_name(ph));
    } else if (WIFSIGNALED(st)) {
        int sig = WTERMSIG(st);
        snprintf(out->status, sizeof out->status, ph == RP_PH_EXEC ? "load_failed" : "crashed");
        snprintf(out->error, sizeof out->error, "killed by SIG%s %s%s%s",
                 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?", phase_name(ph),
                 tail[0] ? ": " : "", tail);
    } else if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && ph == RP_PH_DONE) {
        snprintf(out->status, sizeof out->status, "ok");
    } else if (res->fail == RP_FAIL_LOAD) {
        snprintf(out->status, sizeof out->status, "load_failed");
        snprintf(out->error, sizeof out->error, "%s%s%s", res->error,
                 tail[0] ? "; stderr: " : "", tail);
    } else if (res->fail == RP_FAIL_ERROR) {
        snprintf(out->status, sizeof out->status, "error");
        snprintf(out->error, sizeof out->error, "%s", res->error);
    } else {
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        snprintf(out->status, sizeof out->status, ph == RP_PH_EXEC ? "load_failed" : "crashed");
        snprintf(out->error, sizeof out->error, "exited with status %d %s%s%s",
                 code, phase_name(ph), tail[0] ? ": " : "", tail);
    }
    for (char *p = out->error; *p; p++)
        if (*p == '\n') *p = ' ';
    return 0;
}
