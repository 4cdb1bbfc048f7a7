/* bench/validate/mt_churn.c - the multi-threaded C program of the
 * validation study: 4 threads, each keeps a window of blocks of mixed
 * sizes (16 B .. 64 KiB), replaces them at random, and hands every 8th
 * block to the next thread, which frees it (cross-thread frees). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NT 4
#define SLOTS 4096
#define ITERS 400000
#define MBOX 1024

static void *_Atomic mbox[NT][MBOX];

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
    return *s;
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1);
    void **slot = calloc(SLOTS, sizeof *slot);
    for (int i = 0; i < ITERS; i++) {
        size_t k = rnd(&s) % SLOTS;
        uint64_t r = rnd(&s);
        size_t sz = (r & 7) == 0 ? 1024 + r % 65536 : 16 + r % 256;
        void *old = slot[k];
        if (old && (i & 7) == 0) {          /* hand it over instead */
            size_t m = (size_t)(r >> 20) % MBOX;
            old = __atomic_exchange_n(&mbox[(id + 1) % NT][m], old, __ATOMIC_ACQ_REL);
        }
        free(old);
        void *p = malloc(sz);
        memset(p, (int)i, sz < 64 ? sz : 64);
        slot[k] = p;
        if ((i & 15) == 0) {               /* drain one mailbox slot */
            void *q = __atomic_exchange_n(&mbox[id][(size_t)i % MBOX], NULL, __ATOMIC_ACQ_REL);
            free(q);
        }
    }
    for (size_t k = 0; k < SLOTS; k++)
        free(slot[k]);
    free(slot);
    return NULL;
}

int main(void)
{
    pthread_t t[NT];
    for (int i = 0; i < NT; i++)
        pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
    for (int i = 0; i < NT; i++)
        pthread_join(t[i], NULL);
    size_t left = 0;
    for (int i = 0; i < NT; i++)
        for (int m = 0; m < MBOX; m++)
            if (mbox[i][m]) { free(mbox[i][m]); left++; }
    printf("done, %zu left in mailboxes\n", left);
    return 0;
}
