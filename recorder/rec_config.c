/* rec_config.c - recorder settings from HAKREC_* variables: the one parser.
 *
 * Every knob is a row of one table (name, parser, what it expects), which
 * both reads the value and says what is wrong with it: an unknown HAKREC_*
 * variable or a value the parser refuses gives one warning line on stderr
 * and the default is kept.  The values come from the environment
 * (preloaded) or from the string `hak record -p` passes when it attaches
 * (rec_attach.c), through the same table.
 *
 * Runs inside the first interposed call, possibly before the program's
 * constructors: only getenv and plain string handling, no allocation. */
#include "rec_internal.h"
#include "rec_config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <unistd.h>

extern char **environ;

/* ---- value parsers (shared with hak record) -------------------------------- */

static int parse_bool(const char *v, int *out)
{
    static const char *const no[] = {"0", "no", "off", "false"};
    static const char *const yes[] = {"1", "yes", "on", "true"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(v, no[i])) {
            *out = 0;
            return 0;
        }
        if (!strcasecmp(v, yes[i])) {
            *out = 1;
            return 0;
        }
    }
    return -1;
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

static const struct { const char *name; int sig; } sig_names[] = {
    {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"TRAP", SIGTRAP},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
    {"TERM", SIGTERM}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU}, {"URG", SIGURG}, {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
    {"IO", SIGIO}, {"PWR", SIGPWR}, {"SYS", SIGSYS},
};

int rec_parse_signal(const char *s, int *out)
{
    if (!strncasecmp(s, "SIG", 3))
        s += 3;
    int sig = -1;
    char *end;
    if (!strncasecmp(s, "RTMIN", 5)) {
        long k = 0;
        if (s[5]) {
            if (s[5] != '+')
                return -1;
            k = strtol(s + 6, &end, 10);
            if (end == s + 6 || *end)
                return -1;
        }
        sig = SIGRTMIN + (int)k;
    } else if (s[0] >= '0' && s[0] <= '9') {
        long v = strtol(s, &end, 10);
        if (*end)
            return -1;
        sig = (int)v;
    } else {
        for (size_t i = 0; i < sizeof sig_names / sizeof *sig_names; i++)
            if (!strcasecmp(s, sig_names[i].name))
                sig = sig_names[i].sig;
    }
    /* SIGRTMIN is above glibc's own real-time signals */
    if (sig < 1 || sig > SIGRTMAX || (sig > SIGSYS && sig < SIGRTMIN) ||
        sig == SIGKILL || sig == SIGSTOP || sig == SIGSEGV || sig == SIGBUS ||
        sig == SIGILL || sig == SIGFPE || sig == SIGABRT)
        return -1;
    *out = sig;
    return 0;
}

void rec_signal_name(int sig, char *out, size_t len)
{
    for (size_t i = 0; i < sizeof sig_names / sizeof *sig_names; i++)
        if (sig_names[i].sig == sig) {
            snprintf(out, len, "%s", sig_names[i].name);
            return;
        }
    if (sig >= SIGRTMIN && sig <= SIGRTMAX)
        snprintf(out, len, "RTMIN+%d", sig - SIGRTMIN);
    else
        snprintf(out, len, "%d", sig);
}

int rec_parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *s == '-')
        return -1;
    unsigned shift = 0;
    if (*end) {
        const char *units = "kKmMgGtT";
        const char *u = strchr(units, *end);
        if (!u || (end[1] && strcasecmp(end + 1, "B") && strcasecmp(end + 1, "iB")))
            return -1;
        shift = 10 * (unsigned)((u - units) / 2 + 1);
    }
    if (v > (UINT64_MAX >> shift) || (v << shift) < 4096)
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

/* ---- output names ------------------------------------------------------------ */

int rec_name_has(const char *pattern, char x)
{
    for (const char *p = pattern; *p; p++)
        if (*p == '%' && p[1]) {
            if (p[1] == x)
                return 1;
            p++;
        }
    return 0;
}

int rec_check_pattern(const char *pattern, char *why, size_t len)
{
    for (const char *p = pattern; *p; p++) {
        if (*p != '%')
            continue;
        if (!p[1] || !strchr("phtn%", p[1])) {
            snprintf(why, len, "'%%%.1s' is not one of %%p (pid), %%h (host), %%t (time), "
                     "%%n (window number), %%%%", p + 1);
            return -1;
        }
        p++;
    }
    return 0;
}

int rec_expand_name(const char *pattern, int pid, const char *host, time_t t,
                    unsigned window, char *out, size_t len)
{
    size_t at = 0;
    for (const char *p = pattern; *p; p++) {
        char buf[64];
        const char *put = buf;
        if (*p != '%') {
            buf[0] = *p;
            buf[1] = 0;
        } else {
            switch (*++p) {
            case 'p': snprintf(buf, sizeof buf, "%d", pid); break;
            case 'h': put = host && *host ? host : "unknown-host"; break;
            case 'n': snprintf(buf, sizeof buf, "%u", window); break;
            case '%': snprintf(buf, sizeof buf, "%%"); break;
            case 't': {
                struct tm tm;
                if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm))
                    return -1;
                break;
            }
            default:
                return -1;
            }
        }
        size_t k = strlen(put);
        if (at + k >= len)
            return -1;
        memcpy(out + at, put, k);
        at += k;
    }
    out[at] = 0;
    return 0;
}

/* ---- the knob table ---------------------------------------------------------- */

static int k_output(const char *v, rec_config *c)
{
    char why[160];
    if (!*v || strlen(v) >= sizeof c->output || rec_check_pattern(v, why, sizeof why))
        return -1;
    snprintf(c->output, sizeof c->output, "%s", v);
    return 0;
}
static int k_stacks(const char *v, rec_config *c) { return rec_parse_stacks(v, &c->stacks); }
static int k_exact(const char *v, rec_config *c) { return parse_bool(v, &c->stacks_exact); }
static int k_verify(const char *v, rec_config *c) { return parse_bool(v, &c->stacks_verify); }
static int k_mmap(const char *v, rec_config *c) { return parse_bool(v, &c->mmap); }
static int k_follow(const char *v, rec_config *c) { return parse_bool(v, &c->follow); }
static int k_follow_names(const char *v, rec_config *c)
{
    if (strlen(v) >= sizeof c->follow_names)
        return -1;
    snprintf(c->follow_names, sizeof c->follow_names, "%s", v);
    return 0;
}
static int k_quiet(const char *v, rec_config *c) { return parse_bool(v, &c->quiet); }
static int k_verbose(const char *v, rec_config *c) { return parse_bool(v, &c->verbose); }
static int k_ts(const char *v, rec_config *c)
{
    if (rec_parse_ts_resolution(v, &c->ts_unit_ns))
        return -1;
    /* A unit below 1 ms asked for explicitly means exact per-event clock
     * readings; the default unit is finer than the 1 ms clock samples but
     * its times are interpolated between them (rec_clock.c). */
    c->ts_exact = c->ts_unit_ns < 1000000;
    return 0;
}
static int k_level(const char *v, rec_config *c) { return rec_parse_level(v, &c->level); }
static int k_discard(const char *v, rec_config *c) { return parse_bool(v, &c->discard); }
static int k_encoders(const char *v, rec_config *c)
{
    if (strcmp(v, "1") && strcmp(v, "2"))
        return -1;
    c->encoders = *v - '0';
    return 0;
}
static int k_delay(const char *v, rec_config *c)
{
    char *end;
    unsigned long d = strtoul(v, &end, 10);
    if (end == v || *end || d > 10000000)
        return -1;
    c->test_helper_delay_us = (unsigned)d;
    return 0;
}
static int k_top(const char *v, rec_config *c)
{
    char *end;
    long p = strtol(v, &end, 10);
    if (end == v || *end || p <= 0)
        return -1;
    c->top_pid = (pid_t)p;
    return 0;
}
static int k_off(const char *v, rec_config *c) { return parse_bool(v, &c->start_off); }
static int k_signal(const char *v, rec_config *c) { return rec_parse_signal(v, &c->ctl_signal); }
static int k_max_size(const char *v, rec_config *c) { return rec_parse_size(v, &c->max_size); }
static int k_rotate(const char *v, rec_config *c) { return parse_bool(v, &c->rotate); }
static int k_notify(const char *v, rec_config *c)
{
    if (!*v || strlen(v) >= sizeof c->notify)
        return -1;
    snprintf(c->notify, sizeof c->notify, "%s", v);
    return 0;
}

typedef struct knob {
    const char *name;
    int (*parse)(const char *v, rec_config *c);
    const char *expects;          /* for the warning */
} knob;

static const knob knobs[] = {
    {"HAKREC_OUTPUT", k_output, "a file name (with %p %h %t %n %%)"},
    {"HAKREC_STACKS", k_stacks, "a depth 0..64 or 'off'"},
    {"HAKREC_STACKS_EXACT", k_exact, "0 or 1"},
    {"HAKREC_STACKS_VERIFY", k_verify, "0 or 1"},
    {"HAKREC_MMAP", k_mmap, "0 or 1"},
    {"HAKREC_FOLLOW", k_follow, "0 or 1"},
    {"HAKREC_FOLLOW_NAMES", k_follow_names, "comma-separated program names"},
    {"HAKREC_TS_RESOLUTION", k_ts, "a duration like 1us, 100ns, 1ms"},
    {"HAKREC_QUIET", k_quiet, "0 or 1"},
    {"HAKREC_ZSTD_LEVEL", k_level, "a level 1..19 or 'auto'"},
    {"HAKREC_DISCARD", k_discard, "0 or 1"},
    {"HAKREC_VERBOSE", k_verbose, "0 or 1"},
    {"HAKREC_ENCODERS", k_encoders, "1 or 2"},
    {"HAKREC_TEST_HELPER_DELAY_US", k_delay, "microseconds"},
    {"HAKREC_TOP_PID", k_top, "a pid"},
    {"HAKREC_OFF", k_off, "0 or 1"},
    {"HAKREC_SIGNAL", k_signal, "a signal name like USR2 or RTMIN+4"},
    {"HAKREC_MAX_SIZE", k_max_size, "a size like 64M (at least 4k)"},
    {"HAKREC_ROTATE", k_rotate, "0 or 1"},
    {"HAKREC_NOTIFY", k_notify, "a file name"},
};
#define NKNOBS (sizeof knobs / sizeof *knobs)

static const char *warn_who;          /* NULL: hakrec[PID] */

static void warn(const char *fmt, const char *a, const char *b, const char *c)
{
    char buf[640];
    int n = warn_who ? snprintf(buf, sizeof buf, "%s: warning: ", warn_who)
                     : snprintf(buf, sizeof buf, "hakrec[%d]: warning: ", (int)getpid());
    n += snprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, a, b, c);
    if (n > (int)sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    if (write(2, buf, (size_t)n) < 0) { /* stderr is gone */ }
}

/* One NAME=VALUE entry: applied through the table, or warned about. */
static void apply(rec_config *c, const char *entry, int warn_ok)
{
    const char *eq = strchr(entry, '=');
    if (!eq)
        return;
    size_t n = (size_t)(eq - entry);
    for (size_t i = 0; i < NKNOBS; i++) {
        if (strlen(knobs[i].name) != n || strncmp(knobs[i].name, entry, n))
            continue;
        const char *v = eq + 1;
        /* an empty value means unset, as it always did */
        if (*v && knobs[i].parse(v, c) != 0 && warn_ok)
            warn("%s='%.200s' is not %s; ignored", knobs[i].name, v, knobs[i].expects);
        return;
    }
    if (warn_ok) {
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(n < 100 ? n : 100), entry);
        warn("unknown variable %s ignored (%s%s)", name, "recorder/README.md lists the ",
             "HAKREC_* variables");
    }
}

static void defaults(rec_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->output, sizeof c->output, "hakrec.hkt");
    c->stacks = REC_DEFAULT_DEPTH;
    c->follow = 1;
    c->ts_unit_ns = REC_DEFAULT_TS_UNIT;
    c->encoders = 2;
}

void rec_config_load(rec_config *c)
{
    defaults(c);
    /* Only the first recorded image warns (preloaded by hand: the one
     * without HAKREC_TOP_PID); children and exec'd images inherit the
     * environment and would repeat every line.  Under hak record, which
     * sets HAKREC_TOP_PID, hak record warns itself (rec_config_warn):
     * changing the program's environment to remember it would be seen by
     * the program (an environ it reallocs that it never saw allocated). */
    int warn_ok = !getenv("HAKREC_TOP_PID");
    for (char **e = environ; e && *e; e++)
        if (!strncmp(*e, "HAKREC_", 7))
            apply(c, *e, warn_ok);
    /* a bad default-changing value (e.g. a stacks depth) is back to default */
    if (c->stacks > REC_MAX_DEPTH)
        c->stacks = REC_DEFAULT_DEPTH;
}

int rec_config_warn(const char *who)
{
    rec_config c;
    defaults(&c);
    warn_who = who;
    int n = 0;
    for (char **e = environ; e && *e; e++)
        if (!strncmp(*e, "HAKREC_", 7))
            apply(&c, *e, 1), n++;
    warn_who = NULL;
    return n;
}

void rec_config_load_string(rec_config *c, char *s)
{
    defaults(c);
    for (char *line = s, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        if (!strncmp(line, "HAKREC_", 7))
            apply(c, line, 1);
    }
}

int rec_config_windows(const rec_config *c)
{
    return c->start_off || c->ctl_signal || c->max_size || c->attached;
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

/* STEM.PID.hkt for a child when the pattern does not name the pid;
 * with %p in it, the pattern itself. */
void rec_trace_path(const rec_config *c, pid_t pid, char *out, size_t len)
{
    if (pid == c->top_pid || rec_name_has(c->output, 'p')) {
        snprintf(out, len, "%s", c->output);
        return;
    }
    size_t n = strlen(c->output);
    if (n > 4 && !strcmp(c->output + n - 4, ".hkt"))
        n -= 4;
    snprintf(out, len, "%.*s.%d.hkt", (int)n, c->output, (int)pid);
}
