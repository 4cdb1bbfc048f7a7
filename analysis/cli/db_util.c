/* db_util.c - helpers shared by the `hak db` subcommands and `hak report`
 * (see db_cli.h): opening, metric lookup and value formatting. */
#include "db_cli.h"
#include "hak_util.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

hakdb *db_open_for(const char *cmd, const char *path)
{
    char err[600];
    hakdb *db = hakdb_open_ex(path, HAKDB_OPEN_EXISTING | HAKDB_OPEN_READER, err, sizeof err);
    if (!db)
        hak_cmd_err(cmd, "%s", err);
    return db;
}

int db_check_filter(const char *cmd, const char *opt, const char *v)
{
    /* The sets mirror the CHECK constraints on runs.kind and runs.status. */
    static const char *const kinds[] = {"measured", "simulated", NULL};
    static const char *const statuses[] = {"ok", "crashed", "timeout", "load_failed", "error", NULL};
    const char *const *set = !strcmp(opt, "--kind") ? kinds : !strcmp(opt, "--status") ? statuses : NULL;
    if (!set) {   /* --sweep: a positive id */
        uint64_t id;
        if (hak_parse_u64(v, &id) == 0 && id > 0 && id <= INT64_MAX && strspn(v, "0123456789") == strlen(v))
            return 0;
        hak_cmd_err(cmd, "%s: '%s' is not a sweep id", opt, v);
        return 2;
    }
    for (int i = 0; set[i]; i++)
        if (!strcmp(v, set[i]))
            return 0;
    hak_cmd_err(cmd, "%s: '%s' is not one of %s", opt, v,
                set == kinds ? "measured, simulated" : "ok, crashed, timeout, load_failed, error");
    return 2;
}


FILE *db_out_open(const char *cmd, const db_out *o)
{
    if (!o->path || !strcmp(o->path, "-"))
        return stdout;
    FILE *f = fopen(o->path, "w");
    if (!f)
        hak_cmd_err(cmd, "%s: cannot write: %m", o->path);
    return f;
}

int db_out_close(const char *cmd, const db_out *o, FILE *f)
{
    if (!f)
        return 0;
    int bad = ferror(f);
    bad |= f == stdout ? fflush(f) != 0 : fclose(f) != 0;
    if (!bad)
        return 0;
    hak_cmd_err(cmd, "%s: write failed: %m", f == stdout ? "standard output" : o->path);
    return -1;
}
