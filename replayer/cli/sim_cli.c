/* sim_cli.c - `hak sim`: replay a trace in-process against a real allocator
 * build and feed every touched address to the memory-system model
 * (sim_model.h); store the result as a 'simulated' run.
 *
 * Process structure: the command reads the trace and builds the replay
 * form, copies the ops into a memfd job, and runs a worker: a fresh exec of
 * `hak sim --worker FD` with address randomisation off (personality; the
 * same inputs give the same addresses, hence the same TLB sets), the --env
 * knobs in its environment (so knobs read at exec, e.g. GLIBC_TUNABLES,
 * apply) and, with --load preload, the allocator in LD_PRELOAD.  The worker
 * loads the allocator into a pristine process, replays in-process and
 * writes its results into the job; the parent times it out, classifies
 * crashes, and stores the run (a crashing allocator cannot take the
 * database write with it).
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "replayer_cli.h"
#include "hak_util.h"
#include "hakdb.h"
#include "hakdb_import.h"
#include "hakdb_sweep.h"
#include "replay.h"
#include "sim_alloc.h"
#include "sim_db.h"
#include "sim_run.h"
#include "supervise.h"
#include "trace.h"

#define CMD "sim"
#define MAX_ENV 64

static void usage(FILE *out)
{
    fprintf(out,
"usage: hak sim TRACE [--alloc NAME|PATH.so] [--env K=V ...] [--tlb SPEC]\n"
"               [--pages 4k|2m|thp] [--access touch|full] [--touch POLICY]\n"
"               [--db FILE] [--label TEXT] [--sweep-id N | --sweep-uuid U]\n"
"               [--timeout S] [--no-db] [-q]\n"
"\n"
"Replays TRACE serially (its global order) in this process against a real\n"
"allocator build and feeds every address the workload touches into a model\n"
"of first-touch page faults and a two-level set-associative LRU data TLB.\n"
"The result is stored as a run of kind 'simulated' with the model's\n"
"parameters (runs.config) and its figures in run_metrics (sim.page_faults,\n"
"sim.l1_dtlb_misses, sim.stlb_misses = page walks, sim.pages_spanned,\n"
"sim.superslabs_spanned, sim.occupancy, ...): deterministic figures where\n"
"hardware TLB counters are missing.\n"
"\n"
"options:\n"
"  --alloc A        hakmem (build/lib/libhakmem.so, default), glibc (this\n"
"                   process's malloc) or a path to an allocator .so; a .so is\n"
"                   dlopen()ed with RTLD_DEEPBIND and serves only the replay\n"
"  --env K=V        set a knob (e.g. HAKMEM_HUGEPAGE=madvise); repeatable\n"
"  --tlb SPEC       TLB geometry, ENTRIES:WAYS per level, any subset of\n"
"                   'l1=64:4,l1_2m=32:4,l2=1536:12' (the default, a current\n"
"                   x86 core); l2=0 drops the STLB, l1_2m=0 shares l1\n"
"  --pages P        4k: every page 4 KiB; 2m: every page 2 MiB;\n"
"                   thp: per 2 MiB region as the kernel actually backed it\n"
"                   (pagemap/kpageflags when readable, else smaps).\n"
"                   Default: thp where the kernel may use huge pages (THP\n"
"                   'always', or 'madvise' with --env HAKMEM_HUGEPAGE=madvise),\n"
"                   else 4k; the summary says which and why\n"
"  --touch POLICY   what the workload writes into each new block: none,\n"
"                   first (first byte), pages (one byte per page, default),\n"
"                   all (every byte; modelled per 64-byte line)\n"
"  --access full    every cache line of each block at allocation and again\n"
"                   at free (overrides --touch); default 'touch'\n"
"  --db FILE        database (default $HAK_DB or ./hak.db); --no-db: print only\n"
"  --label TEXT     free-text label stored with the run\n"
"  --sweep-id N     attach the run to sweep N of the database\n"
"  --sweep-uuid U   attach it to the sweep with this uuid (created if absent;\n"
"                   also read from $HAK_SWEEP_UUID), for jobs of one sweep\n"
"                   that write separate databases\n"
"  --timeout S      give up on a replay after S (default 600s)\n"
"  --load M         how a .so is loaded: dlopen (RTLD_DEEPBIND, only the\n"
"                   replay uses it), preload (LD_PRELOAD: it is the whole\n"
"                   process's malloc, as in hak replay), auto (default:\n"
"                   dlopen, preload when the library cannot be dlopen()ed,\n"
"                   e.g. jemalloc's static TLS)\n"
"  --progress       progress on stderr (default: when it is a terminal)\n"
"  -q               print nothing but errors\n"
"\n"
"Model limits: faults are first touches (pages the allocator returns to the\n"
"kernel and reuses are not faulted again); only the workload's own accesses\n"
"are modelled (not the allocator's metadata); loads and stores alike.\n"
"Exit status: 0 ok, 1 the run failed (stored with its reason), 2 usage.\n");
    fputs("\nexamples:\n"
          "  hak sim app.hkt --alloc hakmem --env HAKMEM_HUGEPAGE=madvise\n"
          "  hak sim app.hkt --alloc glibc --pages thp --no-db\n", out);
}

typedef struct sim_args {
    const char *trace, *alloc, *db, *label, *sweep_uuid;
    const char *alloc_path;     /* resolved .so, "" for glibc */
    const char *env[MAX_ENV];
    int nenv;
    int64_t sweep_id;
    uint64_t timeout_ns;
    int quiet, no_db, progress;
    int load;                   /* 0 auto, 1 dlopen, 2 preload */
    int pages_given;            /* --pages on the command line */
    char pages_why[160];        /* why the default page model was chosen */
    sim_run_opts o;
} sim_args;

/* The machine's THP mode ("always", "madvise", "never"), "" if none. */
static void thp_mode(char *out, size_t len)
{
    out[0] = 0;
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f)
        return;
    char line[128];
    if (fgets(line, sizeof line, f)) {
        char *o = strchr(line, '['), *c = o ? strchr(o, ']') : NULL;
        if (o && c)
            snprintf(out, len, "%.*s", (int)(c - o - 1), o + 1);
    }
    fclose(f);
}

/* Without --pages the page model follows the knobs and the machine: where
 * the kernel may back the heap with huge pages (THP 'always', or 'madvise'
 * with HAKMEM_HUGEPAGE=madvise asking for them) a 4 KiB model would call
 * the hugepage knob a tie; 'thp' measures what the kernel actually backed. */
static void default_pages(sim_args *a)
{
    if (a->pages_given)
        return;
    char mode[32];
    thp_mode(mode, sizeof mode);
    int asks = 0;
    for (int i = 0; i < a->nenv; i++)
        asks |= !strcmp(a->env[i], "HAKMEM_HUGEPAGE=madvise");
    if (!strcmp(mode, "always"))
        snprintf(a->pages_why, sizeof a->pages_why, "default: THP 'always' on this machine");
    else if (!strcmp(mode, "madvise") && asks)
        snprintf(a->pages_why, sizeof a->pages_why,
                 "default: HAKMEM_HUGEPAGE=madvise with THP 'madvise' on this machine");
    else
        return;
    a->o.pages = SIM_PAGES_THP;
}

static int parse_args(int argc, char **argv, sim_args *a)
{
    static const struct option lo[] = {
        {"alloc", required_argument, 0, 'a'}, {"env", required_argument, 0, 'e'},
        {"tlb", required_argument, 0, 't'},   {"pages", required_argument, 0, 'p'},
        {"access", required_argument, 0, 'A'}, {"touch", required_argument, 0, 'T'},
        {"db", required_argument, 0, 'd'},    {"label", required_argument, 0, 'l'},
        {"sweep-id", required_argument, 0, 's'}, {"sweep-uuid", required_argument, 0, 'u'},
        {"timeout", required_argument, 0, 'w'}, {"no-db", no_argument, 0, 'n'},
        {"load", required_argument, 0, 'L'}, {"progress", no_argument, 0, 'P'},
        {"quiet", no_argument, 0, 'q'},       {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    a->alloc = "hakmem";
    a->sweep_id = HAKDB_NULL;
    a->timeout_ns = 600ull * 1000000000ull;
    a->o.touch = HAK_TOUCH_PAGES;
    a->o.access = SIM_ACCESS_TOUCH;
    a->o.pages = SIM_PAGES_4K;
    sim_tlb_default(&a->o.geom);
    char err[256];
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "qh", lo, NULL)) != -1) {
        switch (c) {
        case 'a': a->alloc = optarg; break;
        case 'e':
            if (!strchr(optarg, '=') || optarg[0] == '=' || strchr(optarg, ' ')) {
                hak_cmd_err(CMD, "--env %s: expected KEY=VALUE without spaces", optarg);
                return 2;
            }
            if (a->nenv == MAX_ENV) {
                hak_cmd_err(CMD, "--env: at most %d knobs", MAX_ENV);
                return 2;
            }
            a->env[a->nenv++] = optarg;
            break;
        case 't': case 'p': case 'A': case 'T':
            if (c == 'p')
                a->pages_given = 1;
            if (sim_opt_parse(c == 't' ? "tlb" : c == 'p' ? "pages" : c == 'A' ? "access" : "touch",
                              optarg, &a->o, &a->timeout_ns, err, sizeof err)) {
                hak_cmd_err(CMD, "%s", err);
                return 2;
            }
            break;
        case 'd': a->db = optarg; break;
        case 'l': a->label = optarg; break;
        case 's': {
            uint64_t v;
            if (hak_parse_u64(optarg, &v) || v == 0 || v > INT64_MAX) {
                hak_cmd_err(CMD, "--sweep-id %s: expected a positive sweep id", optarg);
                return 2;
            }
            a->sweep_id = (int64_t)v;
            break;
        }
        case 'u': a->sweep_uuid = optarg; break;
        case 'w':
            if (sim_opt_parse("timeout", optarg, &a->o, &a->timeout_ns, err, sizeof err)) {
                hak_cmd_err(CMD, "%s", err);
                return 2;
            }
            break;
        case 'n': a->no_db = 1; break;
        case 'P': a->progress = 1; break;
        case 'L':
            if (!strcmp(optarg, "auto")) a->load = 0;
            else if (!strcmp(optarg, "dlopen")) a->load = 1;
            else if (!strcmp(optarg, "preload")) a->load = 2;
            else {
                hak_cmd_err(CMD, "--load %s: expected auto, dlopen or preload", optarg);
                return 2;
            }
            break;
        case 'q': a->quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default:
            hak_cmd_err(CMD, "%s: unknown option or missing argument; see 'hak sim --help'",
                        argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc - 1) {
        hak_cmd_err(CMD, optind >= argc ? "no TRACE given; see 'hak sim --help'"
                                        : "exactly one TRACE expected; see 'hak sim --help'");
        return 2;
    }
    a->trace = argv[optind];
    if (!a->sweep_uuid) {
        const char *u = getenv("HAK_SWEEP_UUID");
        if (u && *u)
            a->sweep_uuid = u;
    }
    if (a->sweep_uuid && a->sweep_id != HAKDB_NULL) {
        hak_cmd_err(CMD, "--sweep-id and --sweep-uuid exclude each other");
        return 2;
    }
    if (a->no_db && a->db) {   /* silently dropping the results would surprise */
        hak_cmd_err(CMD, "--db and --no-db exclude each other");
        return 2;
    }
    return -1;   /* go on */
}

/* With the allocator preloaded, the process's malloc must be the library's. */
static int preloaded_ok(const char *path, char *err, size_t errlen)
{
    Dl_info di;
    char real[PATH_MAX], want[PATH_MAX];
    if (!realpath(path, want))
        snprintf(want, sizeof want, "%s", path);
    if (!dladdr((void *)malloc, &di) || !di.dli_fname || !realpath(di.dli_fname, real) ||
        strcmp(real, want)) {
        snprintf(err, errlen, "LD_PRELOAD=%.200s did not replace malloc (it comes from %.200s)",
                 path, di.dli_fname ? di.dli_fname : "?");
        return 0;
    }
    return 1;
}

/* The env knobs as "K=V K=V" (sorted by the database layer). */
static void env_text(const sim_args *a, char *buf, size_t len)
{
    buf[0] = '\0';
    size_t off = 0;
    for (int i = 0; i < a->nenv && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " " : "", a->env[i]);
}

/* The job handed to the worker process, in one shared memfd: this header
 * (the worker writes `load_failed` and `res`), then the replay ops at
 * ops_off.  The worker is a fresh exec of hak, so the allocator under test
 * (dlopen()ed, preloaded or glibc) starts from a pristine process: no heap
 * state inherited from reading the trace, no copy-on-write pages. */
#define SIM_JOB_MAGIC 0x48414b53494d4a31ull   /* "HAKSIMJ1" */
typedef struct sim_job {
    uint64_t magic;
    uint64_t nops, nobjects, ops_off, bytes;
    sim_run_opts opts;
    int preload;                /* 1: the allocator is LD_PRELOADed */
    char alloc_path[PATH_MAX];  /* "" = glibc */
    int load_failed;
    sim_result res;
} sim_job;

static sim_job *job_create(const hak_replay *rp, const sim_args *a, int *fd_out,
                           char *err, size_t errlen)
{
    size_t hdr = (sizeof(sim_job) + 4095) & ~(size_t)4095;
    size_t bytes = hdr + (size_t)rp->nops * sizeof *rp->ops;
    int fd = memfd_create("hak-sim-job", 0);
    if (fd < 0 || ftruncate(fd, (off_t)bytes) != 0) {
        snprintf(err, errlen, "memfd: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    sim_job *j = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (j == MAP_FAILED) {
        snprintf(err, errlen, "mmap: %s", strerror(errno));
        close(fd);
        return NULL;
    }
    j->magic = SIM_JOB_MAGIC;
    j->nops = rp->nops;
    j->nobjects = rp->nobjects;
    j->ops_off = hdr;
    j->bytes = bytes;
    j->opts = a->o;
    snprintf(j->alloc_path, sizeof j->alloc_path, "%s", a->alloc_path);
    if (rp->nops)
        memcpy((char *)j + hdr, rp->ops, (size_t)rp->nops * sizeof *rp->ops);
    *fd_out = fd;
    return j;
}

/* `hak sim --worker FD`: runs the job in this (fresh) process. */
static int sim_worker(const char *fdtxt)
{
    uint64_t fdv;
    struct stat st;
    if (hak_parse_u64(fdtxt, &fdv) || fdv > INT32_MAX || fstat((int)fdv, &st) != 0 ||
        st.st_size < (off_t)sizeof(sim_job)) {
        hak_cmd_err(CMD, "--worker %s: not a simulation job", fdtxt);
        return 2;
    }
    /* Populated now, so reading the ops does not fault inside the window. */
    sim_job *j = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_POPULATE, (int)fdv, 0);
    if (j == MAP_FAILED || j->magic != SIM_JOB_MAGIC || j->bytes != (uint64_t)st.st_size) {
        hak_cmd_err(CMD, "--worker %s: not a simulation job", fdtxt);
        return 2;
    }
    char err[512];
    sim_alloc al;
    snprintf(j->res.load, sizeof j->res.load, "%s",
             !j->alloc_path[0] ? "process" : j->preload ? "preload" : "dlopen");
    if ((j->preload && !preloaded_ok(j->alloc_path, err, sizeof err)) ||
        sim_alloc_load(j->preload || !j->alloc_path[0] ? "glibc" : j->alloc_path,
                       &al, err, sizeof err)) {
        j->load_failed = 1;
        snprintf(j->res.error, sizeof j->res.error, "%.250s", err);
        return 3;
    }
    hak_replay rp;
    memset(&rp, 0, sizeof rp);
    rp.nops = j->nops;
    rp.nobjects = (uint32_t)j->nobjects;
    rp.ops = (hak_rop *)((char *)j + j->ops_off);
    sim_run(&rp, &al, &j->opts, &j->res);
    return j->res.ok ? 0 : 4;
}

/* Progress of a running simulation on stderr (hak_child_wait's tick). */
typedef struct sim_progress {
    const sim_job *j;
    uint64_t t0;
    int noted;
} sim_progress;

static void note_progress(void *ctx)
{
    sim_progress *p = ctx;
    if (hak_mono_ns() - p->t0 < 2000000000ull)
        return;
    fprintf(stderr, "\rhak sim: %llu/%llu ops, %.0f s", (unsigned long long)p->j->res.progress_ops,
            (unsigned long long)p->j->nops, (double)(hak_mono_ns() - p->t0) / 1e9);
    p->noted = 1;
}

/* Runs the job in a worker process; returns the status text. */
static const char *run_worker(const sim_args *a, sim_job *j, int fd, char *why, size_t whylen)
{
    fflush(NULL);
    pid_t pid = hak_child_fork();
    if (pid < 0) {
        snprintf(why, whylen, "fork: %s", strerror(errno));
        return "error";
    }
    if (pid == 0) {
        /* Dies with hak, even when hak is SIGKILLed (hak_child_fork). */
        for (int i = 0; i < a->nenv; i++) {
            char kv[1024];
            snprintf(kv, sizeof kv, "%s", a->env[i]);
            char *eq = strchr(kv, '=');
            *eq = '\0';
            setenv(kv, eq + 1, 1);
        }
        if (j->preload) {
            const char *old = getenv("LD_PRELOAD");
            char buf[8192];
            snprintf(buf, sizeof buf, "%s%s%s", j->alloc_path, old && *old ? ":" : "",
                     old && *old ? old : "");
            setenv("LD_PRELOAD", buf, 1);
        }
        char fdtxt[16];
        snprintf(fdtxt, sizeof fdtxt, "%d", fd);
        execl("/proc/self/exe", "hak", "sim", "--worker", fdtxt, (char *)NULL);
        fprintf(stderr, "hak sim: exec: %s\n", strerror(errno));
        _exit(5);
    }
    sim_progress pr = {j, hak_mono_ns(), 0};
    int progress = a->progress || (!a->quiet && isatty(2));
    int st = 0;
    int w = hak_child_wait(pid, (double)a->timeout_ns / 1e9, progress ? 500 : 0,
                           progress ? note_progress : NULL, &pr, &st);
    int noted = pr.noted;
    if (w < 0) {
        kill(-pid, SIGKILL);
        snprintf(why, whylen, "waitpid: %s", strerror(errno));
        return "error";
    }
    if (w == 1) {
        if (noted)
            fputc('\n', stderr);
        snprintf(why, whylen, "replay did not finish within %.0f s", (double)a->timeout_ns / 1e9);
        return "timeout";
    }
    if (noted)
        fputc('\n', stderr);
    if (WIFSIGNALED(st)) {
        snprintf(why, whylen, "replay killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
        return "crashed";
    }
    if (j->load_failed) {
        snprintf(why, whylen, "%s", j->res.error);
        return "load_failed";
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || !j->res.ok) {
        snprintf(why, whylen, "%s", j->res.error[0] ? j->res.error
                 : WIFEXITED(st) && WEXITSTATUS(st) == 5 ? "cannot exec the worker" : "replay failed");
        return "error";
    }
    return "ok";
}

static void print_summary(const sim_args *a, const char *alloc_name, const char *env,
                          const sim_result *r, int64_t run_id, const char *dbpath)
{
    char b1[32], b2[32], b3[32], tlb[160];
    sim_tlb_format(&a->o.geom, tlb, sizeof tlb);
    printf("hak sim: %s on %s%s%s%s\n", a->trace, alloc_name, *env ? " (" : "", env, *env ? ")" : "");
    printf("  model      pages=%s%s%s%s access=%s touch=%s tlb=%s%s%s\n",
           sim_page_mode_name(a->o.pages), a->pages_why[0] ? " (" : "", a->pages_why,
           a->pages_why[0] ? ")" : "", sim_access_name(a->o.access),
           hak_touch_name(a->o.touch), tlb, r->thp_method[0] ? " thp=" : "", r->thp_method);
    printf("  ops        %s (%s allocations, %s of them the program's own mappings, %s failed, "
           "%s skipped)\n",
           hak_fmt_count(r->ops, b1, sizeof b1), hak_fmt_count(r->allocs, b2, sizeof b2),
           hak_fmt_count(r->maps, (char[32]){0}, 32), hak_fmt_count(r->failed_allocs, b3, sizeof b3),
           hak_fmt_count(r->skipped_ops, (char[32]){0}, 32));
    printf("  accesses   %s\n", hak_fmt_count(r->st.accesses, b1, sizeof b1));
    printf("  faults     %s first touches (4k %s, 2m %s); measured in window %lld\n",
           hak_fmt_count(r->st.faults, b1, sizeof b1), hak_fmt_count(r->st.faults_4k, b2, sizeof b2),
           hak_fmt_count(r->st.faults_2m, b3, sizeof b3),
           (long long)(r->window_minflt - r->own_minflt));
    printf("  dTLB       L1 misses %s, STLB misses (page walks) %s\n",
           hak_fmt_count(r->st.l1_misses, b1, sizeof b1), hak_fmt_count(r->st.stlb_misses, b2, sizeof b2));
    if (a->o.pages == SIM_PAGES_THP)
        printf("  thp        %llu regions huge, %llu regions 4 KiB\n",
               (unsigned long long)r->st.huge_regions, (unsigned long long)r->st.small_regions);
    printf("  layout     peak live %s on %s pages in %s SuperSlabs; occupancy %.3f at peak, %.3f mean\n",
           hak_fmt_bytes(r->peak_live_bytes, b1, sizeof b1), hak_fmt_count(r->peak_pages, b2, sizeof b2),
           hak_fmt_count(r->peak_regions, b3, sizeof b3), r->occ_at_peak, r->occ_mean);
    if (run_id > 0)
        printf("  stored     run %lld (kind simulated) in %s\n", (long long)run_id, dbpath);
}

/* ---- plan: the allocator, the knobs, the trace and the database are
 * checked before anything is simulated ---- */

/* Resolves --alloc exactly as hak replay does (same names, the same peers
 * and hakmem@REV builds), so measured and simulated runs of one setting
 * share their builds row.  -1 ok (name, path filled), else the exit status. */
static int sim_plan(sim_args *a, char name[256], char path[PATH_MAX])
{
    char err[512];
    static rp_alloc ra;
    if (rp_alloc_resolve(a->alloc, &ra, !a->quiet) != 0) {
        hak_cmd_err(CMD, "--alloc %s: unknown allocator (expected hakmem, glibc, mimalloc, "
                    "jemalloc, tcmalloc, hakmem@REV or a path to a .so)", a->alloc);
        return 2;
    }
    if (ra.kind == RP_ALLOC_BUMP) {
        hak_cmd_err(CMD, "--alloc bump is the replayer's built-in harness allocator; it cannot be simulated");
        return 2;
    }
    if (rp_alloc_is_hakmem(&ra) && rp_check_knobs(a->env, (size_t)a->nenv, err, sizeof err) != 0) {
        hak_cmd_err(CMD, "%s", err);
        return 2;
    }
    if (ra.error[0]) {
        hak_cmd_err(CMD, "--alloc %s: %s", a->alloc, ra.error);
        return 1;
    }
    snprintf(name, 256, "%s", ra.name);
    snprintf(path, PATH_MAX, "%s", ra.kind == RP_ALLOC_GLIBC ? "" : ra.path);
    a->alloc_path = path;
    hak_trace_reader *tr = hak_tr_open(a->trace, err, sizeof err);
    if (!tr) {
        hak_cmd_err(CMD, "%s%s%s", hak_msg_names_path(err, a->trace) ? "" : a->trace,
                    hak_msg_names_path(err, a->trace) ? "" : ": ", err);
        return 1;
    }
    hak_tr_close(tr);
    /* Open (create, migrate) the database first: its errors show before
     * the replay rather than after it. */
    if (!a->no_db) {
        hakdb *db = hakdb_open(a->db, err, sizeof err);
        if (!db) {
            hak_cmd_err(CMD, "%s", err);
            return 1;
        }
        hakdb_close(db);
    }
    return -1;
}

/* What the run's traces row says about the trace. */
typedef struct sim_trace_facts {
    const char *completeness;
    char program[256];
    char meta_json[16384];
    int64_t events, threads;
} sim_trace_facts;

/* The trace as a simulation job in shared memory (the worker's input), and
 * its facts.  NULL after saying why. */
static sim_job *sim_prepare(const sim_args *a, int *jfd, sim_trace_facts *tf)
{
    char err[512];
    hak_trace_reader *tr = hak_tr_open(a->trace, err, sizeof err);
    if (!tr) {
        hak_cmd_err(CMD, "%s", err);
        return NULL;
    }
    const hak_tr_status *ts = hak_tr_status_get(tr);
    if (ts->truncated && !a->quiet)
        fprintf(stderr, "hak sim: %s: warning: %s; using the readable prefix\n", a->trace, ts->reason);
    if (ts->incomplete && !a->quiet)
        fprintf(stderr, "hak sim: %s: note: the trace is incomplete (the recorder lost events: "
                "see 'hak trace info'); its run is stored as one of an incomplete trace\n", a->trace);
    tf->completeness = ts->incomplete ? "incomplete" : ts->truncated ? "truncated" : "complete";
    hak_replay rp;
    /* with the program's own anonymous mappings (a trace recorded with
     * --mmap), as hak replay: heap it holds outside malloc */
    if (hak_replay_build_opts(tr, &rp, HAK_REPLAY_MMAP, err, sizeof err)) {
        hak_cmd_err(CMD, "%s: %s", a->trace, err);
        hak_tr_close(tr);
        return NULL;
    }
    if (rp.mmap_kept && !a->quiet)
        fprintf(stderr, "hak sim: %s: note: %llu mmap/munmap/mremap calls of the program are "
                "simulated as recorded (its anonymous mappings); %llu others left out\n", a->trace,
                (unsigned long long)rp.mmap_kept, (unsigned long long)rp.mmap_ops);
    const hak_trace_meta *meta = hak_tr_meta(tr);
    const char *program = hakdb_trace_program(meta, a->trace);
    hakdb_trace_meta_json(meta, tf->meta_json, sizeof tf->meta_json);
    snprintf(tf->program, sizeof tf->program, "%s", program ? program : "");
    tf->events = (int64_t)hak_tr_nevents(tr);
    tf->threads = (int64_t)hak_tr_nthreads(tr);
    hak_tr_close(tr);
    sim_job *job = job_create(&rp, a, jfd, err, sizeof err);
    hak_replay_free(&rp);
    if (!job)
        hak_cmd_err(CMD, "%s", err);
    return job;
}

/* ---- run: the worker, dlopen first, preloaded when that cannot work ---- */

static const char *sim_measure(const sim_args *a, sim_job *job, int jfd, char *why, size_t whylen)
{
    job->preload = a->load == 2 && a->alloc_path[0];
    const char *status = run_worker(a, job, jfd, why, whylen);
    if (!strcmp(status, "load_failed") && a->load == 0 && a->alloc_path[0] && strstr(why, "dlopen")) {
        /* Cannot be dlopen()ed (e.g. static TLS): run it preloaded. */
        job->preload = 1;
        job->load_failed = 0;
        memset(&job->res, 0, sizeof job->res);
        why[0] = '\0';
        status = run_worker(a, job, jfd, why, whylen);
    }
    return status;
}

int cmd_sim(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--worker"))
        return sim_worker(argv[2]);
    sim_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    default_pages(&a);
    static char path[PATH_MAX];
    char name[256], err[512];
    if ((rc = sim_plan(&a, name, path)) >= 0)
        return rc;
    /* Address randomisation off for the worker (personality survives
     * exec): the same inputs give the same addresses, hence TLB sets. */
    int pers = personality(0xffffffff);
    if (pers != -1)
        personality((unsigned long)pers | ADDR_NO_RANDOMIZE);

    static sim_trace_facts tf;
    int jfd = -1;
    sim_job *job = sim_prepare(&a, &jfd, &tf);
    if (!job)
        return 1;
    char why[512] = "";
    int64_t start_wall = (int64_t)hak_wall_ns();
    const char *status = sim_measure(&a, job, jfd, why, sizeof why);
    sim_result *res = &job->res;
    int ok = !strcmp(status, "ok");

    /* ---- store ---- */
    char env[2048];
    env_text(&a, env, sizeof env);
    hakdb *db = NULL;
    if (!a.no_db) {
        db = hakdb_open(a.db, err, sizeof err);
        if (!db) {
            hak_cmd_err(CMD, "%s", err);
            return 1;
        }
        if (a.sweep_uuid) {
            a.sweep_id = hakdb_sweep_by_uuid(db, a.sweep_uuid, "hak sim (sweep job)", NULL);
            if (a.sweep_id < 0) {
                hak_cmd_err(CMD, "%s", hakdb_error(db));
                hakdb_close(db);
                return 1;
            }
        }
    }
    int64_t run_id = 0;
    if (db) {
        sim_db_run r = {
            .trace_path = a.trace, .program = tf.program[0] ? tf.program : NULL,
            .meta_json = tf.meta_json,
            .events = tf.events, .threads = tf.threads, .completeness = tf.completeness,
            .alloc_name = name, .alloc_path = path, .alloc_spec = a.alloc, .env = env, .label = a.label,
            .sweep_id = a.sweep_id, .opts = &a.o, .status = status,
            .error = ok ? NULL : why, .res = ok ? res : NULL,
            .start_wall_ns = start_wall,
        };
        run_id = sim_db_store(db, &r, err, sizeof err);
        if (run_id < 0) {
            hak_cmd_err(CMD, "storing the run: %s", err);
            ok = 0;
        }
    }
    /* ---- print ---- */
    if (!ok && strcmp(status, "ok"))
        hak_cmd_err(CMD, "%s on %s: %s: %s", a.trace, name, status, why);
    if (ok && !a.quiet)
        print_summary(&a, name, env, res, run_id, db ? hakdb_path(db) : "");
    if (db)
        hakdb_close(db);
    munmap(job, job->bytes);
    close(jfd);
    return ok ? 0 : 1;
}
