/* alloc_spec.c - resolving --alloc values (see replay.h).
 *
 *   glibc                 nothing preloaded
 *   bump                  the worker's built-in bump ring (harness cost)
 *   hakmem                this tree's build/lib/libhakmem.so
 *   mimalloc|jemalloc|tcmalloc   the Debian package's shared library
 *   PATH (has a '/' or ends in .so[.N])  that library
 *   hakmem@REV            the allocator built at git revision REV of this
 *                         repository, cached in ~/.cache/hakmem/builds/HASH
 *                         (git archive | tar -x, then make of the library only)
 */
#include "replay.h"

/* Paths longer than PATH_MAX are cut in messages; that is intended. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *rp_build_dir(void)
{
    static char dir[PATH_MAX];
    if (dir[0])
        return dir;
    const char *env = getenv("HAK_BUILD_DIR");
    if (env && *env) {
        snprintf(dir, sizeof dir, "%s", env);
        return dir;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return "";
    exe[n] = 0;
    char *s = strrchr(exe, '/');          /* .../build/bin/hak -> .../build */
    if (s) *s = 0;
    s = strrchr(exe, '/');
    if (s) *s = 0;
    snprintf(dir, sizeof dir, "%s", exe);
    return dir;
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Multiarch directory of the running libc, e.g. /usr/lib/x86_64-linux-gnu. */
static void libc_dir(char *out, size_t len)
{
    Dl_info di;
    snprintf(out, len, "/usr/lib");
    if (dladdr((void *)&fopen, &di) && di.dli_fname) {
        char real[PATH_MAX];
        if (realpath(di.dli_fname, real)) {
            char *s = strrchr(real, '/');
            if (s) *s = 0;
            snprintf(out, len, "%s", real);
        }
    }
}

static int peer_lib(const char *name, rp_alloc *a)
{
    static const struct { const char *name, *files[3], *pkg; } peers[] = {
        {"mimalloc", {"libmimalloc.so.2", "libmimalloc.so", NULL}, "libmimalloc2.0"},
        {"jemalloc", {"libjemalloc.so.2", "libjemalloc.so", NULL}, "libjemalloc2"},
        {"tcmalloc", {"libtcmalloc_minimal.so.4", "libtcmalloc.so.4", NULL}, "libtcmalloc-minimal4"},
    };
    for (size_t i = 0; i < sizeof peers / sizeof *peers; i++) {
        if (strcmp(name, peers[i].name))
            continue;
        char dirs[3][PATH_MAX];
        libc_dir(dirs[0], sizeof dirs[0]);
        snprintf(dirs[1], sizeof dirs[1], "/usr/lib");
        snprintf(dirs[2], sizeof dirs[2], "/usr/local/lib");
        for (int d = 0; d < 3; d++)
            for (int f = 0; peers[i].files[f]; f++) {
                snprintf(a->path, sizeof a->path, "%s/%s", dirs[d], peers[i].files[f]);
                if (exists(a->path))
                    return 1;
            }
        a->path[0] = 0;
        snprintf(a->error, sizeof a->error, "%s is not installed (Debian package %s)",
                 name, peers[i].pkg);
        return 1;
    }
    return 0;
}

static const char *cache_root(char *buf, size_t len)
{
    const char *x = getenv("HAK_CACHE_DIR");
    if (x && *x)
        snprintf(buf, len, "%s", x);
    else if ((x = getenv("XDG_CACHE_HOME")) && *x)
        snprintf(buf, len, "%s/hakmem", x);
    else
        snprintf(buf, len, "%s/.cache/hakmem", getenv("HOME") ? getenv("HOME") : "/tmp");
    return buf;
}

/* Runs `sh -c script sh args...` with output to log (or inherited when
 * log is NULL); captures the first line of stdout into out.  Exit status. */
static int sh(const char *script, const char *const *args, int nargs,
              const char *log, char *out, size_t outlen)
{
    int pfd[2] = {-1, -1};
    if (out && pipe(pfd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        const char *argv[16];
        int n = 0;
        argv[n++] = "sh";
        argv[n++] = "-c";
        argv[n++] = script;
        argv[n++] = "sh";
        for (int i = 0; i < nargs && n < 15; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        int lfd = log ? open(log, O_WRONLY | O_CREAT | O_APPEND, 0644) : open("/dev/null", O_WRONLY);
        if (out) {
            dup2(pfd[1], 1);
            close(pfd[0]);
            close(pfd[1]);
        } else if (lfd >= 0) {
            dup2(lfd, 1);
        }
        if (lfd >= 0)
            dup2(lfd, 2);
        execv("/bin/sh", (char *const *)argv);
        _exit(127);
    }
    if (out) {
        close(pfd[1]);
        size_t got = 0;
        ssize_t r;
        while (got + 1 < outlen && (r = read(pfd[0], out + got, outlen - 1 - got)) > 0)
            got += (size_t)r;
        out[got] = 0;
        char *nl = strchr(out, '\n');
        if (nl) *nl = 0;
        char sink[256];
        while (read(pfd[0], sink, sizeof sink) > 0) {}
        close(pfd[0]);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* The repository `hak` was built from: the parent of the build directory. */
static void repo_root(char *out, size_t len)
{
    const char *env = getenv("HAK_ROOT");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return;
    }
    snprintf(out, len, "%s/..", rp_build_dir());
}

static void build_rev(const char *rev, rp_alloc *a, int verbose)
{
    char root[PATH_MAX], hash[128], cache[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX + 32];
    char log[PATH_MAX + 32];
    repo_root(root, sizeof root);
    const char *args1[] = {root, rev};
    if (sh("git -C \"$1\" rev-parse --verify --quiet \"$2^{commit}\"", args1, 2, NULL,
           hash, sizeof hash) != 0 || strlen(hash) < 7) {
        snprintf(a->error, sizeof a->error, "hakmem@%s: not a revision of the repository at %s", rev, root);
        return;
    }
    snprintf(a->name, sizeof a->name, "hakmem@%.12s", hash);
    cache_root(cache, sizeof cache);
    snprintf(dir, sizeof dir, "%s/builds/%s", cache, hash);
    snprintf(a->path, sizeof a->path, "%s/libhakmem.so", dir);
    if (exists(a->path))
        return;
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", dir, (int)getpid());
    snprintf(log, sizeof log, "%s/builds/%s.log", cache, hash);
    if (verbose)
        fprintf(stderr, "hak replay: building hakmem@%.12s into %s (log %s)\n", hash, dir, log);
    char short_rev[16];   /* the archive has no .git: tell make the rev */
    snprintf(short_rev, sizeof short_rev, "%.12s", hash);
    const char *args2[] = {root, hash, tmp, dir, log, short_rev};
    int rc = sh("set -e; mkdir -p \"$3\"; : > \"$5\";"
                "git -C \"$1\" archive \"$2\" | tar -x -C \"$3\";"
                "make -C \"$3\" -j2 HAKMEM_BUILD_ID=\"$6\" build/lib/libhakmem.so >> \"$5\" 2>&1;"
                "mkdir -p \"$3.out\"; cp \"$3/build/lib/libhakmem.so\" \"$3.out/\";"
                "mv -T \"$3.out\" \"$4\" 2>/dev/null || test -f \"$4/libhakmem.so\"",
                args2, 6, NULL, NULL, 0);
    const char *args3[] = {tmp};
    sh("rm -rf \"$1\" \"$1.out\"", args3, 1, NULL, NULL, 0);   /* keep only the library */
    if (rc != 0 || !exists(a->path))
        snprintf(a->error, sizeof a->error,
                 "building hakmem@%.12s failed (make build/lib/libhakmem.so); see %s", hash, log);
}

int rp_alloc_resolve(const char *spec, rp_alloc *a, int verbose)
{
    memset(a, 0, sizeof *a);
    snprintf(a->spec, sizeof a->spec, "%s", spec);
    snprintf(a->name, sizeof a->name, "%s", spec);
    a->kind = RP_ALLOC_PRELOAD;
    if (!strcmp(spec, "glibc")) {
        a->kind = RP_ALLOC_GLIBC;
        return 0;
    }
    if (!strcmp(spec, "bump")) {
        a->kind = RP_ALLOC_BUMP;
        return 0;
    }
    if (!strcmp(spec, "hakmem")) {
        snprintf(a->path, sizeof a->path, "%s/lib/libhakmem.so", rp_build_dir());
        if (!exists(a->path))
            snprintf(a->error, sizeof a->error, "%s: not built (run make)", a->path);
        return 0;
    }
    if (!strncmp(spec, "hakmem@", 7) && spec[7]) {
        build_rev(spec + 7, a, verbose);
        return 0;
    }
    if (peer_lib(spec, a))
        return 0;
    if (strchr(spec, '/') || strstr(spec, ".so")) {
        const char *base = strrchr(spec, '/');
        snprintf(a->name, sizeof a->name, "%s", base ? base + 1 : spec);
        char real[PATH_MAX];
        if (!realpath(spec, real)) {
            snprintf(a->path, sizeof a->path, "%s", spec);
            snprintf(a->error, sizeof a->error, "%s: %s", spec, strerror(errno));
            return 0;
        }
        snprintf(a->path, sizeof a->path, "%s", real);
        if (!exists(a->path))
            snprintf(a->error, sizeof a->error, "%s: not a regular file", spec);
        return 0;
    }
    return -1;
}
