/* rec_exec.c - exec: finish this image's trace before the image is replaced.
 *
 * exec keeps the pid, and the new image (which loads the recorder again via
 * LD_PRELOAD) writes the pid's usual file.  So before exec the current
 * image's trace is closed and moved aside to STEM.PID.xN.hkt (N = 1, 2, ...
 * the first free name); the new image then writes the usual name.  For
 * `hak record -- wrapper-script`, the top file therefore holds the last
 * image of the top process (the real program), and the wrappers' traces sit
 * next to it.  If exec fails the trace is moved back and the process goes
 * on unrecorded (it is complete up to the exec attempt).
 *
 * glibc's execvp/execl* do not call execve through the PLT, so each member
 * of the family is interposed; the variadic execl* build an argv. */
#include "rec_internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

extern char **environ;

static int moved;
static char moved_to[4096];

/* envp's value of NAME, or NULL. */
static const char *env_get(char *const envp[], const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; envp && envp[i]; i++)
        if (!strncmp(envp[i], name, n) && envp[i][n] == '=')
            return envp[i] + n + 1;
    return NULL;
}

/* Will the new image record itself, and into the file we expect?  It needs
 * libhakrec.so in LD_PRELOAD, our HAKREC_OUTPUT and (for the top process)
 * our HAKREC_TOP_PID; a program that cleared or rebuilt its environment
 * (clearenv, execve with a fresh envp) drops them.  NULL when it will, else
 * what is missing. */
static const char *unfollowed(char *const envp[])
{
    /* our own file's base name: HAK_RECORDER_LIB may name a copy */
    Dl_info di;
    const char *self = "libhakrec.so";
    if (dladdr((void *)&unfollowed, &di) && di.dli_fname && *di.dli_fname) {
        const char *slash = strrchr(di.dli_fname, '/');
        self = slash ? slash + 1 : di.dli_fname;
    }
    const char *pre = env_get(envp, "LD_PRELOAD");
    if (!pre || !strstr(pre, self))
        return "LD_PRELOAD without the recorder";
    const char *out = env_get(envp, "HAKREC_OUTPUT");
    if (!out || strcmp(out, rec_g.cfg.output))
        return "HAKREC_OUTPUT missing or changed";
    if (rec_g.pid == rec_g.cfg.top_pid) {
        const char *top = env_get(envp, "HAKREC_TOP_PID");
        if (!top || atol(top) != (long)rec_g.cfg.top_pid)
            return "HAKREC_TOP_PID missing or changed";
    }
    return NULL;
}

static void before_exec(const char *what, char *const envp[])
{
    moved = 0;
    if (getpid() != rec_g.pid)
        return;                       /* a vfork child */
    int st = atomic_load(&rec_g.state);
    if (st == REC_PAUSED || st == REC_SWITCHING) {
        rec_shutdown("exec");         /* a window being closed is finished */
        return;
    }
    if (st != REC_ON)
        return;                       /* not recording */
    const char *missing = unfollowed(envp);
    if (missing) {
        /* The new image will not record (or not into the expected file):
         * this trace stays where it is, complete up to here, and says the
         * process went on unrecorded. */
        char d[512];
        snprintf(d, sizeof d, "exec of %.300s without the recorder's environment (%s): "
                 "pid %d goes on unrecorded", what, missing, (int)rec_g.pid);
        rec_loss_later(HAK_LOSS_NOT_FOLLOWED, 0, d);
        rec_shutdown("exec");
        return;
    }
    rec_shutdown("exec");
    /* STEM of the top file; with a pattern (%p...) or windows, of this
     * window's file */
    const char *out = strchr(rec_g.cfg.output, '%') || rec_config_windows(&rec_g.cfg)
                      ? rec_g.path : rec_g.cfg.output;
    size_t n = strlen(out);
    if (n > 4 && !strcmp(out + n - 4, ".hkt"))
        n -= 4;
    for (int i = 1; i < 1000; i++) {
        if (out == rec_g.path)
            snprintf(moved_to, sizeof moved_to, "%.*s.x%d.hkt", (int)n, out, i);
        else
            snprintf(moved_to, sizeof moved_to, "%.*s.%d.x%d.hkt", (int)n, out,
                     (int)rec_g.pid, i);
        /* link fails with EEXIST instead of replacing an older image's trace */
        if (link(rec_g.path, moved_to) == 0) {
            unlink(rec_g.path);
            moved = 1;
            return;
        }
        if (errno != EEXIST)
            return;
    }
}

static void after_exec_failed(void)
{
    int e = errno;
    if (moved && rename(moved_to, rec_g.path) != 0) { /* leave it where it is */ }
    moved = 0;
    errno = e;
}

static void resolve(void)
{
    if (!rec_r.execve)
        rec_resolve();
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    resolve();
    before_exec(path, envp);
    int rc = rec_r.execve(path, argv, envp);
    after_exec_failed();
    return rc;
}

EXPORT int execv(const char *path, char *const argv[])
{
    return execve(path, argv, environ);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    resolve();
    before_exec(file, envp);
    int rc = rec_r.execvpe(file, argv, envp);
    after_exec_failed();
    return rc;
}

EXPORT int execvp(const char *file, char *const argv[])
{
    return execvpe(file, argv, environ);
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    resolve();
    before_exec("a descriptor (fexecve)", envp);
    int rc = rec_r.fexecve(fd, argv, envp);
    after_exec_failed();
    return rc;
}

/* execl family: collect the variadic arguments into an argv on the stack. */
#define COLLECT_ARGS(arg0, ap, argv, max, extra)                               \
    do {                                                                       \
        argv[0] = (char *)(arg0);                                              \
        size_t i_ = 1;                                                         \
        while (i_ < (max) - 1 && (argv[i_] = va_arg(ap, char *)) != NULL)      \
            i_++;                                                              \
        if (i_ == (max) - 1) {                                                 \
            errno = E2BIG;                                                     \
            va_end(ap);                                                        \
            return -1;                                                         \
        }                                                                      \
        argv[i_] = NULL;                                                       \
        extra;                                                                 \
    } while (0)

#define EXECL_MAX 4096

EXPORT int execl(const char *path, const char *arg, ...)
{
    char *argv[EXECL_MAX];
    va_list ap;
    va_start(ap, arg);
    COLLECT_ARGS(arg, ap, argv, EXECL_MAX, (void)0);
    va_end(ap);
    return execve(path, argv, environ);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
    char *argv[EXECL_MAX];
    va_list ap;
    va_start(ap, arg);
    COLLECT_ARGS(arg, ap, argv, EXECL_MAX, (void)0);
    va_end(ap);
    return execvpe(file, argv, environ);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
    char *argv[EXECL_MAX];
    char *const *envp;
    va_list ap;
    va_start(ap, arg);
    COLLECT_ARGS(arg, ap, argv, EXECL_MAX, envp = va_arg(ap, char *const *));
    va_end(ap);
    return execve(path, argv, envp);
}
