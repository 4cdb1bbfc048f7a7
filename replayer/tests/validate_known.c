/* validate_known.c - a program with known heap behaviour for `hak
 * validate`'s test (replayer/tests/validate.sh): 64 blocks of 256 KiB
 * (16 MiB) held for 60 ms, then every other one freed, 20,000 small
 * temporaries, and 32 blocks (8 MiB) still live at exit.  "full" writes
 * every byte of the big blocks, "first" only their first byte, so with
 * "first" the program's resident heap is a fraction of what it allocated. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { N = 64, SZ = 256 << 10 };

int main(int argc, char **argv)
{
    int first = argc > 1 && !strcmp(argv[1], "first");
    static char *b[N];
    for (int i = 0; i < N; i++) {
        b[i] = malloc(SZ);
        if (!b[i])
            return 1;
        if (first)
            b[i][0] = 1;
        else
            memset(b[i], i, SZ);
    }
    usleep(60000);                     /* the peak, long enough to be sampled */
    for (int i = 0; i < N; i += 2)
        free(b[i]);
    for (int i = 0; i < 20000; i++) {
        volatile char *t = malloc(32);
        t[0] = (char)i;
        free((void *)t);
    }
    return b[1][0] == 42;              /* the odd blocks stay live */
}
