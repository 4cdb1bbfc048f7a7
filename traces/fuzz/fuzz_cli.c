/* fuzz_cli.c - libFuzzer entry for the `hak trace` reader subcommands:
 * info (with --threads --modules), dump, stats, validate and the views
 * (leaks, peak, temporaries, flame, diff, timeline: siteview.c), run in-process
 * on the input as a trace file.  fuzz_reader.c covers the format library;
 * this one covers what the subcommands do with the decoded values: the
 * heap model (heapmodel.c), histograms and call-site tables (cli_stats.c),
 * the validity checks (cli_validate.c), the module listing and the
 * symboliser's handling of module paths taken from the trace.
 *
 * Like fuzz_reader.c, each input runs as given and with its checksums
 * recomputed (tf_fix_checksums), so mutations get past them.  Every
 * subcommand must return 0 or 1, never 2 (the arguments are valid) and
 * never crash.  The file is a memfd opened through /proc/self/fd/N, so the
 * real open/mmap path runs.  Standard output goes to /dev/null.
 *
 * Built by `make fuzz` (clang, ASan+UBSan) with the traces library and the
 * CLI objects; traces/tests/test_fuzz_cli.c #includes it and replays
 * traces/tests/fuzz-regressions/ through it under `make check`.
 */
#include "cli_common.h"
#include "cli_views.h"
#include "fuzz_fixed.h"
#include "trace_fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void fuzz_cli_run(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-trace", MFD_CLOEXEC);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
        abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    char *info[] = {"info", "--threads", "--modules", path, NULL};
    char *dump[] = {"dump", path, NULL};
    char *dump_t1[] = {"dump", "--thread", "1", "--limit", "1000", path, NULL};
    char *stats[] = {"stats", "--top", "3", "--depth", "8", "--no-demangle", path, NULL};
    /* The three verdict paths by input: strict, accepting a prefix, and
     * plain (a partial trace fails with a one-line reason). */
    static char *const vmode[] = {"--strict", "--allow-prefix", "-q"};
    char *validate[] = {"validate", vmode[size % 3], "--show", "2", path, NULL};
    char *leaks[] = {"leaks", "--json", "--no-demangle", path, NULL};
    char *peak[] = {"peak", "--csv", "--no-demangle", path, NULL};
    char *temps[] = {"temporaries", "--scope", "thread", "--max-time", "1ms", "--no-demangle",
                     path, NULL};
    char *flame[] = {"flame", "--weight", "peak", "--no-demangle", path, NULL};
    char *diff[] = {"diff", "--top", "0", "--no-demangle", path, path, NULL};
    char *timeline[] = {"timeline", "--points", "7", "--by", "events", "--csv", path, NULL};
    char *timeline_t[] = {"timeline", "--points", "5", "--json", "--no-demangle", path, NULL};
    char *views[] = {"views", "--json", "--top", "3", "--no-demangle", path, NULL};
    struct { int (*run)(int, char **); char **argv; int argc; } cmds[] = {
        {trace_info, info, 4}, {trace_dump, dump, 2}, {trace_dump, dump_t1, 6},
        {trace_stats, stats, 7}, {trace_validate, validate, 5},
        {trace_leaks, leaks, 4}, {trace_peak, peak, 4}, {trace_temporaries, temps, 7},
        {trace_flame, flame, 5}, {trace_diff, diff, 6}, {trace_timeline, timeline, 7},
        {trace_timeline, timeline_t, 6}, {trace_views, views, 6},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        int rc = cmds[i].run(cmds[i].argc, cmds[i].argv);
        fflush(stdout);
        if (rc != 0 && rc != 1)
            abort();   /* 2 is a usage error: the arguments above are valid */
    }
    close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (!freopen("/dev/null", "w", stdout))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_as_is_and_fixed(data, size, fuzz_cli_run);
    return 0;
}
