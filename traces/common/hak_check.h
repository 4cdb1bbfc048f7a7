/* hak_check.h - internal invariant checks for the lab's C code (trace
 * library, store, replayer, commands), in the spirit of mimalloc's
 * mi_assert_internal:
 *
 *   HAK_CHECK(c)   checked when HAK_DEBUG >= 1 (`make debug`, and the
 *                  sanitizer builds of `make check`'s fuzz replayers),
 *                  compiled out otherwise: the expression is type-checked
 *                  but never evaluated, so a check costs nothing in the
 *                  release build and must not have side effects.
 *
 * A check states an invariant of our own code.  One that fails is a bug:
 * it prints "hak: internal check failed: EXPR (file:line, function)" and
 * aborts.  Bad input is never a check: it gets a one-line error naming the
 * file, offset or argument.  The allocator (alloc/hak_assert.h: libc only,
 * levels 1-3) and the recorder (REC_ASSERT in rec_internal.h: inside
 * interposed calls, no stdio) have their own. */
#ifndef HAK_CHECK_H
#define HAK_CHECK_H

#ifndef HAK_DEBUG
#define HAK_DEBUG 0
#endif

#if HAK_DEBUG >= 1
#include <stdio.h>
#include <stdlib.h>
__attribute__((noreturn, cold)) static inline void
hak_check_fail(const char *expr, const char *file, int line, const char *func)
{
    fflush(stdout);
    fprintf(stderr, "hak: internal check failed: %s (%s:%d, %s)\n", expr, file, line, func);
    abort();
}
#define HAK_CHECK(c) \
    (__builtin_expect(!!(c), 1) ? (void)0 : hak_check_fail(#c, __FILE__, __LINE__, __func__))
#else
#define HAK_CHECK(c) ((void)(0 && (c)))
#endif

#endif
