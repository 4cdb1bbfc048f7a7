/* hak_cmd.c - the dispatch rules every level of `hak` shares (hak_cmd.h). */
#include "hak_cmd.h"
#include "hak_util.h"

#include <string.h>

const hak_cmd *hak_cmd_find(const hak_cmd_level *level, const char *name)
{
    for (size_t i = 0; i < level->ncmds; i++)
        if (!strcmp(level->cmds[i].name, name))
            return &level->cmds[i];
    return NULL;
}

void hak_cmd_list(FILE *out, const hak_cmd_level *level, int width)
{
    for (size_t i = 0; i < level->ncmds; i++)
        fprintf(out, "  %-*s %s\n", width, level->cmds[i].name, level->cmds[i].summary);
}

/* One wording for a name that is not in the table, at any level. */
static int unknown(const hak_cmd_level *level, const char *name)
{
    if (level->name)
        hak_cmd_err(level->name, "unknown subcommand '%s'; see 'hak %s --help'", name,
                    level->name);
    else
        hak_err("'%s' is not a hak command; see 'hak --help'", name);
    return 2;
}

int hak_cmd_dispatch(const hak_cmd_level *level, int argc, char **argv)
{
    if (argc < 2) {
        level->usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        if (!strcmp(name, "help") && argc > 2) {
            const hak_cmd *c = hak_cmd_find(level, argv[2]);
            if (!c)
                return unknown(level, argv[2]);
            char *sub[] = {argv[2], "--help", NULL};
            return c->run(2, sub);
        }
        level->usage(stdout);
        return 0;
    }
    const hak_cmd *c = hak_cmd_find(level, name);
    return c ? c->run(argc - 1, argv + 1) : unknown(level, name);
}
