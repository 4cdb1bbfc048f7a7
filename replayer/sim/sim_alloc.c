/* sim_alloc.c - see sim_alloc.h. */
#include "sim_alloc.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Directory of the running executable's parent: build/bin/hak -> build. */
static int build_dir(char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(exe, '/');
        if (!slash)
            return -1;
        *slash = '\0';
    }
    snprintf(out, len, "%s", exe);
    return 0;
}

int sim_alloc_resolve(const char *spec, char *path, size_t pathlen,
                      char *name, size_t namelen, char *err, size_t errlen)
{
    if (!spec || !*spec) {
        snprintf(err, errlen, "--alloc: empty allocator name");
        return -1;
    }
    if (!strcmp(spec, "glibc") || !strcmp(spec, "libc")) {
        snprintf(name, namelen, "glibc");
        path[0] = '\0';
        return 0;
    }
    if (!strcmp(spec, "hakmem")) {
        char dir[PATH_MAX];
        const char *env = getenv("HAK_LIBHAKMEM");   /* tests / installs */
        if (env && *env)
            snprintf(path, pathlen, "%s", env);
        else if (build_dir(dir, sizeof dir) == 0)
            snprintf(path, pathlen, "%s/lib/libhakmem.so", dir);
        else
            snprintf(path, pathlen, "build/lib/libhakmem.so");
        snprintf(name, namelen, "hakmem");
        if (access(path, R_OK) != 0) {
            snprintf(err, errlen, "--alloc hakmem: %s: %s (run make)", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (!strchr(spec, '/') && !strstr(spec, ".so")) {
        snprintf(err, errlen, "--alloc %s: unknown allocator (expected hakmem, glibc or a path to a .so)", spec);
        return -1;
    }
    if (access(spec, R_OK) != 0) {
        snprintf(err, errlen, "--alloc %s: %s", spec, strerror(errno));
        return -1;
    }
    if (!realpath(spec, path))
        snprintf(path, pathlen, "%s", spec);
    const char *base = strrchr(spec, '/');
    base = base ? base + 1 : spec;
    snprintf(name, namelen, "%s", base);
    char *dot = strstr(name, ".so");
    if (dot)
        *dot = '\0';
    if (!strncmp(name, "lib", 3) && name[3])
        memmove(name, name + 3, strlen(name + 3) + 1);
    return 0;
}

int sim_alloc_load(const char *spec, sim_alloc *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    if (sim_alloc_resolve(spec, a->path, sizeof a->path, a->name, sizeof a->name,
                          err, errlen))
        return -1;
    if (!a->path[0]) {
        a->malloc_ = malloc;
        a->free_ = free;
        a->calloc_ = calloc;
        a->realloc_ = realloc;
        a->posix_memalign_ = posix_memalign;
        a->aligned_alloc_ = aligned_alloc;
        a->memalign_ = memalign;
        a->valloc_ = valloc;
        a->pvalloc_ = pvalloc;
        return 0;
    }
    dlerror();
    a->handle = dlopen(a->path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!a->handle) {
        const char *e = dlerror();
        snprintf(err, errlen, "--alloc %s: dlopen: %s", spec, e ? e : "failed");
        return -1;
    }
#define SYM(field, sym) *(void **)&a->field = dlsym(a->handle, sym)
    SYM(malloc_, "malloc");
    SYM(free_, "free");
    SYM(calloc_, "calloc");
    SYM(realloc_, "realloc");
    SYM(posix_memalign_, "posix_memalign");
    SYM(aligned_alloc_, "aligned_alloc");
    SYM(memalign_, "memalign");
    SYM(valloc_, "valloc");
    SYM(pvalloc_, "pvalloc");
#undef SYM
    if (!a->malloc_ || !a->free_ || !a->realloc_) {
        snprintf(err, errlen, "--alloc %s: %s does not export malloc, free and realloc",
                 spec, a->path);
        dlclose(a->handle);
        a->handle = NULL;
        return -1;
    }
    /* A library that merely re-exports libc's malloc would silently measure
     * glibc: refuse it. */
    if ((void *)a->malloc_ == (void *)malloc) {
        snprintf(err, errlen, "--alloc %s: %s does not define its own malloc", spec, a->path);
        return -1;
    }
    return 0;
}

void *sim_alloc_calloc(const sim_alloc *a, size_t n, size_t size)
{
    if (a->calloc_)
        return a->calloc_(n, size);
    size_t total;
    if (__builtin_mul_overflow(n, size, &total))
        return NULL;
    void *p = a->malloc_(total);
    if (p)
        memset(p, 0, total);
    return p;
}

void *sim_alloc_aligned(const sim_alloc *a, size_t align, size_t size)
{
    if (align < sizeof(void *))
        align = sizeof(void *);
    if (align & (align - 1)) {            /* not a power of two: round up */
        size_t p2 = sizeof(void *);
        while (p2 < align)
            p2 <<= 1;
        align = p2;
    }
    if (a->posix_memalign_) {
        void *p = NULL;
        return a->posix_memalign_(&p, align, size) == 0 ? p : NULL;
    }
    if (a->aligned_alloc_)
        return a->aligned_alloc_(align, (size + align - 1) / align * align);
    if (a->memalign_)
        return a->memalign_(align, size);
    return NULL;
}
