/* Replays every input in traces/tests/fuzz-regressions/ (seeds and inputs
 * that once crashed or hung the reader under `make fuzz`) through the
 * fuzz harness, one TAP line per file.  A crash fails the whole file run;
 * the runner reports it with the log. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz_reader.c"   /* the same harness libFuzzer runs */

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int main(void)
{
    const char *root = getenv("HAK_ROOT");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/traces/tests/fuzz-regressions", root ? root : ".");
    struct dirent **names;
    int n = scandir(dir, &names, NULL, by_name);
    if (n < 0) {
        printf("not ok 1 - cannot list %s\n", dir);
        return 1;
    }
    int t = 0, bad = 0;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (name[0] == '.')
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        FILE *f = fopen(path, "rb");
        uint8_t *buf = NULL;
        long len = -1;
        if (f && !fseek(f, 0, SEEK_END) && (len = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET)
            && (buf = malloc((size_t)len + 1)) && fread(buf, 1, (size_t)len, f) == (size_t)len) {
            LLVMFuzzerTestOneInput(buf, (size_t)len);
            printf("ok %d - %s (%ld bytes)\n", ++t, name, len);
        } else {
            printf("not ok %d - %s: cannot read\n", ++t, name);
            bad++;
        }
        if (f)
            fclose(f);
        free(buf);
        free(names[i]);
    }
    free(names);
    printf("1..%d\n", t);
    return bad ? 1 : 0;
}
