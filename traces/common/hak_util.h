/* hak_util.h - small helpers shared by every hakmem component and the CLI:
 * error messages, number parsing, clocks and hashing.  No allocation-heavy
 * code here: the recorder links it into the interposed process. */
#ifndef HAK_UTIL_H
#define HAK_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define HAK_VERSION "0.1.0"

/* Prints "hak: <message>" on stderr (one line). */
void hak_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, with a command prefix: "hak trace info: <message>". */
void hak_cmd_err(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* For a getopt_long() loop run with opterr = 0: after it returned '?',
 * prints "hak CMD: unknown option or missing value '--x'; see 'hak CMD
 * --help'" (one line, naming the offending argument) and returns 2, the
 * usage-error exit status.  Replaces glibc's own two-part message. */
int hak_cmd_bad_option(const char *cmd, int argc, char *const argv[]);

/* 1 when msg already begins with "path:" (an error from an API that names
 * the file itself), so the caller should not prefix the path again.  Not a
 * substring test: a file called "trace" or "empty" would match any
 * "not a hakmem trace" message. */
int hak_msg_names_path(const char *msg, const char *path);

/* Parses a non-negative integer with an optional K/M/G (x1024) or k/m/g
 * (x1000) suffix; "1M" = 1048576, "20m" = 20000000.  0 on success, -1 on
 * junk, overflow or an empty string. */
int hak_parse_u64(const char *s, uint64_t *out);
/* Parses a duration: "100ms", "2s", "1.5s", "500us"; plain numbers are
 * seconds.  Returns nanoseconds in *out. */
int hak_parse_duration_ns(const char *s, uint64_t *out);

/* CLOCK_MONOTONIC and CLOCK_REALTIME in ns.  Inline: the replay worker
 * reads the clock around measured operations and must not pay a call. */
static inline uint64_t hak_clock_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
static inline uint64_t hak_mono_ns(void) { return hak_clock_ns(CLOCK_MONOTONIC); }
static inline uint64_t hak_wall_ns(void) { return hak_clock_ns(CLOCK_REALTIME); }

/* 64-bit non-cryptographic hash (for content hashes and dedup tables). */
uint64_t hak_hash64(const void *data, size_t len, uint64_t seed);
/* Hashes a whole file; writes 16 hex digits + NUL into hex.  0 or -1. */
int hak_hash_file(const char *path, char hex[17]);
/* The last component of a path ("a/b/c" -> "c"); p itself when it has
 * no '/', NULL for NULL.  Inline: the symboliser's fuzz build links no
 * utilities. */
static inline const char *hak_base_name(const char *p)
{
    const char *s = p ? strrchr(p, '/') : NULL;
    return s ? s + 1 : p;
}

/* Formats n with thousands separators ("1,234,567") into buf. */
const char *hak_fmt_count(uint64_t n, char *buf, size_t len);
/* Formats bytes as "1.5 MiB" into buf. */
const char *hak_fmt_bytes(uint64_t n, char *buf, size_t len);

#endif /* HAK_UTIL_H */
