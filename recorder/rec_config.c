/* rec_config.c - recorder settings from HAKREC_* environment variables.
 *
 * Runs inside the first interposed call, possibly before the program's
 * constructors: only getenv and plain string handling, no allocation. */
#include "rec_internal.h"
#include "rec_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

static int env_bool(const char *name, int dflt)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    if (!strcmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "off") ||
        !strcasecmp(v, "false"))
        return 0;
    return 1;
}

int rec_parse_stacks(const char *s, int *out)
{
    if (!strcmp(s, "off") || !strcmp(s, "none")) {
        *out = 0;
        return 0;
    }
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 0 || v > REC_MAX_DEPTH)
        return -1;
    *out = (int)v;
    return 0;
}

int rec_parse_ts_resolution(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || v == 0)
        return -1;
    uint64_t mult;
    if (!*end || !strcmp(end, "ns"))
        mult = 1;
    else if (!strcmp(end, "us"))
        mult = 1000;
    else if (!strcmp(end, "ms"))
        mult = 1000000;
    else if (!strcmp(end, "s"))
        mult = 1000000000;
    else
        return -1;
    if (v > UINT32_MAX / mult)      /* the format stores the unit as u32 ns */
        return -1;
    *out = v * mult;
    return 0;
}

int rec_parse_level(const char *s, int *out)
{
    if (!strcmp(s, "auto")) {
        *out = 0;
        return 0;
    }
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 1 || v > 19)
        return -1;
    *out = (int)v;
    return 0;
}

void rec_config_load(rec_config *c)
{
    memset(c, 0, sizeof *c);
    const char *o = getenv("HAKREC_OUTPUT");
    snprintf(c->output, sizeof c->output, "%s", o && *o ? o : "hakrec.hkt");
    c->stacks = REC_DEFAULT_DEPTH;
    const char *s = getenv("HAKREC_STACKS");
    if (s && *s && rec_parse_stacks(s, &c->stacks) != 0)
        c->stacks = REC_DEFAULT_DEPTH;
    c->stacks_exact = env_bool("HAKREC_STACKS_EXACT", 0);
    c->stacks_verify = env_bool("HAKREC_STACKS_VERIFY", 0);
    c->mmap = env_bool("HAKREC_MMAP", 0);
    c->follow = env_bool("HAKREC_FOLLOW", 1);
    const char *fn = getenv("HAKREC_FOLLOW_NAMES");
    snprintf(c->follow_names, sizeof c->follow_names, "%s", fn ? fn : "");
    c->quiet = env_bool("HAKREC_QUIET", 0);
    c->verbose = env_bool("HAKREC_VERBOSE", 0);
    c->ts_unit_ns = REC_DEFAULT_TS_UNIT;
    const char *t = getenv("HAKREC_TS_RESOLUTION");
    if (t && *t && rec_parse_ts_resolution(t, &c->ts_unit_ns) != 0)
        c->ts_unit_ns = REC_DEFAULT_TS_UNIT;
    /* A unit below 1 ms asked for explicitly means exact per-event clock
     * readings; the default unit is finer than the 1 ms clock samples but
     * its times are interpolated between them (rec_clock.c). */
    c->ts_exact = t && *t && c->ts_unit_ns < 1000000;
    const char *l = getenv("HAKREC_ZSTD_LEVEL");
    if (!l || !*l || rec_parse_level(l, &c->level) != 0)
        c->level = 0;
    c->discard = env_bool("HAKREC_DISCARD", 0);
    const char *e = getenv("HAKREC_ENCODERS");
    c->encoders = e && !strcmp(e, "1") ? 1 : 2;
    const char *d = getenv("HAKREC_TEST_HELPER_DELAY_US");
    c->test_helper_delay_us = d ? (unsigned)strtoul(d, NULL, 10) : 0;
    const char *p = getenv("HAKREC_TOP_PID");
    c->top_pid = p ? (pid_t)atol(p) : 0;
}

int rec_name_listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p; ) {
        const char *comma = strchr(p, ',');
        size_t k = comma ? (size_t)(comma - p) : strlen(p);
        if (k == n && !strncmp(p, name, n))
            return 1;
        p += k + (comma != NULL);
    }
    return 0;
}

int rec_follows_self(const rec_config *c)
{
    if (!c->follow_names[0])
        return 1;
    char exe[4096];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k > 0) {
        exe[k] = 0;
        const char *base = strrchr(exe, '/');
        if (rec_name_listed(c->follow_names, base ? base + 1 : exe))
            return 1;
    }
    /* comm: the name a script interpreter or prctl gave (15 chars) */
    int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char comm[64];
    ssize_t m = read(fd, comm, sizeof comm - 1);
    close(fd);
    if (m <= 0)
        return 0;
    comm[m] = 0;
    comm[strcspn(comm, "\n")] = 0;
    return rec_name_listed(c->follow_names, comm);
}

void rec_trace_path(const rec_config *c, pid_t pid, char *out, size_t len)
{
    if (pid == c->top_pid) {
        snprintf(out, len, "%s", c->output);
        return;
    }
    size_t n = strlen(c->output);
    if (n > 4 && !strcmp(c->output + n - 4, ".hkt"))
        n -= 4;
    snprintf(out, len, "%.*s.%d.hkt", (int)n, c->output, (int)pid);
}
