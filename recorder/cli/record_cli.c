/* record_cli.c - `hak record`: run a program under libhakrec.so.
 *
 * Sets the HAKREC_* variables and LD_PRELOAD (prepended), forks, and execs
 * the program in the child with HAKREC_TOP_PID set to the child's pid so
 * the library knows which process writes the top trace file.  Waits for
 * the program and exits with its status (128+signal when it was killed). */
#include "record_cli.h"
#include "record_modes.h"
#include "hak_util.h"
#include "rec_config.h"
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *CMD = "record";

static void usage(FILE *out)
{
    fprintf(out,
"usage: hak record [-o FILE] [OPTIONS] -- PROGRAM [ARGS...]\n"
"       hak record -p PID [--duration D] [-o FILE] [OPTIONS]\n"
"       hak record --start PID | --stop PID [--signal SIG]\n"
"\n"
"Runs PROGRAM with the hakmem recorder (libhakrec.so) preloaded and writes\n"
"its malloc/free stream, with call sites, thread ids, timestamps and RSS\n"
"samples, to a trace file.  Program output and exit status are unchanged;\n"
"hak record exits with the program's status (128+N if it died by signal N).\n"
"\n"
"Every trace written is checked at the end: one that lost events (out of\n"
"memory, a write error such as a full disk, its descriptor taken by the\n"
"program, a child exec'd without the recorder's environment, threads\n"
"still running at exit, signal handlers interrupting the recorder) or was\n"
"cut off gets a one-line error naming the file and the reason, and when\n"
"the program itself exited 0, hak record then exits %d.\n"
"\n"
"options:\n"
"  -o, --output FILE     trace of the top process (default: PROGRAM.hkt in\n"
"                        the current directory); forked and exec'd children\n"
"                        write FILE-without-.hkt.PID.hkt next to it.  FILE\n"
"                        may hold %%p (pid), %%h (host name), %%t (UTC time\n"
"                        the window began, 20261207T083000Z), %%n (window\n"
"                        number) and %%%%; with %%p, children use FILE too\n"
"      --stacks=N|off    frames per call site (default %d, max %d); every\n"
"                        allocation's stack is walked exactly with the\n"
"                        program's unwind tables (a frame without any ends\n"
"                        its stack, shown as [cut: no unwind info])\n"
"      --stacks-exact    unwind every call with libunwind instead (slower,\n"
"                        the same stacks: a cross-check)\n"
"      --mmap            also record mmap, munmap and mremap\n"
"      --no-follow       record only the top process, not its children\n"
"      --follow=NAMES    record only the children whose program name (the\n"
"                        executable's base name, or its comm) is one of the\n"
"                        comma-separated NAMES, e.g. --follow=cc1,cc1plus\n"
"                        for the compiler proper under gcc; the top process\n"
"                        is always recorded\n"
"      --python-malloc   set PYTHONMALLOC=malloc, so python3's own small-object\n"
"                        allocator (pymalloc) does not hide most of its small\n"
"                        allocations from the recorder (and from the replay)\n"
"      --ts-resolution R timestamp unit: 1ns, 100ns, 1us, 1ms...; below 1ms\n"
"                        the clock is read on every event (exact, slower),\n"
"                        from 1ms up event times are interpolated from 1 ms\n"
"                        clock samples.  Without it: interpolated, stored in\n"
"                        1us units (recorder/README.md, Timestamps)\n"
"      --zstd-level L    compression of event chunks: 1..19, or auto\n"
"                        (default): high while the recorder keeps up easily\n"
"                        (smaller traces of slowly allocating programs),\n"
"                        down to 1 when it is busy\n"
"  -v, --verbose         the list of traces written (largest first, with each\n"
"                        process's events and command), and one line per\n"
"                        recorded process at its end: events,\n"
"                        trace bytes, call sites and unwinds, chunks encoded\n"
"                        by the helper encoder, waits of the program for a\n"
"                        free block, zstd level, CPU time of the writer and\n"
"                        helper threads (ns per event)\n"
"  -q, --quiet           no notes on stderr from hak record or the recorder\n"
"  -h, --help            this help\n"
"\n"
"Recording a running service (recorder/README.md has the details):\n"
"      --off             start with recording off; switch it on and off\n"
"                        with the control signal or hak record --start/--stop.\n"
"                        Each on-window is a file of its own: FILE for the\n"
"                        first, FILE-without-.hkt.wN.hkt after (unless FILE\n"
"                        has %%n).  Frees and reallocs of blocks allocated\n"
"                        before a window carry the block's size, so the\n"
"                        window replays (hak trace info counts them)\n"
"      --signal SIG      the control signal (USR2, RTMIN+4, ...; default\n"
"                        RTMIN+%d): kill -SIG PID toggles recording\n"
"      --max-size SIZE   stop recording when a window's file reaches SIZE\n"
"                        (64M, 1G; the file ends at the first chunk written\n"
"                        past it); recording is then paused, not ended\n"
"      --rotate          with --max-size: go on into a new window's file\n"
"  -p, --pid PID         attach to the running process PID (through gdb,\n"
"                        which injects libhakrec.so and redirects its malloc\n"
"                        family), record until --duration, Ctrl-C or\n"
"                        hak record --stop PID, then detach leaving it\n"
"                        running.  Needs gdb and permission to ptrace PID\n"
"                        (same user and /proc/sys/kernel/yama/ptrace_scope\n"
"                        0, or CAP_SYS_PTRACE).  Default FILE: PROG.PID.hkt\n"
"      --duration D      with -p: record for D (30s, 5m) and detach\n"
"      --start PID       switch recording of PID on (a new window)\n"
"      --stop PID        switch it off (closes the window's file); an\n"
"                        attached process is detached\n"
"\n"
"The same settings apply when libhakrec.so is preloaded by hand, through\n"
"HAKREC_OUTPUT, HAKREC_STACKS, HAKREC_STACKS_EXACT, HAKREC_MMAP,\n"
"HAKREC_FOLLOW, HAKREC_TS_RESOLUTION, HAKREC_ZSTD_LEVEL, HAKREC_QUIET,\n"
"HAKREC_VERBOSE, HAKREC_OFF, HAKREC_SIGNAL, HAKREC_MAX_SIZE and\n"
"HAKREC_ROTATE; HAKREC_ENCODERS=1 keeps chunk encoding on one thread\n"
"(recorder/README.md).  An unknown HAKREC_* variable or a value the\n"
"recorder cannot read gives a warning and is ignored.\n"
"\n"
"examples:\n"
"  hak record -o py.hkt -- python3 -c 'x = [str(i) for i in range(100000)]'\n"
"  hak trace info py.hkt\n"
"  hak record --off -o 'svc-%%n.hkt' -- ./server &   # later:\n"
"  hak record --start $(pidof server); sleep 10; hak record --stop $(pidof server)\n"
"  hak record -p $(pidof server) --duration 30s -o server.hkt\n",
        REC_RECORD_EXIT_INCOMPLETE, REC_DEFAULT_DEPTH, REC_MAX_DEPTH, REC_DEFAULT_SIGNAL_RT);
}

/* What the end-of-run list shows of each trace. */
typedef struct written {
    char path[PATH_MAX];
    uint64_t events;
    char command[160];
    int ok;
} written;
static written *listed;
static size_t nlisted, listed_cap;

static void list_trace(const char *path, hak_trace_reader *r, int ok)
{
    if (nlisted == listed_cap) {
        size_t cap = listed_cap ? 2 * listed_cap : 16;
        written *w = realloc(listed, cap * sizeof *w);
        if (!w)
            return;
        listed = w;
        listed_cap = cap;
    }
    written *w = &listed[nlisted++];
    snprintf(w->path, sizeof w->path, "%s", path);
    w->events = r ? hak_tr_nevents(r) : 0;
    w->ok = ok;
    w->command[0] = 0;
    const hak_trace_meta *m = r ? hak_tr_meta(r) : NULL;
    size_t at = 0;
    for (uint32_t i = 0; m && i < m->argc && at < sizeof w->command - 1; i++)
        at += (size_t)snprintf(w->command + at, sizeof w->command - at, "%s%s", i ? " " : "",
                               m->argv[i]);
}

static int by_events_desc(const void *a, const void *b)
{
    const written *x = a, *y = b;
    return x->events < y->events ? 1 : x->events > y->events ? -1 : strcmp(x->path, y->path);
}

/* The traces of the run, largest first (-v, or on a terminal when there
 * are children). */
static void print_list(void)
{
    qsort(listed, nlisted, sizeof *listed, by_events_desc);
    fprintf(stderr, "hak record: %zu trace%s written, largest first:\n", nlisted,
            nlisted == 1 ? "" : "s");
    for (size_t i = 0; i < nlisted; i++) {
        char ev[32];
        fprintf(stderr, "  %12s events  %s%s  %s\n", hak_fmt_count(listed[i].events, ev, sizeof ev),
                listed[i].path, listed[i].ok ? "" : " (incomplete)", listed[i].command);
    }
}

/* Checks one trace written by this run; 0 complete, 1 with a one-line
 * error per problem. */
static int check_trace(const char *path, const char *shown, const char *prog)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        hak_cmd_err(CMD, "%s: no trace was written: %s", shown, strerror(errno));
        return 1;
    }
    if (sb.st_size == 0) {
        hak_cmd_err(CMD, "%s: no trace was written (empty file): the recorder could not "
                    "write it (see its message above), or %s did not load it (statically "
                    "linked, set-user-ID, or LD_PRELOAD removed)", shown, prog);
        return 1;
    }
    char err[512];
    hak_trace_reader *r = hak_tr_open(path, err, sizeof err);
    if (!r) {
        hak_cmd_err(CMD, "%s: not a readable trace: %s", shown, err);
        list_trace(path, NULL, 0);
        return 1;
    }
    int bad = 0;
    const hak_tr_loss *l;
    size_t n = hak_tr_losses(r, &l);
    for (size_t i = 0; i < n; i++, bad = 1)
        hak_cmd_err(CMD, "%s: incomplete: %s after %llu events%s%s%s", shown,
                    hak_loss_reason_name((int)l[i].reason),
                    (unsigned long long)l[i].at_events, *l[i].detail ? " (" : "",
                    l[i].detail, *l[i].detail ? ")" : "");
    const hak_tr_status *st = hak_tr_status_get(r);
    if (st->truncated) {
        hak_cmd_err(CMD, "%s: cut off at byte %llu of %llu: %s (%llu events readable)", shown,
                    (unsigned long long)st->valid_bytes, (unsigned long long)st->file_bytes,
                    st->reason, (unsigned long long)hak_tr_nevents(r));
        bad = 1;
    }
    list_trace(path, r, !bad);
    hak_tr_close(r);
    return bad;
}

/* PATTERN with each %X as a glob '*' (%% as '%'). */
static void pattern_glob(const char *pat, char *out, size_t len)
{
    size_t at = 0;
    for (const char *p = pat; *p && at + 2 < len; p++) {
        if (*p == '%' && p[1]) {
            p++;
            if (*p == '%') {
                out[at++] = '%';
                continue;
            }
            if (at && out[at - 1] == '*')
                continue;
            out[at++] = '*';
            continue;
        }
        if (strchr("*?[\\", *p))
            out[at++] = '\\';
        out[at++] = *p;
    }
    out[at] = 0;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every trace this run wrote, modified since `since`: the files the output
 * pattern names (OUT itself when it has no %X) and the children's and later
 * windows' STEM.*.hkt.  Returns how many had problems; *nfiles the files
 * found (checked), *nchildren those besides OUT. */
static int check_traces(const char *out, const char *shown, const char *prog, time_t since,
                        int windows, size_t *nfiles, size_t *nchildren)
{
    int bad = 0;
    *nfiles = *nchildren = 0;
    int plain = !strchr(out, '%');
    struct stat sb;
    if (plain && (!windows || stat(out, &sb) == 0)) {
        bad += check_trace(out, shown, prog);
        (*nfiles)++;
    }
    char pats[2][PATH_MAX + 16], g1[PATH_MAX + 16];
    pattern_glob(out, g1, sizeof g1);
    size_t n = strlen(g1);
    if (n > 4 && !strcmp(g1 + n - 4, ".hkt"))
        n -= 4;
    snprintf(pats[0], sizeof pats[0], "%s", g1);
    snprintf(pats[1], sizeof pats[1], "%.*s.*.hkt", (int)n, g1);
    glob_t g;
    memset(&g, 0, sizeof g);
    if (glob(pats[1], 0, NULL, &g) == GLOB_NOSPACE ||
        (!plain && glob(pats[0], GLOB_APPEND, NULL, &g) == GLOB_NOSPACE))
        return bad + 1;
    qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, by_path);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        if ((i && !strcmp(g.gl_pathv[i], g.gl_pathv[i - 1])) || !strcmp(g.gl_pathv[i], out))
            continue;
        if (stat(g.gl_pathv[i], &sb) != 0 || sb.st_mtime < since)
            continue;                 /* an older run's */
        (*nchildren)++;
        (*nfiles)++;
        bad += check_trace(g.gl_pathv[i], g.gl_pathv[i], prog);
    }
    globfree(&g);
    return bad;
}

/* libhakrec.so next to this hak: BIN/../lib/libhakrec.so, or
 * $HAK_RECORDER_LIB. */
static int find_lib(char *out, size_t len)
{
    const char *env = getenv("HAK_RECORDER_LIB");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return access(out, R_OK);
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = 0;
    if ((size_t)snprintf(out, len, "%.*s/../lib/libhakrec.so", (int)(len - 32), exe) >= len)
        return -1;
    char real[PATH_MAX];
    if (realpath(out, real))
        snprintf(out, len, "%s", real);
    return access(out, R_OK);
}

/* Absolute path for FILE (the program may change directory). */
static int absolute(const char *file, char *out, size_t len)
{
    if (file[0] == '/') {
        snprintf(out, len, "%s", file);
        return 0;
    }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return -1;
    if ((size_t)snprintf(out, len, "%s/%s", cwd, file) >= len)
        return -1;
    return 0;
}

/* ---- parse ----------------------------------------------------------------- */

typedef enum { MODE_RUN, MODE_ATTACH, MODE_START, MODE_STOP } rec_mode;

typedef struct rec_args {
    rec_mode mode;
    pid_t pid;                        /* -p, --start, --stop */
    const char *output, *stacks, *tsres, *level, *follow, *signal, *max_size, *duration;
    int exact, mmap, nofollow, quiet, verbose, pymalloc, off, rotate;
    char **prog;                      /* MODE_RUN */
} rec_args;

static int parse_pid(const char *opt, const char *s, pid_t *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v <= 0 || v > INT_MAX) {
        hak_cmd_err(CMD, "%s: '%s' is not a process id", opt, s);
        return -1;
    }
    *out = (pid_t)v;
    return 0;
}

/* 0 parsed, 1 help printed, 2 usage error (said). */
static int parse(int argc, char **argv, rec_args *a)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},
        {"stacks", required_argument, 0, 's'},
        {"stacks-exact", no_argument, 0, 'x'},
        {"mmap", no_argument, 0, 'm'},
        {"no-follow", no_argument, 0, 'n'},
        {"follow", required_argument, 0, 'F'},
        {"python-malloc", no_argument, 0, 'P'},
        {"ts-resolution", required_argument, 0, 't'},
        {"zstd-level", required_argument, 0, 'z'},
        {"quiet", no_argument, 0, 'q'},
        {"verbose", no_argument, 0, 'v'},
        {"off", no_argument, 0, 'O'},
        {"signal", required_argument, 0, 'S'},
        {"max-size", required_argument, 0, 'M'},
        {"rotate", no_argument, 0, 'R'},
        {"pid", required_argument, 0, 'p'},
        {"duration", required_argument, 0, 'd'},
        {"start", required_argument, 0, '1'},
        {"stop", required_argument, 0, '2'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    memset(a, 0, sizeof *a);
    int c, modes = 0;
    optind = 1;
    opterr = 0; /* one-line errors: hak_cmd_bad_option */
    /* '+': stop at the first non-option, the program to run. */
    while ((c = getopt_long(argc, argv, "+o:p:qvh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': a->output = optarg; break;
        case 's': a->stacks = optarg; break;
        case 'x': a->exact = 1; break;
        case 'm': a->mmap = 1; break;
        case 'n': a->nofollow = 1; break;
        case 'F': a->follow = optarg; break;
        case 'P': a->pymalloc = 1; break;
        case 't': a->tsres = optarg; break;
        case 'z': a->level = optarg; break;
        case 'q': a->quiet = 1; break;
        case 'v': a->verbose = 1; break;
        case 'O': a->off = 1; break;
        case 'S': a->signal = optarg; break;
        case 'M': a->max_size = optarg; break;
        case 'R': a->rotate = 1; break;
        case 'd': a->duration = optarg; break;
        case 'p': case '1': case '2':
            modes++;
            a->mode = c == 'p' ? MODE_ATTACH : c == '1' ? MODE_START : MODE_STOP;
            if (parse_pid(c == 'p' ? "-p" : c == '1' ? "--start" : "--stop", optarg, &a->pid))
                return 2;
            break;
        case 'h': usage(stdout); return 1;
        default:
            return hak_cmd_bad_option(CMD, argc, argv);
        }
    }
    if (modes > 1) {
        hak_cmd_err(CMD, "-p, --start and --stop exclude each other");
        return 2;
    }
    if (a->mode == MODE_RUN) {
        if (optind >= argc) {
            hak_cmd_err(CMD, "no program given; usage: hak record [OPTIONS] -- PROGRAM "
                        "[ARGS...], or -p PID");
            return 2;
        }
        a->prog = argv + optind;
    } else if (optind < argc) {
        hak_cmd_err(CMD, "%s takes no program ('%s')", a->mode == MODE_ATTACH ? "-p" :
                    a->mode == MODE_START ? "--start" : "--stop", argv[optind]);
        return 2;
    }
    if (a->duration && a->mode != MODE_ATTACH) {
        hak_cmd_err(CMD, "--duration needs -p PID (a program started by hak record records "
                    "until it exits)");
        return 2;
    }
    return 0;
}

/* ---- plan: every value checked, the environment of the recorded program ---- */

typedef struct rec_plan {
    char lib[PATH_MAX];
    char out[PATH_MAX];               /* absolute output (pattern) */
    const char *shown;                /* as given */
    int created;                      /* hak record created `out` (unlink if not run) */
    int windows;                      /* --off, --signal, --max-size */
    uint64_t duration_ns;             /* -p --duration; 0 = until stopped */
} rec_plan;

static int check_values(const rec_args *a)
{
    const char *follow = a->follow;
    if (follow && (!*follow || strstr(follow, ",,") || *follow == ',' ||
                   follow[strlen(follow) - 1] == ',' || strchr(follow, '/'))) {
        hak_cmd_err(CMD, "--follow: '%s' is not a comma-separated list of program names", follow);
        return 2;
    }
    if (follow && a->nofollow) {
        hak_cmd_err(CMD, "--follow and --no-follow contradict each other");
        return 2;
    }
    int depth, lv, sig;
    uint64_t unit, size;
    if (a->stacks && rec_parse_stacks(a->stacks, &depth) != 0) {
        hak_cmd_err(CMD, "--stacks: '%s' is not a depth 0..%d or 'off'", a->stacks, REC_MAX_DEPTH);
        return 2;
    }
    if (a->tsres && rec_parse_ts_resolution(a->tsres, &unit) != 0) {
        hak_cmd_err(CMD, "--ts-resolution: '%s' is not a duration like 1us, 100ns, 1ms", a->tsres);
        return 2;
    }
    if (a->level && rec_parse_level(a->level, &lv) != 0) {
        hak_cmd_err(CMD, "--zstd-level: '%s' is not a level 1..19 or 'auto'", a->level);
        return 2;
    }
    if (a->signal && rec_parse_signal(a->signal, &sig) != 0) {
        hak_cmd_err(CMD, "--signal: '%s' is not a signal the recorder can take (USR1, USR2, "
                    "RTMIN+N, ...; not KILL, STOP, SEGV, BUS, ILL, FPE or ABRT)", a->signal);
        return 2;
    }
    if (a->max_size && rec_parse_size(a->max_size, &size) != 0) {
        hak_cmd_err(CMD, "--max-size: '%s' is not a size like 64M or 1G (at least 4k)",
                    a->max_size);
        return 2;
    }
    if (a->rotate && !a->max_size) {
        hak_cmd_err(CMD, "--rotate needs --max-size (it says when to start the next file)");
        return 2;
    }
    char why[200];
    if (a->output && rec_check_pattern(a->output, why, sizeof why) != 0) {
        hak_cmd_err(CMD, "-o: %s: %s", a->output, why);
        return 2;
    }
    return 0;
}

/* Can files be created in the directory of path? */
static int dir_writable(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = 0;
    return access(slash ? dir : ".", W_OK | X_OK);
}

/* 0, or the exit status (the error said). */
static int plan(const rec_args *a, const char *default_name, rec_plan *p)
{
    memset(p, 0, sizeof *p);
    int rc = check_values(a);
    if (rc)
        return rc;
    if (a->duration && hak_parse_duration_ns(a->duration, &p->duration_ns) != 0) {
        hak_cmd_err(CMD, "--duration: '%s' is not a duration like 30s, 5m, 500ms", a->duration);
        return 2;
    }
    if (find_lib(p->lib, sizeof p->lib) != 0) {
        hak_cmd_err(CMD, "cannot find libhakrec.so (looked for %s); build it with 'make'", p->lib);
        return 1;
    }
    p->shown = a->output ? a->output : default_name;
    if (!*p->shown) {
        hak_cmd_err(CMD, "-o: empty file name");
        return 2;
    }
    if (absolute(p->shown, p->out, sizeof p->out) != 0) {
        hak_cmd_err(CMD, "%s: path too long", p->shown);
        return 1;
    }
    p->windows = a->off || a->signal || a->max_size || a->mode == MODE_ATTACH;
    if (p->windows || strchr(p->out, '%')) {
        /* the names are known only when each window opens */
        if (dir_writable(p->out) != 0) {
            hak_cmd_err(CMD, "%s: cannot create files in its directory: %s", p->shown,
                        strerror(errno));
            return 1;
        }
        return 0;
    }
    /* Remember whether the file is ours: a program that cannot be run
     * must not leave an empty PROGRAM.hkt behind (nor delete a file that
     * was there before). */
    p->created = 1;
    int fd = open(p->out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST) {
        p->created = 0;
        fd = open(p->out, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    }
    if (fd < 0) {
        hak_cmd_err(CMD, "%s: cannot create: %s", p->shown, strerror(errno));
        return 1;
    }
    close(fd);
    return 0;
}

/* The HAKREC_* settings of args, as setenv would take them (also the
 * config string of an attach, rec_attach_cli.c). */
static void each_setting(const rec_args *a, const rec_plan *p,
                         void (*put)(const char *name, const char *value, void *ctx), void *ctx)
{
    put("HAKREC_OUTPUT", p->out, ctx);
    put("HAKREC_STACKS", a->stacks, ctx);
    put("HAKREC_STACKS_EXACT", a->exact ? "1" : NULL, ctx);
    put("HAKREC_MMAP", a->mmap ? "1" : "0", ctx);
    put("HAKREC_FOLLOW", a->nofollow || a->mode == MODE_ATTACH ? "0" : "1", ctx);
    put("HAKREC_FOLLOW_NAMES", a->follow, ctx);
    put("HAKREC_TS_RESOLUTION", a->tsres, ctx);
    put("HAKREC_QUIET", a->quiet ? "1" : NULL, ctx);
    put("HAKREC_VERBOSE", a->verbose ? "1" : NULL, ctx);
    put("HAKREC_ZSTD_LEVEL", a->level, ctx);
    put("HAKREC_OFF", a->off ? "1" : NULL, ctx);
    put("HAKREC_SIGNAL", a->signal, ctx);
    put("HAKREC_MAX_SIZE", a->max_size, ctx);
    put("HAKREC_ROTATE", a->rotate ? "1" : NULL, ctx);
}

static void put_line(const char *name, const char *value, void *ctx)
{
    char *cfg = ctx;
    size_t n = strlen(cfg);
    if (value)
        snprintf(cfg + n, 8192 - n, "%s=%s\n", name, value);
}

static void put_env(const char *name, const char *value, void *ctx)
{
    (void)ctx;
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
}

/* The recorded program's environment: ours first in LD_PRELOAD, then
 * whatever was preloaded already; the settings.  0 or -1. */
static int set_environment(const rec_args *a, const rec_plan *p)
{
    rec_config_warn("hak record");    /* the user's own HAKREC_* variables */
    const char *old = getenv("LD_PRELOAD");
    size_t plen = strlen(p->lib) + (old ? strlen(old) : 0) + 2;
    char *preload = malloc(plen);
    if (!preload) {
        hak_cmd_err(CMD, "out of memory");
        return -1;
    }
    snprintf(preload, plen, "%s%s%s", p->lib, old && *old ? ":" : "", old && *old ? old : "");
    setenv("LD_PRELOAD", preload, 1);
    free(preload);
    each_setting(a, p, put_env, NULL);
    if (a->pymalloc)
        setenv("PYTHONMALLOC", "malloc", 1);
    unsetenv("HAKREC_TOP_PID");
    unsetenv("HAKREC_NOTIFY");
    return 0;
}

/* ---- run --------------------------------------------------------------------- */

typedef struct rec_run {
    time_t started;                   /* traces modified since are this run's */
    int exec_failed;
    int status;                       /* waitpid status */
} rec_run;

/* Starts the program and waits for it.  0, or the exit status (said). */
static int run(char **prog, rec_run *r)
{
    /* The child reports a failed exec through a close-on-exec pipe, so the
     * parent can tell it from a program that exits 126/127 by itself. */
    r->started = time(NULL) - 1;
    int ep[2];
    if (pipe2(ep, O_CLOEXEC) != 0) {
        hak_cmd_err(CMD, "pipe: %s", strerror(errno));
        return 1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        hak_cmd_err(CMD, "fork: %s", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        char b[24];
        close(ep[0]);
        snprintf(b, sizeof b, "%d", (int)getpid());
        setenv("HAKREC_TOP_PID", b, 1);
        execvp(prog[0], prog);
        int e = errno;
        if (write(ep[1], &e, sizeof e) < 0) {
            /* nothing to do: the exit status still says it failed */
        }
        hak_cmd_err(CMD, "cannot run %s: %s", prog[0], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
    }
    close(ep[1]);
    int exec_errno;
    ssize_t got;
    while ((got = read(ep[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
    }
    close(ep[0]);
    r->exec_failed = got == (ssize_t)sizeof exec_errno;
    /* Like time(1): the terminal's ^C and ^\ are for the program. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    while (waitpid(pid, &r->status, 0) < 0) {
        if (errno != EINTR) {
            hak_cmd_err(CMD, "waitpid: %s", strerror(errno));
            return 1;
        }
    }
    return 0;
}

/* ---- print ------------------------------------------------------------------- */

/* Checks the traces, prints the list or the one-line summary; the exit
 * status of hak record. */
static int print(const rec_args *a, const rec_plan *p, const rec_run *r)
{
    const char *prog = a->prog[0];
    size_t files, kids;
    if (WIFSIGNALED(r->status)) {
        int sig = WTERMSIG(r->status);
        hak_cmd_err(CMD, "%s killed by signal %d (%s)%s", prog, sig, strsignal(sig),
                    sig == SIGKILL ? "; the trace is readable up to its last complete chunk" : "");
        check_traces(p->out, p->shown, prog, r->started, p->windows, &files, &kids);
        return 128 + sig;
    }
    int rc = WIFEXITED(r->status) ? WEXITSTATUS(r->status) : 1;
    if (r->exec_failed)
        return rc;
    int bad = check_traces(p->out, p->shown, prog, r->started, p->windows, &files, &kids);
    if (!files) {
        /* a switchable recording that was never switched on */
        if (!a->quiet)
            fprintf(stderr, "hak record: no trace written: recording was never switched on\n");
    } else if (!a->quiet && (a->verbose || (kids && isatty(2)))) {
        print_list();
    } else if (!a->quiet && isatty(2)) {
        struct stat sb;
        size_t n = strlen(p->out);
        if (n > 4 && !strcmp(p->out + n - 4, ".hkt"))
            n -= 4;
        if (stat(p->out, &sb) == 0) {
            char bytes[32];
            fprintf(stderr, "hak record: wrote %s (%s)", p->shown,
                    hak_fmt_bytes((uint64_t)sb.st_size, bytes, sizeof bytes));
            if (kids)
                fprintf(stderr, "; %zu more for child processes or windows (%.*s.*.hkt)", kids,
                        (int)n, p->out);
            fputc('\n', stderr);
        } else {
            print_list();
        }
    }
    return rc == 0 && bad ? REC_RECORD_EXIT_INCOMPLETE : rc;
}

int cmd_record(int argc, char **argv)
{
    rec_args a;
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (a.mode == MODE_START || a.mode == MODE_STOP)
        return rec_cli_control(a.pid, a.mode == MODE_START, a.signal, a.quiet);
    char defout[PATH_MAX];
    if (a.mode == MODE_ATTACH) {
        rec_attach_default_name(a.pid, defout, sizeof defout);
    } else {
        const char *base = strrchr(a.prog[0], '/');
        snprintf(defout, sizeof defout, "%s.hkt", base ? base + 1 : a.prog[0]);
    }
    rec_plan p;
    if ((rc = plan(&a, defout, &p)) != 0)
        return rc;
    if (a.mode == MODE_ATTACH) {
        /* the settings as "NAME=VALUE" lines (the library's one parser) */
        char cfg[8192] = "";
        each_setting(&a, &p, put_line, cfg);
        time_t started = time(NULL) - 1;
        rc = rec_cli_attach(a.pid, p.lib, cfg, a.signal, p.duration_ns, a.quiet);
        if (rc)
            return rc;
        size_t files, kids;
        int bad = check_traces(p.out, p.shown, "the process", started, 1, &files, &kids);
        if (!a.quiet && files)
            print_list();
        return bad ? REC_RECORD_EXIT_INCOMPLETE : 0;
    }
    if (set_environment(&a, &p) != 0)
        return 1;
    rec_run r;
    memset(&r, 0, sizeof r);
    if ((rc = run(a.prog, &r)) != 0)
        return rc;
    if (r.exec_failed && p.created)
        unlink(p.out);
    return print(&a, &p, &r);
}
