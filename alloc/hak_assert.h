/* hak_assert.h - internal invariant checks, compiled out of a release build.
 *
 * HAK_DEBUG (a make variable: `make HAK_DEBUG=2 ...`, or `make alloc-debug`
 * for a level-3 build in build/debug/) selects how much is checked:
 *   0  nothing (the release build: the conditions are type-checked but
 *      never evaluated, so the hot paths carry no trace of them);
 *   1  hak_assert: cheap facts on slow paths (counts in range, the caller
 *      owns what it touches);
 *   2  hak_assert_internal: also the accounting identities of slabs and
 *      SuperSlabs, checked where they change;
 *   3  hak_assert_expensive: also walks (free-list length against its count,
 *      unit-state totals of a whole SuperSlab).
 * The ASan/UBSan test builds (test_*_asan) run at level 3.
 *
 * A failed check prints one line, "hakmem: assertion failed: EXPR
 * (FILE:LINE FUNCTION)", with write(2) and aborts: an invariant is broken,
 * so the heap cannot be trusted to run stdio or anything else.
 */
#ifndef HAK_ASSERT_H
#define HAK_ASSERT_H

#ifndef HAK_DEBUG
#define HAK_DEBUG 0
#endif

__attribute__((noreturn, cold, noinline))
void hak_assert_fail(const char *expr, const char *file, int line, const char *func);

#define HAK_ASSERT_CHECK_(c) \
    (__builtin_expect(!!(c), 1) ? (void)0 : hak_assert_fail(#c, __FILE__, __LINE__, __func__))
/* Compiled out, but still parsed: a check cannot rot into code that does
 * not compile, and variables used only by checks raise no warnings. */
#define HAK_ASSERT_NONE_(c) ((void)(0 && (c)))

#if HAK_DEBUG >= 1
#define hak_assert(c) HAK_ASSERT_CHECK_(c)
#else
#define hak_assert(c) HAK_ASSERT_NONE_(c)
#endif
#if HAK_DEBUG >= 2
#define hak_assert_internal(c) HAK_ASSERT_CHECK_(c)
#else
#define hak_assert_internal(c) HAK_ASSERT_NONE_(c)
#endif
#if HAK_DEBUG >= 3
#define hak_assert_expensive(c) HAK_ASSERT_CHECK_(c)
#else
#define hak_assert_expensive(c) HAK_ASSERT_NONE_(c)
#endif

#endif /* HAK_ASSERT_H */
