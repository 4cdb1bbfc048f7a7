/* fuzz_replay.h - the main() of a fuzz regression replayer: runs every file
 * of one directory through the LLVMFuzzerTestOneInput of the harness the
 * including file #included, one TAP line per file (on a copy of the
 * original standard output: stdout itself goes to /dev/null, as under
 * libFuzzer, since a harness may run CLI code that prints).  A crash, a sanitizer
 * abort or a failed oracle (abort()) fails the whole run; the test runner
 * reports it with the log.  FUZZ_REPLAY_DIR is the directory, relative to
 * $HAK_ROOT. */
#ifndef HAK_FUZZ_REPLAY_H
#define HAK_FUZZ_REPLAY_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fuzz_replay_by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int main(void)
{
    const char *root = getenv("HAK_ROOT");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", root ? root : ".", FUZZ_REPLAY_DIR);
    FILE *tap = fdopen(dup(1), "w");
    if (!tap || !freopen("/dev/null", "w", stdout)) {
        printf("not ok 1 - cannot set up standard output\n");
        return 1;
    }
    setvbuf(tap, NULL, _IOLBF, 0);
    struct dirent **names;
    int n = scandir(dir, &names, NULL, fuzz_replay_by_name);
    if (n < 0) {
        fprintf(tap, "not ok 1 - cannot list %s\n", dir);
        return 1;
    }
    int t = 0, bad = 0;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (name[0] == '.')
            goto next;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        FILE *f = fopen(path, "rb");
        uint8_t *buf = NULL;
        long len = -1;
        if (f && !fseek(f, 0, SEEK_END) && (len = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET)
            && (buf = malloc((size_t)len + 1)) && fread(buf, 1, (size_t)len, f) == (size_t)len) {
            LLVMFuzzerTestOneInput(buf, (size_t)len);
            fprintf(tap, "ok %d - %s (%ld bytes)\n", ++t, name, len);
        } else {
            fprintf(tap, "not ok %d - %s: cannot read\n", ++t, name);
            bad++;
        }
        if (f)
            fclose(f);
        free(buf);
    next:
        free(names[i]);
    }
    free(names);
    fprintf(tap, "1..%d\n", t);
    fclose(tap);
    return bad ? 1 : 0;
}

#endif
