/* record_control.c - `hak record` on a running process: --start/--stop PID
 * and -p PID.
 *
 * --start/--stop send the process's control signal (its HAKREC_SIGNAL,
 * else the default real-time one) with sigqueue, carrying REC_CTL_START or
 * REC_CTL_STOP, after checking in /proc/PID/status that the process
 * catches that signal (sending it to a process that does not would kill
 * it).  They return once the recorder's writer thread says it switched:
 * it is named hakrec-writer while a window is open and hakrec-off
 * between windows (rec_writer.c).
 *
 * -p PID does what heaptrack's and memray's runtime attach do with gdb, with
 * ptrace directly (record_inject.h): it stops one idle thread, calls dlopen
 * on libhakrec.so and then hakrec_attach there, which rewrites the
 * process's GOT slots of the malloc family to the recorder's wrappers
 * (rec_attach.c), and lets the process go.  The recorder reports each window
 * it closes in a notify file; ending the recording is a --stop, after
 * which the recorder puts the GOT slots back. */
#include "record_modes.h"
#include "record_inject.h"
#include "hak_util.h"
#include "rec_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *CMD = "record";

static size_t read_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t got = 0;
    ssize_t k;
    while (got + 1 < len && (k = read(fd, buf + got, len - 1 - got)) > 0)
        got += (size_t)k;
    close(fd);
    buf[got] = 0;
    return got;
}

/* The control signal of pid: sig_arg, its HAKREC_SIGNAL, or the default. */
static int control_signal(pid_t pid, const char *sig_arg, int *sig)
{
    if (sig_arg)
        return rec_parse_signal(sig_arg, sig);
    char path[64], env[65536];
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    size_t n = read_file(path, env, sizeof env);
    for (size_t i = 0; i < n; i += strlen(env + i) + 1)
        if (!strncmp(env + i, "HAKREC_SIGNAL=", 14) && env[i + 14])
            return rec_parse_signal(env + i + 14, sig);
    *sig = SIGRTMIN + REC_DEFAULT_SIGNAL_RT;
    return 0;
}

/* Does pid catch sig (a handler installed, /proc/PID/status SigCgt)? */
static int catches(pid_t pid, int sig)
{
    char path[64], st[8192];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    read_file(path, st, sizeof st);
    const char *p = strstr(st, "\nSigCgt:");
    if (!p)
        return 0;
    unsigned long long mask = strtoull(p + 8, NULL, 16);
    return (mask >> (sig - 1)) & 1;
}

/* The recorder's state as its writer thread's name says: 1 recording, 0
 * off between windows, -1 no writer thread (not recorded, detached,
 * exited). */
static int writer_state(pid_t pid)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int st = -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[400], comm[64];
        snprintf(path, sizeof path, "%s/%.300s/comm", dir, e->d_name);
        read_file(path, comm, sizeof comm);
        if (!strcmp(comm, "hakrec-writer\n"))
            st = 1;
        else if (!strcmp(comm, "hakrec-off\n") && st < 0)
            st = 0;
    }
    closedir(d);
    return st;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int alive(pid_t pid)
{
    return kill(pid, 0) == 0 || errno == EPERM;
}

int rec_cli_control(pid_t pid, int start, const char *sig_arg, int quiet)
{
    const char *what = start ? "--start" : "--stop";
    if (!alive(pid)) {
        hak_cmd_err(CMD, "%s %d: no such process", what, (int)pid);
        return 1;
    }
    int sig;
    if (control_signal(pid, sig_arg, &sig) != 0) {
        hak_cmd_err(CMD, "%s %d: '%s' is not a control signal the recorder takes", what,
                    (int)pid, sig_arg ? sig_arg : "HAKREC_SIGNAL");
        return 2;
    }
    char name[32];
    rec_signal_name(sig, name, sizeof name);
    if (!catches(pid, sig) || writer_state(pid) < 0) {
        hak_cmd_err(CMD, "%s %d: the process is not a switchable recording (it does not catch "
                    "SIG%s or has no recorder thread): start it with hak record --off or "
                    "--signal, attach with hak record -p, or name its signal with --signal",
                    what, (int)pid, name);
        return 1;
    }
    union sigval v = {.sival_int = start ? REC_CTL_START : REC_CTL_STOP};
    if (sigqueue(pid, sig, v) != 0) {
        hak_cmd_err(CMD, "%s %d: cannot send SIG%s: %s", what, (int)pid, name, strerror(errno));
        return 1;
    }
    /* the writer looks at requests every 20 ms; closing a window writes
     * its last chunks first */
    for (int i = 0; i < 3000; i++) {
        int st = writer_state(pid);
        if (start ? st == 1 : st <= 0) {
            if (!quiet)
                fprintf(stderr, "hak record: %d: recording %s\n", (int)pid, start ? "on" : "off");
            return 0;
        }
        if (!alive(pid)) {
            hak_cmd_err(CMD, "%s %d: the process exited", what, (int)pid);
            return 1;
        }
        sleep_ms(10);
    }
    hak_cmd_err(CMD, "%s %d: the recorder did not switch within 30 s", what, (int)pid);
    return 1;
}

/* ---- attach ------------------------------------------------------------------ */

void rec_attach_default_name(pid_t pid, char *out, size_t len)
{
    char path[64], comm[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    if (!read_file(path, comm, sizeof comm))
        snprintf(comm, sizeof comm, "process");
    comm[strcspn(comm, "\n/")] = 0;
    snprintf(out, len, "%s.%d.hkt", comm, (int)pid);
}

static const char *ptrace_help(void)
{
    static char b[400];
    char scope[16] = "";
    read_file("/proc/sys/kernel/yama/ptrace_scope", scope, sizeof scope);
    scope[strcspn(scope, "\n")] = 0;
    snprintf(b, sizeof b, "attaching needs permission to ptrace the process: the same user "
             "and /proc/sys/kernel/yama/ptrace_scope 0 (%s), or CAP_SYS_PTRACE (root)%s",
             *scope ? scope : "no Yama here",
             *scope && strcmp(scope, "0") ? "; echo 0 > /proc/sys/kernel/yama/ptrace_scope as "
             "root allows it" : "");
    return b;
}

static volatile sig_atomic_t interrupted;
static void on_interrupt(int sig) { (void)sig; interrupted = 1; }

/* Loads lib into pid and calls hakrec_attach(cfg) there (record_inject.h).
 * 0, or -1 with the reason in why (*perm set when ptrace was refused). */
static int inject(pid_t pid, const char *lib, const char *cfg, char *why, size_t len, int *perm)
{
    *perm = 0;
    uint64_t dlopen_fn = rec_inject_symbol(pid, "libc.so", 0, "dlopen");
    uint64_t dlerror_fn = rec_inject_symbol(pid, "libc.so", 0, "dlerror");
    if (!dlopen_fn) {
        snprintf(why, len, "no dlopen in the process's C library (glibc 2.34 or later, "
                 "dynamically linked, is needed)");
        return -1;
    }
    rec_inject in;
    char err[512];
    if (rec_inject_begin(&in, pid, 2000, err, sizeof err) != 0) {
        *perm = errno == EPERM;
        snprintf(why, len, "%s", err);
        return -1;
    }
    int rc = -1;
    uint64_t ret = 0, lib_at = rec_inject_put(&in, lib, strlen(lib) + 1);
    uint64_t cfg_at = rec_inject_put(&in, cfg, strlen(cfg) + 1);
    if (!lib_at || !cfg_at) {
        snprintf(why, len, "cannot write to the process's stack");
        goto out;
    }
    if (rec_inject_call(&in, dlopen_fn, lib_at, 2 /* RTLD_NOW */, &ret, 10000, err,
                        sizeof err) != 0) {
        snprintf(why, len, "dlopen: %s", err);
        goto out;
    }
    if (!ret) {
        char msg[512] = "";
        uint64_t m = 0;
        if (dlerror_fn && rec_inject_call(&in, dlerror_fn, 0, 0, &m, 2000, err, sizeof err) == 0)
            rec_inject_get_string(&in, m, msg, sizeof msg);
        snprintf(why, len, "dlopen(%s) failed in the process: %s", lib, *msg ? msg : "?");
        goto out;
    }
    uint64_t attach_fn = rec_inject_symbol(pid, lib, 1, "hakrec_attach");
    uint64_t error_fn = rec_inject_symbol(pid, lib, 1, "hakrec_attach_error");
    if (!attach_fn || !error_fn) {
        snprintf(why, len, "%s is loaded but hakrec_attach was not found in it", lib);
        goto out;
    }
    if (rec_inject_call(&in, attach_fn, cfg_at, 0, &ret, 10000, err, sizeof err) != 0) {
        snprintf(why, len, "hakrec_attach: %s", err);
        goto out;
    }
    if ((int)ret != 0) {
        char msg[512] = "";
        uint64_t m = 0;
        if (rec_inject_call(&in, error_fn, 0, 0, &m, 2000, err, sizeof err) == 0)
            rec_inject_get_string(&in, m, msg, sizeof msg);
        snprintf(why, len, "the recorder refused: %s", *msg ? msg : "?");
        goto out;
    }
    rc = 0;
out:
    rec_inject_end(&in);
    return rc;
}

int rec_cli_attach(pid_t pid, const char *lib, const char *cfg, const char *sig_arg,
                   uint64_t duration_ns, int quiet)
{
    if (!alive(pid)) {
        hak_cmd_err(CMD, "-p %d: no such process", (int)pid);
        return 1;
    }
    if (kill(pid, 0) != 0 && errno == EPERM) {
        hak_cmd_err(CMD, "-p %d: cannot attach: not allowed to signal it; %s", (int)pid,
                    ptrace_help());
        return 1;
    }
    int sig;
    if (control_signal(pid, sig_arg, &sig) != 0)
        sig = SIGRTMIN + REC_DEFAULT_SIGNAL_RT;
    if (!sig_arg)
        sig = SIGRTMIN + REC_DEFAULT_SIGNAL_RT;   /* not the process's own HAKREC_SIGNAL */
    char signame[32];
    rec_signal_name(sig, signame, sizeof signame);
    char notify[] = "/tmp/hakrec-attach.XXXXXX";
    int nfd = mkstemp(notify);
    if (nfd < 0) {
        hak_cmd_err(CMD, "-p %d: cannot create a file in /tmp: %s", (int)pid, strerror(errno));
        return 1;
    }
    close(nfd);
    /* the recorder runs as the process's user */
    chmod(notify, 0666);
    static char full[16384];
    if ((size_t)snprintf(full, sizeof full, "%sHAKREC_NOTIFY=%s\nHAKREC_SIGNAL=%s\n", cfg,
                         notify, signame) >= sizeof full) {
        hak_cmd_err(CMD, "-p %d: settings too long", (int)pid);
        unlink(notify);
        return 2;
    }
    uint64_t t0 = hak_mono_ns();
    char why[1024];
    int perm;
    if (inject(pid, lib, full, why, sizeof why, &perm) != 0) {
        if (perm)
            hak_cmd_err(CMD, "-p %d: cannot attach: %s; %s", (int)pid, why, ptrace_help());
        else
            hak_cmd_err(CMD, "-p %d: cannot attach: %s", (int)pid, why);
        unlink(notify);
        return 1;
    }
    double secs = (double)(hak_mono_ns() - t0) / 1e9;
    if (!quiet)
        fprintf(stderr, "hak record: attached to %d in %.3f s; recording %s (Ctrl-C or "
                "hak record --stop %d --signal %s ends it)\n", (int)pid, secs,
                duration_ns ? "for the --duration" : "until stopped", (int)pid, signame);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    uint64_t start = hak_mono_ns();
    int stop_sent = 0, ended = 0, died = 0;
    uint64_t stop_at = 0;
    char log[16384];
    for (;;) {
        read_file(notify, log, sizeof log);
        if (strstr(log, "detached\n") || strstr(log, "end\n")) {
            ended = 1;
            break;
        }
        if (!alive(pid)) {
            died = 1;
            break;
        }
        uint64_t now = hak_mono_ns();
        if (!stop_sent && (interrupted || (duration_ns && now - start >= duration_ns))) {
            union sigval v = {.sival_int = REC_CTL_STOP};
            if (sigqueue(pid, sig, v) != 0) {
                hak_cmd_err(CMD, "-p %d: cannot send the stop signal: %s", (int)pid,
                            strerror(errno));
                break;
            }
            stop_sent = 1;
            stop_at = now;
        }
        if (stop_sent && now - stop_at > 60000000000ull) {
            hak_cmd_err(CMD, "-p %d: the recorder did not detach within 60 s", (int)pid);
            break;
        }
        sleep_ms(10);
    }
    read_file(notify, log, sizeof log);
    unlink(notify);
    if (!quiet) {
        if (ended)
            fprintf(stderr, "hak record: detached from %d; it goes on running\n", (int)pid);
        else if (died)
            fprintf(stderr, "hak record: %d exited while recorded\n", (int)pid);
    }
    return ended || died ? 0 : 1;
}
