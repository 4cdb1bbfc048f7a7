/* cli_common.c - see cli_common.h. */
#include "cli_common.h"
#include "hak_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_u64(const char *cmd, const char *opt, const char *val, uint64_t *out)
{
    if (hak_parse_u64(val, out)) {
        char c[64];
        snprintf(c, sizeof c, "trace %s", cmd);
        hak_cmd_err(c, "%s: '%s' is not a non-negative integer", opt, val);
        return -1;
    }
    return 0;
}

int cli_usage_err(const char *cmd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "hak trace %s: %s; see 'hak trace %s --help'\n", cmd, msg, cmd);
    return 2;
}

hak_trace_reader *cli_open(const char *cmd, const char *path)
{
    char c[64];
    snprintf(c, sizeof c, "trace %s", cmd);
    struct stat st;
    if (stat(path, &st)) {
        hak_cmd_err(c, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        hak_cmd_err(c, "%s: is a directory, not a trace", path);
        return NULL;
    }
    char err[512] = "";
    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    if (!r)
        hak_cmd_err(c, "%s: %s", path, err[0] ? err : "cannot open trace");
    return r;
}

int cli_is_cut(const hak_tr_status *st)
{
    return st->truncated && st->cut;
}

long cli_forked_from(const hak_trace_meta *m)
{
    static const char key[] = "forked_from=";
    const char *o = m ? m->options : NULL;
    /* Options are space-separated KEY=VALUE words: match whole words only. */
    for (const char *p = o; p && (p = strstr(p, key)); p += sizeof key - 1) {
        if (p != o && p[-1] != ' ')
            continue;
        char *end;
        errno = 0;
        long pid = strtol(p + sizeof key - 1, &end, 10);
        if (!errno && pid > 0 && end != p + sizeof key - 1 && (*end == '\0' || *end == ' '))
            return pid;
    }
    return 0;
}

const char *cli_loss_text(const hak_tr_loss *l, char *buf, size_t len)
{
    char b1[32], b2[32];
    int n = snprintf(buf, len, "%s after %s events", hak_loss_reason_name((int)l->reason),
                     hak_fmt_count(l->at_events, b1, sizeof b1));
    if (l->lost && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, ", %s lost", hak_fmt_count(l->lost, b2, sizeof b2));
    if (l->detail && l->detail[0] && n >= 0 && (size_t)n + 4 < len) {
        size_t k = (size_t)n;
        buf[k++] = ' ';
        buf[k++] = '(';
        for (const char *d = l->detail; *d && k + 2 < len; d++)
            buf[k++] = (unsigned char)*d < 0x20 || *d == 0x7f ? '?' : *d;
        buf[k++] = ')';
        buf[k] = 0;
    }
    return buf;
}

int cli_warn_truncated(const char *cmd, const char *path, const hak_trace_reader *r)
{
    const hak_tr_status *st = hak_tr_status_get(r);
    if (!st || (!st->truncated && !st->incomplete))
        return 0;
    const hak_tr_loss *l;
    size_t nl = hak_tr_losses(r, &l);
    char d[200] = "";
    if (nl)
        cli_loss_text(&l[0], d, sizeof d);
    if (st->truncated)
        fprintf(stderr, "hak trace %s: %s: warning: trace is %s at offset %" PRIu64
                " of %" PRIu64 ": %s%s%s%s; using the readable prefix\n", cmd, path,
                cli_is_cut(st) ? "truncated" : "damaged", st->valid_bytes, st->file_bytes,
                st->reason[0] ? st->reason : "no end marker",
                nl ? "; and incomplete: " : "", d, nl > 1 ? " (and more)" : "");
    else
        fprintf(stderr, "hak trace %s: %s: warning: trace is incomplete: %s%s\n", cmd, path,
                d, nl > 1 ? " (and more loss records: see 'hak trace info')" : "");
    return 1;
}

/* Appending formatter: snprintf per field made dump ~3x slower. */
typedef struct fbuf { char *p, *end; } fbuf;

static void put_s(fbuf *f, const char *s)
{
    while (*s && f->p < f->end)
        *f->p++ = *s++;
}

static void put_u(fbuf *f, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n && f->p < f->end)
        *f->p++ = tmp[--n];
}

static void put_x(fbuf *f, uint64_t v)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = hex[v & 15];
        v >>= 4;
    } while (v);
    put_s(f, "0x");
    while (n && f->p < f->end)
        *f->p++ = tmp[--n];
}

static void put_kv(fbuf *f, const char *k, uint64_t v)
{
    put_s(f, k);
    put_u(f, v);
}

const char *cli_format_event(const hak_event *e, char *buf, size_t len)
{
    if (!len)
        return buf;
    fbuf f = {buf, buf + len - 1};
    put_u(&f, e->seq);
    put_s(&f, " ");
    put_u(&f, e->ts_ns);
    put_s(&f, " t");
    put_u(&f, e->tid);
    put_s(&f, " ");
    int known = e->op >= 1 && e->op < HAK_OP_COUNT_;
    if (known)
        put_s(&f, hak_op_name(e->op));
    switch (known ? e->op : 0) {
    case HAK_OP_MALLOC: case HAK_OP_VALLOC: case HAK_OP_PVALLOC:
        put_kv(&f, " size=", e->size);
        break;
    case HAK_OP_CALLOC:
        put_kv(&f, " nmemb=", e->nmemb);
        put_kv(&f, " size=", e->size);
        break;
    case HAK_OP_REALLOC:
        put_s(&f, " ");
        put_x(&f, e->in_ptr);
        put_kv(&f, " size=", e->size);
        break;
    case HAK_OP_REALLOCARRAY:
        put_s(&f, " ");
        put_x(&f, e->in_ptr);
        put_kv(&f, " nmemb=", e->nmemb);
        put_kv(&f, " size=", e->size);
        break;
    case HAK_OP_FREE:
        put_s(&f, " ");
        put_x(&f, e->in_ptr);
        break;
    case HAK_OP_MEMALIGN: case HAK_OP_POSIX_MEMALIGN: case HAK_OP_ALIGNED_ALLOC:
        put_kv(&f, " align=", e->align);
        put_kv(&f, " size=", e->size);
        break;
    case HAK_OP_THREAD_START:
        put_kv(&f, " os_tid=", e->size);
        put_kv(&f, " parent=t", e->in_ptr);
        break;
    case HAK_OP_THREAD_EXIT:
        break;
    case HAK_OP_MMAP:
        put_kv(&f, " len=", e->size);
        put_s(&f, " prot=");
        put_x(&f, e->align & 0xffffffffu);
        put_s(&f, " flags=");
        put_x(&f, e->align >> 32);
        break;
    case HAK_OP_MUNMAP:
        put_s(&f, " ");
        put_x(&f, e->in_ptr);
        put_kv(&f, " len=", e->size);
        break;
    case HAK_OP_MREMAP:
        put_s(&f, " ");
        put_x(&f, e->in_ptr);
        put_kv(&f, " old=", e->nmemb);
        put_kv(&f, " new=", e->size);
        break;
    default:                          /* not a valid operation: show every field */
        put_kv(&f, "op", e->op);
        put_kv(&f, " size=", e->size);
        put_kv(&f, " nmemb=", e->nmemb);
        put_kv(&f, " align=", e->align);
        put_s(&f, " in=");
        put_x(&f, e->in_ptr);
        put_s(&f, " out=");
        put_x(&f, e->out_ptr);
        break;
    }
    if (known && (hak_op_allocates(e->op) || e->op == HAK_OP_MMAP || e->op == HAK_OP_MREMAP)) {
        put_s(&f, " -> ");
        put_x(&f, e->out_ptr);
    }
    if (e->site)
        put_kv(&f, " site=", e->site);
    if (e->err) {
        put_s(&f, " err=");
        if (e->err < 0) {
            put_s(&f, "-");
            put_u(&f, (uint64_t)-(int64_t)e->err);
        } else {
            put_u(&f, (uint64_t)e->err);
        }
    }
    *f.p = 0;
    return buf;
}

const char *cli_bar(uint64_t n, uint64_t max, int width, char *buf, size_t len)
{
    int w = max ? (int)((double)n / (double)max * width + 0.5) : 0;
    if (n && w == 0)
        w = 1;
    if ((size_t)w >= len)
        w = (int)len - 1;
    memset(buf, '#', (size_t)w);
    buf[w] = 0;
    return buf;
}

uint64_t cli_pow2_bucket(uint64_t v)
{
    return v ? 64 - (uint64_t)__builtin_clzll(v) : 0;
}

void cli_pow2_range(unsigned b, uint64_t *lo, uint64_t *hi)
{
    if (b == 0) {
        *lo = *hi = 0;
        return;
    }
    *lo = 1ull << (b - 1);
    *hi = b >= 64 ? UINT64_MAX : (1ull << b) - 1;
}

void cli_progress_init(cli_progress *p, const char *cmd, int forced, uint64_t total)
{
    memset(p, 0, sizeof *p);
    p->cmd = cmd;
    p->enabled = forced || isatty(2);
    p->t0 = hak_mono_ns();
    p->next = 1u << 20;
    p->total = total;
}

void cli_progress_show(cli_progress *p, uint64_t done)
{
    p->next = done + (1u << 20);
    uint64_t now = hak_mono_ns();
    if (now - p->t0 < 2000000000ull || now - p->last < 500000000ull)
        return;
    p->last = now;
    char b1[32], b2[32];
    if (p->total)
        fprintf(stderr, "\rhak trace %s: %3.0f%% (%s of %s events) ", p->cmd,
                100.0 * (double)done / (double)p->total, hak_fmt_count(done, b1, sizeof b1),
                hak_fmt_count(p->total, b2, sizeof b2));
    else
        fprintf(stderr, "\rhak trace %s: %s events ", p->cmd, hak_fmt_count(done, b1, sizeof b1));
    p->shown = 1;
}

void cli_progress_done(cli_progress *p)
{
    if (p->shown)
        fprintf(stderr, "\n");
    p->shown = 0;
}
