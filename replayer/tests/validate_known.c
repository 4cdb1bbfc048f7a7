/* validate_known.c - a program with known heap behaviour for `hak
 * validate`'s test (replayer/tests/validate.sh): 64 blocks of 256 KiB
 * (16 MiB) held for 60 ms, then every other one freed, 20,000 small
 * temporaries, and 32 blocks (8 MiB) still live at exit.  "full" writes
 * every byte of the big blocks, "first" only their first byte, so with
 * "first" the program's resident heap is a fraction of what it allocated;
 * "half" writes the first half of each.  "mmap" is "full" with the big
 * blocks mapped by the program itself (mmap/munmap, as GCC maps its
 * collected pages): heap outside malloc; it then unmaps the second half of
 * each block it keeps, so 4 MiB stay mapped at exit.  "pause" writes 16 MiB
 * of 2 KiB blocks, frees them, sleeps 300 ms and does it again: an
 * allocator that gives freed memory back after a delay (hakmem: 100 ms)
 * faults the second time as much as the first, which a replay shows only
 * when it keeps the pause (hak validate --pace program).  "calloc" callocs
 * the 64 big blocks and writes only the first byte of each (a sparse
 * zeroed table): the allocator's fresh pages stay untouched.  "thread"
 * holds 8 MiB (written) on the main thread while a second thread makes
 * 20,000 small temporaries, and frees it after joining that thread: the
 * thread with the most ops starts after, and ends before, the heap's
 * first and last moves.  "bss" writes 8 MiB of .bss (2,048 faults that no
 * replay of its allocations takes) and then does what "full" does. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { N = 64, SZ = 256 << 10 };
enum { PN = 8192, PSZ = 2048 };

static int pause_mode(void)
{
    static char *p[PN];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < PN; i++)
            if (!(p[i] = malloc(PSZ)))
                return 1;
            else
                memset(p[i], round + 1, PSZ);
        for (int i = 0; i < PN; i++)
            free(p[i]);
        if (!round)
            usleep(300000);
    }
    return 0;
}

static void *temporaries(void *arg)
{
    for (int i = 0; i < 20000; i++) {
        volatile char *t = malloc(32);
        t[0] = (char)i;
        free((void *)t);
    }
    return arg;
}

static int thread_mode(void)
{
    static char *big[128];             /* 8 MiB, each block written as it comes */
    usleep(50000);                     /* the recorder's first heap sample comes first */
    for (int i = 0; i < 128; i++)
        if (!(big[i] = malloc(64 << 10)))
            return 1;
        else
            memset(big[i], i, 64 << 10);
    usleep(20000);
    pthread_t t;
    if (pthread_create(&t, NULL, temporaries, NULL) || pthread_join(t, NULL))
        return 1;
    usleep(20000);
    for (int i = 0; i < 128; i++)
        free(big[i]);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "full";
    if (!strcmp(mode, "pause"))
        return pause_mode();
    if (!strcmp(mode, "thread"))
        return thread_mode();
    if (!strcmp(mode, "bss")) {
        static char table[8 << 20];
        memset(table, 1, sizeof table);
        mode = table[4096] == 1 ? "full" : "first";
    }
    int first = !strcmp(mode, "first") || !strcmp(mode, "calloc"), half = !strcmp(mode, "half"), map = !strcmp(mode, "mmap");
    static char *b[N];
    for (int i = 0; i < N; i++) {
        if (map) {
            b[i] = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (b[i] == MAP_FAILED)
                return 1;
        } else if (!(b[i] = strcmp(mode, "calloc") ? malloc(SZ) : calloc(1, SZ))) {
            return 1;
        }
        if (first)
            b[i][0] = 1;
        else
            memset(b[i], i, half ? SZ / 2 : SZ);
    }
    /* the peak, long enough to be sampled (the recorder samples the heap
     * at most every 20 ms, and less often as smaps grows: 64 mappings) */
    usleep(map ? 300000 : 60000);
    for (int i = 0; i < N; i += 2) {
        if (map)
            munmap(b[i], SZ);
        else
            free(b[i]);
    }
    for (int i = 1; map && i < N; i += 2)          /* and half of each other one */
        munmap(b[i] + SZ / 2, SZ / 2);
    for (int i = 0; i < 20000; i++) {
        volatile char *t = malloc(32);
        t[0] = (char)i;
        free((void *)t);
    }
    return b[1][0] == 42;              /* the odd blocks stay live */
}
