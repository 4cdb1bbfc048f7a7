/* exec_noenv MODE: allocates, then execs /bin/true in an environment
 * without the recorder's variables: MODE clearenv (clearenv(), then
 * execl) or envp (execve with a fresh two-variable environment).  The new
 * image cannot be recorded; the recorder must say so in this image's trace
 * and leave that trace where hak record expects it (recorder/rec_exec.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    for (int i = 0; i < 10000; i++) {
        void *volatile p = malloc(32 + i % 100);   /* volatile: kept by the compiler */
        free(p);
    }
    if (!strcmp(argv[1], "clearenv")) {
        clearenv();
        execl("/bin/true", "true", (char *)NULL);
    } else {
        char *env[] = {"PATH=/bin:/usr/bin", "LANG=C", NULL};
        char *args[] = {"true", NULL};
        execve("/bin/true", args, env);
    }
    perror("exec");
    return 1;
}
