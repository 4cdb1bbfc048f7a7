/* sweep_cli.c - `hak sweep`: run a grid of allocator knobs over traces, as
 * measured replays (`hak replay`) and/or simulations (`hak sim`), all under
 * one sweep of the database, then rank the settings.
 *
 * Every job is a separate `hak` process (the same binary), so a crashing
 * allocator loses one job, -j N runs N at a time (SQLite WAL takes the
 * concurrent writers), and --emit-jobs can hand the very same command lines
 * to GNU parallel or a Slurm array instead.  Jobs of a local sweep attach
 * to it with --sweep-id (hak sim and hak replay alike); emitted jobs carry
 * the sweep's uuid (hak sim --sweep-uuid, or `hak sweep --adopt` after a
 * replay job) so `hak db merge` regroups them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "replayer_cli.h"
#include "hak_util.h"
#include "db_best.h"
#include "db_metric.h"
#include "hakdb.h"
#include "hakdb_sweep.h"
#include "replay.h"
#include "sim_db.h"
#include "sim_model.h"
#include "sim_run.h"
#include "sweep_grid.h"
#include "trace.h"

#define CMD "sweep"
#define MAX_TRACES 64
#define MAX_ALLOCS 16
#define MAX_ARGS   64

static void usage(FILE *out)
{
    fprintf(out,
"usage: hak sweep TRACE... [--alloc A ...] --grid 'KEY=V1,V2' ... [--sim]\n"
"                 [--sim-only] [--repeat N] [-j N] [--db FILE] [--label L]\n"
"                 [--metric M] [--emit-jobs FILE [--jobs-dir DIR]]\n"
"                 [--tlb SPEC] [--pages 4k|2m|thp] [--access touch|full]\n"
"                 [--touch POLICY] [--timeout S] [-q]\n"
"\n"
"Runs the full cross product TRACE x --alloc x grid: for every combination a\n"
"measured replay ('hak replay --repeat N') and, with --sim, a simulation\n"
"('hak sim'), all stored under one sweep id, then prints the settings ranked\n"
"by --metric (default sim.page_walks with --sim, else minor_faults).\n"
"\n"
"options:\n"
"  --alloc A        allocator (hakmem, glibc, PATH.so); repeatable; default hakmem\n"
"  --grid K=V1,V2   one knob axis; repeatable; knobs are passed as --env K=V\n"
"  --sim            also simulate every combination (hak sim)\n"
"  --sim-only       only simulate (no measured replays)\n"
"  --repeat N       measured repeats per combination (default 1)\n"
"  -j N             run N jobs at a time (default 1; >1 disturbs measurements)\n"
"  --db FILE        database (default $HAK_DB or ./hak.db)\n"
"  --label L        label stored with every run\n"
"  --metric M       rank by this figure (any name in run_metric_values)\n"
"  --emit-jobs FILE write the jobs as shell commands, one per line, instead of\n"
"                   running them; each writes its own database in --jobs-dir\n"
"                   (default: FILE's directory), e.g.\n"
"                     parallel < FILE    or    sed -n \"${SLURM_ARRAY_TASK_ID}p\" FILE | sh\n"
"                   then: hak db merge --db OUT.db DIR/sweep-*.db\n"
"  --tlb, --pages, --access, --touch, --timeout   passed to hak sim (and\n"
"                   --touch, --timeout to hak replay); see 'hak sim --help'\n"
"  -q               no progress, ranking only\n"
"  --adopt UUID     (for emitted replay jobs) attach every run of --db that\n"
"                   belongs to no sweep to the sweep with this uuid, and exit\n"
"Exit status: 0 all jobs ok, 1 some job failed, 2 usage error.\n"
"SQL for the runs of a sweep: see docs/SIMULATOR.md.\n");
    fputs("\nexamples:\n"
          "  hak sweep app.hkt --grid HAKMEM_HUGEPAGE=off,madvise --grid HAKMEM_TCACHE=64,256 --sim\n"
          "  hak sweep a.hkt b.hkt --alloc hakmem --alloc glibc --grid HAKMEM_TCACHE=64,256 --repeat 3\n", out);
}

typedef struct sweep_args {
    const char *traces[MAX_TRACES];
    int ntraces;
    const char *allocs[MAX_ALLOCS];
    int nallocs;
    sweep_grid grid;
    int sim, sim_only, repeat, jobs, quiet;
    const char *db, *label, *metric, *emit, *jobs_dir;
    const char *tlb, *pages, *access, *touch, *timeout;
    const char *adopt;
} sweep_args;

typedef struct job {
    char *argv[MAX_ARGS];
    int argc;
    int is_sim;
} job;

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) {
        hak_cmd_err(CMD, "out of memory");
        exit(1);
    }
    return d;
}

static void job_add(job *j, const char *arg)
{
    if (j->argc < MAX_ARGS - 1)
        j->argv[j->argc++] = xstrdup(arg);
    j->argv[j->argc] = NULL;
}

static int parse_args(int argc, char **argv, sweep_args *a)
{
    static const struct option lo[] = {
        {"alloc", required_argument, 0, 'a'}, {"grid", required_argument, 0, 'g'},
        {"sim", no_argument, 0, 'S'},         {"sim-only", no_argument, 0, 'O'},
        {"repeat", required_argument, 0, 'r'}, {"jobs", required_argument, 0, 'j'},
        {"db", required_argument, 0, 'd'},    {"label", required_argument, 0, 'l'},
        {"metric", required_argument, 0, 'm'}, {"emit-jobs", required_argument, 0, 'E'},
        {"jobs-dir", required_argument, 0, 'D'}, {"tlb", required_argument, 0, 't'},
        {"pages", required_argument, 0, 'p'}, {"access", required_argument, 0, 'A'},
        {"touch", required_argument, 0, 'T'}, {"timeout", required_argument, 0, 'w'},
        {"quiet", no_argument, 0, 'q'},       {"help", no_argument, 0, 'h'},
        {"adopt", required_argument, 0, 'U'},
        {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    a->repeat = 1;
    a->jobs = 1;
    char err[256];
    int c;
    uint64_t v;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "j:qh", lo, NULL)) != -1) {
        switch (c) {
        case 'a':
            if (a->nallocs == MAX_ALLOCS) {
                hak_cmd_err(CMD, "--alloc: at most %d allocators", MAX_ALLOCS);
                return 2;
            }
            /* Reject a name that is no allocator at all now, before a sweep
             * is created and every job fails the same way.  hakmem@REV is
             * not resolved here: that would build the revision. */
            if (!strchr(optarg, '@')) {
                rp_alloc probe;
                if (rp_alloc_resolve(optarg, &probe, 0) != 0) {
                    hak_cmd_err(CMD, "--alloc '%s': not an allocator name or a .so path "
                                "(hakmem, glibc, bump, mimalloc, jemalloc, tcmalloc, "
                                "PATH.so, hakmem@REV)", optarg);
                    return 2;
                }
            }
            a->allocs[a->nallocs++] = optarg;
            break;
        case 'g':
            if (sweep_grid_add(&a->grid, optarg, err, sizeof err)) {
                hak_cmd_err(CMD, "%s", err);
                return 2;
            }
            break;
        case 'S': a->sim = 1; break;
        case 'O': a->sim = a->sim_only = 1; break;
        case 'r':
            if (hak_parse_u64(optarg, &v) || v == 0 || v > 1000) {
                hak_cmd_err(CMD, "--repeat %s: expected 1..1000", optarg);
                return 2;
            }
            a->repeat = (int)v;
            break;
        case 'j':
            if (hak_parse_u64(optarg, &v) || v == 0 || v > 256) {
                hak_cmd_err(CMD, "-j %s: expected 1..256", optarg);
                return 2;
            }
            a->jobs = (int)v;
            break;
        case 'd': a->db = optarg; break;
        case 'l': a->label = optarg; break;
        case 'm': a->metric = optarg; break;
        case 'E': a->emit = optarg; break;
        case 'D': a->jobs_dir = optarg; break;
        case 't': case 'p': case 'A': case 'T': case 'w': {
            /* Checked here with hak sim's own parser, passed on as given. */
            static const char *const names[] = {"tlb", "pages", "access", "touch", "timeout"};
            const char *name = names[strchr("tpATw", c) - "tpATw"];
            sim_run_opts scratch = {0};
            sim_tlb_default(&scratch.geom);
            uint64_t ns;
            if (sim_opt_parse(name, optarg, &scratch, &ns, err, sizeof err)) {
                hak_cmd_err(CMD, "%s", err);
                return 2;
            }
            *(c == 't' ? &a->tlb : c == 'p' ? &a->pages : c == 'A' ? &a->access
              : c == 'T' ? &a->touch : &a->timeout) = optarg;
            break;
        }
        case 'q': a->quiet = 1; break;
        case 'U':
            if (strlen(optarg) != 32 || strspn(optarg, "0123456789abcdef") != 32) {
                hak_cmd_err(CMD, "--adopt %s: expected a 32-hex-digit sweep uuid", optarg);
                return 2;
            }
            a->adopt = optarg;
            break;
        case 'h': usage(stdout); return 0;
        default:
            hak_cmd_err(CMD, "%s: unknown option or missing argument; see 'hak sweep --help'",
                        argv[optind - 1]);
            return 2;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (a->ntraces == MAX_TRACES) {
            hak_cmd_err(CMD, "at most %d traces", MAX_TRACES);
            return 2;
        }
        if (access(argv[i], R_OK) != 0) {
            hak_cmd_err(CMD, "%s: %s", argv[i], strerror(errno));
            return 2;
        }
        /* Not a trace at all: say so once, before a sweep is created and
         * every job fails on it. */
        char err[512];
        hak_trace_reader *r = hak_tr_open(argv[i], err, sizeof err);
        if (!r) {
            if (hak_msg_names_path(err, argv[i]))
                hak_cmd_err(CMD, "%s", err);
            else
                hak_cmd_err(CMD, "%s: %s", argv[i], err);
            return 1;
        }
        hak_tr_close(r);
        a->traces[a->ntraces++] = argv[i];
    }
    if (a->adopt) {
        if (a->ntraces) {
            hak_cmd_err(CMD, "--adopt takes no TRACE");
            return 2;
        }
        return -1;
    }
    if (!a->ntraces) {
        hak_cmd_err(CMD, "no TRACE given; see 'hak sweep --help'");
        return 2;
    }
    if (!a->nallocs)
        a->allocs[a->nallocs++] = "hakmem";
    /* Every grid value of a hakmem knob must be one hakmem understands:
     * checked now, not after a sweep of runs with the defaults. */
    int hakmem = 0;
    for (int i = 0; i < a->nallocs; i++)
        hakmem |= !strcmp(a->allocs[i], "hakmem") || !strncmp(a->allocs[i], "hakmem@", 7);
    for (int x = 0; hakmem && x < a->grid.naxes; x++)
        for (int v = 0; v < a->grid.axes[x].nvalues; v++) {
            char kv[260], err[1024];
            const char *one[1] = {kv};
            snprintf(kv, sizeof kv, "%s=%s", a->grid.axes[x].key, a->grid.axes[x].values[v]);
            if (rp_check_knobs(one, 1, err, sizeof err)) {
                hak_cmd_err(CMD, "--grid %s", err + strlen("--env "));
                return 2;
            }
        }
    if (a->jobs_dir && !a->emit) {
        hak_cmd_err(CMD, "--jobs-dir only goes with --emit-jobs");
        return 2;
    }
    if (!a->metric)
        a->metric = a->sim ? "sim.page_walks" : "minor_faults";
    return -1;
}

/* Runs `hak replay --help` to see whether the replayer is built in:
 * 1 present, 0 absent. */
static int replay_support(void)
{
    int fds[2];
    if (pipe(fds))
        return 0;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        int dn = open("/dev/null", O_WRONLY);
        if (dn >= 0)
            dup2(dn, 2);
        close(fds[0]);
        execl("/proc/self/exe", "hak", "replay", "--help", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    static char buf[1 << 16];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    close(fds[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return 0;
    return 1;
}

static size_t build_jobs(const sweep_args *a, job **out, const char *hak,
                         const char *sweep_id, const char *sweep_uuid,
                         const char *jobs_dir)
{
    size_t combos = sweep_grid_count(&a->grid);
    size_t cap = (size_t)a->ntraces * (size_t)a->nallocs * combos * 2;
    job *jobs = calloc(cap, sizeof *jobs);
    if (!jobs) {
        hak_cmd_err(CMD, "out of memory");
        exit(1);
    }
    size_t n = 0;
    char env[4096], num[32];
    for (int t = 0; t < a->ntraces; t++)
        for (int al = 0; al < a->nallocs; al++)
            for (size_t c = 0; c < combos; c++) {
                sweep_grid_env(&a->grid, c, env, sizeof env);
                for (int kind = 0; kind < 2; kind++) {
                    int is_sim = kind == 1;
                    if ((is_sim && !a->sim) || (!is_sim && a->sim_only))
                        continue;
                    job *j = &jobs[n++];
                    j->is_sim = is_sim;
                    job_add(j, hak);
                    job_add(j, is_sim ? "sim" : "replay");
                    job_add(j, a->traces[t]);
                    job_add(j, "--alloc");
                    job_add(j, a->allocs[al]);
                    char *save = NULL, envcopy[4096];
                    snprintf(envcopy, sizeof envcopy, "%s", env);
                    for (char *kv = strtok_r(envcopy, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) {
                        job_add(j, "--env");
                        job_add(j, kv);
                    }
                    if (a->label) {
                        job_add(j, "--label");
                        job_add(j, a->label);
                    }
                    if (a->touch) {
                        job_add(j, "--touch");
                        job_add(j, a->touch);
                    }
                    if (a->timeout) {
                        job_add(j, "--timeout");
                        job_add(j, a->timeout);
                    }
                    if (is_sim) {
                        if (a->tlb) { job_add(j, "--tlb"); job_add(j, a->tlb); }
                        if (a->pages) { job_add(j, "--pages"); job_add(j, a->pages); }
                        if (a->access) { job_add(j, "--access"); job_add(j, a->access); }
                        job_add(j, "-q");
                    } else {
                        job_add(j, "-q");
                    }
                    if (!is_sim && a->repeat > 1) {
                        snprintf(num, sizeof num, "%d", a->repeat);
                        job_add(j, "--repeat");
                        job_add(j, num);
                    }
                    if (jobs_dir) {             /* emitted: own database, sweep by uuid */
                        char db[PATH_MAX];
                        snprintf(db, sizeof db, "%s/sweep-%.8s-%04zu.db", jobs_dir, sweep_uuid, n);
                        job_add(j, "--db");
                        job_add(j, db);
                        if (is_sim) {
                            job_add(j, "--sweep-uuid");
                            job_add(j, sweep_uuid);
                        }
                    } else {
                        if (a->db) {
                            job_add(j, "--db");
                            job_add(j, a->db);
                        }
                        job_add(j, "--sweep-id");
                        job_add(j, sweep_id);
                    }
                }
            }
    *out = jobs;
    return n;
}

/* Single-quotes a shell word when it needs it. */
static void shell_word(FILE *f, const char *s)
{
    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=/.,:@%") == strlen(s)) {
        fputs(s, f);
        return;
    }
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

static int random_uuid(char out[33])
{
    unsigned char b[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, b, sizeof b) != (ssize_t)sizeof b) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    return 0;
}

/* Runs the jobs, at most `par` at a time.  Returns the number that failed. */
static int run_jobs(job *jobs, size_t n, int par, int quiet)
{
    pid_t *pids = calloc((size_t)par, sizeof *pids);
    size_t *which = calloc((size_t)par, sizeof *which);
    if (!pids || !which) {
        hak_cmd_err(CMD, "out of memory");
        exit(1);
    }
    size_t next = 0, done = 0;
    int running = 0, failed = 0;
    int progress = !quiet && isatty(2);
    uint64_t t0 = hak_mono_ns();
    while (done < n) {
        while (running < par && next < n) {
            int slot = 0;
            while (pids[slot])
                slot++;
            fflush(NULL);
            pid_t pid = fork();
            if (pid == 0) {
                /* The job's argv names the sweep (--sweep-id); an inherited
                 * $HAK_SWEEP_UUID would contradict it in hak sim. */
                unsetenv("HAK_SWEEP_UUID");
                execv("/proc/self/exe", jobs[next].argv);
                fprintf(stderr, "hak sweep: exec: %s\n", strerror(errno));
                _exit(127);
            }
            if (pid < 0) {
                hak_cmd_err(CMD, "fork: %s", strerror(errno));
                failed++;
                done++;
                next++;
                continue;
            }
            pids[slot] = pid;
            which[slot] = next++;
            running++;
        }
        int st;
        pid_t pid = wait(&st);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int s = 0; s < par; s++) {
            if (pids[s] != pid)
                continue;
            pids[s] = 0;
            running--;
            done++;
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                failed++;
                job *j = &jobs[which[s]];
                fprintf(stderr, "hak sweep: job failed (%s %d):", WIFEXITED(st) ? "exit" : "signal",
                        WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
                for (int i = 1; i < j->argc; i++)
                    fprintf(stderr, " %s", j->argv[i]);
                fputc('\n', stderr);
            }
        }
        if (progress)
            fprintf(stderr, "\rhak sweep: %zu/%zu jobs done, %d failed, %.0f s", done, n, failed,
                    (double)(hak_mono_ns() - t0) / 1e9);
    }
    if (progress)
        fputc('\n', stderr);
    free(pids);
    free(which);
    return failed;
}

/* The best setting per trace for one metric of the sweep's runs of one
 * kind, with the runner-up and the noise-aware verdict: what `hak db best
 * --sweep N --metric M --kind K` answers, from the same library call
 * (analysis/query/db_best.h). */
typedef struct best_print {
    const char *metric;
    char unit[32];
} best_print;

static void print_best_row(const db_best_row *r, void *ctx)
{
    const best_print *p = ctx;
    char v[64], w[64];
    const db_group *b = r->best, *u = r->runner_up;
    printf("  %-24s %-14s %-30s %12s", b->trace, b->alloc, *b->env ? b->env : "(defaults)",
           db_fmt_value(b->s.median, p->unit, v, sizeof v));
    if (u)
        printf("   runner-up %s%s%s %s: %s\n", u->alloc, *u->env ? " " : "", u->env,
               db_fmt_value(u->s.median, p->unit, w, sizeof w), r->verdict);
    else
        printf("   %s\n", r->verdict);
}

static void sweep_best(hakdb *db, int64_t sweep, const char *metric, const char *kind)
{
    char sid[32], err[600];
    snprintf(sid, sizeof sid, "%lld", (long long)sweep);
    db_filter f = {.sweep = sid, .kind = kind};
    best_print p = {metric, ""};
    db_metric_unit(db, metric, p.unit, sizeof p.unit);
    db_best_result res;
    printf("best %s setting per trace by %s (%s is better):\n", kind, metric,
           hakdb_metric_higher_better(db, metric) ? "higher" : "lower");
    if (db_best(db, metric, &f, &res, print_best_row, &p, err, sizeof err) != 0)
        printf("  (none: %s)\n", err);
    else if (res.groups.n == 0)
        printf("  (no ok %s run of sweep %s has %s)\n", kind, sid, metric);
    db_best_free(&res);
}

/* Prints one row of the ranking (hakdb_sweep_ranking), with a header
 * before each trace's first. */
typedef struct rank_print {
    int64_t sweep, cur_trace;
    const char *metric;
    int higher, rank;
} rank_print;

static void fmt_fig(double x, int fixed3, char *buf, size_t len)
{
    if (isnan(x))
        snprintf(buf, len, "-");
    else if (fixed3)
        snprintf(buf, len, "%.3f", x);
    else if (fabs(x - floor(x)) > 1e-9 || fabs(x) < 10)
        snprintf(buf, len, "%.4g", x);
    else
        snprintf(buf, len, "%.0f", x);
}

static void print_rank_row(const hakdb_rank_row *r, void *ctx)
{
    rank_print *p = ctx;
    if (r->trace_id != p->cur_trace) {
        p->cur_trace = r->trace_id;
        p->rank = 0;
        printf("\nsweep %lld, trace %s: ranked by %s (%s is better)\n", (long long)p->sweep,
               r->trace_path, p->metric, p->higher ? "higher" : "lower");
        printf("%4s %-14s %-40s %14s %12s %12s %9s %14s %12s %s\n", "rank", "alloc", "knobs",
               p->metric, "sim.walks", "sim.faults", "sim.occ", "meas.faults", "meas.ops/s", "runs (measured+simulated)");
    }
    const double v[6] = {r->value, r->sim_walks, r->sim_faults, r->sim_occupancy,
                         r->meas_faults, r->meas_ops_per_s};
    char cols[6][32];
    for (int c = 0; c < 6; c++)
        fmt_fig(v[c], c == 3, cols[c], sizeof cols[c]);
    printf("%4d %-14s %-40s %14s %12s %12s %9s %14s %12s %d+%d%s\n", ++p->rank, r->alloc,
           r->env && *r->env ? r->env : "(defaults)", cols[0], cols[1], cols[2], cols[3],
           cols[4], cols[5], r->measured, r->simulated, r->failed ? " (some failed)" : "");
}

/* Prints the settings of the sweep ranked by the metric, per trace. */
static int print_ranking(hakdb *db, int64_t sweep, const char *metric)
{
    rank_print p = {sweep, -1, metric, hakdb_metric_higher_better(db, metric), 0};
    int n = hakdb_sweep_ranking(db, sweep, metric, print_rank_row, &p);
    if (n < 0) {
        hak_cmd_err(CMD, "%s", hakdb_error(db));
        return -1;
    }
    if (n == 0)
        printf("sweep %lld: no runs stored\n", (long long)sweep);
    return 0;
}

/* Runs of db with no sweep join sweep `uuid` (emitted replay jobs). */
static int adopt(const sweep_args *a)
{
    char err[512];
    hakdb *db = hakdb_open(a->db, err, sizeof err);
    if (!db) {
        hak_cmd_err(CMD, "%s", err);
        return 1;
    }
    int64_t id = hakdb_sweep_by_uuid(db, a->adopt, "hak sweep (emitted jobs)", NULL);
    int rc = id < 0 || hakdb_sweep_adopt(db, id) != 0;
    if (rc)
        hak_cmd_err(CMD, "--adopt: %s", hakdb_error(db));
    hakdb_close(db);
    return rc;
}

/* --emit: the sweep's jobs as shell lines (each writes its own database,
 * merged afterwards) instead of running them.  Returns the exit status. */
static int sweep_emit(sweep_args *a, const char *hak)
{
    job *jobs;
    size_t njobs;
    char uuid[33];
    if (random_uuid(uuid)) {
        hak_cmd_err(CMD, "/dev/urandom: %s", strerror(errno));
        return 1;
    }
    char dirbuf[PATH_MAX], absdir[PATH_MAX];
    snprintf(dirbuf, sizeof dirbuf, "%s", a->emit);
    const char *dir = a->jobs_dir ? a->jobs_dir : dirname(dirbuf);
    if (!realpath(dir, absdir)) {
        hak_cmd_err(CMD, "--jobs-dir %s: %s", dir, strerror(errno));
        return 2;
    }
    njobs = build_jobs(a, &jobs, hak, NULL, uuid, absdir);
    FILE *f = fopen(a->emit, "w");
    if (!f) {
        hak_cmd_err(CMD, "%s: %s", a->emit, strerror(errno));
        return 1;
    }
    for (size_t i = 0; i < njobs; i++) {
        for (int k = 0; k < jobs[i].argc; k++) {
            if (k)
                fputc(' ', f);
            shell_word(f, jobs[i].argv[k]);
        }
        if (!jobs[i].is_sim) {
            /* The job's own database has no sweep row for
             * `hak replay --sweep-id` to name, and holds only this
             * job's runs: attach them all to the uuid afterwards. */
            fputs(" && ", f);
            shell_word(f, hak);
            fprintf(f, " sweep --adopt %s --db ", uuid);
            shell_word(f, jobs[i].argv[jobs[i].argc - 1]);
        }
        fputc('\n', f);
    }
    if (fclose(f)) {
        hak_cmd_err(CMD, "%s: %s", a->emit, strerror(errno));
        return 1;
    }
    if (!a->quiet)
        printf("wrote %zu jobs of sweep %s to %s\n"
               "run them with e.g.  parallel < %s\n"
               "then combine:       hak db merge --db OUT.db %s/sweep-%.8s-*.db\n",
               njobs, uuid, a->emit, a->emit, absdir, uuid);
    return 0;
}

/* The sweep's results: its settings ranked by --metric per trace, and the
 * best simulated and measured setting per trace.  1 when --metric named
 * no figure of the sweep (said), else 0. */
static int sweep_report(hakdb *db, const sweep_args *a, int64_t sweep)
{
    print_ranking(db, sweep, a->metric);
    int bad_metric = !hakdb_sweep_has_metric(db, sweep, a->metric);
    if (bad_metric) {
        /* A misspelt --metric would otherwise rank nothing and exit 0. */
        hak_cmd_err(CMD, "--metric '%s': no ok run of sweep %lld has this figure "
                    "(names: hak db query 'select distinct name from run_metric_values')",
                    a->metric, (long long)sweep);
    }
    if (a->sim) {
        printf("\n");
        sweep_best(db, sweep, "sim.page_walks", "simulated");
    }
    if (!a->sim_only) {
        printf("\n");
        sweep_best(db, sweep, "minor_faults", "measured");
    }
    return bad_metric;
}

int cmd_sweep(int argc, char **argv)
{
    sweep_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    if (a.adopt)
        return adopt(&a);
    /* Absolute paths, so emitted jobs run from anywhere. */
    char *abs_traces[MAX_TRACES];
    for (int i = 0; i < a.ntraces; i++) {
        char *p = realpath(a.traces[i], NULL);
        abs_traces[i] = p ? p : xstrdup(a.traces[i]);
        a.traces[i] = abs_traces[i];
    }
    char hak[PATH_MAX];
    ssize_t hn = readlink("/proc/self/exe", hak, sizeof hak - 1);
    if (hn <= 0) {
        hak_cmd_err(CMD, "cannot find the hak binary: %s", strerror(errno));
        return 1;
    }
    hak[hn] = '\0';
    char gridtxt[4096], cmdline[8192];
    sweep_grid_text(&a.grid, gridtxt, sizeof gridtxt);
    size_t off = (size_t)snprintf(cmdline, sizeof cmdline, "hak sweep");
    for (int i = 1; i < argc && off < sizeof cmdline; i++)
        off += (size_t)snprintf(cmdline + off, sizeof cmdline - off, " %s", argv[i]);

    if (!a.sim_only && !replay_support()) {
        hak_cmd_err(CMD, "'hak replay' is not available in this build; use --sim-only to only simulate");
        return 1;
    }
    if (a.emit)
        return sweep_emit(&a, hak);

    /* ---- run: one sweep row, its jobs, then the results ---- */
    char err[512];
    hakdb *db = hakdb_open(a.db, err, sizeof err);
    if (!db) {
        hak_cmd_err(CMD, "%s", err);
        return 1;
    }
    int64_t sweep = hakdb_new_sweep(db, cmdline, gridtxt);
    if (sweep < 0) {
        hak_cmd_err(CMD, "creating the sweep: %s", hakdb_error(db));
        hakdb_close(db);
        return 1;
    }
    hakdb_close(db);   /* the jobs write; reopened for the ranking */
    char sid[32];
    snprintf(sid, sizeof sid, "%lld", (long long)sweep);
    job *jobs;
    size_t njobs = build_jobs(&a, &jobs, hak, sid, NULL, NULL);
    if (!a.quiet)
        fprintf(stderr, "hak sweep: sweep %lld: %zu jobs (%zu combinations x %d allocators x %d traces)\n",
                (long long)sweep, njobs, sweep_grid_count(&a.grid), a.nallocs, a.ntraces);
    int failed = run_jobs(jobs, njobs, a.jobs, a.quiet);

    db = hakdb_open(a.db, err, sizeof err);
    if (!db) {
        hak_cmd_err(CMD, "%s", err);
        return 1;
    }
    int bad_metric = sweep_report(db, &a, sweep);
    hakdb_close(db);
    if (failed)
        hak_cmd_err(CMD, "%d of %zu jobs failed", failed, njobs);
    for (size_t i = 0; i < njobs; i++)
        for (int k = 0; k < jobs[i].argc; k++)
            free(jobs[i].argv[k]);
    free(jobs);
    for (int i = 0; i < a.ntraces; i++)
        free(abs_traces[i]);
    return failed || bad_metric ? 1 : 0;
}
