/* db_table.h - a small in-memory result table and its three renderings:
 * aligned text for the terminal, CSV (RFC 4180 quoting) and JSON (an array
 * of objects; NULL as null, numbers unquoted).  `hak db` and `hak report`
 * build every listing through it so the formats stay consistent.
 *
 * Cells keep their SQL type so JSON can tell 12 from "12"; text renderings
 * of numbers are chosen by the caller (formatted) or by db_tbl_from_stmt
 * (raw, full precision). */
#ifndef DB_TABLE_H
#define DB_TABLE_H

#include <stdio.h>
#include <sqlite3.h>

enum { DB_NULL = 0, DB_INT, DB_REAL, DB_TEXT };

typedef struct db_cell {
    char *s;        /* rendered text; NULL for SQL NULL */
    int type;       /* DB_NULL / DB_INT / DB_REAL / DB_TEXT */
} db_cell;

typedef struct db_tbl {
    int ncols;
    char **names;
    int *right;     /* 1: right-align (numbers) */
    size_t nrows, cap;
    db_cell *cells; /* nrows * ncols, row-major */
} db_tbl;

typedef enum { DB_FMT_TEXT, DB_FMT_CSV, DB_FMT_JSON } db_fmt;

db_tbl *db_tbl_new(int ncols, const char *const *names);
void db_tbl_free(db_tbl *t);
/* Appends a row of NULLs; returns its index. */
size_t db_tbl_add_row(db_tbl *t);
/* Sets a cell; s is copied (NULL = SQL NULL).  Numbers right-align. */
void db_tbl_set(db_tbl *t, size_t row, int col, int type, const char *s);
void db_tbl_setf(db_tbl *t, size_t row, int col, int type, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Runs a prepared statement to completion into a new table.  NULL and the
 * SQLite message in err on failure. */
db_tbl *db_tbl_from_stmt(sqlite3_stmt *st, char *err, size_t errlen);
/* Renders; text mode prints "(no rows)" for an empty table unless quiet. */
void db_tbl_print(const db_tbl *t, db_fmt fmt, FILE *out);
/* Writes s as a JSON string literal (with quotes). */
void db_json_str(FILE *out, const char *s);
/* Copies s into out (at most len bytes with the NUL) with control
 * characters escaped (\n, \t, \xNN) for terminal output; returns the
 * escaped length (out may be NULL to measure). */
size_t db_escape_text(const char *s, char *out, size_t len);
/* db_escape_text into buf, returning buf (for printf arguments). */
static inline const char *db_esc(const char *s, char *buf, size_t len)
{
    db_escape_text(s ? s : "", buf, len);
    return buf;
}
/* Writes s HTML-escaped. */
void db_html_str(FILE *out, const char *s);

#endif
