/* rec_threads - looks at the recorder's own threads from inside a recorded
 * program: allocates as fast as it can (so the writer falls behind and the
 * helper encoder starts) until /proc/self/task shows both hakrec-writer
 * and hakrec-encode, then prints "program nice N" (its own) and one line
 * per recorder thread, "NAME nice N", in that order, and exits 0.  Gives up after 200M allocations (prints what
 * it found, exits 1): the helper only starts when the writer falls behind.
 * Unrecorded it prints nothing and exits 1 right away. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The nice value of task tid, or -100 when it cannot be read. */
static int task_nice(const char *tid)
{
    char path[300], buf[1024];
    if (!strcmp(tid, "self"))
        snprintf(path, sizeof path, "/proc/thread-self/stat");
    else
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -100;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* fields after the name, which is in parentheses: state is field 3,
     * nice field 19 */
    char *p = strrchr(buf, ')');
    int nice = -100;
    if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %d",
                    &nice) != 1)
        nice = -100;
    return nice;
}

/* Looks for the recorder's threads; 1 when both were found (and printed). */
static int scan(int print)
{
    int writer = -100, encode = -100, found = 0;
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], name[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(name, sizeof name, f))
            name[strcspn(name, "\n")] = 0;
        fclose(f);
        if (!strcmp(name, "hakrec-writer")) {
            writer = task_nice(e->d_name);
            found |= 1;
        } else if (!strcmp(name, "hakrec-encode")) {
            encode = task_nice(e->d_name);
            found |= 2;
        }
    }
    closedir(d);
    if (found == 3 || print) {
        printf("program nice %d\n", task_nice("self"));
        if (found & 1)
            printf("hakrec-writer nice %d\n", writer);
        if (found & 2)
            printf("hakrec-encode nice %d\n", encode);
    }
    return found == 3;
}

int main(void)
{
    if (!getenv("HAKREC_OUTPUT"))
        return 1;                    /* not recorded: nothing to look for */
    void *slot[256] = {0};
    unsigned x = 1;
    for (long i = 0; i < 200000000; i++) {
        x = x * 1103515245u + 12345u;
        unsigned k = (x >> 16) & 255;
        free(slot[k]);
        slot[k] = malloc(16 + (x >> 24) * 4);
        if (i % 1000000 == 999999 && scan(0))
            return 0;
    }
    scan(1);
    return 1;
}
