/* trace_cli.c - `hak trace`: subcommands over the trace library. */
#include "hak_cli.h"
#include "hak_util.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak trace SUBCOMMAND [OPTIONS] [TRACE]\n"
        "\n"
        "Inspect, validate, synthesise and import hakmem traces (.hkt).\n"
        "\n"
        "subcommands: (being built; see issue 2)\n");
}

int cmd_trace(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    hak_cmd_err("trace", "unknown subcommand '%s'; see 'hak trace --help'", argv[1]);
    return 2;
}
