/* import_android.c - see import_android.h. */
#include "import_android.h"
#include "trace_fmt.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parsing ---------------------------------------------------------- */

typedef struct cursor {
    const char *s;     /* the whole line, for column numbers */
    const char *p;
} cursor;

static void skip_blank(cursor *c)
{
    while (*c->p == ' ' || *c->p == '\t')
        c->p++;
}

static int at_end(cursor *c)
{
    skip_blank(c);
    return *c->p == '\0' || *c->p == '\n' || *c->p == '\r';
}

/* Reads an unsigned number in `base` (16 accepts an optional 0x) that must
 * end at a blank, the end of the line or `stop` (when not 0); 0 or -1. */
static int read_num_to(cursor *c, int base, char stop, uint64_t *out)
{
    skip_blank(c);
    const char *q = c->p;
    if (base == 16) {
        if (!strncmp(q, "(nil)", 5)) {
            c->p = q + 5;
            *out = 0;
            return 0;
        }
        if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
            q += 2;
        if (!isxdigit((unsigned char)*q))
            return -1;
    } else if (!isdigit((unsigned char)*q)) {
        return -1;
    }
    errno = 0;
    char *end;
    unsigned long long v = strtoull(q, &end, base);
    if (errno == ERANGE)
        return -1;
    if (*end && *end != ' ' && *end != '\t' && *end != '\n' && *end != '\r' &&
        (!stop || *end != stop))
        return -1;
    c->p = end;
    *out = v;
    return 0;
}

static int read_num(cursor *c, int base, uint64_t *out)
{
    return read_num_to(c, base, 0, out);
}

static int col(const cursor *c)
{
    return (int)(c->p - c->s) + 1;
}

int hak_android_parse(const char *line, hak_android_rec *rec, char *err, size_t errlen)
{
    cursor c = {line, line};
    memset(rec, 0, sizeof *rec);
    if (at_end(&c) || *c.p == '#')
        return 0;
#define FAIL(...) do { int n_ = snprintf(err, errlen, "column %d: ", col(&c)); \
        if (n_ >= 0 && (size_t)n_ < errlen) snprintf(err + n_, errlen - n_, __VA_ARGS__); \
        return -1; } while (0)
    if (read_num_to(&c, 10, ':', &rec->os_tid))
        FAIL("expected a thread id (decimal) at the start of the line");
    if (*c.p != ':')
        FAIL("expected ':' after the thread id");
    c.p++;
    skip_blank(&c);
    const char *name = c.p;
    while (*c.p && !isspace((unsigned char)*c.p))
        c.p++;
    size_t nlen = (size_t)(c.p - name);
    static const struct { const char *name; hak_android_type type; int nargs; } ops[] = {
        {"malloc", HAK_ANDROID_MALLOC, 1},     {"calloc", HAK_ANDROID_CALLOC, 2},
        {"realloc", HAK_ANDROID_REALLOC, 2},   {"memalign", HAK_ANDROID_MEMALIGN, 2},
        {"free", HAK_ANDROID_FREE, 0},         {"thread_done", HAK_ANDROID_THREAD_DONE, 0},
    };
    int k = -1;
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (strlen(ops[i].name) == nlen && !strncmp(ops[i].name, name, nlen))
            k = (int)i;
    if (k < 0) {
        c.p = name;
        FAIL("unknown operation '%.*s' (expected malloc, calloc, realloc, memalign, "
             "free or thread_done)", (int)(nlen > 40 ? 40 : nlen), name);
    }
    rec->type = ops[k].type;
    if (read_num(&c, 16, &rec->ptr))
        FAIL("expected a pointer (hex) after '%s'", ops[k].name);
    switch (rec->type) {
    case HAK_ANDROID_MALLOC:
        if (read_num(&c, 10, &rec->size))
            FAIL("expected SIZE (decimal) after 'malloc PTR'");
        break;
    case HAK_ANDROID_CALLOC:
        if (read_num(&c, 10, &rec->nmemb))
            FAIL("expected NMEMB (decimal) after 'calloc PTR'");
        if (read_num(&c, 10, &rec->size))
            FAIL("expected SIZE (decimal) after 'calloc PTR NMEMB'");
        break;
    case HAK_ANDROID_REALLOC:
        if (read_num(&c, 16, &rec->old_ptr))
            FAIL("expected OLD_PTR (hex) after 'realloc NEW_PTR'");
        if (read_num(&c, 10, &rec->size))
            FAIL("expected SIZE (decimal) after 'realloc NEW_PTR OLD_PTR'");
        break;
    case HAK_ANDROID_MEMALIGN:
        if (read_num(&c, 10, &rec->align))
            FAIL("expected ALIGN (decimal) after 'memalign PTR'");
        if (read_num(&c, 10, &rec->size))
            FAIL("expected SIZE (decimal) after 'memalign PTR ALIGN'");
        break;
    case HAK_ANDROID_FREE:
        break;
    case HAK_ANDROID_THREAD_DONE:
        if (!at_end(&c)) {
            if (read_num(&c, 10, &rec->end_ns))
                FAIL("expected END_NS (decimal) or the end of the line after 'thread_done'");
            rec->has_time = 1;
        }
        if (!at_end(&c))
            FAIL("unexpected text after 'thread_done'");
        return 1;
    }
    if (!at_end(&c)) {
        if (read_num(&c, 10, &rec->start_ns))
            FAIL("expected START_NS (decimal) or the end of the line");
        if (read_num(&c, 10, &rec->end_ns))
            FAIL("expected END_NS (decimal) after START_NS");
        rec->has_time = 1;
        if (!at_end(&c))
            FAIL("unexpected text after END_NS");
    }
    return 1;
#undef FAIL
}

/* ---- conversion ------------------------------------------------------- */

/* OS tid -> dense index, open addressing.  Retired entries keep their slot
 * (dense = UINT32_MAX) so probing stays correct without deletion. */
typedef struct tid_ent { uint64_t os_tid; uint32_t dense; int used; } tid_ent;

struct hak_android_conv {
    tid_ent *tab;
    size_t cap, used;
    uint32_t next_dense, live;
    uint64_t seq;
    uint64_t last_ts;      /* last emitted ts_ns (non-decreasing) */
    uint64_t base_ns;      /* first timestamp in the file */
    int have_base;
};

hak_android_conv *hak_android_conv_new(void)
{
    hak_android_conv *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cap = 64;
    c->tab = calloc(c->cap, sizeof *c->tab);
    if (!c->tab) {
        free(c);
        return NULL;
    }
    return c;
}

void hak_android_conv_free(hak_android_conv *c)
{
    if (c) {
        free(c->tab);
        free(c);
    }
}

static tid_ent *tid_find(hak_android_conv *c, uint64_t os_tid)
{
    size_t mask = c->cap - 1;
    size_t i = (size_t)(os_tid * 0x9e3779b97f4a7c15ull >> 20) & mask;
    while (c->tab[i].used && c->tab[i].os_tid != os_tid)
        i = (i + 1) & mask;
    return &c->tab[i];
}

static int tid_grow(hak_android_conv *c)
{
    tid_ent *old = c->tab;
    size_t ocap = c->cap;
    c->tab = calloc(ocap * 2, sizeof *c->tab);
    if (!c->tab) {
        c->tab = old;
        return -1;
    }
    c->cap = ocap * 2;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].used)
            *tid_find(c, old[i].os_tid) = old[i];
    free(old);
    return 0;
}

static uint64_t event_ts(hak_android_conv *c, const hak_android_rec *r)
{
    uint64_t ts;
    if (r->has_time) {
        uint64_t t = r->type == HAK_ANDROID_THREAD_DONE ? r->end_ns : r->start_ns;
        if (!c->have_base) {
            c->base_ns = t;
            c->have_base = 1;
        }
        ts = t >= c->base_ns ? t - c->base_ns : 0;
    } else {
        ts = c->seq ? c->last_ts + 1 : 0;
    }
    if (ts < c->last_ts)
        ts = c->last_ts;       /* file order is the global order: never go back */
    c->last_ts = ts;
    return ts;
}

int hak_android_convert(hak_android_conv *c, const hak_android_rec *r, hak_event out[2])
{
    if ((c->used + 1) * 4 > c->cap * 3 && tid_grow(c))
        return -1;
    tid_ent *t = tid_find(c, r->os_tid);
    uint64_t ts = event_ts(c, r);
    int n = 0;
    if (!t->used || t->dense == UINT32_MAX) {
        if (!t->used)
            c->used++;
        t->used = 1;
        t->os_tid = r->os_tid;
        t->dense = c->next_dense++;
        c->live++;
        hak_event *s = &out[n++];
        memset(s, 0, sizeof *s);
        s->seq = c->seq++;
        s->ts_ns = ts;
        s->tid = t->dense;
        s->op = HAK_OP_THREAD_START;
        s->size = r->os_tid;
    }
    hak_event *e = &out[n++];
    memset(e, 0, sizeof *e);
    e->seq = c->seq++;
    e->ts_ns = ts;
    e->tid = t->dense;
    switch (r->type) {
    case HAK_ANDROID_MALLOC:
        e->op = HAK_OP_MALLOC;
        e->size = r->size;
        e->out_ptr = r->ptr;
        break;
    case HAK_ANDROID_CALLOC:
        e->op = HAK_OP_CALLOC;
        e->nmemb = r->nmemb;
        e->size = r->size;
        e->out_ptr = r->ptr;
        break;
    case HAK_ANDROID_MEMALIGN:
        e->op = HAK_OP_MEMALIGN;
        e->align = r->align;
        e->size = r->size;
        e->out_ptr = r->ptr;
        break;
    case HAK_ANDROID_REALLOC:
        e->op = HAK_OP_REALLOC;
        e->in_ptr = r->old_ptr;
        e->size = r->size;
        e->out_ptr = r->ptr;
        if (!r->ptr && r->size)
            e->err = ENOMEM;
        break;
    case HAK_ANDROID_FREE:
        e->op = HAK_OP_FREE;
        e->in_ptr = r->ptr;
        break;
    case HAK_ANDROID_THREAD_DONE:
        e->op = HAK_OP_THREAD_EXIT;
        t->dense = UINT32_MAX;      /* a reused OS tid is a new thread */
        c->live--;
        break;
    }
    if ((e->op == HAK_OP_MALLOC || e->op == HAK_OP_CALLOC || e->op == HAK_OP_MEMALIGN) &&
        !e->out_ptr)
        e->err = ENOMEM;
    return n;
}

uint32_t hak_android_nthreads(const hak_android_conv *c)
{
    return c->next_dense;
}

uint32_t hak_android_live_threads(const hak_android_conv *c)
{
    return c->live;
}

/* ---- whole files ------------------------------------------------------- */

/* Reads one line (up to and including '\n') into buf[0..cap-1), NUL-
 * terminated.  Returns its length, 0 at the end of the file or on a read
 * error (ferror tells), or cap when the line does not fit: the reading
 * stops there, so a newline-free input costs at most cap bytes.  *nul is
 * set when the line holds a NUL byte (not a text file). */
static size_t read_line(FILE *f, char *buf, size_t cap, int *nul)
{
    size_t n = 0;
    int ch;
    *nul = 0;
    while (n < cap - 1 && (ch = getc_unlocked(f)) != EOF) {
        buf[n++] = (char)ch;
        if (ch == '\0')
            *nul = 1;
        if (ch == '\n')
            break;
    }
    buf[n] = 0;
    if (n == cap - 1 && buf[n - 1] != '\n') {
        ch = getc_unlocked(f);          /* a line of exactly cap - 1 bytes at the end? */
        if (ch == EOF)
            return n;
        return cap;
    }
    return n;
}

int hak_android_import(FILE *f, hak_android_put_fn put, void *ctx,
                       hak_android_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    hak_android_conv *conv = hak_android_conv_new();
    if (!conv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char line[HAK_ANDROID_MAX_LINE + 1];
    int rc = -1, nul;
    size_t len;
    while ((len = read_line(f, line, sizeof line, &nul)) > 0) {
        res->lines++;
        res->err_line = res->lines;
        if (nul) {
            snprintf(err, errlen, "binary data (a NUL byte); not a record_allocs text file");
            goto out;
        }
        if (len == sizeof line) {
            snprintf(err, errlen, "line longer than %d bytes; not a record_allocs file?",
                     HAK_ANDROID_MAX_LINE);
            goto out;
        }
        hak_android_rec rec;
        int k = hak_android_parse(line, &rec, err, errlen);
        if (k < 0)
            goto out;
        if (k == 0)
            continue;
        /* A new thread past the format's limit would make the writer refuse
         * the chunk with a message about tids; say what is wrong instead. */
        if (hak_android_nthreads(conv) >= TF_MAX_THREADS) {
            tid_ent *t = tid_find(conv, rec.os_tid);
            if (!t->used || t->dense == UINT32_MAX) {
                snprintf(err, errlen, "more than %u threads (the trace format's limit)",
                         TF_MAX_THREADS);
                goto out;
            }
        }
        hak_event ev[2];
        int n = hak_android_convert(conv, &rec, ev);
        if (n < 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        res->records++;
        for (int i = 0; i < n; i++)
            if (put(ctx, &ev[i])) {
                res->put_failed = 1;
                goto out;
            }
    }
    res->err_line = 0;
    if (ferror(f)) {
        snprintf(err, errlen, "read error after line %llu: %s",
                 (unsigned long long)res->lines, strerror(errno));
        goto out;
    }
    if (res->records == 0) {
        snprintf(err, errlen, "no allocation records (empty file?)");
        goto out;
    }
    rc = 0;
out:
    res->nthreads = hak_android_nthreads(conv);
    hak_android_conv_free(conv);
    return rc;
}
