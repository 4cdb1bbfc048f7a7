/* hak_cmd.h - one command-table type for every level of `hak` (hak, hak
 * trace, hak db): a level is a table of named entry points and a usage
 * function, and hak_cmd_dispatch gives them all the same rules:
 *   - `LEVEL --help`, `-h` and `help` print the usage to stdout, exit 0;
 *   - `LEVEL help NAME` runs `NAME --help`;  an unknown NAME is exit 2;
 *   - no subcommand prints the usage to stderr, exit 2;
 *   - an unknown subcommand is a one-line error naming it, exit 2.
 * An entry point takes the arguments after its own name (argv[0] is the
 * subcommand itself) and returns the exit status (0 ok, 1 failure, 2 usage
 * error); it prints its own --help. */
#ifndef HAK_CMD_H
#define HAK_CMD_H

#include <stddef.h>
#include <stdio.h>

typedef struct hak_cmd {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;            /* one line for the level's usage */
} hak_cmd;

typedef struct hak_cmd_level {
    const char *name;               /* "trace", "db"; NULL for `hak` itself */
    const hak_cmd *cmds;
    size_t ncmds;
    void (*usage)(FILE *out);       /* the level's whole usage text */
} hak_cmd_level;

#define HAK_CMD_COUNT(table) (sizeof(table) / sizeof *(table))

/* The entry named NAME, or NULL. */
const hak_cmd *hak_cmd_find(const hak_cmd_level *level, const char *name);

/* "  NAME  summary" for every entry, names padded to WIDTH. */
void hak_cmd_list(FILE *out, const hak_cmd_level *level, int width);

/* Runs the subcommand argv[1] with the rules above. */
int hak_cmd_dispatch(const hak_cmd_level *level, int argc, char **argv);

#endif
