/* db_table.c - see db_table.h. */
#include "db_table.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

db_tbl *db_tbl_new(int ncols, const char *const *names)
{
    db_tbl *t = calloc(1, sizeof *t);
    t->ncols = ncols;
    t->names = calloc((size_t)ncols, sizeof *t->names);
    t->right = calloc((size_t)ncols, sizeof *t->right);
    for (int i = 0; i < ncols; i++)
        t->names[i] = strdup(names[i] ? names[i] : "");
    return t;
}

void db_tbl_free(db_tbl *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
        free(t->cells[i].s);
    for (int i = 0; i < t->ncols; i++)
        free(t->names[i]);
    free(t->names);
    free(t->right);
    free(t->cells);
    free(t);
}

size_t db_tbl_add_row(db_tbl *t)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->cells = realloc(t->cells, t->cap * (size_t)t->ncols * sizeof *t->cells);
        if (!t->cells) {
            fprintf(stderr, "hak: out of memory\n");
            exit(1);
        }
    }
    memset(&t->cells[t->nrows * (size_t)t->ncols], 0, (size_t)t->ncols * sizeof *t->cells);
    return t->nrows++;
}

void db_tbl_set(db_tbl *t, size_t row, int col, int type, const char *s)
{
    db_cell *c = &t->cells[row * (size_t)t->ncols + (size_t)col];
    free(c->s);
    c->s = s ? strdup(s) : NULL;
    c->type = s ? type : DB_NULL;
    if (type == DB_INT || type == DB_REAL)
        t->right[col] = 1;
}

void db_tbl_setf(db_tbl *t, size_t row, int col, int type, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    db_tbl_set(t, row, col, type, buf);
}

db_tbl *db_tbl_from_stmt(sqlite3_stmt *st, char *err, size_t errlen)
{
    int n = sqlite3_column_count(st);
    const char *names[n > 0 ? n : 1];
    for (int i = 0; i < n; i++)
        names[i] = sqlite3_column_name(st, i);
    db_tbl *t = db_tbl_new(n, names);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t r = db_tbl_add_row(t);
        for (int i = 0; i < n; i++) {
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_NULL:
                break;
            case SQLITE_INTEGER:
                db_tbl_setf(t, r, i, DB_INT, "%lld", (long long)sqlite3_column_int64(st, i));
                break;
            case SQLITE_FLOAT:
                db_tbl_setf(t, r, i, DB_REAL, "%.10g", sqlite3_column_double(st, i));
                break;
            default:
                db_tbl_set(t, r, i, DB_TEXT, (const char *)sqlite3_column_text(st, i));
                break;
            }
        }
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(sqlite3_db_handle(st)));
        db_tbl_free(t);
        return NULL;
    }
    return t;
}

/* Display width of UTF-8 text (code points; good enough for our data). */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void pad(FILE *out, size_t n)
{
    while (n--)
        fputc(' ', out);
}

void db_json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

void db_html_str(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*s, out);
        }
    }
}

static void csv_str(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void tbl_print_text(const db_tbl *t, FILE *out);

size_t db_escape_text(const char *s, char *out, size_t len)
{
    size_t n = 0, w = 0;   /* escaped length; bytes written to out */
    int full = !out || !len;
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        char tmp[8];
        if (c == '\n')
            snprintf(tmp, sizeof tmp, "\\n");
        else if (c == '\t')
            snprintf(tmp, sizeof tmp, "\\t");
        else if (c < 0x20 || c == 0x7f)
            snprintf(tmp, sizeof tmp, "\\x%02x", c);
        else
            tmp[0] = (char)c, tmp[1] = 0;
        size_t k = strlen(tmp);
        if (!full && w + k < len) {
            memcpy(out + w, tmp, k);
            w += k;
        } else {
            full = 1;
        }
        n += k;
    }
    if (out && len)
        out[w] = 0;
    return n;
}

/* Text cells with control characters escaped (stored strings may carry a
 * program's argv or an error message with terminal escape sequences). */
static char *escaped(const char *s)
{
    if (!s)
        return NULL;
    size_t n = db_escape_text(s, NULL, 0);
    char *e = malloc(n + 1);
    if (e)
        db_escape_text(s, e, n + 1);
    return e;
}

void db_tbl_print(const db_tbl *t, db_fmt fmt, FILE *out)
{
    size_t nc = (size_t)t->ncols;
    if (fmt == DB_FMT_TEXT) {
        db_tbl e = *t;
        e.cells = malloc((t->nrows * nc + 1) * sizeof *e.cells);
        e.names = malloc((nc + 1) * sizeof *e.names);
        if (!e.cells || !e.names) {
            free(e.cells);
            free(e.names);
            return;
        }
        for (size_t c = 0; c < nc; c++)
            e.names[c] = escaped(t->names[c]);
        for (size_t i = 0; i < t->nrows * nc; i++) {
            e.cells[i].type = t->cells[i].type;
            e.cells[i].s = escaped(t->cells[i].s);
        }
        tbl_print_text(&e, out);
        for (size_t c = 0; c < nc; c++)
            free(e.names[c]);
        for (size_t i = 0; i < t->nrows * nc; i++)
            free(e.cells[i].s);
        free(e.cells);
        free(e.names);
        return;
    }
    if (fmt == DB_FMT_CSV) {
        for (size_t c = 0; c < nc; c++) {
            if (c)
                fputc(',', out);
            csv_str(out, t->names[c]);
        }
        fputc('\n', out);
        for (size_t r = 0; r < t->nrows; r++) {
            for (size_t c = 0; c < nc; c++) {
                if (c)
                    fputc(',', out);
                const db_cell *x = &t->cells[r * nc + c];
                if (x->s)
                    csv_str(out, x->s);
            }
            fputc('\n', out);
        }
        return;
    }
    if (fmt == DB_FMT_JSON) {
        fputs("[", out);
        for (size_t r = 0; r < t->nrows; r++) {
            fputs(r ? ",\n {" : "\n {", out);
            for (size_t c = 0; c < nc; c++) {
                const db_cell *x = &t->cells[r * nc + c];
                if (c)
                    fputs(", ", out);
                db_json_str(out, t->names[c]);
                fputs(": ", out);
                if (!x->s)
                    fputs("null", out);
                else if (x->type == DB_INT || x->type == DB_REAL)
                    fputs(x->s, out);
                else
                    db_json_str(out, x->s);
            }
            fputs("}", out);
        }
        fputs(t->nrows ? "\n]\n" : "]\n", out);
        return;
    }
}

static void tbl_print_text(const db_tbl *t, FILE *out)
{
    size_t nc = (size_t)t->ncols;
    size_t w[nc ? nc : 1];
    for (size_t c = 0; c < nc; c++) {
        w[c] = width(t->names[c]);
        for (size_t r = 0; r < t->nrows; r++) {
            const db_cell *x = &t->cells[r * nc + c];
            size_t cw = x->s ? width(x->s) : 1;
            if (cw > w[c])
                w[c] = cw;
        }
    }
    for (size_t c = 0; c < nc; c++) {
        size_t cw = width(t->names[c]);
        if (t->right[c])
            pad(out, w[c] - cw);
        fputs(t->names[c], out);
        if (c + 1 < nc)
            t->right[c] ? fputs("  ", out) : (pad(out, w[c] - cw), fputs("  ", out));
    }
    fputc('\n', out);
    for (size_t c = 0; c < nc; c++) {
        for (size_t i = 0; i < w[c]; i++)
            fputc('-', out);
        if (c + 1 < nc)
            fputs("  ", out);
    }
    fputc('\n', out);
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < nc; c++) {
            const db_cell *x = &t->cells[r * nc + c];
            const char *s = x->s ? x->s : "-";
            size_t cw = width(s);
            if (t->right[c])
                pad(out, w[c] - cw);
            fputs(s, out);
            if (c + 1 < nc) {
                if (!t->right[c])
                    pad(out, w[c] - cw);
                fputs("  ", out);
            }
        }
        fputc('\n', out);
    }
    if (!t->nrows)
        fputs("(no rows)\n", out);
}
