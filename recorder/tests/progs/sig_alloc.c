/* sig_alloc: a SIGALRM handler that allocates and frees (as some programs'
 * handlers do, although malloc is not async-signal-safe) fires every 100 us
 * while the main thread churns blocks for MS milliseconds (default 300).
 * glibc takes an arena lock in malloc once a process has threads (the
 * recorder's writer), and a handler that needed it while the interrupted
 * malloc held it would deadlock; so the handler only uses two sizes whose
 * tcache bins are warmed first and never drain or fill (each call frees
 * one block of a size and allocates one), which glibc serves without a
 * lock, and the main loop uses other sizes.  Under the recorder the
 * handler often interrupts an interposed call: its events must neither
 * corrupt the interrupted event's record nor be dropped silently. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t fired;
static void *keep[16];

static void on_alarm(int sig)
{
    (void)sig;
    /* a block kept across invocations too: its free happens in a later
     * handler, its allocation in this one */
    unsigned k = (unsigned)fired & 15;
    free(keep[k]);
    keep[k] = malloc(40);
    free(malloc(100));
    fired++;
}

int main(int argc, char **argv)
{
    long ms_total = argc > 1 ? atol(argv[1]) : 300;
    for (int k = 0; k < 16; k++)
        keep[k] = malloc(40);
    void *warm[3];
    for (int k = 0; k < 3; k++)
        warm[k] = malloc(100);
    for (int k = 0; k < 3; k++)
        free(warm[k]);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 100}, {0, 100}};
    setitimer(ITIMER_REAL, &it, NULL);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    void *win[32] = {0};
    unsigned seed = 7;
    long n = 0;
    for (;;) {
        seed = seed * 1103515245u + 12345u;
        unsigned i = (seed >> 8) & 31;
        free(win[i]);
        win[i] = malloc(200 + (seed >> 20) % 800);   /* not the handler's bins */
        if ((++n & 4095) == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= ms_total)
                break;
        }
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    for (int i = 0; i < 32; i++)
        free(win[i]);
    printf("ok %s\n", fired > 0 ? "fired" : "never fired");
    if (getenv("SIG_ALLOC_COUNT"))
        fprintf(stderr, "handler ran %d times\n", (int)fired);
    return 0;
}
