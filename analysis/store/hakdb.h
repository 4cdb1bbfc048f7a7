/* hakdb.h - the run-history database (SQLite).  Every component that
 * stores results (replayer, simulator, sweeps, bench) goes through this API;
 * the schema itself is analysis/store/schema.sql (documented table by table) and
 * analysis/migrations.  Readers use plain SQL.
 *
 * Invariants:
 *  - One database file (default ./hak.db, or $HAK_DB), WAL mode, busy
 *    timeout: several processes may write at once without losing rows.
 *  - A figure that could not be measured is NULL with a reason, never 0.
 *  - traces, builds and machines are deduplicated by content hash, so
 *    databases from several machines merge without duplicates.
 */
#ifndef HAKDB_H
#define HAKDB_H

#include <stddef.h>
#include <stdint.h>

typedef struct hakdb hakdb;

#define HAKDB_NULL INT64_MIN   /* "not measured" for int64 fields */

/* Opens (creating and migrating as needed) the database at path; NULL path
 * means $HAK_DB or ./hak.db.  Fails with a one-line reason when the file is
 * not SQLite, not a hakmem database, or from a newer schema. */
hakdb *hakdb_open(const char *path, char *err, size_t errlen);
void hakdb_close(hakdb *db);
/* hakdb_open with flags: HAKDB_OPEN_EXISTING fails ("no such database")
 * instead of creating the file, for commands that only read. */
#define HAKDB_OPEN_EXISTING 1
/* HAKDB_OPEN_READER (with EXISTING): a command that only reads.  A file or
 * directory it may not write (read-only mount, another user's directory)
 * is opened read-only: no WAL switch, no migration (an older schema is then
 * an error saying so).  A database failing PRAGMA quick_check is read with
 * a warning on stderr; without this flag (writers: replay, sim, merge, and
 * merge's sources) it is refused, so damage is never spread. */
#define HAKDB_OPEN_READER 2
hakdb *hakdb_open_ex(const char *path, int flags, char *err, size_t errlen);
int hakdb_schema_version(void);   /* the version this build creates */
const char *hakdb_path(hakdb *db);
const char *hakdb_error(hakdb *db);
const char *hakdb_default_path(void);

typedef struct hakdb_trace {
    const char *hash;        /* content hash (hak_hash_file), unique */
    const char *path;        /* where it was read from */
    const char *program;     /* argv[0] of the recorded program, or synth name */
    int64_t events, threads, duration_ns, file_bytes;
    const char *meta_json;   /* full metadata as JSON, may be NULL */
    /* "complete", "truncated" or "incomplete" (schema.sql, traces.completeness);
     * NULL = not known. */
    const char *completeness;
} hakdb_trace;

typedef struct hakdb_build {
    const char *name;        /* "hakmem", "glibc", "mimalloc", path basename, "hakmem@abc123" */
    const char *path;        /* .so path, or NULL for glibc */
    const char *hash;        /* content hash of the .so ("glibc-<version>" for glibc) */
    const char *version;     /* allocator's version/build-id string when it offers one */
} hakdb_build;

typedef struct hakdb_metric {   /* one extra figure of a run */
    const char *name;        /* "cycles", "dTLB-load-misses", "alloc.bytes_mapped", "sim.stlb_misses" */
    double value;
    int is_null;             /* 1: not measurable; reason says why */
    const char *unit;        /* "count", "bytes", "ns", ... */
    const char *source;      /* "hw", "sw", "alloc", "sim", "derived" */
    const char *reason;      /* why NULL, e.g. "perf_event_open: ENOENT (no PMU)" */
} hakdb_metric;

typedef struct hakdb_sample {   /* one point of a run's timeline */
    int64_t t_ns, rss_bytes, live_bytes;
} hakdb_sample;

typedef struct hakdb_run {
    int64_t trace_id, build_id, machine_id;   /* from the upsert calls */
    int64_t sweep_id;                         /* HAKDB_NULL when not in a sweep */
    const char *kind;        /* "measured" or "simulated" */
    const char *label;       /* --label, may be NULL */
    const char *env;         /* knobs set, "K=V K=V", may be "" */
    const char *config;      /* allocator's effective configuration, may be NULL */
    const char *threads_mode, *touch, *pace;  /* "serial"/"recorded", "pages", "asap" */
    int64_t repeat_idx;
    const char *status;      /* "ok", "crashed", "timeout", "load_failed", "error" */
    const char *error;       /* reason when status != ok */
    /* Figures over the measured window; HAKDB_NULL when not measured. */
    int64_t wall_ns, user_ns, sys_ns, ops;
    double  ops_per_s;       /* NAN when not measured */
    int64_t minor_faults, major_faults, vol_ctxsw, invol_ctxsw;
    int64_t peak_rss_bytes, final_rss_bytes;
    int64_t lat_p50_ns, lat_p99_ns, lat_p999_ns;
    const char *addr_digest; /* digest of returned addresses (serial mode) */
    double  fidelity;        /* RSS timeline similarity to the recording, NAN if none */
    const hakdb_metric *metrics; size_t nmetrics;
    const hakdb_sample *timeline; size_t ntimeline;
    int64_t start_wall_ns;   /* CLOCK_REALTIME ns when the run started;
                                HAKDB_NULL = use the insertion time */
    const char *alloc_spec;  /* the allocator name as the user gave it
                                ("hakmem@HEAD~50"); NULL = not recorded */
} hakdb_run;

/* Initialises r with every figure NULL/NAN and strings NULL. */
void hakdb_run_init(hakdb_run *r);

/* Return the row id (existing row when the hash matches), or -1. */
int64_t hakdb_upsert_trace(hakdb *db, const hakdb_trace *t);
int64_t hakdb_upsert_build(hakdb *db, const hakdb_build *b);
/* The identity builds.hash stores for an allocator library, the same for
 * every command that stores runs (replay, sim): its content hash; for
 * glibc (path NULL or "") "glibc-VERSION"; for a library that cannot be
 * read "missing:PATH" (a run that failed to load it still names it).
 * Returns out. */
const char *hakdb_build_hash(const char *so_path, char out[64]);
int64_t hakdb_upsert_machine(hakdb *db);  /* this machine: CPU, kernel, THP, counters */
int64_t hakdb_new_sweep(hakdb *db, const char *command, const char *grid);
/* Normalises an env string ("B=2  A=1" -> "A=1 B=2") the way runs.env
 * stores it; malloc'd, NULL on OOM. */
char *hakdb_normalize_env(const char *env);
/* Inserts a run with its metrics and timeline in one transaction; returns
 * the run id or -1. */
int64_t hakdb_insert_run(hakdb *db, const hakdb_run *r);

/* Rows another database added to this one, per table. */
typedef struct hakdb_merge_counts {
    int64_t added[5];        /* traces, builds, machines, runs, validations */
    int64_t other_runs;      /* runs the other database holds */
} hakdb_merge_counts;
/* Copies everything the database at other holds into db in one
 * transaction (hakdb_merge.c says how rows are matched): 0, or -1 with
 * hakdb_error(db).  The caller checks other first (hakdb_open_ex). */
int hakdb_merge(hakdb *db, const char *other, hakdb_merge_counts *out);

/* Reading the run history.  Commands ask their own questions in SQL (the
 * schema is documented, analysis/store/schema.sql), but the database
 * handle never leaves the store and a command cannot write: hakdb_read
 * prepares one statement and refuses one that would change anything
 * (sqlite3_stmt_readonly), so every write goes through a store function.
 * 0 with *st set, or -1 with hakdb_error(db).  The caller steps, reads and
 * finalizes *st with SQLite's own functions. */
struct sqlite3_stmt;
int hakdb_read(hakdb *db, const char *sql, struct sqlite3_stmt **st);
/* SQLite's message for the last failed step of a statement of db. */
const char *hakdb_sql_error(hakdb *db);
/* hak db query: the next statement of a user's SQL text (*tail: where the
 * one after starts; *st NULL for a comment or blank).  Without
 * allow_write the connection is query-only (PRAGMA query_only) and the
 * caller still refuses statements that are not read-only (ATTACH creates
 * files).  0, or -1 with hakdb_sql_error(db). */
int hakdb_user_statement(hakdb *db, const char *sql, const char **tail,
                         struct sqlite3_stmt **st);
int hakdb_query_only(hakdb *db);

/* Now (wall_ns HAKDB_NULL or negative) or the given CLOCK_REALTIME ns as ISO-8601 UTC with
 * ms, the form every time column holds. */
void hakdb_iso_time(int64_t wall_ns, char out[32]);

#endif /* HAKDB_H */
