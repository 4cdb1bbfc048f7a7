/* cli_import.c - `hak trace import`: Android record_allocs text -> trace. */
#include "cli_common.h"
#include "cli_out.h"
#include "cli_sink.h"
#include "import_android.h"
#include "hak_util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int put_event(void *ctx, const hak_event *ev)
{
    return cli_sink_put(ctx, ev);
}

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak trace import [-q] FILE -o OUT\n"
        "\n"
        "Converts an Android malloc_debug 'record_allocs' dump (FILE, '-' for\n"
        "standard input) into a hakmem trace OUT, so existing Android traces can\n"
        "be inspected, validated and replayed. The input has one record per line:\n"
        "\n"
        "  TID: malloc PTR SIZE\n"
        "  TID: calloc PTR NMEMB SIZE\n"
        "  TID: realloc NEW_PTR OLD_PTR SIZE\n"
        "  TID: memalign PTR ALIGNMENT SIZE\n"
        "  TID: free PTR\n"
        "  TID: thread_done 0x0\n"
        "\n"
        "with pointers in hex; newer Android versions append START_NS END_NS to\n"
        "each record (END_NS only for thread_done). Blank lines and lines\n"
        "starting with '#' are skipped. A line longer than 4096 bytes, a NUL byte\n"
        "or more than 65536 threads (the trace format's limit) is an error.\n"
        "FILE may be a FIFO or pipe (e.g. <(adb shell cat ...)): it is read as a\n"
        "stream, and opening a FIFO waits for its writer.\n"
        "\n"
        "Conversion: OS thread ids become dense thread indices t0, t1, ... in\n"
        "order of first appearance, each introduced by a thread_start event\n"
        "(os_tid = TID); thread_done becomes thread_exit, and a TID seen again\n"
        "after its thread_done is a new thread. Events keep the file's order\n"
        "(their seq). Timestamps are START_NS relative to the first record, kept\n"
        "non-decreasing; without timestamps each record is 1 ns after the last.\n"
        "A NULL result is a failed call (err=ENOMEM), except realloc(p, 0),\n"
        "which frees p. posix_memalign, aligned_alloc, valloc and pvalloc are\n"
        "recorded by Android as memalign.\n"
        "\n"
        "options:\n"
        "  -o, --output OUT  the trace to write (required; '-' = standard output)\n"
        "  -q, --quiet       do not print the summary line\n"
        "  -h, --help        this text\n"
        "\n"
        "examples:\n"
        "  hak trace import /data/local/tmp/record_allocs.txt -o app.hkt\n"
        "  hak trace import app.txt -o app.hkt && hak trace validate app.hkt\n"
        "\n"
        "exit status: 0 ok, 1 unreadable input or a malformed line (reported as\n"
        "FILE:LINE: column N: what was expected; OUT is not left behind), 2 usage\n"
        "error.\n");
}

int trace_import(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    int quiet = 0, c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default:
            return cli_usage_err("import", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_err("import", optind == argc ? "missing FILE" : "expected one FILE");
    if (!out)
        return cli_usage_err("import", "missing -o OUT");
    const char *in = argv[optind];
    struct stat si, so;
    if (strcmp(in, "-") && strcmp(out, "-") && !stat(in, &si) && !stat(out, &so) &&
        si.st_dev == so.st_dev && si.st_ino == so.st_ino)
        return cli_usage_err("import", "-o %s would overwrite the input", out);
    FILE *f = strcmp(in, "-") ? fopen(in, "r") : stdin;
    if (!f) {
        hak_cmd_err("trace import", "%s: %s", in, strerror(errno));
        return 1;
    }
    if (!fstat(fileno(f), &si) && S_ISDIR(si.st_mode)) {
        hak_cmd_err("trace import", "%s: is a directory, not a record_allocs file", in);
        if (f != stdin)
            fclose(f);
        return 1;
    }
    char options[600];
    snprintf(options, sizeof options, "android record_allocs from %.500s", in);
    hak_trace_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.version = HAK_TRACE_VERSION;
    meta.recorder = "hak trace import";
    meta.options = options;
    hak_trace_writer *w = cli_out_open("import", out, &meta);
    if (!w) {
        if (f != stdin)
            fclose(f);
        return 1;
    }
    cli_sink sink;
    cli_sink_init(&sink, w);
    hak_android_result res;
    char err[256];
    int failed = hak_android_import(f, put_event, &sink, &res, err, sizeof err) != 0;
    if (failed && res.put_failed)
        hak_cmd_err("trace import", "%s: %s", out, sink.err);
    else if (failed && res.err_line)
        hak_cmd_err("trace import", "%s:%" PRIu64 ": %s", in, res.err_line, err);
    else if (failed)
        hak_cmd_err("trace import", "%s: %s", in, err);
    if (!failed && cli_sink_flush(&sink)) {
        hak_cmd_err("trace import", "%s: %s", out, sink.err);
        failed = 1;
    }
    uint64_t events = sink.events, records = res.records;
    uint32_t nthreads = res.nthreads;
    cli_sink_destroy(&sink);
    if (f != stdin)
        fclose(f);
    if (cli_out_close("import", out, w, failed))
        return 1;
    if (!quiet && strcmp(out, "-") && !stat(out, &so)) {
        char b1[32], b2[32], b3[32];
        printf("%s: %s records -> %s events, %" PRIu32 " thread%s, %s bytes\n", out,
               hak_fmt_count(records, b1, sizeof b1), hak_fmt_count(events, b2, sizeof b2),
               nthreads, nthreads == 1 ? "" : "s",
               hak_fmt_count((uint64_t)so.st_size, b3, sizeof b3));
    }
    return 0;
}
