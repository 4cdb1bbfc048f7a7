/* test_hakdb.c - the run-history database library: dedup, NULL-not-zero,
 * migrations, recognising foreign/corrupt files, concurrent writers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hakdb.h"
#include "hakdb_int.h"
#include "hakdb_migrations.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/hakdbtest.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tpath(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static int64_t q_int(hakdb *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(hakdb_sqlite(db), sql, -1, &st, NULL), SQLITE_OK);
    int64_t v = -12345;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -999 : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Creates trace, build, machine rows; fills the ids of r. */
static void base_rows(hakdb *db, hakdb_run *r, const char *alloc)
{
    hakdb_trace t = {.hash = "00000000deadbeef", .path = "x.hkt", .program = "prog",
                     .events = 100, .threads = 1, .duration_ns = 5000, .file_bytes = 999};
    hakdb_build b = {.name = alloc, .path = NULL, .hash = alloc, .version = "1"};
    hakdb_run_init(r);
    r->trace_id = hakdb_upsert_trace(db, &t);
    r->build_id = hakdb_upsert_build(db, &b);
    r->machine_id = hakdb_upsert_machine(db);
    assert_true(r->trace_id > 0);
    assert_true(r->build_id > 0);
    assert_true(r->machine_id > 0);
}

static void test_upsert_dedup(void **state)
{
    (void)state;
    char err[512];
    hakdb *db = hakdb_open(tpath("dedup.db"), err, sizeof err);
    assert_non_null(db);
    hakdb_trace t = {.hash = "1111222233334444", .path = NULL, .program = "a",
                     .events = HAKDB_NULL, .threads = 2, .duration_ns = HAKDB_NULL,
                     .file_bytes = 10};
    int64_t t1 = hakdb_upsert_trace(db, &t);
    t.path = "later/path.hkt";
    t.events = 77;
    int64_t t2 = hakdb_upsert_trace(db, &t);
    assert_true(t1 > 0);
    assert_int_equal(t1, t2);
    assert_int_equal(q_int(db, "SELECT count(*) FROM traces"), 1);
    /* A second writer may fill what the first did not know. */
    assert_int_equal(q_int(db, "SELECT events FROM traces"), 77);
    t.hash = "5555666677778888";
    assert_int_not_equal(hakdb_upsert_trace(db, &t), t1);

    hakdb_build b = {.name = "mimalloc", .path = "/x/libmimalloc.so", .hash = "abc", .version = NULL};
    int64_t b1 = hakdb_upsert_build(db, &b), b2 = hakdb_upsert_build(db, &b);
    assert_true(b1 > 0);
    assert_int_equal(b1, b2);
    b.name = "other";
    assert_int_not_equal(hakdb_upsert_build(db, &b), b1);
    assert_int_equal(q_int(db, "SELECT count(*) FROM builds"), 2);

    int64_t m1 = hakdb_upsert_machine(db), m2 = hakdb_upsert_machine(db);
    assert_true(m1 > 0);
    assert_int_equal(m1, m2);
    assert_int_equal(q_int(db, "SELECT count(*) FROM machines"), 1);
    assert_int_equal(q_int(db, "SELECT count(*) FROM machine_counters"), 6);
    /* Every unavailable counter says why. */
    assert_int_equal(q_int(db, "SELECT count(*) FROM machine_counters"
                               " WHERE available = 0 AND (reason IS NULL OR reason = '')"), 0);
    assert_true(q_int(db, "SELECT cores FROM machines") >= 1);

    /* Missing keys are refused, not stored. */
    hakdb_trace bad = {0};
    assert_int_equal(hakdb_upsert_trace(db, &bad), -1);
    assert_non_null(strstr(hakdb_error(db), "hash"));
    hakdb_close(db);
}

static void test_null_not_zero(void **state)
{
    (void)state;
    char err[512];
    hakdb *db = hakdb_open(tpath("null.db"), err, sizeof err);
    assert_non_null(db);
    hakdb_run r;
    base_rows(db, &r, "glibc");
    r.wall_ns = 0;               /* a measured zero stays zero */
    r.ops = 1000;
    r.minor_faults = 0;
    r.env = "  Z=1   A=2 ";
    hakdb_metric m[3] = {
        {.name = "cycles", .value = 0, .is_null = 1, .unit = "count", .source = "hw",
         .reason = "perf_event_open: ENOENT"},
        {.name = "page-faults", .value = 0, .is_null = 0, .unit = "count", .source = "sw"},
        {.name = "sim.dtlb_misses", .value = NAN, .is_null = 0, .unit = "count", .source = "sim"},
    };
    r.metrics = m;
    r.nmetrics = 3;
    hakdb_sample tl[2] = {{0, 4096, HAKDB_NULL}, {1000, 8192, 100}};
    r.timeline = tl;
    r.ntimeline = 2;
    int64_t id = hakdb_insert_run(db, &r);
    assert_true(id > 0);
    assert_int_equal(q_int(db, "SELECT ops_per_s IS NULL FROM runs"), 1);
    assert_int_equal(q_int(db, "SELECT wall_ns FROM runs"), 0);
    assert_int_equal(q_int(db, "SELECT minor_faults FROM runs"), 0);
    assert_int_equal(q_int(db, "SELECT peak_rss_bytes IS NULL FROM runs"), 1);
    assert_int_equal(q_int(db, "SELECT fidelity IS NULL FROM runs"), 1);
    assert_int_equal(q_int(db, "SELECT value IS NULL FROM run_metrics WHERE name='cycles'"), 1);
    assert_int_equal(q_int(db, "SELECT reason LIKE 'perf_event_open%' FROM run_metrics WHERE name='cycles'"), 1);
    assert_int_equal(q_int(db, "SELECT value FROM run_metrics WHERE name='page-faults'"), 0);
    assert_int_equal(q_int(db, "SELECT value IS NOT NULL FROM run_metrics WHERE name='page-faults'"), 1);
    assert_int_equal(q_int(db, "SELECT reason IS NOT NULL FROM run_metrics WHERE name='sim.dtlb_misses'"), 1);
    assert_int_equal(q_int(db, "SELECT count(*) FROM timelines"), 2);
    assert_int_equal(q_int(db, "SELECT live_bytes IS NULL FROM timelines WHERE idx=0"), 1);
    assert_int_equal(q_int(db, "SELECT env = 'A=2 Z=1' FROM runs"), 1);
    assert_int_equal(q_int(db, "SELECT kind = 'measured' AND status = 'ok' FROM runs"), 1);
    /* The views see it, with counters pivoted and NULL kept NULL. */
    assert_int_equal(q_int(db, "SELECT cycles IS NULL AND page_faults = 0 FROM run_summary"), 1);
    assert_int_equal(q_int(db, "SELECT setting = 'glibc A=2 Z=1' AND mode = '' FROM run_summary"), 1);
    assert_int_equal(q_int(db, "SELECT count(*) FROM run_metric_values WHERE run_id = 1 AND name = 'ops'"), 1);

    /* A run naming no trace is refused; a bad status violates the schema. */
    hakdb_run bad;
    hakdb_run_init(&bad);
    assert_int_equal(hakdb_insert_run(db, &bad), -1);
    r.status = "exploded";
    assert_int_equal(hakdb_insert_run(db, &r), -1);
    assert_non_null(strstr(hakdb_error(db), "CHECK"));
    assert_int_equal(q_int(db, "SELECT count(*) FROM runs"), 1);
    assert_int_equal(q_int(db, "SELECT count(*) FROM run_metrics"), 3);
    hakdb_close(db);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = 0;
    fclose(f);
    return s;
}

static const char *root(void)
{
    const char *r = getenv("HAK_ROOT");
    return r && *r ? r : ".";
}

static void test_migrate_from_v1(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof p, "%s/analysis/store/migrations/001_core.sql", root());
    char *v1 = slurp(p);
    assert_non_null(v1);
    /* A v1 database as a v1 hak would have left it, with one run in it. */
    sqlite3 *s;
    assert_int_equal(sqlite3_open(tpath("v1.db"), &s), SQLITE_OK);
    assert_int_equal(sqlite3_exec(s, v1, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(s,
        "PRAGMA user_version = 1; PRAGMA application_id = 1212238669;"
        "INSERT INTO traces(id, hash, program, created_at) VALUES(1, 'h1', 'old', '2026-01-01T00:00:00.000Z');"
        "INSERT INTO builds(id, name, hash, created_at) VALUES(1, 'glibc', 'glibc-2.36', '2026-01-01T00:00:00.000Z');"
        "INSERT INTO machines(id, hash, hostname, created_at) VALUES(1, 'm1', 'box', '2026-01-01T00:00:00.000Z');"
        "INSERT INTO runs(uuid, trace_id, build_id, machine_id, kind, status, ops_per_s, started_at, created_at)"
        " VALUES('u1', 1, 1, 1, 'measured', 'ok', 123.5, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');",
        NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(s);
    free(v1);

    char err[512];
    hakdb *db = hakdb_open(tpath("v1.db"), err, sizeof err);
    assert_non_null(db);
    assert_int_equal(q_int(db, "PRAGMA user_version"), hakdb_schema_version());
    assert_true(hakdb_schema_version() >= 2);
    assert_int_equal(q_int(db, "SELECT count(*) FROM runs"), 1);
    assert_int_equal(q_int(db, "SELECT ops_per_s * 10 FROM run_summary WHERE trace = 'old'"), 1235);
    assert_int_equal(q_int(db, "SELECT better = 'higher' FROM metric_info WHERE name = 'ops_per_s'"), 1);
    hakdb_close(db);
    /* Opening again is a no-op. */
    db = hakdb_open(tpath("v1.db"), err, sizeof err);
    assert_non_null(db);
    assert_int_equal(q_int(db, "SELECT count(*) FROM runs"), 1);
    hakdb_close(db);
}

static void test_newer_version_rejected(void **state)
{
    (void)state;
    char err[512];
    hakdb *db = hakdb_open(tpath("new.db"), err, sizeof err);
    assert_non_null(db);
    sqlite3_exec(hakdb_sqlite(db), "PRAGMA user_version = 99", NULL, NULL, NULL);
    hakdb_close(db);
    assert_null(hakdb_open(tpath("new.db"), err, sizeof err));
    assert_non_null(strstr(err, "newer"));
    assert_non_null(strstr(err, "new.db"));
    assert_null(strchr(err, '\n'));
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void test_bad_files(void **state)
{
    (void)state;
    char err[512];
    write_file(tpath("text.db"), "hello, I am not a database\n", 27);
    assert_null(hakdb_open(tpath("text.db"), err, sizeof err));
    assert_non_null(strstr(err, "not an SQLite database"));

    /* An SQLite header followed by garbage. */
    char junk[8192];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i * 7 + 3);
    memcpy(junk, "SQLite format 3", 16);
    write_file(tpath("corrupt.db"), junk, sizeof junk);
    assert_null(hakdb_open(tpath("corrupt.db"), err, sizeof err));
    assert_non_null(strstr(err, "corrupt.db"));
    assert_null(strchr(err, '\n'));

    /* Somebody else's SQLite database. */
    sqlite3 *s;
    assert_int_equal(sqlite3_open(tpath("foreign.db"), &s), SQLITE_OK);
    sqlite3_exec(s, "CREATE TABLE recipes(name TEXT)", NULL, NULL, NULL);
    sqlite3_close(s);
    assert_null(hakdb_open(tpath("foreign.db"), err, sizeof err));
    assert_non_null(strstr(err, "not a hakmem database"));

    /* Readers do not create files. */
    assert_null(hakdb_open_ex(tpath("missing.db"), HAKDB_OPEN_EXISTING, err, sizeof err));
    assert_non_null(strstr(err, "no such database"));
    assert_int_not_equal(access(tpath("missing.db"), F_OK), 0);
    assert_null(hakdb_open(dir, err, sizeof err));
}

#define WRITERS 4
#define RUNS_EACH 40

static void test_concurrent_writers(void **state)
{
    (void)state;
    const char *path = tpath("conc.db");
    pid_t kids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        kids[w] = fork();
        assert_true(kids[w] >= 0);
        if (kids[w] == 0) {
            /* Every child opens (and races to create/migrate) on its own. */
            char err[512];
            hakdb *db = hakdb_open(path, err, sizeof err);
            if (!db) {
                fprintf(stderr, "child: %s\n", err);
                _exit(1);
            }
            for (int i = 0; i < RUNS_EACH; i++) {
                hakdb_run r;
                char hash[32];
                snprintf(hash, sizeof hash, "trace%d", i % 3);
                hakdb_trace t = {.hash = hash, .program = "p", .events = HAKDB_NULL,
                                 .threads = HAKDB_NULL, .duration_ns = HAKDB_NULL,
                                 .file_bytes = HAKDB_NULL};
                hakdb_build b = {.name = "glibc", .hash = "glibc-x"};
                hakdb_run_init(&r);
                r.trace_id = hakdb_upsert_trace(db, &t);
                r.build_id = hakdb_upsert_build(db, &b);
                r.machine_id = hakdb_upsert_machine(db);
                r.repeat_idx = w * 1000 + i;
                hakdb_metric m = {.name = "cycles", .is_null = 1, .reason = "no PMU"};
                hakdb_sample s[3] = {{0, 1, 1}, {1, 2, 2}, {2, 3, 3}};
                r.metrics = &m;
                r.nmetrics = 1;
                r.timeline = s;
                r.ntimeline = 3;
                if (r.trace_id < 0 || r.build_id < 0 || r.machine_id < 0 ||
                    hakdb_insert_run(db, &r) < 0) {
                    fprintf(stderr, "child: %s\n", hakdb_error(db));
                    _exit(1);
                }
            }
            hakdb_close(db);
            _exit(0);
        }
    }
    /* A reader queries throughout: WAL readers never see an error or a
     * half-inserted run (runs without their metrics). */
    pid_t reader = fork();
    assert_true(reader >= 0);
    if (reader == 0) {
        char err[512];
        hakdb *db = NULL;
        for (int i = 0; i < 200 && !db; i++) {
            db = hakdb_open_ex(path, HAKDB_OPEN_EXISTING, err, sizeof err);
            if (!db)
                usleep(5000);
        }
        if (!db)
            _exit(3);
        for (int i = 0; i < 200; i++) {
            sqlite3_stmt *st;
            if (sqlite3_prepare_v2(hakdb_sqlite(db),
                    "SELECT count(*) FROM runs r WHERE NOT EXISTS"
                    " (SELECT 1 FROM run_metrics m WHERE m.run_id = r.id)", -1, &st, NULL) != SQLITE_OK)
                _exit(4);
            int rc = sqlite3_step(st);
            int torn = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
            sqlite3_finalize(st);
            if (rc != SQLITE_ROW) {
                fprintf(stderr, "reader: %s\n", sqlite3_errmsg(hakdb_sqlite(db)));
                _exit(5);
            }
            if (torn != 0)
                _exit(6);
            usleep(1000);
        }
        hakdb_close(db);
        _exit(0);
    }
    int failed = 0;
    int rst;
    waitpid(reader, &rst, 0);
    assert_true(WIFEXITED(rst));
    assert_int_equal(WEXITSTATUS(rst), 0);
    for (int w = 0; w < WRITERS; w++) {
        int st;
        waitpid(kids[w], &st, 0);
        failed += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    assert_int_equal(failed, 0);
    char err[512];
    hakdb *db = hakdb_open(path, err, sizeof err);
    assert_non_null(db);
    assert_int_equal(q_int(db, "SELECT count(*) FROM runs"), WRITERS * RUNS_EACH);
    assert_int_equal(q_int(db, "SELECT count(DISTINCT repeat_idx) FROM runs"), WRITERS * RUNS_EACH);
    assert_int_equal(q_int(db, "SELECT count(*) FROM run_metrics"), WRITERS * RUNS_EACH);
    assert_int_equal(q_int(db, "SELECT count(*) FROM timelines"), WRITERS * RUNS_EACH * 3);
    assert_int_equal(q_int(db, "SELECT count(*) FROM traces"), 3);
    assert_int_equal(q_int(db, "SELECT count(*) FROM builds"), 1);
    assert_int_equal(q_int(db, "SELECT count(*) FROM machines"), 1);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(hakdb_sqlite(db), "PRAGMA journal_mode", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    hakdb_close(db);
}

/* Collects "type name: col,col,..." for every table and view, sorted. */
static char *shape(sqlite3 *s)
{
    sqlite3_stmt *st;
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    sqlite3_prepare_v2(s,
        "SELECT m.type || ' ' || m.name || ': ' || group_concat(p.name, ',')"
        " FROM sqlite_master m JOIN pragma_table_info(m.name) p"
        " WHERE m.type IN ('table', 'view') GROUP BY m.name ORDER BY m.name", -1, &st, NULL);
    while (sqlite3_step(st) == SQLITE_ROW)
        len += (size_t)snprintf(out + len, cap - len, "%s\n", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_prepare_v2(s, "SELECT type || ' ' || name FROM sqlite_master WHERE type = 'index'"
                          " AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name", -1, &st, NULL);
    while (sqlite3_step(st) == SQLITE_ROW)
        len += (size_t)snprintf(out + len, cap - len, "%s\n", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

static void test_schema_sql_matches_migrations(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof p, "%s/analysis/store/schema.sql", root());
    char *doc = slurp(p);
    assert_non_null(doc);
    sqlite3 *s;
    sqlite3_open(":memory:", &s);
    assert_int_equal(sqlite3_exec(s, doc, NULL, NULL, NULL), SQLITE_OK);
    char *a = shape(s);
    sqlite3_close(s);
    free(doc);
    char err[512];
    hakdb *db = hakdb_open(tpath("shape.db"), err, sizeof err);
    assert_non_null(db);
    char *b = shape(hakdb_sqlite(db));
    hakdb_close(db);
    assert_true(strlen(a) > 200);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static void test_env_normalize(void **state)
{
    (void)state;
    char *e = hakdb_normalize_env(" B=2\tA=1  C=3 ");
    assert_string_equal(e, "A=1 B=2 C=3");
    free(e);
    e = hakdb_normalize_env(NULL);
    assert_string_equal(e, "");
    free(e);
}

/* Commands read through hakdb_read, which refuses a statement that would
 * write: every write goes through a store function. */
static void test_read_refuses_writes(void **state)
{
    (void)state;
    char err[512];
    hakdb *db = hakdb_open(tpath("read.db"), err, sizeof err);
    assert_non_null(db);
    sqlite3_stmt *st = NULL;
    assert_int_equal(hakdb_read(db, "SELECT count(*) FROM runs", &st), 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    const char *writes[] = {"DELETE FROM runs", "INSERT INTO sweeps(uuid) VALUES('x')",
                            "DROP TABLE runs", "UPDATE traces SET program = 'x'",
                            "CREATE TABLE t(x)", "PRAGMA user_version = 3"};
    for (size_t i = 0; i < sizeof writes / sizeof *writes; i++) {
        st = (sqlite3_stmt *)1;
        assert_int_equal(hakdb_read(db, writes[i], &st), -1);
        assert_null(st);
        assert_non_null(strstr(hakdb_error(db), "not a read-only statement"));
    }
    assert_int_equal(hakdb_read(db, "SELECT nonsense FROM nowhere", &st), -1);
    assert_non_null(strstr(hakdb_error(db), "no such"));
    assert_int_equal(hakdb_schema_version(), q_int(db, "PRAGMA user_version"));
    hakdb_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_refuses_writes),
        cmocka_unit_test(test_upsert_dedup),
        cmocka_unit_test(test_null_not_zero),
        cmocka_unit_test(test_migrate_from_v1),
        cmocka_unit_test(test_newer_version_rejected),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_schema_sql_matches_migrations),
        cmocka_unit_test(test_env_normalize),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
