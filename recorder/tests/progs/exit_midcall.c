/* exit_midcall.c - a thread inside an allocation call when recording stops
 * (recorder/tests/loss.sh).  Run with tests/plug/libslow_malloc.so
 * preloaded after the recorder: thread B's malloc of 777777 bytes blocks in
 * it, inside the recorder's interposed call.  Once B is inside, main tries
 * to exec a path that does not exist: the recorder finishes the trace
 * before the exec (rec_exec.c), the exec fails and the process goes on,
 * unrecorded.  B's call returns afterwards, its record published after the
 * recorder's final collection unless the recorder waited for it:
 *   released  B's call returns by itself 100 ms after it went in: the
 *             recorder must wait for it, and the trace hold B's malloc;
 *   stuck     B's call returns only once the exec attempt is over: the
 *             trace must say it lost an event.
 * B then waits without allocating until main, after the exec attempt, has
 * printed "B returned": no other call of the program falls in the window.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile int *state;
static void *volatile sink;
static volatile int b_done, finish;

static void *thread_b(void *arg)
{
    (void)arg;
    sink = malloc(16);               /* registered with the recorder */
    free(sink);
    sink = malloc(777777);           /* blocks inside */
    b_done = 1;
    while (!finish)
        usleep(1000);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "released") && strcmp(argv[1], "stuck"))) {
        fprintf(stderr, "usage: exit_midcall released|stuck\n");
        return 2;
    }
    state = dlsym(RTLD_DEFAULT, "slow_malloc_state");
    volatile int *hold = dlsym(RTLD_DEFAULT, "slow_malloc_hold_ms");
    if (!state || !hold) {
        fprintf(stderr, "exit_midcall: libslow_malloc.so is not preloaded\n");
        return 2;
    }
    if (!strcmp(argv[1], "released"))
        *hold = 100;
    pthread_t b;
    pthread_create(&b, NULL, thread_b, NULL);
    while (*state != 1)
        usleep(1000);
    char *av[] = {"/nonexistent/exit_midcall", NULL};
    execv(av[0], av);                /* fails: the trace is finished first */
    *state = 2;
    while (!b_done)
        usleep(1000);
    printf("B returned\n");
    finish = 1;
    pthread_join(b, NULL);
    return 0;
}
