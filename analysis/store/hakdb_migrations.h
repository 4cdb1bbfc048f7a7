/* hakdb_migrations.h - the schema migrations embedded into the binary
 * (generated from analysis/store/migrations/NNN_*.sql by gen_migrations.sh).
 * Migration i (1-based) takes a database from user_version i-1 to i; the
 * current schema version is hakdb_nmigrations. */
#ifndef HAKDB_MIGRATIONS_H
#define HAKDB_MIGRATIONS_H

typedef struct hakdb_migration {
    int version;          /* user_version after applying it */
    const char *name;     /* file name, for error messages */
    const char *sql;      /* NUL-terminated SQL text */
} hakdb_migration;

extern const hakdb_migration hakdb_migrations[];
extern const int hakdb_nmigrations;

#endif
