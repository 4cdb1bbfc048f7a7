/* rec_writer.c - recording lifecycle and the background writer thread.
 *
 * Lifecycle of one process image: rec_init (first interposed call or the
 * constructor) resolves the real functions, reads the settings and turns
 * recording on; events are buffered from then on.  The constructor starts
 * the writer (opens the trace, starts the thread).  rec_shutdown (library
 * destructor, _exit, exec) stops recording, lets the writer drain every
 * buffer and close the trace, and joins it.  A forked child starts over with
 * its own file and writer (rec_atfork_child).
 *
 * The writer wakes when a block is handed off or every 10 ms.  Each pass
 * collects, per thread under th->mu, the full blocks and (every 90 ms, for
 * threads that did not fill a block since the last time) the published
 * part of the current block, then, outside the locks, writes the new sites
 * and queues the records for the encoders (rec_jobs.c), so a trace cut off
 * at any point never refers to a site it does not contain.  RSS is sampled
 * every 20 ms.  Any write error stops recording for good with one line on
 * stderr; what was written stays a readable trace. */
#include "rec_internal.h"
#include "rec_config.h"
#include "hak_util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

rec_global rec_g;
extern _Atomic uint64_t rec_boot_allocs;

#define PARTIAL_NS  90000000ull             /* flush idle threads' partial blocks */
/* A thread whose current block took REC_PARTIAL_FAST records or more
 * since the writer's last look (91k events/s and up) is left to fill it,
 * as one that filled a block meanwhile is: a partial flush would cut its
 * events into a chunk of their own, and chunks of a few thousand events
 * compress much worse than whole blocks (a column's repeats start over in
 * each chunk: a python3 script's sizes column, re-encoded at 16k events a
 * chunk, 0.202 B/event, at 64k 0.061).  At 91k-700k events/s (python3's
 * ~250k: a block per ~250 ms) every 90 ms tick used to cut one: 36-48
 * chunks for its 614k events, 10-15 now.  Until the block is
 * REC_PARTIAL_MAX_NS old: what SIGKILL (or a crash) can lose of such a
 * thread is its records of the last second at most (of a slower thread:
 * 90-180 ms, as before; of a faster one: up to a block, as before). */
#define REC_PARTIAL_FAST 8192u
#define REC_PARTIAL_MAX_NS 1000000000ull
#define RSS_NS      20000000ull
#define WAKE_NS     1000000ull        /* clock samples */
#define PASS_NS     10000000ull       /* a pass even without hand-offs */
#define LEVEL_NS    100000000ull      /* how often the zstd level is reconsidered */

static hak_trace_writer *tw;
static int tw_fd = -1;
static pthread_t writer_tid;
static int writer_started, ctor_ran, atfork_registered;
static _Atomic int stop_req;
static int work_pending;              /* under pool_mu */
static uint32_t sites_written = 1;
static hak_rss_sample rss_buf[64];
/* Guards tw's lifetime against rec_writer_move_fd (a program thread's dup2
 * onto the trace descriptor) while the writer closes it. */
static pthread_mutex_t tw_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned rss_n;
static _Atomic int failed_once;
static pid_t forked_from;            /* parent pid when this image is a fork child */

/* ---- messages ------------------------------------------------------------- */

static void say(const char *fmt, va_list ap)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "hakrec[%d]: ", (int)getpid());
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    n += m;
    if (n > (int)sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    if (write(2, buf, (size_t)n) < 0) { /* stderr is gone: nothing to do */ }
}

/* The -v summary: asked for explicitly, so -q does not silence it. */
static void verbose_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void verbose_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(fmt, ap);
    va_end(ap);
}

/* A note, unless quiet (HAKREC_QUIET). */
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
    if (rec_g.cfg.quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    say(fmt, ap);
    va_end(ap);
}

#if defined(HAK_DEBUG) && HAK_DEBUG
void rec_assert_fail(const char *cond, const char *file, int line)
{
    char buf[400];
    int n = snprintf(buf, sizeof buf, "hakrec[%d]: %s:%d: hakrec assertion failed: %s\n",
                     (int)getpid(), file, line, cond);
    if (write(2, buf, n > 0 && n < (int)sizeof buf ? (size_t)n : sizeof buf - 1) < 0) { }
    abort();
}
#endif

void rec_fail(const char *fmt, ...)
{
    if (atomic_exchange(&failed_once, 1))
        return;
    va_list ap;
    va_start(ap, fmt);
    say(fmt, ap);
    va_end(ap);
}

/* ---- losses ------------------------------------------------------------------ */

typedef struct pending_loss {
    int reason;
    uint64_t lost;
    char detail[512];
} pending_loss;
static pending_loss losses[REC_LOSSES_PENDING];
static _Atomic unsigned nlosses;

void rec_loss_later(int reason, uint64_t lost, const char *detail)
{
    unsigned i = atomic_fetch_add(&nlosses, 1);
    if (i >= REC_LOSSES_PENDING)
        return;                       /* the first ones say enough */
    losses[i].reason = reason;
    losses[i].lost = lost;
    snprintf(losses[i].detail, sizeof losses[i].detail, "%.*s", (int)sizeof losses[i].detail - 1, detail);
}

/* Writer, just before the trace is closed: every loss it must state. */
static void write_losses(void)
{
    uint64_t at = hak_tw_nevents(tw);
    unsigned n = atomic_load(&nlosses);
    for (unsigned i = 0; i < n && i < REC_LOSSES_PENDING; i++)
        hak_tw_loss(tw, (uint32_t)losses[i].reason, at, losses[i].lost, losses[i].detail);
    atomic_store(&nlosses, 0);
    char d[256];
    uint64_t re = atomic_exchange(&rec_g.lost_reentrant, 0);
    if (re) {
        snprintf(d, sizeof d, "%llu calls made by signal handlers that interrupted an "
                 "interposed call were not recorded", (unsigned long long)re);
        hak_tw_loss(tw, HAK_LOSS_REENTRANT, at, re, d);
    }
    uint64_t after = atomic_exchange(&rec_g.lost_after_stop, 0);
    if (after) {
        snprintf(d, sizeof d, "at least %llu calls made after recording stopped at exit "
                 "(by threads still running) were not recorded", (unsigned long long)after);
        hak_tw_loss(tw, HAK_LOSS_UNFLUSHED, at, after, d);
    }
}

/* Closes the trace (the writer thread, or the failure path): losses first,
 * and the descriptor forgotten by rec_fds.c so our own close is real. */
static int close_trace(void)
{
    write_losses();
    pthread_mutex_lock(&tw_mu);
    rec_fd_forget();
    int rc = hak_tw_close(tw);
    tw = NULL;
    tw_fd = -1;
    pthread_mutex_unlock(&tw_mu);
    return rc;
}

int rec_writer_move_fd(int floor)
{
    pthread_mutex_lock(&tw_mu);
    int old = -1;
    if (tw && (old = hak_tw_move_fd(tw, floor)) >= 0) {
        tw_fd = hak_tw_fd(tw);
        rec_fd_own(tw_fd);
    }
    pthread_mutex_unlock(&tw_mu);
    return old;
}

/* ---- trace metadata ------------------------------------------------------- */

static char meta_buf[16384];          /* argv, strings of the header */

static size_t read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t got = 0;
    while (got < len) {
        ssize_t k = read(fd, buf + got, len - got);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    return got;
}

/* ---- windows -------------------------------------------------------------- */

/* A recording that can start and stop while the process runs (README,
 * "Recording a running service") writes each on-window to its own file.
 * Window n's file is the output pattern expanded (%p %h %t %n); without
 * %n, the second and later windows insert ".wN" before ".hkt".  Closing a
 * window: the state goes to REC_SWITCHING, where every interposed call
 * that arrives waits (rec_interpose.c), the writer lets the calls already
 * inside finish, collects every thread's records and closes the file, then
 * opens the next window or pauses.  Because nothing is recorded between
 * the drain and the collection, a window's file never holds a free whose
 * allocation went to the next one: an allocation published later returned
 * later, so its free came later still. */
static unsigned window_n;             /* windows opened by this image */
static int window_up;                 /* a window's trace is open */
static time_t window_t;               /* its start (%t) */
static _Atomic int ctl_explicit;      /* REC_CTL_START/STOP from the signal, 0 none */
static _Atomic int ctl_toggles;       /* parity of plain kills not yet applied */

static const char *window_opts(void)
{
    static char b[96];
    if (!rec_config_windows(&rec_g.cfg))
        return "";
    snprintf(b, sizeof b, " window=%u%s", window_n, rec_g.cfg.attached ? " attached=1" : "");
    return b;
}

/* The signal handler: only atomics (the writer polls them). */
static void ctl_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    if (si && si->si_code == SI_QUEUE &&
        (si->si_value.sival_int == REC_CTL_START || si->si_value.sival_int == REC_CTL_STOP))
        atomic_store(&ctl_explicit, si->si_value.sival_int);
    else
        atomic_fetch_xor(&ctl_toggles, 1);
}

static struct sigaction ctl_old;
static int ctl_installed;

/* Installs the control signal's handler (windows mode).  -1 when the
 * program already handles that signal itself (attach: refused). */
int rec_ctl_install(int refuse_taken)
{
    int sig = rec_g.cfg.ctl_signal;
    if (!sig || ctl_installed)
        return 0;
    struct sigaction sa, old;
    if (sigaction(sig, NULL, &old) != 0)
        return -1;
    if (refuse_taken && (old.sa_flags & SA_SIGINFO ? old.sa_sigaction != NULL
                                                   : old.sa_handler != SIG_DFL &&
                                                     old.sa_handler != SIG_IGN))
        return -1;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = ctl_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0)
        return -1;
    ctl_old = old;
    ctl_installed = 1;
    return 0;
}

void rec_ctl_uninstall(void)
{
    if (ctl_installed && sigaction(rec_g.cfg.ctl_signal, &ctl_old, NULL) == 0)
        ctl_installed = 0;
}

/* This image's trace file for window window_n. */
static int window_path(char *out, size_t len)
{
    char pat[4096], pat2[4200];
    rec_trace_path(&rec_g.cfg, rec_g.pid, pat, sizeof pat);
    const char *use = pat;
    if (rec_config_windows(&rec_g.cfg) && window_n >= 2 && !rec_name_has(pat, 'n')) {
        size_t n = strlen(pat);
        int ext = n > 4 && !strcmp(pat + n - 4, ".hkt");
        snprintf(pat2, sizeof pat2, "%.*s.w%%n%s", (int)(ext ? n - 4 : n), pat, ext ? ".hkt" : "");
        use = pat2;
    }
    struct utsname u;
    const char *host = uname(&u) == 0 ? u.nodename : "";
    return rec_expand_name(use, (int)rec_g.pid, host, window_t, window_n, out, len);
}

/* Appends one line to the notify file (hak record -p waits on it). */
static void notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void notify(const char *fmt, ...)
{
    if (!rec_g.cfg.notify[0])
        return;
    char buf[4400];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    int fd = open(rec_g.cfg.notify, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return;
    if (write(fd, buf, (size_t)n) < 0) { /* hak record reports a window it never heard of */ }
    close(fd);
}

static void build_meta(hak_trace_meta *m, char **argv_store, size_t argv_max)
{
    memset(m, 0, sizeof *m);
    m->version = HAK_TRACE_VERSION;
    m->pid = getpid();
    m->ppid = getppid();
    m->start_wall_ns = hak_wall_ns();
    m->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
    m->ts_unit_ns = (uint32_t)rec_g.cfg.ts_unit_ns;
    char *p = meta_buf, *end = meta_buf + sizeof meta_buf;
    /* argv from /proc/self/cmdline: NUL-separated. */
    size_t n = read_small("/proc/self/cmdline", p, 8192);
    uint32_t argc = 0;
    for (size_t i = 0; i < n && argc < argv_max; ) {
        argv_store[argc++] = p + i;
        i += strlen(p + i) + 1;
    }
    p[n < 8192 ? n : 8191] = 0;
    m->argc = argc;
    m->argv = argv_store;
    p += n + 1;
    struct utsname u;
    if (uname(&u) == 0) {
        m->hostname = p;
        p += snprintf(p, (size_t)(end - p), "%s", u.nodename) + 1;
        m->kernel = p;
        p += snprintf(p, (size_t)(end - p), "%s", u.release) + 1;
    }
    char tmp[4096];
    size_t k = read_small("/sys/kernel/mm/transparent_hugepage/enabled", tmp, sizeof tmp - 1);
    tmp[k] = 0;
    char *a = strchr(tmp, '['), *b = a ? strchr(a, ']') : NULL;
    if (a && b) {
        m->thp_mode = p;
        p += snprintf(p, (size_t)(end - p), "%.*s", (int)(b - a - 1), a + 1) + 1;
    }
    k = read_small("/proc/cpuinfo", tmp, sizeof tmp - 1);
    tmp[k] = 0;
    char *mn = strstr(tmp, "model name");
    if (mn && (mn = strchr(mn, ':'))) {
        mn += 2;
        char *nl = strchr(mn, '\n');
        m->cpu_model = p;
        p += snprintf(p, (size_t)(end - p), "%.*s", nl ? (int)(nl - mn) : 0, mn) + 1;
    }
    m->recorder = "hak-record " HAK_VERSION;
    m->options = p;
    snprintf(p, (size_t)(end - p),
             "stacks=%d%s mmap=%d follow=%d ts_resolution=%lluns ts=%s top_pid=%d "
             "bootstrap_allocs=%llu%s%s%s%.0d%s",
             rec_g.cfg.stacks, rec_g.cfg.stacks_exact ? " stacks_exact=1" : "",
             rec_g.cfg.mmap, rec_g.cfg.follow,
             (unsigned long long)rec_g.cfg.ts_unit_ns,
             rec_g.cfg.ts_exact ? "exact" : "interpolated", (int)rec_g.cfg.top_pid,
             (unsigned long long)atomic_load(&rec_boot_allocs),
             rec_g.cfg.follow_names[0] ? " follow_names=" : "", rec_g.cfg.follow_names,
             /* a fork child inherits its parent's heap: its trace can free
              * blocks it never saw allocated */
             forked_from ? " forked_from=" : "", (int)forked_from, window_opts());
}

/* ---- failure --------------------------------------------------------------- */

/* Writer thread: a write failed.  Stop recording; keep the file readable. */
static void writer_failed(void)
{
    rec_jobs_stop();                  /* queued jobs give their blocks back */
    const char *why = tw ? hak_tw_error(tw) : "";
    /* the writer's own failure, or an encoder's (out of memory) */
    int reason = tw && hak_tw_failure(tw) ? hak_tw_failure(tw) : HAK_LOSS_OOM;
    rec_fail("cannot write trace %s: %s; recording stopped (trace so far is readable)",
             rec_g.path, *why ? why : "out of memory");
    atomic_store(&rec_g.state, REC_OFF);
    pthread_mutex_lock(&rec_g.pool_mu);
    rec_g.closed = 1;
    pthread_cond_broadcast(&rec_g.pool_cond);
    pthread_mutex_unlock(&rec_g.pool_mu);
    if (tw) {
        char d[320];
        snprintf(d, sizeof d, "recording stopped: %s; the process's later events were "
                 "not recorded", *why ? why : "out of memory");
        rec_loss_later(reason, 0, d);
        close_trace();
    }
}

/* ---- collecting ----------------------------------------------------------- */

typedef struct work {
    rec_thread *th;
    rec_block *fifo;                  /* detached full blocks */
    rec_block *part;                  /* current block, records [from, to) */
    uint32_t from, to;
    int exited;                       /* thread gone: write its exit event */
} work;

static work *works;                   /* [works_cap], writer thread only */
static size_t works_cap;

static int thread_gone(rec_thread *th)
{
    return syscall(SYS_tgkill, (long)getpid(), (long)th->ostid, 0) != 0 && errno == ESRCH;
}

/* Collects what each thread has for the writer (under the locks). */
static size_t collect(int partials, int final)
{
    size_t nw = 0;
    uint64_t now = hak_mono_ns();
    pthread_mutex_lock(&rec_g.threads_mu);
    rec_thread **link = &rec_g.threads;
    for (rec_thread *th = *link; th; th = *link) {
        if (nw == works_cap) {
            size_t cap = works_cap ? works_cap * 2 : 64;
            work *nwk = realloc(works, cap * sizeof *works);   /* unrecorded: busy */
            if (!nwk)
                break;
            works = nwk;
            works_cap = cap;
        }
        work *w = &works[nw];
        memset(w, 0, sizeof *w);
        w->th = th;
        int exited = !final && atomic_load(&th->exiting) && thread_gone(th);
        pthread_mutex_lock(&th->mu);
        w->fifo = th->fifo_head;
        th->fifo_head = th->fifo_tail = NULL;
        rec_block *cur = th->cur;
        if (partials || exited || final) {
            /* Partial flush only for threads that did not fill a block
             * since last time (or at the end): busy threads' blocks fill up
             * within 90 ms and make better-compressed whole chunks.  Nor
             * for one that is filling it fast (see REC_PARTIAL_FAST), while
             * its block is younger than REC_PARTIAL_MAX_NS. */
            uint32_t n = atomic_load_explicit(&cur->n, memory_order_acquire);
            int fast = th->seen == cur && n - th->seen_n >= REC_PARTIAL_FAST &&
                       now - cur->given_ns < REC_PARTIAL_MAX_NS;
            if (exited || final || (th->seen == cur && !fast)) {
                w->part = cur;
                w->from = cur->taken;
                w->to = n;
                REC_ASSERT(w->from <= w->to && w->to <= REC_BLOCK_SLOTS);
                cur->taken = w->to;
            }
            th->seen = cur;
            th->seen_n = n;
        }
        pthread_mutex_unlock(&th->mu);
        if (exited) {
            w->exited = 1;
            *link = th->next;         /* unlink: nobody refers to it any more */
            rec_thread_reaped();
        } else {
            link = &th->next;
        }
        if (w->fifo || (w->part && w->to > w->from) || w->exited)
            nw++;
    }
    pthread_mutex_unlock(&rec_g.threads_mu);
    return nw;
}

static int emit_sites(void)
{
    uint32_t n = rec_sites_count();
    if (n == sites_written)
        return 0;
    for (; sites_written < n; sites_written++) {
        uint32_t depth;
        const uint64_t *ips = rec_site_ips(sites_written, &depth);
        if (hak_tw_site(tw, sites_written, ips, depth) != 0)
            return -1;
    }
    return hak_tw_flush(tw);
}

static rec_job *job_new(rec_thread *th)
{
    rec_job *j = calloc(1, sizeof *j);   /* unrecorded: busy */
    if (j)
        j->th = th;
    return j;
}

/* Queues the collected records for the encoders (rec_jobs.c), each
 * thread's in seq order: full blocks, the partial block, the exit event.
 * -1 when out of memory (the blocks of the failed job go back unwritten). */
static int queue_works(size_t nw)
{
    int rc = 0;
    for (size_t i = 0; i < nw; i++) {
        work *w = &works[i];
        rec_thread *th = w->th;
        for (rec_block *b = w->fifo, *next; b; b = next) {
            next = b->next;
            rec_job *j = rc ? NULL : job_new(th);
            if (!j) {
                rec_block_unref(b);
                rc = -1;
                continue;
            }
            uint32_t n = atomic_load_explicit(&b->n, memory_order_acquire);
            j->block = b;             /* the owner's reference */
            j->s = b->slots + b->taken;
            j->n = n - b->taken;
            if (rec_g.free_sizes)
                rec_window_filter(b->slots + b->taken, j->n);
            rec_jobs_add(j);
        }
        if (!rc && w->part && w->to > w->from) {
            rec_job *j = job_new(th);
            if (!j)
                return -1;
            /* the thread may hand this block off and the writer turn it
             * into a full-block job before an encoder gets to this one:
             * hold it until then (rec_block_ref, rec_internal.h) */
            rec_block_ref(w->part);
            j->block = w->part;
            j->partial = 1;
            j->s = w->part->slots + w->from;
            j->n = w->to - w->from;
            if (rec_g.free_sizes)     /* slots [from, to) are the writer's now */
                rec_window_filter(w->part->slots + w->from, j->n);
            rec_jobs_add(j);
        }
        if (!rc && w->exited) {
            rec_job *j = job_new(th);
            if (!j)
                return -1;
            j->exit_event = 1;
            /* after the pass's clock sample: placed at the last sample, no
             * earlier than the thread's other events */
            j->exit_seq = atomic_fetch_add(&rec_g.seq, 1);
            if (rec_g.exact_ts) {
                j->exit_ts = rec_clock_to_ns(rec_clock_raw());   /* clamped when encoded */
            } else {
                uint64_t cursor = 0;
                rec_clock_seg sg;
                rec_clock_seg_find(j->exit_seq, &cursor, &sg);
                j->exit_ts = rec_clock_seg_ns(&sg, j->exit_seq);
            }
            rec_jobs_add(j);
        }
    }
    return rc;
}

static void rss_sample(void)
{
    /* opened and closed each time (50 times a second): a descriptor kept
     * open would be one more for the program to close or reuse (rec_fds.c) */
    char buf[128];
    size_t k = read_small("/proc/self/statm", buf, sizeof buf - 1);
    if (k == 0)
        return;
    buf[k] = 0;
    unsigned long long size = 0, res = 0;
    if (sscanf(buf, "%llu %llu", &size, &res) != 2)
        return;
    if (rss_n == sizeof rss_buf / sizeof *rss_buf)
        return;
    rss_buf[rss_n].ts_ns = rec_clock_now_ns();
    rss_buf[rss_n].rss_bytes = res * (uint64_t)sysconf(_SC_PAGESIZE);
    rss_n++;
}

static int rss_flush(void)
{
    if (!rss_n)
        return 0;
    int rc = hak_tw_rss(tw, rss_buf, rss_n);
    rss_n = 0;
    return rc;
}

/* ---- zstd level ------------------------------------------------------------ */

/* Unless HAKREC_ZSTD_LEVEL pins it, the level follows how busy the writer
 * is: a program that allocates slowly leaves the writer idle, and higher
 * levels then make its trace much smaller (a python3 run: 0.39 B/event at
 * level 3, 0.32 at 15) at no cost to the program, while a writer that
 * cannot keep up drops to the bottom, level 3.  Not above 12: level 15's
 * context is what the program's peak RSS catches of the encoder at work,
 * and 13-15 (btlazy2) nearly double it (zstd 1.5.4, an 80 KB column,
 * window log 17, tables 2^16: 0.83 MiB at 12, 1.56 at 15).  Re-encoding a
 * python3 recording (bench_recode, 22 chunks): 0.2519 -> 0.2590 B/event
 * (+2.8%), zstd 118 -> 66 ns/event, encoder peak 4568 -> 3784 KiB;
 * recorded, 7 interleaved rounds at load 12-14: extra peak RSS 8.33 ->
 * 7.64 MiB (medians), writer 421 -> 377 ns/event.  Not 1: since the token
 * mode of format 5, level 1 is no longer about as small on allocation-heavy
 * streams, and hardly faster (re-encoding recorded traces, bench_recode:
 * factor 0.450 B/event at 1, 0.406 at 3, zstd 6.4 vs 6.9-7.5 ns/event;
 * random_mixed 1.652 vs 1.634 at the same 5.6-6.1 ns); recorded under load
 * 9, 11 interleaved rounds: factor 0.421 -> 0.385 B/event at 1.64x vs
 * 1.65x, random_mixed 1.647 -> 1.632 at the same writer CPU.
 * Measured over LEVEL_NS windows of the writer's CPU time; a backlog of
 * full blocks or a program thread waiting for a block drops to the
 * bottom at once, so a burst after an idle phase is not written slowly. */
static const int level_ladder[] = {3, 6, 9, 12};
#define LADDER_TOP ((int)(sizeof level_ladder / sizeof *level_ladder) - 1)
static int level_step = 0;               /* the bottom until measured */
static uint64_t level_wall0, level_cpu0, level_waits0;

uint64_t rec_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void level_set(int step)
{
    if (step != level_step && hak_tw_set_level(tw, level_ladder[step]) == 0) {
        level_step = step;
        rec_jobs_set_level(level_ladder[step]);
    }
}

/* Before writing a pass with `full` full blocks queued. */
static void level_adapt(size_t full, uint64_t now)
{
    if (rec_g.cfg.level)
        return;                          /* pinned */
    pthread_mutex_lock(&rec_g.pool_mu);
    uint64_t waits = rec_g.backpressure_waits;
    pthread_mutex_unlock(&rec_g.pool_mu);
    if (full > 2 || waits != level_waits0) {
        level_waits0 = waits;
        level_set(0);
    }
    if (now - level_wall0 < LEVEL_NS)
        return;
    uint64_t cpu = rec_thread_cpu_ns();
    uint64_t busy_pct = (cpu - level_cpu0) * 100 / (now - level_wall0);
    if (busy_pct < 20 && level_step < LADDER_TOP)
        level_set(level_step + 1);
    else if (busy_pct > 50 && level_step > 0)
        level_set(level_step - 1);
    level_wall0 = now;
    level_cpu0 = cpu;
}

/* Writes what collect() gathered (nw works): first the sites their records
 * name and a clock sample above their seqs (rec_clock.c), since the
 * encoders may run the jobs at once; then the jobs.  -1 on a write error. */
static int write_collected(size_t nw, int final)
{
    size_t full = rec_jobs_behind();
    for (size_t i = 0; i < nw; i++)
        for (rec_block *b = works[i].fifo; b; b = b->next)
            full++;
    level_adapt(full, hak_mono_ns());
    rec_clock_sample();
    if (emit_sites() != 0 || queue_works(nw) != 0)
        return -1;
    if (rec_jobs_run(final) != 0)
        return -1;
    /* the guarded writer may have reopened the trace at a new number */
    int fd = hak_tw_fd(tw);
    if (fd != tw_fd && fd >= 0) {
        tw_fd = fd;
        rec_fd_own(fd);
    }
    /* Modules last: dl_iterate_phdr takes the loader's lock, and a program
     * thread inside dlopen may be waiting for the blocks just returned. */
    return rec_modules_emit(tw);
}

/* One writer pass; -1 on a write error. */
static int pass(int partials, int final)
{
    return write_collected(collect(partials, final), final);
}

/* ---- opening and closing windows --------------------------------------------- */

/* Opens this image's trace for the next window (window_n + 1).  busy must
 * be set; no encoder runs.  rebase: times start at 0 again (a window opened
 * while recording was off; a rotation keeps the clock, as encoders of the
 * previous window may still read its samples).  0 or -1. */
static int window_begin(int rebase)
{
    REC_ASSERT(!window_up && !tw);
    window_n++;
    window_t = time(NULL);
    if (window_path(rec_g.path, sizeof rec_g.path) != 0) {
        rec_fail("output name '%s' is too long for window %u; not recording",
                 rec_g.cfg.output, window_n);
        return -1;
    }
    if (rebase) {
        rec_clock_rebase();
        pthread_mutex_lock(&rec_g.threads_mu);
        for (rec_thread *th = rec_g.threads; th; th = th->next)
            th->last_ts = 0;
        pthread_mutex_unlock(&rec_g.threads_mu);
    }
    int fd = open(rec_g.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rec_fail("cannot create trace %s: %s; not recording", rec_g.path, strerror(errno));
        return -1;
    }
    fd = rec_fd_high(fd);             /* out of the program's way (rec_fds.c) */
    char *argv_store[256];
    hak_trace_meta m;
    build_meta(&m, argv_store, 256);
    char err[256];
    tw = hak_tw_open_fd(fd, &m, err, sizeof err);
    if (!tw) {
        rec_fail("cannot write trace %s: %s; not recording", rec_g.path, err);
        close(fd);
        return -1;
    }
    tw_fd = fd;
    /* every write checks the descriptor is still the trace's (raw close or
     * dup2 system calls that rec_fds.c cannot see) */
    hak_tw_guard(tw, rec_g.path, rec_fd_floor());
    rec_fd_own(fd);
    rec_jobs_start(tw);
    level_step = 0;
    level_wall0 = hak_mono_ns();
    level_cpu0 = writer_started ? rec_thread_cpu_ns() : 0;
    level_waits0 = rec_g.backpressure_waits;
    hak_tw_set_level(tw, rec_g.cfg.level ? rec_g.cfg.level : level_ladder[level_step]);
    rec_jobs_set_level(rec_g.cfg.level ? rec_g.cfg.level : level_ladder[level_step]);
    sites_written = 1;                /* every window's file names its own sites */
    rss_n = 0;
    rec_heap_reset();
    rec_modules_reset();
    rec_window_reset();
    window_up = 1;
    notify("opened %s", rec_g.path);
    return 0;
}

/* Writer thread: the open window's last records are written; closes its
 * file. */
static void window_close_file(void)
{
    rec_jobs_stop();
    rss_sample();
    rec_heap_sample(1);
    if (rec_g.cfg.verbose) {
        pthread_mutex_lock(&rec_g.pool_mu);
        uint64_t waits = rec_g.backpressure_waits;
        unsigned blocks = rec_g.pool_blocks;
        pthread_mutex_unlock(&rec_g.pool_mu);
        uint64_t ev = hak_tw_nevents(tw), bytes = hak_tw_bytes(tw);
        uint64_t helped, helper_ns;
        rec_jobs_helper_stats(&helped, &helper_ns);
        /* what recording cost besides the program's own threads */
        double cpu_ms = (double)(rec_thread_cpu_ns() + helper_ns) / 1e6;
        verbose_note("%s: %llu events, %llu bytes so far (%.3f B/event); %u call sites, "
                 "%llu unwinds; helper encoder: %llu chunks; program waited for a block "
                 "%llu times; zstd level %d; writer and helper CPU %.1f ms (%.1f ns/event); "
                 "%u event blocks, %.1f MiB resident in the recorder's mappings (peak %.1f, "
                 "arena %.1f MiB used)",
                 rec_g.path, (unsigned long long)ev, (unsigned long long)bytes,
                 ev ? (double)bytes / (double)ev : 0.0, rec_sites_count() - 1,
                 (unsigned long long)rec_stacks_unwinds(), (unsigned long long)helped,
                 (unsigned long long)waits,
                 rec_g.cfg.level ? rec_g.cfg.level : level_ladder[level_step],
                 cpu_ms, ev ? cpu_ms * 1e6 / (double)ev : 0.0, blocks,
                 (double)rec_own_resident() / 1048576.0, (double)rec_own_peak() / 1048576.0,
                 (double)rec_arena_used() / 1048576.0);
    }
    uint64_t ev = hak_tw_nevents(tw);
    int frc = rss_flush();
    frc |= rec_heap_flush(tw);
    if (close_trace() != 0 || frc != 0)
        rec_fail("cannot finish trace %s; recording stopped", rec_g.path);
    window_up = 0;
    notify("closed %s %llu", rec_g.path, (unsigned long long)ev);
}

/* Writer thread: ends the open window while the process goes on.  Calls
 * arriving meanwhile wait (REC_SWITCHING); once every thread's records are
 * collected the state becomes `next` (REC_ON for a rotation: the program
 * goes on into its blocks, which the next window collects), then the
 * window's file is written and closed.  -1 on a write error. */
static int window_end(int next)
{
    REC_ASSERT(window_up);
    int st = REC_ON;
    if (!atomic_compare_exchange_strong(&rec_g.state, &st, REC_SWITCHING))
        return 0;                     /* stopping: the final pass closes it */
    /* Calls already past the state test finish their record in
     * nanoseconds; one preempted longer lands in the next window, which
     * is still right (see above). */
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
    size_t nw = collect(0, 1);
    atomic_store(&rec_g.state, next);
    if (write_collected(nw, 1) != 0)
        return -1;
    window_close_file();
    return 0;
}

/* An attached recording whose window closed detaches: the GOTs and the
 * signal's handler are put back and the writer ends (rec_attach.c). */
static int detached;

static void detach(void)
{
    if (!rec_g.cfg.attached)
        return;
    rec_attach_undo();
    rec_ctl_uninstall();
    detached = 1;
}

static void writer_name(void)
{
    /* hak record --start/--stop wait for the name to change */
    pthread_setname_np(pthread_self(), window_up || !rec_config_windows(&rec_g.cfg)
                                       ? "hakrec-writer" : "hakrec-off");
}

/* Writer thread: the control signal's requests.  -1 on a write error. */
static int control(int stop)
{
    int ex = atomic_exchange(&ctl_explicit, 0);
    int tg = atomic_exchange(&ctl_toggles, 0);
    if ((!ex && !tg) || stop)
        return 0;
    int want = window_up;
    if (ex)
        want = ex == REC_CTL_START;
    if (tg)
        want = !want;
    if (want && !window_up) {
        if (window_begin(1) != 0)
            return 0;                 /* said so; stays off */
        int st = REC_PAUSED;
        atomic_compare_exchange_strong(&rec_g.state, &st, REC_ON);
    } else if (!want && window_up) {
        if (window_end(REC_PAUSED) != 0)
            return -1;
        if (!window_up)
            detach();
    }
    writer_name();
    return 0;
}

/* After a pass: --max-size reached?  Rotate or pause.  -1 on a write
 * error. */
static int size_check(void)
{
    if (!rec_g.cfg.max_size || !window_up || hak_tw_bytes(tw) < rec_g.cfg.max_size)
        return 0;
    if (rec_g.cfg.rotate) {
        if (window_end(REC_ON) != 0)
            return -1;
        if (window_up)
            return 0;                 /* the process is exiting: the final pass closes it */
        if (window_begin(0) != 0) {
            atomic_store(&rec_g.state, REC_PAUSED);
            writer_name();
        }
        return 0;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s", rec_g.path);
    if (window_end(REC_PAUSED) != 0)
        return -1;
    if (window_up)
        return 0;                     /* exiting, as above */
    writer_name();
    detach();
    if (detached)
        note("%s reached --max-size (%llu bytes): recording stopped, detached", path,
             (unsigned long long)rec_g.cfg.max_size);
    else
        note("%s reached --max-size (%llu bytes): recording paused; hak record --start %d "
             "starts a new window", path, (unsigned long long)rec_g.cfg.max_size,
             (int)rec_g.pid);
    return 0;
}

#define IDLE_NS 20000000ull            /* paused: how often requests are looked at */

static void *writer_main(void *arg)
{
    (void)arg;
    rec_tls_v.busy = 1;               /* nothing this thread does is recorded */
    rec_exit_own_thread();
    writer_name();                    /* for top -H, perf, gdb */
    uint64_t last_partial = hak_mono_ns(), last_rss = 0, last_pass = 0;
    if (window_up) {
        rss_sample();
        rec_heap_sample(1);
    }
    for (;;) {
        pthread_mutex_lock(&rec_g.pool_mu);
        if (!work_pending && !atomic_load(&stop_req)) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += (long)(window_up ? WAKE_NS : IDLE_NS);
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&rec_g.work_cond, &rec_g.pool_mu, &ts);
        }
        int pending = work_pending;
        work_pending = 0;
        pthread_mutex_unlock(&rec_g.pool_mu);
        rec_jobs_idle();              /* an encoder idle for 30 ms gives back its memory */
        int stop = atomic_load(&stop_req);
        if (control(stop) != 0) {
            writer_failed();
            return NULL;
        }
        if (!window_up) {
            if (stop || detached)
                break;
            continue;
        }
        rec_heap_poll();              /* a heap sample at each new RSS high */
        uint64_t now = hak_mono_ns();
        if (!pending && !stop && now - last_pass < PASS_NS) {
            rec_clock_sample();      /* a pass takes its own, after collecting */
            continue;
        }
        last_pass = now;
        int partials = now - last_partial >= PARTIAL_NS;
        if (partials)
            last_partial = now;
        if (now - last_rss >= RSS_NS) {
            rss_sample();
            rec_heap_sample(0);
            last_rss = now;
        }
        if (pass(partials, stop) != 0 ||
            (partials && (rss_flush() != 0 || rec_heap_flush(tw) != 0 || hak_tw_flush(tw) != 0)) ||
            (!stop && size_check() != 0)) {
            writer_failed();
            return NULL;
        }
        if (stop)
            break;
    }
    if (window_up)
        window_close_file();
    notify(detached ? "detached" : "end");
    return NULL;
}

void rec_writer_wake(void)
{
    pthread_mutex_lock(&rec_g.pool_mu);
    work_pending = 1;
    pthread_cond_signal(&rec_g.work_cond);
    pthread_mutex_unlock(&rec_g.pool_mu);
}

/* ---- start, stop ------------------------------------------------------------- */

/* Opens this image's first window when recording is on (a paused one
 * opens later, on request) and starts the writer.  busy must be set. */
int rec_writer_start(void)
{
    if (writer_started)
        return 0;
    window_up = 0;
    if (atomic_load(&rec_g.state) == REC_ON &&
        window_begin(rec_g.cfg.start_off || rec_g.cfg.attached) != 0)
        return -1;
    atomic_store(&stop_req, 0);
    work_pending = 0;
    sigset_t all, old;
    sigfillset(&all);                 /* signals go to the program's threads */
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&writer_tid, NULL, writer_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        rec_fail("cannot start the writer thread: %s; not recording", strerror(rc));
        if (window_up) {
            rec_fd_forget();
            hak_tw_close(tw);
            tw = NULL;
            window_up = 0;
        }
        return -1;
    }
    writer_started = 1;
    pthread_mutex_lock(&rec_g.pool_mu);
    rec_g.writer_up = 1;
    pthread_mutex_unlock(&rec_g.pool_mu);
    return 0;
}

static void thread_key_dtor(void *arg)
{
    rec_thread *th = arg;
    /* Frees made after this (other TLS destructors, glibc's own teardown)
     * are still recorded into th; the writer notices when the thread is
     * really gone, flushes it and writes the exit event. */
    atomic_store(&th->exiting, 1);
    rec_writer_wake();
}

void rec_init(void)
{
    int expect = REC_UNINIT;
    if (!atomic_compare_exchange_strong(&rec_g.state, &expect, REC_INITIALIZING))
        return;
    int busy = rec_tls_v.busy;
    rec_tls_v.busy = 1;
    rec_resolve();
    if (!rec_preloaded()) {
        /* loaded by dlopen (hak record -p): nothing is bound to our
         * wrappers until hakrec_attach rewrites the GOTs (rec_attach.c) */
        rec_resolve_global();
        atomic_store(&rec_g.state, REC_PAUSED);
        rec_tls_v.busy = busy;
        return;
    }
    rec_arena_enable();               /* from here on our allocations are not the program's */
    rec_fds_init();
    rec_config_load(&rec_g.cfg);
    rec_g.pid = getpid();
    if (rec_g.cfg.top_pid == 0) {
        /* Preloaded by hand: this image is the top; tell children. */
        char b[24];
        snprintf(b, sizeof b, "%d", (int)rec_g.pid);
        setenv("HAKREC_TOP_PID", b, 1);
        rec_g.cfg.top_pid = rec_g.pid;
    }
    int on = rec_g.pid == rec_g.cfg.top_pid ||
             (rec_g.cfg.follow && rec_follows_self(&rec_g.cfg));
    if (on) {
        rec_g.exact_ts = rec_g.cfg.ts_exact;
        rec_clock_init();
        rec_seq_init();
        rec_threads_init();
        rec_stacks_init();
        if (pthread_key_create(&rec_g.key, thread_key_dtor) != 0)
            on = 0;
    }
    if (on && !atomic_exchange(&atfork_registered, 1))
        pthread_atfork(rec_atfork_prepare, rec_atfork_parent, rec_atfork_child);
    /* Switchable (--off, --signal): the control signal's handler; a
     * recording that starts off needs one to ever start. */
    if (on && rec_g.cfg.start_off && !rec_g.cfg.ctl_signal)
        rec_g.cfg.ctl_signal = SIGRTMIN + REC_DEFAULT_SIGNAL_RT;
    if (on && rec_g.cfg.ctl_signal && rec_ctl_install(0) != 0)
        rec_fail("cannot install the handler of the control signal %d: %s",
                 rec_g.cfg.ctl_signal, strerror(errno));
    rec_g.free_sizes = on && rec_config_windows(&rec_g.cfg);
    atomic_store(&rec_g.state, !on ? REC_OFF : rec_g.cfg.start_off ? REC_PAUSED : REC_ON);
    /* Before our constructor ran, the process may not be ready for threads:
     * events are buffered and the constructor starts the writer. */
    if (on && ctor_ran && rec_writer_start() != 0)
        atomic_store(&rec_g.state, REC_OFF);
    rec_tls_v.busy = busy;
}

__attribute__((constructor)) static void rec_ctor(void)
{
    rec_init();
    ctor_ran = 1;
    int st = atomic_load(&rec_g.state);
    if (st != REC_OFF && st != REC_UNINIT && rec_preloaded())
        rec_exit_watch();             /* a return from main, a vfork child's exit */
    if ((st == REC_ON || st == REC_PAUSED) && !writer_started && !rec_g.cfg.attached &&
        (st == REC_ON || rec_config_windows(&rec_g.cfg))) {
        int busy = rec_tls_v.busy;
        rec_tls_v.busy = 1;
        if (rec_writer_start() != 0) {
            atomic_store(&rec_g.state, REC_OFF);
            pthread_mutex_lock(&rec_g.pool_mu);
            rec_g.closed = 1;
            pthread_cond_broadcast(&rec_g.pool_cond);
            pthread_mutex_unlock(&rec_g.pool_mu);
        }
        rec_tls_v.busy = busy;
    }
}

/* ---- attach (rec_attach.c) ------------------------------------------------ */

static int attach_inited;

int rec_attach_init(char *cfg, char *err, size_t len)
{
    if (rec_resolve_global() != 0) {
        snprintf(err, len, "cannot find the process's malloc in its global scope");
        return -1;
    }
    rec_fds_init();
    rec_config_load_string(&rec_g.cfg, cfg);
    rec_g.cfg.attached = 1;
    rec_g.cfg.follow = 0;             /* children are not recorded */
    rec_g.cfg.start_off = 0;
    rec_g.pid = getpid();
    rec_g.cfg.top_pid = rec_g.pid;
    if (!rec_g.cfg.ctl_signal)
        rec_g.cfg.ctl_signal = SIGRTMIN + REC_DEFAULT_SIGNAL_RT;
    if (writer_started) {             /* the last attach's writer ended at its detach */
        pthread_join(writer_tid, NULL);
        writer_started = 0;
    }
    rec_g.exact_ts = rec_g.cfg.ts_exact;
    if (!attach_inited) {
        rec_clock_init();
        rec_seq_init();
        rec_threads_init();
        rec_stacks_init();
        if (pthread_key_create(&rec_g.key, thread_key_dtor) != 0) {
            snprintf(err, len, "pthread_key_create failed");
            return -1;
        }
        if (!atomic_exchange(&atfork_registered, 1))
            pthread_atfork(rec_atfork_prepare, rec_atfork_parent, rec_atfork_child);
        attach_inited = 1;
    }
    if (rec_ctl_install(1) != 0) {
        char name[32];
        rec_signal_name(rec_g.cfg.ctl_signal, name, sizeof name);
        snprintf(err, len, "the process handles signal %s itself; choose another control "
                 "signal with --signal", name);
        return -1;
    }
    detached = 0;
    window_n = 0;                     /* each attach's windows count from 1 */
    atomic_store(&stop_req, 0);
    atomic_store(&rec_g.stopping, 0);
    rec_g.closed = 0;
    rec_g.free_sizes = 1;
    atomic_store(&rec_g.state, REC_ON);
    ctor_ran = 1;
    if (rec_writer_start() != 0) {
        atomic_store(&rec_g.state, REC_PAUSED);
        rec_ctl_uninstall();
        snprintf(err, len, "could not start recording (its message is on the process's stderr)");
        return -1;
    }
    return 0;
}

void rec_attach_abort(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", rec_g.path);
    int st = REC_ON;
    atomic_compare_exchange_strong(&rec_g.state, &st, REC_PAUSED);
    atomic_store(&stop_req, 1);
    rec_writer_wake();
    pthread_join(writer_tid, NULL);
    writer_started = 0;
    rec_ctl_uninstall();
    unlink(path);
}

/* 1 while a thread runs rec_shutdown's flush (it goes back to 0 after, so
 * a writer started again after a failed exec can be shut down again). */
static _Atomic int shutting_down;

void rec_shutdown(const char *why)
{
    (void)why;
    /* A vfork child shares our memory but is not us: leave it alone. */
    if (!writer_started || getpid() != rec_g.pid)
        return;
    /* Called from a signal handler (exit/_exit in a handler) that
     * interrupted this thread inside the recorder: it may hold a recorder
     * lock, so flushing could deadlock.  Leave the trace as SIGKILL would
     * (readable, without the last ~100 ms). */
    if (rec_tls_v.busy)
        return;
    /* Single entry: a second thread getting here meanwhile (its _exit, or
     * exit handlers glibc let two threads run) would join the writer too
     * (EINVAL at once), return, and end the process under the first one's
     * final flush.  It waits for the first instead (sleeping: the first
     * one's exit wait does not wait for it).  Threads calling exit() at once
     * are held before the handlers (rec_exit_serialise). */
    int idle = 0;
    if (!atomic_compare_exchange_strong(&shutting_down, &idle, 1)) {
        while (atomic_load(&shutting_down)) {
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
        return;
    }
    if (!writer_started) {            /* it finished between the two tests */
        atomic_store(&shutting_down, 0);
        return;
    }
    int busy = rec_tls_v.busy;
    rec_tls_v.busy = 1;
    atomic_store(&rec_g.stopping, 1);
    /* ON or PAUSED -> OFF; a window being switched is let finish */
    for (;;) {
        int st = atomic_load(&rec_g.state);
        if (st == REC_SWITCHING) {
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
            continue;
        }
        if (st != REC_ON && st != REC_PAUSED)
            break;
        if (atomic_compare_exchange_strong(&rec_g.state, &st, REC_OFF))
            break;
    }
    rec_exit_settle();                /* threads still allocating show it (rec_exit.c) */
    atomic_store(&stop_req, 1);
    rec_writer_wake();
    pthread_join(writer_tid, NULL);
    writer_started = 0;
    pthread_mutex_lock(&rec_g.pool_mu);
    rec_g.closed = 1;
    pthread_cond_broadcast(&rec_g.pool_cond);
    pthread_mutex_unlock(&rec_g.pool_mu);
    rec_tls_v.busy = busy;
    atomic_store(&shutting_down, 0);
}

int rec_writer_flush_pending(void)
{
    return __atomic_load_n(&writer_started, __ATOMIC_ACQUIRE) || atomic_load(&shutting_down);
}

__attribute__((destructor)) static void rec_dtor(void)
{
    rec_shutdown("exit");
}

/* ---- fork ------------------------------------------------------------------ */

/* prepare took the recorder's locks: the state may change meanwhile (a
 * window closing), so parent and child go by this, not by the state.  It
 * takes none for a fork() from a signal handler that interrupted this
 * thread inside the recorder (which may hold a recorder lock): that child
 * is not recorded. */
static int fork_locked;

void rec_atfork_prepare(void)
{
    fork_locked = 0;
    if (atomic_load(&rec_g.state) != REC_ON || rec_tls_v.busy)
        return;
    /* Until fork returns, calls of this thread pass through unrecorded;
     * the other prepare handlers that run after this one are the
     * program's, so their allocations are not the recorder's either
     * (and the arena's lock may already be held for the fork). */
    rec_tls_v.busy = REC_BUSY_PASS;
    rec_stacks_atfork_prepare();
    rec_threads_atfork_prepare();
    fork_locked = 1;
}

void rec_atfork_parent(void)
{
    if (!fork_locked)
        return;
    rec_threads_atfork_parent();
    rec_stacks_atfork_parent();
    rec_tls_v.busy = 0;
}

void rec_atfork_child(void)
{
    if (!fork_locked) {
        /* not recording, paused, or forked from a handler: the child is
         * not recorded (the writer and its windows are the parent's) */
        int st = atomic_load(&rec_g.state);
        if (st != REC_UNINIT && st != REC_OFF)
            atomic_store(&rec_g.state, REC_OFF);
        writer_started = 0;
        return;
    }
    rec_tls_v.busy = 1;               /* the child's recorder starts: its own work */
    rec_exit_atfork_child();
    rec_exitpath_atfork_child();
    rec_stacks_atfork_child();
    rec_threads_atfork_child();
    rec_inflight_atfork_child();
    rec_jobs_atfork_child();
    forked_from = rec_g.pid;
    rec_g.pid = getpid();
    /* The parent's writer and its file are the parent's: close our copy
     * of the descriptor and never touch that writer again. */
    pthread_mutex_init(&tw_mu, NULL);
    rec_fd_forget();
    if (tw_fd >= 0)
        close(tw_fd);
    tw = NULL;
    tw_fd = -1;
    atomic_store(&nlosses, 0);        /* the parent's to state */
    atomic_store(&rec_g.lost_reentrant, 0);
    writer_started = 0;
    rec_g.writer_up = 0;
    sites_written = 1;
    rss_n = 0;
    rec_heap_reset();
    rec_modules_reset();
    window_n = 0;
    window_up = 0;
    atomic_store(&ctl_explicit, 0);
    atomic_store(&ctl_toggles, 0);
    atomic_store(&rec_g.state, REC_ON);   /* a window of the parent's may have been closing */
    /* a fork child runs its parent's program: recorded only if children
     * are and its name is followed (gcc's fork child before it execs cc1
     * is not; the cc1 image records itself in rec_init) */
    if (!rec_g.cfg.follow || !rec_follows_self(&rec_g.cfg)) {
        atomic_store(&rec_g.state, REC_OFF);
        rec_tls_v.busy = 0;
        return;
    }
    rec_clock_rebase();
    if (rec_writer_start() != 0) {
        atomic_store(&rec_g.state, REC_OFF);
        rec_g.closed = 1;
    } else if (rec_tls_v.th) {
        rec_thread *th = rec_tls_v.th;
        rec_emit(th, HAK_OP_THREAD_START, 0, 0, (uint64_t)th->ostid, 0, 0, 0);
    }
    rec_tls_v.busy = 0;
}
