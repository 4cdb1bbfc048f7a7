/* supervise.c - supervised child processes (supervise.h). */
#include "supervise.h"
#include "hak_util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

pid_t hak_child_fork(void)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(126);
    setpgid(0, 0);
    return 0;
}

int hak_child_wait(pid_t pid, double timeout_s, unsigned tick_ms,
                   void (*tick)(void *ctx), void *ctx, int *status)
{
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    uint64_t t0 = hak_mono_ns();
    uint64_t deadline = timeout_s > 0 ? t0 + (uint64_t)(timeout_s * 1e9) : UINT64_MAX;
    uint64_t next_tick = tick ? t0 + (uint64_t)tick_ms * 1000000u : UINT64_MAX;
    int rc;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid) {
            rc = 0;
            break;
        }
        if (r < 0 && errno != EINTR) {
            rc = -1;
            break;
        }
        uint64_t now = hak_mono_ns();
        if (now >= deadline) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, status, 0);
            rc = 1;
            break;
        }
        if (now >= next_tick) {
            tick(ctx);
            next_tick = now + (uint64_t)tick_ms * 1000000u;
        }
        uint64_t until = deadline < next_tick ? deadline : next_tick;
        uint64_t left_ms = (until - now) / 1000000u + 1;
        int slice = left_ms > 1000 ? 1000 : (int)left_ms;
        if (pfd >= 0) {
            struct pollfd p = {pfd, POLLIN, 0};
            poll(&p, 1, slice);
        } else {
            struct timespec d = {0, 5000000};
            nanosleep(&d, NULL);
        }
    }
    if (pfd >= 0)
        close(pfd);
    return rc;
}
