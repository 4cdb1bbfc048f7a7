/* fd_hostile MODE FILE: a program that closes or replaces descriptors it
 * never opened, as daemons do, then writes FILE (790 bytes) and allocates
 * about 2.8M times; at the end it checks that FILE still holds exactly its
 * own 790 bytes and prints "FILE intact" or "FILE damaged: N bytes".
 * Under the recorder, the trace's descriptor is among those it closes or
 * replaces (recorder/rec_fds.c).  MODE:
 *   closeall   close(3..1023), the classic daemon loop
 *   dup2null   dup2(open("/dev/null"), fd) over 3..1023
 *   dup3null   the same with dup3(..., O_CLOEXEC)
 *   closefrom  closefrom(3)
 *   closerange close_range(3, ~0U, 0)
 *   rawclose   close 3..1023 by raw system call (no libc wrapper), then
 *              fill every free number up to 1023 with duplicates of FILE:
 *              only the recorder's check before each write can notice */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static void churn(long n)
{
    void *win[64] = {0};
    unsigned seed = 1;
    for (long i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned k = (seed >> 8) & 63;
        free(win[k]);
        win[k] = malloc(16 + (seed >> 20) % 300);
    }
    for (int k = 0; k < 64; k++)
        free(win[k]);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fd_hostile MODE FILE\n");
        return 2;
    }
    const char *mode = argv[1], *file = argv[2];
    churn(200000);                    /* the recorder is writing by now */
    if (!strcmp(mode, "closeall")) {
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
    } else if (!strcmp(mode, "dup2null") || !strcmp(mode, "dup3null")) {
        int nul = open("/dev/null", O_WRONLY);
        for (int fd = 3; fd < 1024; fd++)
            if (fd != nul) {
                if (mode[3] == '2')
                    dup2(nul, fd);
                else
                    dup3(nul, fd, O_CLOEXEC);
            }
    } else if (!strcmp(mode, "closefrom")) {
        closefrom(3);
    } else if (!strcmp(mode, "closerange")) {
        close_range(3, ~0u, 0);
    } else if (!strcmp(mode, "rawclose")) {
        for (int fd = 3; fd < 1024; fd++)
            syscall(SYS_close, fd);
    } else {
        fprintf(stderr, "fd_hostile: unknown mode '%s'\n", mode);
        return 2;
    }
    int f = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (f < 0) {
        perror(file);
        return 1;
    }
    char buf[790];
    memset(buf, 'x', sizeof buf);
    if (write(f, buf, sizeof buf) != (ssize_t)sizeof buf) {
        perror("write");
        return 1;
    }
    if (!strcmp(mode, "rawclose"))
        while (dup(f) >= 0 && fcntl(1023, F_GETFD) < 0) {
        }
    churn(2600000);
    struct stat sb;
    if (stat(file, &sb) != 0) {
        perror(file);
        return 1;
    }
    if (sb.st_size == 790)
        printf("%s intact\n", mode);
    else
        printf("%s damaged: %lld bytes\n", mode, (long long)sb.st_size);
    return 0;
}
