/* db_merge.c - `hak db merge OTHER.db...`: combines run histories from
 * several machines (the merge itself: hakdb_merge, store/hakdb_merge.c). */
#include "db_cli.h"
#include "hak_util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { OPT_DB = 1000 };

static void merge_usage(FILE *out)
{
    fprintf(out,
        "usage: hak db merge [--db FILE] [-q] OTHER.db...\n"
        "\n"
        "Copies the traces, builds, machines, sweeps, runs (with metrics and\n"
        "timelines), trace statistics and validations (hak validate's values and\n"
        "rankings) of each OTHER database into FILE (default ./hak.db, created\n"
        "if missing).  Rows already present (same content hash, run or\n"
        "validation uuid) are not copied again, so merging is idempotent.\n"
        "An OTHER from an older schema version is migrated first.  Each merge is\n"
        "one transaction: it lands whole or not at all.\n");
    fputs("\nexample:\n"
          "  hak db merge --db lab.db jobs/*.db\n", out);
}

int db_cmd_merge(int argc, char **argv)
{
    static const struct option lo[] = {
        {"db", required_argument, 0, OPT_DB}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *dbp = NULL;
    int quiet = 0, c;
    optind = 0;
    opterr = 0; /* one-line errors: hak_cmd_bad_option */
    while ((c = getopt_long(argc, argv, "hq", lo, NULL)) != -1) {
        switch (c) {
        case OPT_DB: dbp = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': merge_usage(stdout); return 0;
        default: return hak_cmd_bad_option("db merge", argc, argv);
        }
    }
    if (optind >= argc) {
        hak_cmd_err("db merge", "expected at least one OTHER.db; see --help");
        return 2;
    }
    char err[600];
    hakdb *db = hakdb_open(dbp, err, sizeof err);
    if (!db) {
        hak_cmd_err("db merge", "%s", err);
        return 1;
    }
    struct stat self;
    int have_self = stat(hakdb_path(db), &self) == 0;
    int rc = 0;
    for (int i = optind; i < argc && rc == 0; i++) {
        const char *other = argv[i];
        struct stat sb;
        if (stat(other, &sb) == 0 && have_self && sb.st_dev == self.st_dev && sb.st_ino == self.st_ino) {
            hak_cmd_err("db merge", "%s: is the destination database itself", other);
            rc = 1;
            break;
        }
        /* Validate (and migrate) the other database with the same checks. */
        hakdb *odb = hakdb_open_ex(other, HAKDB_OPEN_EXISTING, err, sizeof err);
        if (!odb) {
            hak_cmd_err("db merge", "%s", err);
            rc = 1;
            break;
        }
        hakdb_close(odb);
        hakdb_merge_counts mc;
        if (hakdb_merge(db, other, &mc) != 0) {
            hak_cmd_err("db merge", "%s: %s", other, hakdb_error(db));
            rc = 1;
        } else if (!quiet) {
            int64_t added = mc.added[3];
            printf("merged %s: +%lld runs (%lld already present), +%lld traces, +%lld builds,"
                   " +%lld machines, +%lld validations\n", other, (long long)added,
                   (long long)(mc.other_runs - added), (long long)mc.added[0],
                   (long long)mc.added[1], (long long)mc.added[2], (long long)mc.added[4]);
        }
    }
    hakdb_close(db);
    return rc;
}
