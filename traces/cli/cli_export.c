/* cli_export.c - `hak trace export --pprof FILE TRACE`. */
#include "cli_export.h"
#include "cli_common.h"
#include "cli_views.h"
#include "hak_util.h"
#include "pprof_out.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak trace export --pprof FILE [--depth N] [--no-demangle] [--no-lines]\n"
        "                        [--sysroot DIR] [--debug-dir DIR] [--progress] TRACE\n"
        "\n"
        "Writes TRACE's allocations per call site in another tool's format.\n"
        "\n"
        "--pprof FILE writes a gzipped profile.proto, the format of pprof and\n"
        "'go tool pprof', also read by speedscope.  One sample per call site\n"
        "(its recorded stack, leaf first) with four values:\n"
        "  alloc_objects  allocations made there (realloc results included)\n"
        "  alloc_space    their requested bytes\n"
        "  inuse_objects  of those, blocks still live at the end of the trace\n"
        "                 (not freed: the leaks of 'hak trace leaks')\n"
        "  inuse_space    their requested bytes (the default sample type)\n"
        "so the totals are those of 'hak trace stats'.  Frames carry function\n"
        "names (demangled) and, from DWARF when the binaries have it, file:line\n"
        "and the functions inlined there; pprof needs no binaries to show them.\n"
        "The profile's comments name the trace and say when the trace is cut\n"
        "off or the recorder lost events (pprof -comments).\n"
        "\n"
        "options:\n"
        "  --pprof FILE the profile to write ('-': standard output)\n"
        "  --depth N    innermost frames kept per stack (default 0 = all recorded)\n"
        "  --no-demangle  C++ names as recorded (default: demangled)\n"
        "  --no-lines   no file:line and no inlined frames (default: from DWARF,\n"
        "               with elfutils' libdw when installed)\n"
        "  --sysroot DIR  read the recorded modules as DIR/PATH (a trace from\n"
        "               another machine)\n"
        "  --debug-dir DIR  also look for separate debug files under DIR, laid out\n"
        "               as /usr/lib/debug\n"
        "  --progress   report progress on stderr (default: only on a terminal,\n"
        "               for runs longer than 2 s)\n"
        "  -h, --help   this text\n"
        "\n"
        "examples:\n"
        "  hak trace export --pprof run.pb.gz run.hkt\n"
        "  go tool pprof -top -sample_index=alloc_space run.pb.gz\n"
        "  go tool pprof -http=:8080 run.pb.gz\n"
        "\n"
        "exit status: 0 ok (also for a truncated trace, with a warning on stderr),\n"
        "1 unreadable trace, decoding error or write failure, 2 usage error.\n");
}

static int own_opt(void *ctx, int c, const char *arg)
{
    (void)c;   /* --pprof */
    if (!*arg)
        return cli_usage_err("export", "--pprof: empty file name");
    *(const char **)ctx = arg;
    return 0;
}

int trace_export(int argc, char **argv)
{
    static const struct option own[] = {
        {"pprof", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    const char *pprof = NULL;
    const vw_cmd cmd = {.name = "export", .usage = usage, .own = own, .own_opt = own_opt,
                        .ctx = &pprof, .common = VW_O_LINES, .ntraces = 1};
    vw_opts o;
    vw_opts_default(&o, 0, 0);
    int rc = vw_parse(&cmd, argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (!pprof)
        return cli_usage_err("export", "no format chosen: give --pprof FILE");
    vw_trace t;
    if (vw_load(&t, "export", argv[optind], NULL, &o))
        return 1;
    char note[900];
    snprintf(note, sizeof note, "hak trace export of %s: %" PRIu64 " events, %" PRIu64
             " allocations; inuse = not freed at the end of the trace", t.path, t.v.events,
             t.v.allocs);
    const char *comments[2] = {note, t.trunc_note};
    hak_pprof_info info = {
        .depth = o.depth,
        .time_nanos = (int64_t)hak_tr_meta(t.r)->start_wall_ns,
        .duration_nanos = (int64_t)t.v.last_ns,
        .comments = comments,
        .ncomments = t.trunc_note[0] ? 2 : 1,
    };
    char err[512];
    rc = hak_pprof_write(pprof, &t.v, t.r, t.sym, &info, err, sizeof err);
    if (rc)
        hak_cmd_err("trace export", "%s", err);
    vw_unload(&t);
    return rc ? 1 : 0;
}
