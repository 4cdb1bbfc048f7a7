/* cli_dump.c - `hak trace dump`: events one per line. */
#include "cli_common.h"
#include "hak_util.h"

#include <getopt.h>
#include <inttypes.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak trace dump [--thread N] [--limit N] TRACE\n"
        "\n"
        "Prints the events of TRACE one per line, in global order (by sequence\n"
        "number, all threads merged) or for one thread. Each line is\n"
        "\n"
        "  SEQ TS_NS tTHREAD OPERATION ARGS... [site=ID] [err=ERRNO]\n"
        "\n"
        "where SEQ is the global sequence number, TS_NS the monotonic time in\n"
        "nanoseconds since the trace started, THREAD the dense thread index (t0 is\n"
        "the main thread), and ARGS depend on the operation:\n"
        "\n"
        "  malloc size=N -> PTR            calloc nmemb=N size=N -> PTR\n"
        "  realloc OLD size=N -> PTR        reallocarray OLD nmemb=N size=N -> PTR\n"
        "  free PTR                         memalign align=N size=N -> PTR\n"
        "  posix_memalign, aligned_alloc as memalign; valloc, pvalloc as malloc\n"
        "  thread_start os_tid=N parent=tN thread_exit\n"
        "  mmap len=N prot=X flags=X -> PTR munmap PTR len=N\n"
        "  mremap OLD old=N new=N -> PTR\n"
        "\n"
        "Pointers are hexadecimal (0x0 for NULL: a failed call has err=ERRNO).\n"
        "The format is stable: scripts may parse it with awk.\n"
        "\n"
        "A truncated trace prints its readable prefix, then a warning naming the\n"
        "offset on stderr (exit 0).\n"
        "\n"
        "options:\n"
        "  --thread N   only the events of thread N (dense index, as in tN)\n"
        "  --limit N    stop after N events\n"
        "  -h, --help   this text\n"
        "\n"
        "examples:\n"
        "  hak trace dump --limit 20 run.hkt\n"
        "  hak trace dump --thread 1 run.hkt | grep ' free '\n"
        "\n"
        "exit status: 0 ok, 1 unreadable trace or decoding error, 2 usage error.\n");
}

int trace_dump(int argc, char **argv)
{
    static const struct option opts[] = {
        {"thread", required_argument, NULL, 't'},
        {"limit", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t thread = 0, limit = UINT64_MAX;
    int by_thread = 0, c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (cli_u64("dump", "--thread", optarg, &thread))
                return 2;
            by_thread = 1;
            break;
        case 'l':
            if (cli_u64("dump", "--limit", optarg, &limit))
                return 2;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return cli_usage_err("dump", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_err("dump", optind == argc ? "missing TRACE" : "expected one TRACE");
    const char *path = argv[optind];
    hak_trace_reader *r = cli_open("dump", path);
    if (!r)
        return 1;
    if (by_thread && thread >= hak_tr_nthreads(r)) {
        hak_cmd_err("trace dump", "%s: --thread %" PRIu64 ": the trace has %" PRIu32 " threads",
                    path, thread, hak_tr_nthreads(r));
        hak_tr_close(r);
        return 1;
    }
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    hak_event ev;
    char line[512];
    int rc = 0, got;
    for (uint64_t n = 0; n < limit; n++) {
        got = by_thread ? hak_tr_next_thread(r, (uint32_t)thread, &ev) : hak_tr_next(r, &ev);
        if (got < 0) {
            fflush(stdout);
            hak_cmd_err("trace dump", "%s: %s", path, hak_tr_error(r));
            rc = 1;
            break;
        }
        if (got == 0)
            break;
        cli_format_event(&ev, line, sizeof line);
        fputs_unlocked(line, stdout);
        putc_unlocked('\n', stdout);
    }
    fflush(stdout);
    if (!rc)
        cli_warn_truncated("dump", path, r);
    hak_tr_close(r);
    if (ferror(stdout)) {
        hak_cmd_err("trace dump", "error writing standard output");
        return 1;
    }
    return rc;
}
