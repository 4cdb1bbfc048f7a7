/* record_cli.c - `hak record`: run a program under libhakrec.so.
 *
 * Sets the HAKREC_* variables and LD_PRELOAD (prepended), forks, and execs
 * the program in the child with HAKREC_TOP_PID set to the child's pid so
 * the library knows which process writes the top trace file.  Waits for
 * the program and exits with its status (128+signal when it was killed). */
#include "hak_cli.h"
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
"                        write FILE-without-.hkt.PID.hkt next to it\n"
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
"The same settings apply when libhakrec.so is preloaded by hand, through\n"
"HAKREC_OUTPUT, HAKREC_STACKS, HAKREC_STACKS_EXACT, HAKREC_MMAP,\n"
"HAKREC_FOLLOW, HAKREC_TS_RESOLUTION, HAKREC_ZSTD_LEVEL, HAKREC_QUIET and\n"
"HAKREC_VERBOSE; HAKREC_ENCODERS=1 keeps chunk encoding on one thread\n"
"(recorder/README.md).\n"
"\n"
"example:\n"
"  hak record -o py.hkt -- python3 -c 'x = [str(i) for i in range(100000)]'\n"
"  hak trace info py.hkt\n",
        REC_RECORD_EXIT_INCOMPLETE, REC_DEFAULT_DEPTH, REC_MAX_DEPTH);
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

/* Every trace this run wrote: OUT and the children's STEM.*.hkt modified
 * since `since`.  Returns how many had problems. */
static int check_traces(const char *out, const char *shown, const char *prog, time_t since,
                        size_t *nchildren)
{
    int bad = check_trace(out, shown, prog);
    char pat[PATH_MAX + 8];
    size_t n = strlen(out);
    if (n > 4 && !strcmp(out + n - 4, ".hkt"))
        n -= 4;
    snprintf(pat, sizeof pat, "%.*s.*.hkt", (int)n, out);
    glob_t g;
    *nchildren = 0;
    if (glob(pat, 0, NULL, &g) != 0)
        return bad;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        struct stat sb;
        if (stat(g.gl_pathv[i], &sb) != 0 || sb.st_mtime < since)
            continue;                 /* an older run's */
        (*nchildren)++;
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

int cmd_record(int argc, char **argv)
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
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *output = NULL, *stacks = NULL, *tsres = NULL, *level = NULL, *follow = NULL;
    int exact = 0, mmap_ = 0, nofollow = 0, quiet = 0, verbose = 0, pymalloc = 0, c;
    optind = 1;
    opterr = 0; /* one-line errors: hak_cmd_bad_option */
    /* '+': stop at the first non-option, the program to run. */
    while ((c = getopt_long(argc, argv, "+o:qvh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 's': stacks = optarg; break;
        case 'x': exact = 1; break;
        case 'm': mmap_ = 1; break;
        case 'n': nofollow = 1; break;
        case 'F': follow = optarg; break;
        case 'P': pymalloc = 1; break;
        case 't': tsres = optarg; break;
        case 'z': level = optarg; break;
        case 'q': quiet = 1; break;
        case 'v': verbose = 1; break;
        case 'h': usage(stdout); return 0;
        default:
            return hak_cmd_bad_option(CMD, argc, argv);
        }
    }
    if (optind >= argc) {
        hak_cmd_err(CMD, "no program given; usage: hak record [OPTIONS] -- PROGRAM [ARGS...]");
        return 2;
    }
    char **prog = argv + optind;
    if (follow && (!*follow || strstr(follow, ",,") || *follow == ',' ||
                   follow[strlen(follow) - 1] == ',' || strchr(follow, '/'))) {
        hak_cmd_err(CMD, "--follow: '%s' is not a comma-separated list of program names", follow);
        return 2;
    }
    if (follow && nofollow) {
        hak_cmd_err(CMD, "--follow and --no-follow contradict each other");
        return 2;
    }
    int depth;
    if (stacks && rec_parse_stacks(stacks, &depth) != 0) {
        hak_cmd_err(CMD, "--stacks: '%s' is not a depth 0..%d or 'off'", stacks, REC_MAX_DEPTH);
        return 2;
    }
    uint64_t unit;
    if (tsres && rec_parse_ts_resolution(tsres, &unit) != 0) {
        hak_cmd_err(CMD, "--ts-resolution: '%s' is not a duration like 1us, 100ns, 1ms", tsres);
        return 2;
    }
    int lv;
    if (level && rec_parse_level(level, &lv) != 0) {
        hak_cmd_err(CMD, "--zstd-level: '%s' is not a level 1..19 or 'auto'", level);
        return 2;
    }
    char lib[PATH_MAX];
    if (find_lib(lib, sizeof lib) != 0) {
        hak_cmd_err(CMD, "cannot find libhakrec.so (looked for %s); build it with 'make'", lib);
        return 1;
    }
    char defout[PATH_MAX], out[PATH_MAX];
    if (!output) {
        const char *base = strrchr(prog[0], '/');
        snprintf(defout, sizeof defout, "%s.hkt", base ? base + 1 : prog[0]);
        output = defout;
    }
    if (!*output) {
        hak_cmd_err(CMD, "-o: empty file name");
        return 2;
    }
    if (absolute(output, out, sizeof out) != 0) {
        hak_cmd_err(CMD, "%s: path too long", output);
        return 1;
    }
    /* Remember whether the file is ours: a program that cannot be run
     * must not leave an empty PROGRAM.hkt behind (nor delete a file that
     * was there before). */
    int created = 1;
    int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST) {
        created = 0;
        fd = open(out, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    }
    if (fd < 0) {
        hak_cmd_err(CMD, "%s: cannot create: %s", output, strerror(errno));
        return 1;
    }
    close(fd);

    /* LD_PRELOAD: ours first, then whatever was preloaded already. */
    const char *old = getenv("LD_PRELOAD");
    size_t plen = strlen(lib) + (old ? strlen(old) : 0) + 2;
    char *preload = malloc(plen);
    if (!preload) {
        hak_cmd_err(CMD, "out of memory");
        return 1;
    }
    snprintf(preload, plen, "%s%s%s", lib, old && *old ? ":" : "", old && *old ? old : "");
    setenv("LD_PRELOAD", preload, 1);
    free(preload);
    setenv("HAKREC_OUTPUT", out, 1);
    if (stacks) setenv("HAKREC_STACKS", stacks, 1); else unsetenv("HAKREC_STACKS");
    if (exact) setenv("HAKREC_STACKS_EXACT", "1", 1); else unsetenv("HAKREC_STACKS_EXACT");
    setenv("HAKREC_MMAP", mmap_ ? "1" : "0", 1);
    setenv("HAKREC_FOLLOW", nofollow ? "0" : "1", 1);
    if (follow) setenv("HAKREC_FOLLOW_NAMES", follow, 1); else unsetenv("HAKREC_FOLLOW_NAMES");
    if (pymalloc) setenv("PYTHONMALLOC", "malloc", 1);
    if (tsres) setenv("HAKREC_TS_RESOLUTION", tsres, 1); else unsetenv("HAKREC_TS_RESOLUTION");
    if (quiet) setenv("HAKREC_QUIET", "1", 1); else unsetenv("HAKREC_QUIET");
    if (verbose) setenv("HAKREC_VERBOSE", "1", 1); else unsetenv("HAKREC_VERBOSE");
    if (level) setenv("HAKREC_ZSTD_LEVEL", level, 1); else unsetenv("HAKREC_ZSTD_LEVEL");
    unsetenv("HAKREC_TOP_PID");

    /* The child reports a failed exec through a close-on-exec pipe, so the
     * parent can tell it from a program that exits 126/127 by itself. */
    time_t started = time(NULL) - 1;   /* traces modified since are this run's */
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
    int exec_failed = got == (ssize_t)sizeof exec_errno;
    if (exec_failed && created)
        unlink(out);
    /* Like time(1): the terminal's ^C and ^\ are for the program. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            hak_cmd_err(CMD, "waitpid: %s", strerror(errno));
            return 1;
        }
    }
    if (WIFSIGNALED(st)) {
        int sig = WTERMSIG(st);
        hak_cmd_err(CMD, "%s killed by signal %d (%s)%s", prog[0], sig, strsignal(sig),
                    sig == SIGKILL ? "; the trace is readable up to its last complete chunk" : "");
        size_t kids;
        check_traces(out, output, prog[0], started, &kids);
        return 128 + sig;
    }
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
    if (exec_failed)
        return rc;
    size_t kids;
    int bad = check_traces(out, output, prog[0], started, &kids);
    if (!quiet && (verbose || (kids && isatty(2))))
        print_list();
    else if (!quiet && isatty(2)) {
        struct stat sb;
        size_t n = strlen(out);
        if (n > 4 && !strcmp(out + n - 4, ".hkt"))
            n -= 4;
        if (stat(out, &sb) == 0) {
            char bytes[32];
            fprintf(stderr, "hak record: wrote %s (%s)", output,
                    hak_fmt_bytes((uint64_t)sb.st_size, bytes, sizeof bytes));
            if (kids)
                fprintf(stderr, "; %zu more for child processes (%.*s.PID.hkt)", kids,
                        (int)n, out);
            fputc('\n', stderr);
        }
    }
    return rc == 0 && bad ? REC_RECORD_EXIT_INCOMPLETE : rc;
}
