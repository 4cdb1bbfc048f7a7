/* sim_alloc.h - the allocator under simulation, as a table of entry points.
 *
 * The simulator replays in its own process, so the allocator must serve the
 * workload's calls and nothing else: a .so is dlopen()ed with
 * RTLD_LOCAL|RTLD_DEEPBIND and called through dlsym'd pointers, which keeps
 * the simulator's own memory (trace reader, replay form, SQLite) on glibc's
 * heap and the model's tables in private mmaps.  "glibc" is the process's
 * own malloc (the simulator's bookkeeping avoids it inside the window).
 *
 * malloc, free and realloc are required; calloc and the memalign family
 * fall back to the entries the library has (calloc -> malloc + memset,
 * memalign/valloc/... -> posix_memalign or aligned_alloc).
 */
#ifndef SIM_ALLOC_H
#define SIM_ALLOC_H

#include <stddef.h>

typedef struct sim_alloc {
    char name[64];           /* "hakmem", "glibc", basename of the .so */
    char path[4096];         /* resolved .so path, "" for glibc */
    void *handle;            /* dlopen handle, NULL for glibc */
    void *(*malloc_)(size_t);
    void  (*free_)(void *);
    void *(*calloc_)(size_t, size_t);
    void *(*realloc_)(void *, size_t);
    int   (*posix_memalign_)(void **, size_t, size_t);
    void *(*aligned_alloc_)(size_t, size_t);
    void *(*memalign_)(size_t, size_t);
    void *(*valloc_)(size_t);
    void *(*pvalloc_)(size_t);
} sim_alloc;

/* Resolves NAME|PATH to a .so path without loading it: "glibc" -> "",
 * "hakmem" -> build/lib/libhakmem.so next to the running hak binary, a path
 * is checked for existence.  0, or -1 with a one-line reason. */
int sim_alloc_resolve(const char *spec, char *path, size_t pathlen,
                      char *name, size_t namelen, char *err, size_t errlen);
/* Loads the allocator (dlopen for a .so).  0, or -1 with dlerror's reason. */
int sim_alloc_load(const char *spec, sim_alloc *a, char *err, size_t errlen);

/* The operations, with the fallbacks above. */
void *sim_alloc_calloc(const sim_alloc *a, size_t n, size_t size);
void *sim_alloc_aligned(const sim_alloc *a, size_t align, size_t size);

#endif
