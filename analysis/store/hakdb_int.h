/* hakdb_int.h - internals shared by the hakdb_*.c files (not a public API).
 *
 * Write discipline: every write goes through hakdb_tx(), which runs its
 * body inside BEGIN IMMEDIATE ... COMMIT and retries the whole body when
 * another process holds the write lock past the busy timeout (or when
 * SQLite reports BUSY/LOCKED without waiting, which happens in WAL mode).
 * Bodies must therefore be safe to re-run: they only touch the database. */
#ifndef HAKDB_INT_H
#define HAKDB_INT_H

#include "hakdb.h"

#include <sqlite3.h>

#define HAKDB_APP_ID        0x48414B4D   /* 'HAKM' in PRAGMA application_id */
#define HAKDB_BUSY_MS       10000        /* sqlite3_busy_timeout per statement */
#define HAKDB_RETRY_MS      120000       /* give up a write transaction after this */

struct hakdb {
    sqlite3 *db;
    char *path;
    char err[512];
};

/* The connection, for the store's own files and white-box tests only
 * (commands read through hakdb_read, hakdb.h). */
sqlite3 *hakdb_sqlite(hakdb *db);

/* Records "what: sqlite message" as the last error; returns -1. */
int hakdb_fail(hakdb *db, const char *what);
int hakdb_failf(hakdb *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs body(db, arg) in a write transaction, retrying on BUSY/LOCKED.
 * body returns an SQLite result code (SQLITE_OK on success).  Returns 0 or
 * -1 with the error recorded. */
int hakdb_tx(hakdb *db, const char *what, int (*body)(hakdb *, void *), void *arg);

/* Prepared-statement helpers; NULL-ish inputs bind SQL NULL. */
int hakdb_prepare(hakdb *db, sqlite3_stmt **st, const char *sql);
void hakdb_bind_text(sqlite3_stmt *st, int i, const char *s);
void hakdb_bind_i64(sqlite3_stmt *st, int i, int64_t v);     /* HAKDB_NULL -> NULL */
void hakdb_bind_dbl(sqlite3_stmt *st, int i, double v);      /* NaN -> NULL */

/* 32 random hex digits + NUL. */
void hakdb_uuid(char out[33]);

/* Runs one statement returning a single integer (PRAGMA user_version...). */
int hakdb_query_int(sqlite3 *s, const char *sql, int64_t *out);

#endif
