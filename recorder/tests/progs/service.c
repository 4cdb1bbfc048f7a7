/* service.c - a long-running, server-like program for the tests of
 * recording a running process (windows, --max-size, attach).
 *
 * usage: service THREADS ROUNDS ROUND_MS [HOLD_FILE]
 * Each thread keeps a pool of 512 live blocks and, every round, replaces
 * 200 of them (free, then malloc or realloc of a varied size) and sums
 * their contents, then sleeps ROUND_MS.  So any window sees blocks
 * allocated before it freed and realloc'd.  The output (one checksum per
 * thread) depends only on the arguments: recorded, attached to and
 * detached from, it must stay the same.
 *
 * HOLD_FILE: after ROUNDS rounds the threads go on churning (rounds that
 * the checksums leave out) while that file exists, so a test decides when
 * the program ends instead of racing it: on a loaded machine a fixed
 * number of rounds could end before a test's second attach began
 * (recorder/tests/attach.sh). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int rounds, round_ms;
static const char *hold;

static void *worker(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    enum { POOL = 512, CHURN = 200 };
    char *pool[POOL];
    size_t len[POOL];
    uint64_t x = 0x9E3779B97F4A7C15ull * (id + 1), sum = 0;
    for (int i = 0; i < POOL; i++) {
        len[i] = 16 + (size_t)(i * 37 % 700);
        pool[i] = malloc(len[i]);
        memset(pool[i], (int)(i + id), len[i]);
    }
    for (int r = 0; r < rounds || (hold && access(hold, F_OK) == 0); r++) {
        for (int k = 0; k < CHURN; k++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            int i = (int)(x % POOL);
            size_t n = 16 + (size_t)(x >> 40) % 2000;
            if (x & 1) {
                free(pool[i]);
                pool[i] = malloc(n);
            } else {
                char *q = realloc(pool[i], n);
                if (!q)
                    abort();
                pool[i] = q;
            }
            memset(pool[i], (int)(x >> 8), n);
            len[i] = n;
        }
        for (int i = 0; i < POOL && r < rounds; i++)
            sum += (unsigned char)pool[i][len[i] - 1] + len[i];
        struct timespec ts = {round_ms / 1000, (long)(round_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < POOL; i++)
        free(pool[i]);
    return (void *)(uintptr_t)sum;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: service THREADS ROUNDS ROUND_MS [HOLD_FILE]\n");
        return 2;
    }
    int nt = atoi(argv[1]);
    rounds = atoi(argv[2]);
    round_ms = atoi(argv[3]);
    hold = argc == 5 ? argv[4] : NULL;
    if (nt < 1 || nt > 64)
        return 2;
    pthread_t t[64];
    for (int i = 0; i < nt; i++)
        pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
    for (int i = 0; i < nt; i++) {
        void *s;
        pthread_join(t[i], &s);
        printf("thread %d: %llu\n", i, (unsigned long long)(uintptr_t)s);
    }
    return 0;
}
