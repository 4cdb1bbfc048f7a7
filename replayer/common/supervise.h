/* supervise.h - running a measured child process, one way for hak replay
 * (its worker) and hak sim (its --worker), so both have the same
 * guarantees:
 *   - the child dies with hak, even when hak is SIGKILLed (the parent-death
 *     signal survives exec; a parent already gone is noticed at once);
 *   - it runs in its own process group, so a deadline kills everything it
 *     started, not only itself;
 *   - the wait has a deadline, sleeps in poll on a pidfd (no busy polling
 *     where the kernel has pidfds) and calls a progress callback. */
#ifndef HAK_SUPERVISE_H
#define HAK_SUPERVISE_H

#include <sys/types.h>

/* fork() for a supervised child.  In the child (returns 0) the death
 * signal and the process group are set; if hak died meanwhile the child
 * exits with status 126.  In the parent: the pid, or -1 (errno). */
pid_t hak_child_fork(void);

/* Waits for pid with a deadline (timeout_s <= 0: none).  tick(ctx), when
 * given, is called about every tick_ms while waiting.  Returns 0 with the
 * wait status in *status, 1 when the deadline passed (the child's group was
 * SIGKILLed and reaped, *status set), -1 on a waitpid error (errno). */
int hak_child_wait(pid_t pid, double timeout_s, unsigned tick_ms,
                   void (*tick)(void *ctx), void *ctx, int *status);

#endif
