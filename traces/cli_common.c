/* cli_common.c - see cli_common.h. */
#include "cli_common.h"
#include "hak_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

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

int cli_warn_truncated(const char *cmd, const char *path, const hak_trace_reader *r)
{
    const hak_tr_status *st = hak_tr_status_get(r);
    if (!st || !st->truncated)
        return 0;
    fprintf(stderr, "hak trace %s: %s: warning: trace is truncated at offset %" PRIu64
            " of %" PRIu64 ": %s; using the readable prefix\n", cmd, path,
            st->valid_bytes, st->file_bytes, st->reason[0] ? st->reason : "no end marker");
    return 1;
}

const char *cli_format_event(const hak_event *e, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%" PRIu64 " %" PRIu64 " t%" PRIu32 " ", e->seq, e->ts_ns, e->tid);
    if (n < 0 || (size_t)n >= len)
        return buf;
    char *p = buf + n;
    size_t left = len - (size_t)n;
    const char *name = hak_op_name(e->op);
    switch (e->op) {
    case HAK_OP_MALLOC: case HAK_OP_VALLOC: case HAK_OP_PVALLOC:
        n = snprintf(p, left, "%s size=%" PRIu64 " -> 0x%" PRIx64, name, e->size, e->out_ptr);
        break;
    case HAK_OP_CALLOC:
        n = snprintf(p, left, "%s nmemb=%" PRIu64 " size=%" PRIu64 " -> 0x%" PRIx64,
                     name, e->nmemb, e->size, e->out_ptr);
        break;
    case HAK_OP_REALLOC:
        n = snprintf(p, left, "%s 0x%" PRIx64 " size=%" PRIu64 " -> 0x%" PRIx64,
                     name, e->in_ptr, e->size, e->out_ptr);
        break;
    case HAK_OP_REALLOCARRAY:
        n = snprintf(p, left, "%s 0x%" PRIx64 " nmemb=%" PRIu64 " size=%" PRIu64 " -> 0x%" PRIx64,
                     name, e->in_ptr, e->nmemb, e->size, e->out_ptr);
        break;
    case HAK_OP_FREE:
        n = snprintf(p, left, "%s 0x%" PRIx64, name, e->in_ptr);
        break;
    case HAK_OP_MEMALIGN: case HAK_OP_POSIX_MEMALIGN: case HAK_OP_ALIGNED_ALLOC:
        n = snprintf(p, left, "%s align=%" PRIu64 " size=%" PRIu64 " -> 0x%" PRIx64,
                     name, e->align, e->size, e->out_ptr);
        break;
    case HAK_OP_THREAD_START:
        n = snprintf(p, left, "%s os_tid=%" PRIu64 " parent=t%" PRIu64, name, e->size, e->in_ptr);
        break;
    case HAK_OP_THREAD_EXIT:
        n = snprintf(p, left, "%s", name);
        break;
    case HAK_OP_MMAP:
        n = snprintf(p, left, "%s len=%" PRIu64 " prot=0x%" PRIx64 " flags=0x%" PRIx64
                     " -> 0x%" PRIx64, name, e->size, e->align & 0xffffffffu, e->align >> 32,
                     e->out_ptr);
        break;
    case HAK_OP_MUNMAP:
        n = snprintf(p, left, "%s 0x%" PRIx64 " len=%" PRIu64, name, e->in_ptr, e->size);
        break;
    case HAK_OP_MREMAP:
        n = snprintf(p, left, "%s 0x%" PRIx64 " old=%" PRIu64 " new=%" PRIu64 " -> 0x%" PRIx64,
                     name, e->in_ptr, e->nmemb, e->size, e->out_ptr);
        break;
    default:
        n = snprintf(p, left, "op%u size=%" PRIu64 " nmemb=%" PRIu64 " align=%" PRIu64
                     " in=0x%" PRIx64 " out=0x%" PRIx64, e->op, e->size, e->nmemb, e->align,
                     e->in_ptr, e->out_ptr);
        break;
    }
    if (n < 0 || (size_t)n >= left)
        return buf;
    p += n;
    left -= (size_t)n;
    if (e->site) {
        n = snprintf(p, left, " site=%" PRIu32, e->site);
        if (n < 0 || (size_t)n >= left)
            return buf;
        p += n;
        left -= (size_t)n;
    }
    if (e->err)
        snprintf(p, left, " err=%" PRId32, e->err);
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
