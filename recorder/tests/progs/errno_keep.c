/* errno_keep: the recorder must leave errno alone on success (across block
 * hand-offs and call-site unwinds) and report ENOMEM on failure. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        errno = 1234;
        void *volatile p = malloc(16 + (size_t)(i % 100));
        if (errno != 1234)
            bad++;
        errno = 4321;
        free(p);
        if (errno != 4321)
            bad++;
        errno = 77;
        void *volatile q = calloc(3, 8 + (size_t)(i % 5));
        if (errno != 77)
            bad++;
        free(q);
    }
    errno = 0;
    void *volatile x = malloc(SIZE_MAX / 2);
    printf("errno_keep: changed %d times, huge malloc %s, ENOMEM %s\n", bad,
           x ? "succeeded" : "failed", errno == ENOMEM ? "yes" : "no");
    return bad != 0;
}
