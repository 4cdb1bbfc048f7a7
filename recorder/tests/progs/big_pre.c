/* big_pre.c - a heap built before recording starts, freed after.
 *
 * usage: big_pre MIB GOFILE
 * Allocates MIB blocks of 1 MiB and fills them, prints "ready", waits
 * until GOFILE exists, frees every block and exits: a window opened in
 * between sees MIB MiB of blocks it never saw allocated, all freed in it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    int n = atoi(argv[1]);
    if (n < 1 || n > 4096)
        return 2;
    char **b = calloc((size_t)n, sizeof *b);
    for (int i = 0; i < n; i++) {
        b[i] = malloc(1 << 20);
        memset(b[i], i, 1 << 20);
    }
    printf("ready\n");
    fflush(stdout);
    while (access(argv[2], F_OK) != 0) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < n; i++)
        free(b[i]);
    free(b);
    return 0;
}
