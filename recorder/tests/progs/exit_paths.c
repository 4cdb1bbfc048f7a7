/* exit_paths: the ways a process ends that once skipped, or could hang,
 * the recorder's final flush (rec_exitpath.c).  Each mode makes 1,000
 * malloc(4242)/free pairs before its twist and 1,000 after it (the events
 * loss.sh counts), then ends as named:
 *   vfork-exit     a vfork child calls exit(0) (runs the exit handlers in
 *                  our memory); then the process calls exit(0)
 *   vfork-return   the same, then main returns 0
 *   vfork-thread   a second thread's vfork child calls exit; main returns 0
 *   pexit          main calls pthread_exit; the other thread ends the
 *                  process with exit(0) 100 ms later (must not wait)
 *   stuck          main calls exit(0) and its atexit handler blocks for
 *                  good; a thread calls exit(4) 100 ms later: it must not
 *                  wait for main for ever (the 5 s bound), status 4 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;

static void churn(void)
{
    for (int i = 0; i < 1000; i++) {
        sink = malloc(4242);
        free(sink);
    }
}

static void vfork_and_exit(void)
{
    pid_t p = vfork();
    if (p == 0)
        exit(0);                       /* no exec: what a failed exec does next */
    if (p < 0 || waitpid(p, NULL, 0) != p)
        _exit(2);
}

static void *vfork_thread(void *arg)
{
    (void)arg;
    vfork_and_exit();
    return NULL;
}

static void *late_exit(void *arg)
{
    usleep(100000);
    churn();
    exit((int)(long)arg);
}

static void block_for_good(void)
{
    for (;;)
        pause();
}

int main(int argc, char **argv)
{
    const char *m = argc > 1 ? argv[1] : "";
    churn();
    if (!strcmp(m, "vfork-exit") || !strcmp(m, "vfork-return")) {
        vfork_and_exit();
        churn();
        if (!strcmp(m, "vfork-exit"))
            exit(0);
        return 0;
    }
    pthread_t t;
    if (!strcmp(m, "vfork-thread")) {
        if (pthread_create(&t, NULL, vfork_thread, NULL) != 0 || pthread_join(t, NULL) != 0)
            return 2;
        churn();
        return 0;
    }
    if (!strcmp(m, "pexit")) {
        if (pthread_create(&t, NULL, late_exit, (void *)0L) != 0)
            return 2;
        pthread_exit(NULL);
    }
    if (!strcmp(m, "stuck")) {
        if (atexit(block_for_good) != 0 || pthread_create(&t, NULL, late_exit, (void *)4L) != 0)
            return 2;
        exit(0);
    }
    fprintf(stderr, "usage: exit_paths vfork-exit|vfork-return|vfork-thread|pexit|stuck\n");
    return 2;
}
