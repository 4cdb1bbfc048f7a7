/* quick_exit: allocates, leaves blocks live, and leaves through _exit
 * (no atexit handlers, no destructors): the recorder must still flush. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    static char *volatile keep[100];
    long sum = 0;
    for (int i = 0; i < 5000; i++) {
        char *p = malloc((size_t)(i % 300) + 1);
        p[0] = (char)i;
        if (i % 50 == 0)
            keep[i / 50] = p;
        else
            free(p);
    }
    for (int i = 0; i < 100; i++)
        sum += keep[i][0];
    printf("quick_exit: sum %ld\n", sum);
    fflush(stdout);
    const char msg[] = "quick_exit: leaving with _exit(7)\n";
    if (write(1, msg, sizeof msg - 1) < 0)
        return 1;
    _exit(7);
}
