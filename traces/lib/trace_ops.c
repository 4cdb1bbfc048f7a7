/* trace_ops.c - operation names and classes. */
#include "trace.h"

#include <stdio.h>
#include <string.h>

static const char *const names[HAK_OP_COUNT_] = {
    [HAK_OP_MALLOC] = "malloc",
    [HAK_OP_CALLOC] = "calloc",
    [HAK_OP_REALLOC] = "realloc",
    [HAK_OP_REALLOCARRAY] = "reallocarray",
    [HAK_OP_FREE] = "free",
    [HAK_OP_MEMALIGN] = "memalign",
    [HAK_OP_POSIX_MEMALIGN] = "posix_memalign",
    [HAK_OP_ALIGNED_ALLOC] = "aligned_alloc",
    [HAK_OP_VALLOC] = "valloc",
    [HAK_OP_PVALLOC] = "pvalloc",
    [HAK_OP_THREAD_START] = "thread_start",
    [HAK_OP_THREAD_EXIT] = "thread_exit",
    [HAK_OP_MMAP] = "mmap",
    [HAK_OP_MUNMAP] = "munmap",
    [HAK_OP_MREMAP] = "mremap",
};

const char *hak_op_name(int op)
{
    return op > 0 && op < HAK_OP_COUNT_ ? names[op] : "?";
}


int hak_op_allocates(int op)
{
    return (op >= HAK_OP_MALLOC && op <= HAK_OP_PVALLOC && op != HAK_OP_FREE);
}

static const char *const loss_names[HAK_LOSS_COUNT_] = {
    [HAK_LOSS_OOM] = "out of memory",
    [HAK_LOSS_WRITE] = "write failed",
    [HAK_LOSS_FD_TAKEN] = "descriptor taken",
    [HAK_LOSS_DISABLED] = "recorder disabled",
    [HAK_LOSS_NOT_FOLLOWED] = "not followed",
    [HAK_LOSS_UNFLUSHED] = "unflushed threads",
    [HAK_LOSS_REENTRANT] = "signal handler inside the recorder",
};

const char *hak_loss_reason_name(int reason)
{
    if (reason > 0 && reason < HAK_LOSS_COUNT_)
        return loss_names[reason];
    /* A newer writer's reason: named by number, never refused. */
    static __thread char buf[32];
    snprintf(buf, sizeof buf, "unknown reason %u", (unsigned)reason);
    return buf;
}
