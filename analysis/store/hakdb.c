/* hakdb.c - opening, recognising and migrating the run-history database,
 * and the transaction/retry helpers every writer uses (see hakdb.h and
 * hakdb_int.h). */
#include "hakdb_int.h"
#include "hakdb_migrations.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *hakdb_default_path(void)
{
    const char *p = getenv("HAK_DB");
    return (p && *p) ? p : "hak.db";
}

int hakdb_schema_version(void)
{
    return hakdb_nmigrations;
}

int hakdb_fail(hakdb *db, const char *what)
{
    snprintf(db->err, sizeof db->err, "%s: %s", what, sqlite3_errmsg(db->db));
    return -1;
}

int hakdb_failf(hakdb *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(db->err, sizeof db->err, fmt, ap);
    va_end(ap);
    return -1;
}

const char *hakdb_error(hakdb *db)
{
    return db ? db->err : "no database";
}

sqlite3 *hakdb_sqlite(hakdb *db)
{
    return db->db;
}

int hakdb_read(hakdb *db, const char *sql, sqlite3_stmt **st)
{
    *st = NULL;
    if (sqlite3_prepare_v2(db->db, sql, -1, st, NULL) != SQLITE_OK)
        return hakdb_fail(db, "query");
    if (!sqlite3_stmt_readonly(*st)) {
        sqlite3_finalize(*st);
        *st = NULL;
        return hakdb_failf(db, "query: not a read-only statement (writes go through the store)");
    }
    return 0;
}

const char *hakdb_sql_error(hakdb *db)
{
    return sqlite3_errmsg(db->db);
}

int hakdb_user_statement(hakdb *db, const char *sql, const char **tail, sqlite3_stmt **st)
{
    *st = NULL;
    return sqlite3_prepare_v2(db->db, sql, -1, st, tail) == SQLITE_OK ? 0 : -1;
}

int hakdb_query_only(hakdb *db)
{
    return sqlite3_exec(db->db, "PRAGMA query_only = 1", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

const char *hakdb_path(hakdb *db)
{
    return db->path;
}

void hakdb_close(hakdb *db)
{
    if (!db)
        return;
    sqlite3_close_v2(db->db);
    free(db->path);
    free(db);
}

int hakdb_prepare(hakdb *db, sqlite3_stmt **st, const char *sql)
{
    int rc = sqlite3_prepare_v2(db->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK)
        hakdb_fail(db, "prepare");
    return rc;
}

void hakdb_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

void hakdb_bind_i64(sqlite3_stmt *st, int i, int64_t v)
{
    if (v == HAKDB_NULL)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, v);
}

void hakdb_bind_dbl(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v) || isinf(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

void hakdb_iso_time(int64_t wall_ns, char out[32])
{
    struct timespec ts;
    if (wall_ns == HAKDB_NULL || wall_ns < 0) {
        clock_gettime(CLOCK_REALTIME, &ts);
    } else {
        ts.tv_sec = wall_ns / 1000000000;
        ts.tv_nsec = wall_ns % 1000000000;
    }
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char date[24];
    if (strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        date[0] = 0;
    snprintf(out, 32, "%.19s.%03uZ", date, (unsigned)(ts.tv_nsec / 1000000) % 1000u);
}

void hakdb_uuid(char out[33])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        /* No entropy source: time, pid and address still make collisions
         * between writers practically impossible. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t a = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30);
        uint64_t c = ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&ts;
        memcpy(b, &a, 8);
        memcpy(b + 8, &c, 8);
    }
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

int hakdb_query_int(sqlite3 *s, const char *sql, int64_t *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        *out = 0;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

static int is_busy(int rc)
{
    rc &= 0xff;
    return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int hakdb_tx(hakdb *db, const char *what, int (*body)(hakdb *, void *), void *arg)
{
    int64_t deadline = mono_ms() + HAKDB_RETRY_MS;
    int backoff = 1;
    for (;;) {
        int rc = sqlite3_exec(db->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc == SQLITE_OK) {
            rc = body(db, arg);
            if (rc == SQLITE_OK)
                rc = sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
            if (rc == SQLITE_OK)
                return 0;
            char msg[sizeof db->err];
            /* Keep the body's own message if it set one. */
            snprintf(msg, sizeof msg, "%s", db->err[0] ? db->err : sqlite3_errmsg(db->db));
            if (!db->err[0])
                hakdb_fail(db, what);
            sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
            if (!is_busy(rc))
                return -1;
            db->err[0] = 0;
        } else if (!is_busy(rc)) {
            return hakdb_fail(db, what);
        }
        if (mono_ms() > deadline)
            return hakdb_failf(db, "%s: database stayed locked for %d s", what,
                               HAKDB_RETRY_MS / 1000);
        sleep_ms(backoff + (int)(mono_ms() % 7));
        if (backoff < 100)
            backoff *= 2;
    }
}

/* ---- opening ---------------------------------------------------------- */

/* Checks the first bytes so a non-SQLite file gives a clear message rather
 * than SQLite's generic one.  0 ok (missing or empty file too, unless
 * must_exist), -1 error. */
static int check_header(const char *path, int must_exist, char *err, size_t errlen)
{
    struct stat sb;
    if (path[0] == '\0') {
        /* SQLite would open a private temporary database: silent data loss. */
        snprintf(err, errlen, "empty database path");
        return -1;
    }
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT && !must_exist)
            return 0;
        snprintf(err, errlen, "%s: %s", path, errno == ENOENT ? "no such database" : strerror(errno));
        return -1;
    }
    if (S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s: is a directory, not a database", path);
        return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        return -1;
    }
    /* An empty file is a fresh database to a writer (e.g. from mktemp), but
     * a reader must not silently migrate it into one. */
    if (sb.st_size == 0) {
        if (!must_exist)
            return 0;
        snprintf(err, errlen, "%s: empty file, not a hakmem database", path);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char hdr[16];
    ssize_t n = read(fd, hdr, sizeof hdr);
    close(fd);
    if (n != (ssize_t)sizeof hdr || memcmp(hdr, "SQLite format 3", 16) != 0) {
        snprintf(err, errlen, "%s: not an SQLite database (offset 0: bad header)", path);
        return -1;
    }
    return 0;
}

typedef struct migrate_arg {
    int64_t from;
    const char *path;
} migrate_arg;

static int migrate_body(hakdb *db, void *p)
{
    migrate_arg *a = p;
    /* Re-read inside the write lock: another process may have migrated. */
    int rc = hakdb_query_int(db->db, "PRAGMA user_version", &a->from);
    if (rc != SQLITE_OK)
        return rc;
    for (int i = (int)a->from; i < hakdb_nmigrations; i++) {
        rc = sqlite3_exec(db->db, hakdb_migrations[i].sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            snprintf(db->err, sizeof db->err, "%s: migration %s failed: %s", a->path,
                     hakdb_migrations[i].name, sqlite3_errmsg(db->db));
            return rc;
        }
    }
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d",
             hakdb_nmigrations, HAKDB_APP_ID);
    return sqlite3_exec(db->db, sql, NULL, NULL, NULL);
}

/* 1 when this process may write path and create files next to it (WAL
 * needs path-wal and path-shm): else a reader opens it read-only. */
static int writable(const char *path)
{
    if (access(path, W_OK) != 0)
        return 0;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    return access(dir, W_OK) == 0;
}

/* "file:PATH?immutable=1" with PATH percent-encoded where URIs need it:
 * a WAL database on a read-only mount cannot get its -shm file, and
 * immutable tells SQLite nothing can change it, so no locks are needed. */
static void immutable_uri(const char *path, char *out, size_t len)
{
    size_t n = (size_t)snprintf(out, len, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p && n + 4 < len; p++) {
        if (*p == '%' || *p == '?' || *p == '#' || *p < 0x20)
            n += (size_t)snprintf(out + n, len - n, "%%%02X", *p);
        else
            out[n++] = (char)*p;
    }
    snprintf(out + (n < len ? n : len - 1), len - (n < len ? n : len - 1), "?immutable=1");
}

static int damaged(sqlite3 *s, char *why, size_t len)
{
    sqlite3_stmt *st;
    why[0] = 0;
    if (sqlite3_prepare_v2(s, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK) {
        snprintf(why, len, "%s", sqlite3_errmsg(s));
        return 1;
    }
    int rc = sqlite3_step(st);
    const unsigned char *r = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    int bad = !r || strcmp((const char *)r, "ok") != 0;
    if (bad) {
        const char *m = r ? (const char *)r : sqlite3_errmsg(s);
        const char *hdr = "*** in database main ***\n";
        if (!strncmp(m, hdr, strlen(hdr)))
            m += strlen(hdr);
        snprintf(why, len, "%s", m);
        for (char *c = why; *c; c++)   /* one line */
            if (*c == '\n' || *c == '\r')
                *c = ' ';
    }
    sqlite3_finalize(st);
    return bad;
}

hakdb *hakdb_open_ex(const char *path, int flags, char *err, size_t errlen)
{
    if (!path)
        path = hakdb_default_path();
    int must_exist = (flags & HAKDB_OPEN_EXISTING) != 0;
    if (check_header(path, must_exist, err, errlen) != 0)
        return NULL;
    hakdb *db = calloc(1, sizeof *db);
    if (!db) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    db->path = strdup(path);
    int reader = (flags & HAKDB_OPEN_READER) && must_exist;
    int readonly = reader && !writable(path);
    int oflags = readonly ? SQLITE_OPEN_READONLY
               : SQLITE_OPEN_READWRITE | (must_exist ? 0 : SQLITE_OPEN_CREATE);
    int rc = sqlite3_open_v2(path, &db->db, oflags, NULL);
    if (rc == SQLITE_OK && readonly &&
        sqlite3_exec(db->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
        char uri[8192];
        immutable_uri(path, uri, sizeof uri);
        sqlite3_close_v2(db->db);
        db->db = NULL;
        rc = sqlite3_open_v2(uri, &db->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open database: %s", path,
                 db->db ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc));
        hakdb_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db->db, HAKDB_BUSY_MS);
    sqlite3_extended_result_codes(db->db, 1);

    int64_t app = 0, ver = 0, nobj = 0;
    /* One read transaction, so a concurrent creator's commit cannot fall
     * between the three reads. */
    sqlite3_exec(db->db, "BEGIN", NULL, NULL, NULL);
    if ((rc = hakdb_query_int(db->db, "PRAGMA application_id", &app)) != SQLITE_OK ||
        (rc = hakdb_query_int(db->db, "PRAGMA user_version", &ver)) != SQLITE_OK ||
        (rc = hakdb_query_int(db->db, "SELECT count(*) FROM sqlite_master", &nobj)) != SQLITE_OK) {
        int code = rc & 0xff;
        snprintf(err, errlen, "%s: %s: %s", path,
                 code == SQLITE_CORRUPT || code == SQLITE_NOTADB ? "corrupt or not a database"
                 : "cannot read the database", sqlite3_errmsg(db->db));
        hakdb_close(db);
        return NULL;
    }
    sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
    if (app != HAKDB_APP_ID && !(app == 0 && ver == 0 && nobj == 0)) {
        snprintf(err, errlen,
                 "%s: not a hakmem database (application_id 0x%llx, %lld schema objects)",
                 path, (unsigned long long)(uint32_t)app, (long long)nobj);
        hakdb_close(db);
        return NULL;
    }
    if (ver > hakdb_nmigrations) {
        snprintf(err, errlen,
                 "%s: schema version %lld is newer than this hak supports (%d); use a newer hak",
                 path, (long long)ver, hakdb_nmigrations);
        hakdb_close(db);
        return NULL;
    }
    char why[256];
    if (damaged(db->db, why, sizeof why)) {
        if (!reader) {
            snprintf(err, errlen, "%s: damaged database (integrity check: %s); refusing to write to or"
                     " from it (recover a copy with: sqlite3 %s .recover)", path, why, path);
            hakdb_close(db);
            return NULL;
        }
        fprintf(stderr, "hak: warning: %s: damaged database (integrity check: %s); answers may"
                " be incomplete\n", path, why);
    }
    if (readonly) {
        if (ver < hakdb_nmigrations) {
            snprintf(err, errlen, "%s: schema version %lld is older than this hak's (%d) and the"
                     " database is read-only here: open it once where it is writable to upgrade it",
                     path, (long long)ver, hakdb_nmigrations);
            hakdb_close(db);
            return NULL;
        }
        db->err[0] = 0;
        return db;
    }
    /* WAL lets readers run while a writer commits; switching needs a brief
     * exclusive lock, so retry while another process holds it. */
    for (int tries = 0;; tries++) {
        rc = sqlite3_exec(db->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK || !is_busy(rc) || tries > 200)
            break;
        sleep_ms(10);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot enable WAL: %s", path, sqlite3_errmsg(db->db));
        hakdb_close(db);
        return NULL;
    }
    sqlite3_exec(db->db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
    if (ver < hakdb_nmigrations) {
        migrate_arg a = {ver, path};
        db->err[0] = 0;
        if (hakdb_tx(db, "migrate", migrate_body, &a) != 0) {
            snprintf(err, errlen, "%s", db->err[0] ? db->err : "migration failed");
            if (strncmp(err, path, strlen(path)) != 0) {
                char tmp[1100];
                snprintf(tmp, sizeof tmp, "%s: %s", path, db->err);
                snprintf(err, errlen, "%s", tmp);
            }
            hakdb_close(db);
            return NULL;
        }
    }
    db->err[0] = 0;
    return db;
}

hakdb *hakdb_open(const char *path, char *err, size_t errlen)
{
    return hakdb_open_ex(path, 0, err, errlen);
}
