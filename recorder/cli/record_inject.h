/* record_inject.h - calling functions inside another process (hak record
 * -p), with ptrace.
 *
 * The way gdb calls a function in its inferior, without gdb: stop one
 * thread, save its registers, point it at the function with its arguments
 * and a return address of 0, let it run until it faults there, take the
 * result from RAX and put every register back.  heaptrack and memray
 * attach by having gdb call dlopen this way; gdb's own inferior calls fail
 * on some kernels ("Couldn't write extended state status"), and an
 * injector of our own only ever writes the general and the legacy FP/SSE
 * registers.
 *
 * Which thread: one that is blocked in a system call a thread makes while
 * idle (futex, poll, epoll_wait, nanosleep, read, accept...), never one in
 * user code or inside mmap/brk: a thread interrupted there may hold the
 * allocator's lock (dlopen allocates) or have live AVX registers. */
#ifndef HAK_RECORD_INJECT_H
#define HAK_RECORD_INJECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

typedef struct rec_inject {
    pid_t pid, tid;                    /* process, the thread calls run on */
    struct user_regs_struct regs;      /* its registers when stopped */
    struct user_fpregs_struct fpregs;
    uint64_t scratch;                  /* below its stack pointer: strings */
    uint64_t scratch_used;
    int seized;
} rec_inject;

/* Stops a suitable thread of pid (waiting up to timeout_ms for one to be
 * idle in a system call).  0, or -1 with a one-line reason in err (for
 * EPERM: ptrace permission, see the caller). */
int rec_inject_begin(rec_inject *in, pid_t pid, unsigned timeout_ms, char *err, size_t len);
/* Copies len bytes into the target's scratch area; their address, 0 when
 * full. */
uint64_t rec_inject_put(rec_inject *in, const void *data, size_t len);
/* Reads a NUL-terminated string at addr into out. */
int rec_inject_get_string(rec_inject *in, uint64_t addr, char *out, size_t len);
/* Calls fn(a0, a1) in the target; *ret its return value.  0, or -1 with
 * the reason (the process died, the call did not return in timeout_ms,
 * a fault in it). */
int rec_inject_call(rec_inject *in, uint64_t fn, uint64_t a0, uint64_t a1, uint64_t *ret,
                    unsigned timeout_ms, char *err, size_t len);
/* Puts the thread's registers back and lets the process go. */
void rec_inject_end(rec_inject *in);

/* Address in pid of the dynamic symbol `name` of the loaded object whose
 * path matches: the exact path when exact, else a file whose base name
 * starts with path (e.g. "libc.so").  0 when not found. */
uint64_t rec_inject_symbol(pid_t pid, const char *path, int exact, const char *name);

#endif
