/* hak_main.c - the `hak` command: a thin dispatcher over the components'
 * subcommands, in the style of git and perf. */
#include "analysis_cli.h"
#include "hak_cmd.h"
#include "hak_util.h"
#include "record_cli.h"
#include "replayer_cli.h"
#include "trace_cli.h"

#include <stdio.h>
#include <string.h>

static const hak_cmd commands[] = {
    {"trace",  cmd_trace,  "inspect, validate, synthesise and import traces"},
    {"record", cmd_record, "run a program and record its malloc/free stream"},
    {"replay", cmd_replay, "replay traces against allocators, measure, store runs"},
    {"validate", cmd_validate, "run a program live and replayed under each allocator: does the replay predict it?"},
    {"sim",    cmd_sim,    "simulate page faults and TLB misses of a trace on an allocator build"},
    {"sweep",  cmd_sweep,  "run a grid of allocator knobs (replay and/or sim) and rank the settings"},
    {"db",     cmd_db,     "query the run history: runs, compare, best, SQL, merge"},
    {"report", cmd_report, "comparison report: aligned text, or self-contained HTML with charts"},
};

static void usage(FILE *out);
static const hak_cmd_level level = {NULL, commands, HAK_CMD_COUNT(commands), usage};

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak [--version] [--help] COMMAND [ARGS...]\n"
        "\n"
        "hakmem: record a program's malloc/free stream, replay it against\n"
        "allocator builds, and query the measured results with SQL.\n"
        "\n"
        "commands:\n");
    hak_cmd_list(out, &level, 8);
    fprintf(out,
        "\n"
        "'hak COMMAND --help' describes a command and its options.\n");
}

/* Like coreutils' close_stdout: output that never reached its file (a full
 * disk, /dev/full) must not end in exit 0.  A command that already failed
 * has said why; only a clean exit is turned into a failure here. */
static int finish(const char *cmd, int rc)
{
    int bad = ferror(stdout);
    bad |= fflush(stdout) != 0;
    if (bad && rc == 0) {
        hak_cmd_err(cmd, "error writing standard output: %m");
        rc = 1;
    }
    return rc;
}

/* --version anywhere among a command's own words (`hak db compare
 * --version`, `hak trace info --version`): not after "--", and for
 * `hak record` not once the program to run has begun (its first word
 * that is not an option), so `hak record prog --version` runs prog. */
static int wants_version(int argc, char **argv)
{
    int record = !strcmp(argv[1], "record");
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            return 0;
        if (!strcmp(argv[i], "--version"))
            return 1;
        if (record && argv[i][0] != '-')
            return 0;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("hak %s\n", HAK_VERSION);
        return finish("--version", 0);
    }
    if (wants_version(argc, argv)) {
        printf("hak %s\n", HAK_VERSION);
        return finish("--version", 0);
    }
    /* help, unknown names and the commands themselves: hak_cmd.h's rules;
     * only a clean exit is checked for lost output (finish). */
    const char *shown = !strcmp(name, "help") && argc > 2 ? argv[2] : name;
    return finish(shown, hak_cmd_dispatch(&level, argc, argv));
}
