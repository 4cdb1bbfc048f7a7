/* forker: a multi-threaded parent forks (without exec) while its threads
 * keep allocating; each child allocates and frees, prints, and exits.  The
 * recorder must not deadlock in the child and must write one trace per
 * process.  With "inherit", each child also frees (and reallocs) blocks the
 * parent allocated before the fork, which the child's trace never saw
 * allocated (validate counts them as inherited frees).
 * usage: forker [CHILDREN [inherit]] */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int stop;

static void *churn(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        void *a[16];
        for (int i = 0; i < 16; i++)
            a[i] = malloc(16 + i * 24);
        for (int i = 0; i < 16; i++)
            free(a[i]);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 4;
    int inherit = argc > 2 && !strcmp(argv[2], "inherit");
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, churn, NULL);
    for (int c = 0; c < n; c++) {
        char *pre[3] = {0};
        if (inherit)
            for (int i = 0; i < 3; i++)
                pre[i] = malloc(48 + 16 * i);
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            long sum = 0;
            if (inherit) {
                free(pre[0]);
                free(pre[1]);
                free(realloc(pre[2], 4096));
            }
            for (int i = 0; i < 1000; i++) {
                char *p = malloc(100 + i);
                memset(p, 1, 100);
                sum += p[i % 100];
                free(p);
            }
            printf("child %d sum %ld\n", c, sum);
            exit(0);
        }
        for (int i = 0; i < 3; i++)
            free(pre[i]);
        int st;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            printf("child %d failed\n", c);
            return 1;
        }
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    printf("forker: %d children ok\n", n);
    return 0;
}
