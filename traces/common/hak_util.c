/* hak_util.c - see hak_util.h. */
#include "hak_util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void hak_err(const char *fmt, ...)
{
    va_list ap;
    char buf[1024];
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "hak: %s\n", buf);
}

void hak_cmd_err(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    char buf[1024];
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "hak %s: %s\n", cmd, buf);
}

int hak_cmd_bad_option(const char *cmd, int argc, char *const argv[])
{
    /* getopt has already stepped past the culprit: a long option is the
     * previous argv word; a short one (possibly inside a cluster such as
     * -qx) is optopt.  A long option's optopt is its value, so check the
     * word first. */
    const char *word = optind >= 1 && optind - 1 < argc ? argv[optind - 1] : NULL;
    if (word && strncmp(word, "--", 2) == 0) {
        size_t n = strcspn(word, "=");
        hak_cmd_err(cmd, "unknown option or missing value '%.*s'; see 'hak %s --help'",
                    (int)n, word, cmd);
    } else if (optopt > ' ' && optopt < 127) {
        hak_cmd_err(cmd, "unknown option or missing value '-%c'; see 'hak %s --help'",
                    optopt, cmd);
    } else {
        hak_cmd_err(cmd, "unknown option '%s'; see 'hak %s --help'",
                    word ? word : "?", cmd);
    }
    return 2;
}

int hak_msg_names_path(const char *msg, const char *path)
{
    size_t n = strlen(path);
    return strncmp(msg, path, n) == 0 && msg[n] == ':';
}

static int mul_overflows(uint64_t a, uint64_t b, uint64_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}

int hak_parse_u64(const char *s, uint64_t *out)
{
    /* A digit first: strtoull skips blanks and then takes a sign, so
     * " -1" was 2^64-1 (hak trace synth --iters ' -1' wrote until the
     * disk was full). */
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    uint64_t mult = 1;
    switch (*end) {
    case '\0': break;
    case 'K': mult = 1ull << 10; end++; break;
    case 'M': mult = 1ull << 20; end++; break;
    case 'G': mult = 1ull << 30; end++; break;
    case 'k': mult = 1000ull; end++; break;
    case 'm': mult = 1000000ull; end++; break;
    case 'g': mult = 1000000000ull; end++; break;
    default: return -1;
    }
    if (*end)
        return -1;
    return mul_overflows(v, mult, out) ? -1 : 0;
}

int hak_parse_duration_ns(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    double scale = 1e9;
    if (!strcmp(end, "") || !strcmp(end, "s")) scale = 1e9;
    else if (!strcmp(end, "ms")) scale = 1e6;
    else if (!strcmp(end, "us")) scale = 1e3;
    else if (!strcmp(end, "ns")) scale = 1;
    else if (!strcmp(end, "m") || !strcmp(end, "min")) scale = 60e9;
    else return -1;
    double ns = v * scale;
    if (!(ns <= 1.8e19))   /* also NaN ("nan"): converting it is undefined */
        return -1;
    *out = (uint64_t)ns;
    return 0;
}


/* A simple 64-bit multiply-xorshift hash over 8-byte words; good enough for
 * content identity and hash tables, not for adversaries. */
static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

uint64_t hak_hash64(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = mix64(seed ^ (len * 0x9e3779b97f4a7c15ull));
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = mix64(h ^ w) * 0x9e3779b97f4a7c15ull;
        p += 8; len -= 8;
    }
    uint64_t tail = 0;
    memcpy(&tail, p, len);
    return mix64(h ^ tail ^ ((uint64_t)len << 56));
}

int hak_hash_file(const char *path, char hex[17])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    static const size_t bufsz = 1 << 16;
    unsigned char *buf = malloc(bufsz);
    if (!buf) { close(fd); return -1; }
    uint64_t h = 0x243f6a8885a308d3ull;
    ssize_t n;
    while ((n = read(fd, buf, bufsz)) > 0)
        h = hak_hash64(buf, (size_t)n, h);
    free(buf);
    close(fd);
    if (n < 0)
        return -1;
    snprintf(hex, 17, "%016llx", (unsigned long long)h);
    return 0;
}

const char *hak_fmt_count(uint64_t n, char *buf, size_t len)
{
    char tmp[32];
    int d = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)n);
    size_t o = 0;
    for (int i = 0; i < d && o + 1 < len; i++) {
        if (i && (d - i) % 3 == 0 && o + 2 < len)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = 0;
    return buf;
}

const char *hak_fmt_bytes(uint64_t n, char *buf, size_t len)
{
    static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 4) { v /= 1024; u++; }
    if (u == 0) snprintf(buf, len, "%llu B", (unsigned long long)n);
    else snprintf(buf, len, "%.1f %s", v, unit[u]);
    return buf;
}
