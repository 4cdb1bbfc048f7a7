/* random_mixed - the recorder benchmark's allocation-heavy program: W slots,
 * each iteration picks a random slot, frees its block (if any) and mallocs
 * a new one of a size uniform in [16, 1039], writing its first byte.  With
 * N iterations that is ~2N malloc/free calls.  Prints a checksum.
 * usage: random_mixed [ITERATIONS (default 10000000)] [SLOTS (default 256)] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    uint64_t iters = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000ull;
    uint64_t nslots = argc > 2 ? strtoull(argv[2], NULL, 10) : 256;
    char **slot = calloc(nslots, sizeof *slot);
    uint64_t x = 42, sum = 0;
    for (uint64_t i = 0; i < iters; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        uint64_t k = x % nslots;
        size_t n = 16 + (x >> 32) % 1024;
        free(slot[k]);
        slot[k] = malloc(n);
        slot[k][0] = (char)i;
        sum += (uint8_t)slot[k][n - 1 > 0 ? 0 : 0];
    }
    for (uint64_t k = 0; k < nslots; k++)
        free(slot[k]);
    free(slot);
    printf("random_mixed: %llu iterations, checksum %llu\n",
           (unsigned long long)iters, (unsigned long long)sum);
    return 0;
}
