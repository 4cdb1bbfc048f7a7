/* rec_internal.h - shared state of libhakrec.so, the LD_PRELOAD recorder.
 *
 * Data flow: an interposed call (rec_interpose.c) takes a global sequence
 * number and appends one fixed-size record to its thread's current block
 * (rec_thread.c).  Full blocks go to the thread's FIFO; the background writer
 * thread (rec_writer.c) drains the FIFOs, fills in the timestamps and hands
 * the blocks' records to the trace writer, which encodes, compresses and
 * appends chunks.
 *
 * Invariants:
 * - The hot path takes no lock and makes no syscall: TLS lookup, a seq
 *   (rec_seq.c: from the thread's batch; with several threads after a
 *   compare-and-swap on the address's clock), a
 *   lock-free call-site cache probe, a store of the record and a release
 *   store of the block's count.  No clock is read unless timestamps are
 *   exact (rec_clock.c).
 * - Only the owning thread writes records into its current block, and only
 *   at index n; it publishes them by a release store of n.  The writer reads
 *   records [taken, n) after an acquire load of n, so it can flush a partial
 *   block without stopping the owner.  Changing th->cur and the FIFO happens
 *   under th->mu (owner: once per block; writer: once per pass).
 * - Memory is bounded: blocks come from a pool with a fixed limit; when it is
 *   empty the program thread waits for the writer (events are never dropped
 *   while recording).
 * - Everything the recorder itself allocates runs with the thread's `busy`
 *   guard set, so it is unrecorded, and served by the recorder's arena
 *   (rec_arena.c), not by the allocator being recorded.
 * - The recorder's own memory (blocks, thread records, site tables) comes
 *   from mmap, never from the allocator being recorded.
 */
#ifndef HAK_REC_INTERNAL_H
#define HAK_REC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rec_config.h"
#include "trace.h"

#define REC_HIDDEN __attribute__((visibility("hidden")))

/* The top `bits` bits of a Fibonacci hash of x: an index into a table of
 * 2^bits slots (addresses, return addresses, call-site keys). */
static inline uint32_t rec_hash_bits(uint64_t x, unsigned bits)
{
    return (uint32_t)((x * 0x9E3779B97F4A7C15ull) >> (64 - bits));
}
#define REC_LIKELY(x)   __builtin_expect(!!(x), 1)
#define REC_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Internal checks: compiled in debug builds (-DHAK_DEBUG=1: `make debug`,
 * the recorder's debug library in make check), nothing otherwise.  A
 * failed check writes one line naming the file, line and condition and
 * aborts: the recorder's invariants (rec_internal.h header comment) are
 * cheaper to state as checks than to debug from a damaged trace. */
#if defined(HAK_DEBUG) && HAK_DEBUG
REC_HIDDEN void rec_assert_fail(const char *cond, const char *file, int line)
    __attribute__((noreturn, cold));
#define REC_ASSERT(c) (REC_LIKELY(c) ? (void)0 : rec_assert_fail(#c, __FILE__, __LINE__))
#else
#define REC_ASSERT(c) ((void)0)
#endif

/* ---- configuration (rec_config.c) ---------------------------------------- */

typedef struct rec_config {
    char     output[4096];   /* trace path of the top process (HAKREC_OUTPUT) */
    int      stacks;         /* frames per call site, 0 = off (HAKREC_STACKS) */
    int      stacks_exact;   /* unwind every call instead of caching (HAKREC_STACKS_EXACT) */
    int      stacks_verify;  /* test aid: check every stack against libunwind (HAKREC_STACKS_VERIFY) */
    int      mmap;           /* record mmap/munmap/mremap (HAKREC_MMAP) */
    int      follow;         /* record forked and exec'd children (HAKREC_FOLLOW) */
    /* HAKREC_FOLLOW_NAMES: comma-separated program names; when set, only
     * children whose executable's base name (or comm) is one of them are
     * recorded (the top process always is).  "" = every child. */
    char     follow_names[1024];
    uint64_t ts_unit_ns;     /* timestamp unit stored (HAKREC_TS_RESOLUTION) */
    int      ts_exact;       /* read the clock per event: a unit below 1 ms asked for */
    int      quiet;          /* no stderr notes except errors (HAKREC_QUIET) */
    int      level;          /* zstd level 1..19, 0 = auto (HAKREC_ZSTD_LEVEL) */
    int      discard;        /* benchmarking aid: drop events in the writer (HAKREC_DISCARD) */
    int      encoders;       /* 1 or 2 threads encoding chunks (HAKREC_ENCODERS) */
    int      verbose;        /* a summary line per process at the end (HAKREC_VERBOSE) */
    pid_t    top_pid;        /* HAKREC_TOP_PID: pid of the first recorded image */
    /* Test aid (HAKREC_TEST_HELPER_DELAY_US): the helper encoder starts with
     * the first job and sleeps this long before each partial-block job it
     * takes, as a starved nice-19 thread on a loaded machine may (the case
     * where a partial job once read a block already recycled). */
    unsigned test_helper_delay_us;
    /* Windows (README, "Recording a running service"): start with
     * recording off (HAKREC_OFF); the signal that switches it (HAKREC_SIGNAL,
     * 0 = none); stop or rotate at this many bytes (HAKREC_MAX_SIZE,
     * HAKREC_ROTATE); a file told about every window closed (HAKREC_NOTIFY,
     * hak record -p); attached to a running process (rec_attach.c). */
    int      start_off;
    int      ctl_signal;
    uint64_t max_size;
    int      rotate;
    char     notify[1024];
    int      attached;
} rec_config;

/* From the environment, warning once about unknown HAKREC_* variables and
 * values the table refuses (rec_config.c). */
REC_HIDDEN void rec_config_load(rec_config *c);
/* The same from "NAME=VALUE" lines (hak record -p); s is cut up. */
REC_HIDDEN void rec_config_load_string(rec_config *c, char *s);
/* Can recording start and stop while the process runs (so each window
 * gets a file, and frees carry the sizes of blocks allocated before)? */
REC_HIDDEN int rec_config_windows(const rec_config *c);
/* Should this image record, as a child, by HAKREC_FOLLOW_NAMES?  No
 * allocation (runs in the first interposed call). */
REC_HIDDEN int rec_follows_self(const rec_config *c);
/* Path of this image's trace: the top file for the top pid, else
 * STEM.PID.hkt. */
REC_HIDDEN void rec_trace_path(const rec_config *c, pid_t pid, char *out, size_t len);

/* ---- records and blocks (rec_thread.c) ------------------------------------ */

/* Blocks hold compact records: 32 bytes for the common events (malloc,
 * free) instead of the 72-byte hak_event, because the hot path's cost is
 * mostly the memory it writes and the writer's is mostly what it reads
 * back from the other core.  An event whose op carries more (realloc's
 * input, calloc's nmemb, an alignment, an errno, a raw clock reading)
 * takes a second slot, a rec_ext.  The writer expands a block into
 * hak_events just before encoding it.  Slots [taken, n) are never touched
 * by the owner again; n only moves by whole records. */
#define REC_BLOCK_SLOTS 65536u    /* 2 MiB per block; at most one trace chunk */

typedef struct rec_rec {
    uint64_t seq;
    uint64_t ptr;                 /* out_ptr of allocating ops, else in_ptr */
    uint64_t size;
    uint32_t site;
    uint8_t  op;
    uint8_t  ext;                 /* 1: the next slot is this event's rec_ext */
    uint16_t pad;
} rec_rec;

typedef struct rec_ext {
    uint64_t in_ptr;              /* realloc, reallocarray, mremap input */
    uint64_t aux;                 /* nmemb or alignment (see rec_emit) */
    uint64_t ts_raw;              /* exact-timestamp mode: raw clock reading */
    int32_t  err;
    uint32_t pad;
} rec_ext;

typedef union rec_slot { rec_rec r; rec_ext x; } rec_slot;
_Static_assert(sizeof(rec_slot) == 32, "records are half a cache line");

/* Ownership: a block is the pool's, or its thread's (as current block, then
 * in its FIFO) until the writer turns it into a full-block job.  Every
 * encoding job that reads a block's slots holds one reference: the owner's
 * (a full-block job inherits it) plus one per partial job (the published
 * part of a block its thread is still filling).  The block goes back to the
 * pool when the last reference is dropped, never earlier: a partial job
 * that a starved encoder takes late must not read slots its thread has
 * already rewritten in the block's next life (rec_block_unref). */
typedef struct rec_block {
    struct rec_block *next;       /* FIFO / pool link */
    _Atomic uint32_t n;           /* slots written; owner stores with release */
    uint32_t taken;               /* slots already handed to the writer */
    _Atomic uint32_t refs;        /* owner + unencoded partial jobs (see above) */
    uint32_t fill_ms1;            /* ms its thread took to fill it, + 1 (0: not full yet) */
    uint64_t given_ns;            /* when the pool last gave it to a thread */
    rec_slot slots[REC_BLOCK_SLOTS];
} rec_block;
/* a slot never straddles two cache lines (blocks are page-aligned) */
_Static_assert(offsetof(rec_block, slots) % sizeof(rec_slot) == 0, "slot alignment");

#define REC_FRAME_CACHE 256        /* per-thread frame steps (48 bytes each) */
#define REC_RULE_CACHE 256         /* per-thread unwind rules (16 bytes each) */

/* How a thread's stack walk stepped out of a frame (rec_stacks.c): the
 * frame with return address ip, entered with RSP sp (and RBP rbp_in,
 * where rbp_mask is ~0: the rule reads RBP), has its CFA at cfa (0: the
 * outermost frame) and the caller's RBP saved at rbp_at (0: unchanged). */
typedef struct rec_walk_frame { uintptr_t ip, sp, rbp_in, rbp_mask, cfa, rbp_at; } rec_walk_frame;

typedef struct rec_thread {
    /* The owner's hot fields first: the single-thread path reads only the
     * first cache line (rec_thread is mmap'd, so page-aligned). */
    rec_block *cur;               /* owner appends here */
    uint32_t last_site;           /* owner: site of the previous stack walk ... */
    uint32_t walk_n;              /* ... and its frames (0: none to compare) */
    uint64_t seq_next, seq_end;   /* owner: its batch of seqs (rec_seq.c) ... */
    uint64_t seq_gen;             /* ... good while rec_g.seq_gen equals this */
    uint64_t shared_gen;          /* owner, shared mode: the batch's generation */
    /* Owner: 1 from before an interposed call tests the state until its
     * record is published (rec_enter, fast_thread); rec_exit.c waits for
     * it at exit, so that no record lands after the final collection. */
    _Atomic uint32_t in_call;
    uint32_t tid;                 /* dense index, 0 = first thread */
    pid_t    ostid;

    struct rec_thread *next;      /* g.threads list (under g.threads_mu) */
    pthread_mutex_t mu;           /* guards cur, fifo_* against the writer */
    rec_block *fifo_head, *fifo_tail;  /* full blocks awaiting the writer */
    _Atomic int exiting;          /* its pthread key destructor ran */
    _Atomic uint32_t lost_after_stop;  /* it made calls after recording stopped at exit */
    rec_block *seen;              /* writer: cur at the previous partial flush ... */
    uint32_t seen_n;              /* ... and its records then */
    uint64_t last_ts;             /* encoder, exact-ts mode: last ts (monotonic clamp) */
    uint64_t ts_cursor;           /* encoders: clock sample hint (relaxed atomics) */
    uintptr_t stack_lo, stack_top;  /* this thread's stack, for rec_site */
    /* owner (rec_stacks.c): the previous walk's return addresses,
     * innermost first; a direct-mapped cache of frame steps by (return
     * address, RSP) and one of unwind rules by return address.  Valid
     * while walk_gen equals the global rule generation. */
    uint64_t walk_ip[REC_MAX_DEPTH];
    uint32_t walk_gen;
    rec_walk_frame frame_cache[REC_FRAME_CACHE];
    struct { uint64_t ip; uint32_t rule, pad; } rule_cache[REC_RULE_CACHE];
} rec_thread;

/* Per-thread TLS state.  initial-exec: no allocation on first access.
 *
 * busy says what the thread is doing inside the recorder, for a call that
 * arrives meanwhile (which passes through unrecorded either way):
 *   0              not in the recorder: the call is recorded;
 *   1              the recorder's own work (its threads, dlsym, registering
 *                  a thread, ...): allocations the recorder makes for
 *                  itself, rightly unrecorded;
 *   REC_BUSY_CALL  inside an interposed call of the program's (the real
 *                  call and the event's record): a call arriving now can
 *                  only come from a signal handler that interrupted it, so
 *                  it is counted as lost (rec_g.lost_reentrant; the trace
 *                  says so, traces/FORMAT.md reason 7).  The record being
 *                  written cannot safely take a second one meanwhile. */
#define REC_BUSY_CALL 2
/*   REC_BUSY_PASS  the recorder passes a call of the program's on to the
 *                  real allocator itself (glibc's reallocarray calling
 *                  realloc, fork's prepare handlers): unrecorded, but the
 *                  program's memory, not the recorder's (rec_arena.c). */
#define REC_BUSY_PASS 3
typedef struct rec_tls {
    int busy;                     /* reentrancy guard, see above */
    rec_thread *th;
    uint32_t creator_plus1;       /* dense tid + 1 of the thread that created us */
    int unwinding;                /* inside libunwind for this thread's call: its
                                     own mmaps are not the program's (--mmap) */
} rec_tls;
extern __thread rec_tls rec_tls_v __attribute__((tls_model("initial-exec"))) REC_HIDDEN;

REC_HIDDEN rec_thread *rec_thread_register(void);
/* The writer reaped an exited thread: its share of the pool limit goes. */
REC_HIDDEN void rec_thread_reaped(void);
/* Slow path of rec_emit: current block full. */
REC_HIDDEN void rec_block_handoff(rec_thread *th);
REC_HIDDEN rec_block *rec_pool_get(void);       /* may wait (backpressure); refs = 1 */
REC_HIDDEN void rec_pool_put(rec_block *b);
/* A partial job takes a reference; every job drops its own when its slots
 * were encoded (or skipped); the last one returns the block to the pool. */
static inline void rec_block_ref(rec_block *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}
static inline void rec_block_unref(rec_block *b)
{
    uint32_t had = atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel);
    REC_ASSERT(had >= 1);             /* a reference dropped twice */
    if (had == 1)
        rec_pool_put(b);
}
REC_HIDDEN void rec_threads_init(void);
REC_HIDDEN void rec_threads_atfork_prepare(void);
REC_HIDDEN void rec_threads_atfork_parent(void);
REC_HIDDEN void rec_threads_atfork_child(void);
/* rec_exit.c: at exit, once recording is off, wait (boundedly) until every
 * other recorded thread that is still running has shown whether it
 * allocates (then its lost calls are counted) or not. */
REC_HIDDEN void rec_exit_settle(void);
/* rec_exitpath.c: every exit gets the final flush (see there) */
REC_HIDDEN void rec_exit_serialise(void);     /* a thread begins exit: the first goes, the rest wait */
REC_HIDDEN void rec_exit_watch(void);         /* constructor, main thread: count a return from main */
REC_HIDDEN void rec_exitpath_atfork_child(void);
REC_HIDDEN int rec_writer_flush_pending(void); /* the writer runs, or its final flush (rec_writer.c) */
REC_HIDDEN void rec_exit_own_thread(void);   /* the writer and the helper, at their start */
REC_HIDDEN void rec_exit_atfork_child(void);  /* the parent's recorder threads are not ours */

/* ---- global state ---------------------------------------------------------- */

/* REC_OFF: not recording, for good (this image is not followed, or it is
 * exiting).  REC_PAUSED: not recording now, but a window may open later
 * (switchable recordings, and the library loaded by hak record -p before
 * it attaches).  REC_SWITCHING: a window is being closed; interposed calls
 * wait for it (rec_writer.c, "windows"). */
enum { REC_UNINIT = 0, REC_INITIALIZING, REC_ON, REC_OFF, REC_PAUSED, REC_SWITCHING };

typedef struct rec_global {
    /* What every event reads, together on the first cache line. */
    _Atomic int state;
    _Atomic int inflight;         /* reallocs/mremaps whose old block may move */
    _Atomic uint64_t seq_gen;     /* rec_seq.c: clock-sample epoch << 1 | shared */
    int exact_ts;                 /* read the clock per event (fine resolutions) */
    /* Window mode: frees and reallocs record the block's usable size, for
     * blocks allocated before the window (rec_window.c). */
    int free_sizes;
    /* On a line of its own: every new batch writes it, and while it shared
     * the line above, each batch one thread took cost the others a miss
     * (two threads: about 15% of the hot path). */
    _Alignas(64) _Atomic uint64_t seq;
    _Alignas(64) _Atomic uint64_t *seq_clock;  /* shared mode: [1 << REC_SEQ_CLOCK_BITS], rec_seq.c */
    _Atomic uint32_t next_tid;
    _Atomic uintptr_t inflight_ptr[64];
    rec_config cfg;
    pid_t pid;                    /* pid of this image's recording */
    char path[4096];              /* this image's trace file */

    pthread_mutex_t threads_mu;   /* guards threads list */
    rec_thread *threads;

    pthread_mutex_t pool_mu;      /* guards pool, pool counters */
    pthread_cond_t pool_cond;     /* a block was returned */
    pthread_cond_t work_cond;     /* writer: there is work */
    rec_block *pool;
    unsigned pool_blocks, pool_limit;
    unsigned pool_threads;        /* threads registered and not yet reaped */
    int closed;                   /* writer gone: waiters drop their events */
    /* Calls not recorded, stated as losses when the trace is closed: made
     * after recording stopped at exit (by threads still running), and made
     * by a signal handler that interrupted an interposed call. */
    _Atomic int stopping;         /* rec_shutdown began */
    _Atomic uint64_t lost_after_stop, lost_reentrant;
    int writer_up;                /* writer thread running */
    uint64_t backpressure_waits;

    pthread_key_t key;            /* destructor marks a thread as exiting */
} rec_global;
extern rec_global rec_g REC_HIDDEN;

/* ---- clock (rec_clock.c) ------------------------------------------------- */

REC_HIDDEN void rec_clock_init(void);
REC_HIDDEN uint64_t rec_clock_mono(void);
REC_HIDDEN uint64_t rec_clock_to_ns(uint64_t raw);   /* writer side */
REC_HIDDEN void rec_clock_rebase(void);
/* Seq-interpolated time (default mode): the writer samples (next seq, now)
 * about every millisecond; an event's time is interpolated between the
 * samples around its seq.  A segment gives the times of seqs in
 * [seq0, seq1); cursor: per-thread search hint. */
REC_HIDDEN void rec_clock_sample(void);
typedef struct rec_clock_seg { uint64_t seq0, seq1, ns0, slope; } rec_clock_seg;
REC_HIDDEN void rec_clock_seg_find(uint64_t seq, uint64_t *cursor, rec_clock_seg *sg);
static inline uint64_t rec_clock_seg_ns(const rec_clock_seg *sg, uint64_t seq)
{
    return sg->ns0 + (uint64_t)(((unsigned __int128)(seq - sg->seq0) * sg->slope) >> 24);
}
REC_HIDDEN uint64_t rec_clock_now_ns(void);     /* ns since start, writer side */
/* rec_heap.c: heap-only RSS samples (trace chunk kind 6) and the naming
 * of the recorder's own mappings ([anon:hakrec]) so they are not heap. */
REC_HIDDEN void rec_own(void *p, size_t len);
REC_HIDDEN void rec_unmap_own(void *p, size_t len);   /* munmap of a rec_own'd mapping */
REC_HIDDEN uint64_t rec_own_resident(void);  /* resident bytes of the rec_own'd mappings */
REC_HIDDEN uint64_t rec_own_peak(void);      /* the most of it a heap sample saw */
/* Around giving back pages of a registered mapping (MADV_DONTNEED): not
 * during a heap sample (rec_heap.c). */
REC_HIDDEN void rec_own_shrink_begin(void);
REC_HIDDEN void rec_own_shrink_end(void);
REC_HIDDEN void rec_heap_sample(int force);     /* force: ignore the rate limit */
/* At each writer wake: a sample when the RSS high-water mark has reached
 * a new high (rec_heap.c); rec_heap_is_high is its rule, in KiB. */
REC_HIDDEN void rec_heap_poll(void);
REC_HIDDEN int rec_heap_is_high(uint64_t last_kb, uint64_t now_kb);
REC_HIDDEN int rec_heap_flush(hak_trace_writer *tw);
REC_HIDDEN void rec_heap_reset(void);           /* a fork child starts afresh */

/* rec_arena.c: the recorder's own allocator, for what it mallocs while
 * busy == 1 or inside libunwind (zstd, the encoder, jobs, libc on its
 * threads' behalf), so that none of it counts as the program's heap.  One
 * reserved range: before rec_arena_enable the base is a sentinel that no
 * user pointer matches. */
#define ARENA_SPAN     ((size_t)256 << 20)
#define ARENA_SENTINEL ((uintptr_t)0 - ARENA_SPAN - 1)
REC_HIDDEN extern uintptr_t rec_arena_base;
REC_HIDDEN extern int rec_arena_on;
static inline int rec_arena_has(const void *p)
{
    return (uintptr_t)p - rec_arena_base < ARENA_SPAN;
}
/* A call the arena serves: the recorder's own work (see rec_tls.busy). */
static inline int rec_arena_mine(int busy, int unwinding)
{
    return REC_UNLIKELY(rec_arena_on) && (busy == 1 || unwinding);
}
REC_HIDDEN void rec_arena_enable(void);         /* preloaded only: see rec_arena.c */
REC_HIDDEN void *rec_arena_alloc(size_t n, size_t align, int zero);
REC_HIDDEN void rec_arena_free(void *p);
REC_HIDDEN void *rec_arena_realloc(void *p, size_t n);
REC_HIDDEN size_t rec_arena_usable(const void *p);
REC_HIDDEN uint64_t rec_arena_used(void);       /* the most bytes of the range ever in use */
REC_HIDDEN int rec_arena_room(void);            /* not full: a fresh block may come from it */
REC_HIDDEN extern int rec_clock_tsc;
static inline uint64_t rec_clock_raw(void)
{
#if defined(__x86_64__)
    if (REC_LIKELY(rec_clock_tsc)) {
        uint32_t lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        return (uint64_t)hi << 32 | lo;
    }
#endif
    return rec_clock_mono();
}

/* ---- call sites (rec_stacks.c) -------------------------------------------- */

REC_HIDDEN void rec_stacks_init(void);
/* Sites [from, count) for the writer; returns count. */
REC_HIDDEN uint32_t rec_sites_count(void);
REC_HIDDEN uint64_t rec_stacks_unwinds(void);      /* libunwind calls so far */
REC_HIDDEN const uint64_t *rec_site_ips(uint32_t id, uint32_t *depth);
REC_HIDDEN void rec_stacks_atfork_prepare(void);
REC_HIDDEN void rec_stacks_atfork_parent(void);
REC_HIDDEN void rec_stacks_atfork_child(void);

/* Call-site id for the current event.  ra = return address into the
 * program, fp = the interposed function's frame address (its caller's
 * RBP is saved at fp, ra at fp + 8).  The stack is walked exactly, frame
 * by frame, with the program's own unwind tables (rec_cfi.h), so the site
 * is what a full unwind gives; what the walk cannot step through goes to
 * libunwind (rec_stacks.c). */
REC_HIDDEN uint32_t rec_site(rec_thread *th, uintptr_t ra, uintptr_t fp);

/* ---- modules (rec_modules.c) ------------------------------------------------ */

/* Writes modules not yet written to w; cheap when nothing was loaded. */
REC_HIDDEN int rec_modules_emit(hak_trace_writer *w);
REC_HIDDEN void rec_modules_reset(void);

/* ---- writer thread and lifecycle (rec_writer.c) --------------------------- */

REC_HIDDEN void rec_init(void);            /* idempotent; called on first use */
REC_HIDDEN int rec_writer_start(void);     /* opens the trace, starts the thread */
REC_HIDDEN void rec_shutdown(const char *why);   /* flush everything, close */
REC_HIDDEN void rec_writer_wake(void);
/* The control signal (HAKREC_SIGNAL) of a switchable recording: a plain
 * kill toggles recording, sigqueue with REC_CTL_START/STOP says which.
 * refuse_taken: fail when the program handles that signal itself. */
REC_HIDDEN int rec_ctl_install(int refuse_taken);
REC_HIDDEN void rec_ctl_uninstall(void);
/* The writer's set of blocks allocated in the current window (rec_window.c). */
REC_HIDDEN void rec_window_reset(void);
/* Writer thread, window mode, before records are queued: drops the block
 * size a free or realloc carries when the window allocated the block. */
REC_HIDDEN void rec_window_filter(rec_slot *s, uint32_t n);
REC_HIDDEN uint64_t rec_thread_cpu_ns(void);   /* the calling thread's CPU time */
REC_HIDDEN void rec_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
REC_HIDDEN void rec_atfork_prepare(void);
REC_HIDDEN void rec_atfork_parent(void);
REC_HIDDEN void rec_atfork_child(void);

/* Losses the trace must state (rec_writer.c): written as loss records
 * (traces/FORMAT.md) before the trace is closed, so a trace that lost
 * events never reads as complete.  rec_loss_later queues one from any
 * thread (at most REC_LOSSES_PENDING; no allocation). */
#define REC_LOSSES_PENDING 8
REC_HIDDEN void rec_loss_later(int reason, uint64_t lost, const char *detail);

/* ---- descriptor safety (rec_fds.c) ------------------------------------------ */

/* The trace descriptor lives this far below the soft RLIMIT_NOFILE. */
#define REC_FD_FLOOR_GAP 24
REC_HIDDEN void rec_fds_init(void);      /* resolves the real close, dup2... */
REC_HIDDEN int rec_fd_floor(void);
/* A duplicate of fd at or above rec_fd_floor() (fd closed), or fd itself. */
REC_HIDDEN int rec_fd_high(int fd);
REC_HIDDEN void rec_fd_own(int fd);       /* fd is the trace's now */
REC_HIDDEN void rec_fd_forget(void);      /* before the recorder closes it itself */
/* The trace writer moves to a new descriptor >= floor; returns the old one
 * (-1: none, or it could not move). */
REC_HIDDEN int rec_writer_move_fd(int floor);

/* ---- encoding jobs (rec_jobs.c) ------------------------------------------ */

/* Records for the encoders: a run of one thread's slots in `block` (a full
 * block, or the published part of a current one), holding a reference to
 * the block (dropped once encoded), or the thread's exit event. */
typedef struct rec_job {
    struct rec_job *next;
    uint64_t ticket;                  /* queue order = order in the file */
    rec_thread *th;
    rec_block *block;
    const rec_slot *s;
    uint32_t n;
    int partial;                      /* part of a block its thread still fills */
    int exit_event;                   /* then th is freed once written */
    uint64_t exit_seq, exit_ts;
    uint8_t *chunk;                   /* encoded early, waiting for its turn */
    size_t chunk_len;
    uint32_t chunk_events;
} rec_job;

REC_HIDDEN void rec_jobs_start(hak_trace_writer *tw);
REC_HIDDEN void rec_jobs_set_level(int level);
REC_HIDDEN void rec_jobs_add(rec_job *j);          /* writer thread; j from malloc */
/* Writer thread: encodes queued jobs until none is left to take; with
 * wait_all also until every job was written.  -1 once a write failed. */
REC_HIDDEN int rec_jobs_run(int wait_all);
REC_HIDDEN uint64_t rec_jobs_behind(void);         /* jobs queued or in flight */
REC_HIDDEN void rec_jobs_idle(void);               /* writer, between passes: frees an idle encoder */
/* After rec_jobs_stop: the jobs the helper encoded and its CPU time. */
REC_HIDDEN void rec_jobs_helper_stats(uint64_t *jobs, uint64_t *cpu_ns);
REC_HIDDEN void rec_jobs_stop(void);               /* all written, helper joined */
REC_HIDDEN void rec_jobs_atfork_child(void);

/* ---- real functions (rec_interpose.c) -------------------------------------- */

typedef struct rec_real {
    void *(*malloc)(size_t);
    void  (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*reallocarray)(void *, size_t, size_t);
    void *(*memalign)(size_t, size_t);
    int   (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    size_t (*malloc_usable_size)(void *);
    void *(*mmap)(void *, size_t, int, int, int, off_t);
    int   (*munmap)(void *, size_t);
    void *(*mremap)(void *, size_t, size_t, int, ...);
    void  (*exit)(int) __attribute__((noreturn));
    void  (*_exit)(int) __attribute__((noreturn));
    void  (*_Exit)(int) __attribute__((noreturn));
    int   (*execve)(const char *, char *const[], char *const[]);
    int   (*execvpe)(const char *, char *const[], char *const[]);
    int   (*fexecve)(int, char *const[], char *const[]);
    int   (*pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
} rec_real;
extern rec_real rec_r REC_HIDDEN;
REC_HIDDEN void rec_resolve(void);

/* ---- runtime attach (rec_attach.c, rec_interpose.c, rec_writer.c) ---------- */

/* Is this copy the process's malloc (preloaded), or loaded by dlopen
 * (hak record -p), dormant until hakrec_attach? */
REC_HIDDEN int rec_preloaded(void);
/* Our wrapper of an interposed allocation function, NULL for others. */
REC_HIDDEN void *rec_self_function(const char *name);
/* rec_r's malloc family from the process's global scope.  0 or -1. */
REC_HIDDEN int rec_resolve_global(void);
/* Sets up recording from hak record -p's settings and opens the first
 * window; 0, or -1 with the reason in err. */
REC_HIDDEN int rec_attach_init(char *cfg, char *err, size_t len);
/* The attach failed after rec_attach_init: stop again, no file left. */
REC_HIDDEN void rec_attach_abort(void);
/* Puts every GOT slot back (detach). */
REC_HIDDEN void rec_attach_undo(void);
REC_HIDDEN unsigned rec_attach_slots(void);

/* ---- sequence numbers (rec_seq.c) ------------------------------------------ */

REC_HIDDEN void rec_seq_init(void);
REC_HIDDEN void rec_seq_thread_added(rec_thread *th);
REC_HIDDEN void rec_seq_atfork_child(rec_thread *self);

#define REC_SEQ_CLOCK_BITS 16
/* A new batch, or shared mode (ordering after earlier events on addresses
 * a and b, 0: none). */
REC_HIDDEN uint64_t rec_seq_slow(rec_thread *th, uintptr_t a, uintptr_t b);

/* The next seq for an event of th on addresses a and b: from th's batch
 * while the generation it was taken in lasts (rec_seq.c). */
static inline __attribute__((always_inline)) uint64_t
rec_seq_next(rec_thread *th, uintptr_t a, uintptr_t b)
{
    uint64_t s = th->seq_next;
    if (REC_LIKELY(s < th->seq_end) &&
        REC_LIKELY(th->seq_gen == atomic_load_explicit(&rec_g.seq_gen, memory_order_relaxed))) {
        th->seq_next = s + 1;
        return s;
    }
    return rec_seq_slow(th, a, b);
}

/* Ops whose compact record holds out_ptr in ptr (the rest hold in_ptr). */
static inline int rec_op_returns_ptr(int op)
{
    return op != HAK_OP_FREE && op != HAK_OP_MUNMAP && op != HAK_OP_THREAD_START &&
           op != HAK_OP_THREAD_EXIT;
}

/* Ops whose in_ptr is an address (thread_start's is the creator's tid). */
static inline int rec_op_in_addr(int op)
{
    return op == HAK_OP_FREE || op == HAK_OP_REALLOC || op == HAK_OP_REALLOCARRAY ||
           op == HAK_OP_MUNMAP || op == HAK_OP_MREMAP;
}

/* Ops that always need a rec_ext: both pointers, or an aux value. */
static inline int rec_op_needs_ext(int op)
{
    return op == HAK_OP_REALLOC || op == HAK_OP_REALLOCARRAY || op == HAK_OP_MREMAP ||
           op == HAK_OP_CALLOC || op == HAK_OP_MEMALIGN || op == HAK_OP_POSIX_MEMALIGN ||
           op == HAK_OP_ALIGNED_ALLOC || op == HAK_OP_MMAP;
}

/* Appends one event for the current thread (busy must be set).  For
 * allocations call it after the real call returned, for frees before.
 * aux: nmemb (calloc, reallocarray, mremap's old size) or alignment
 * (memalign family, mmap's prot|flags<<32). */
static inline __attribute__((always_inline)) void
rec_emit(rec_thread *th, int op, uint64_t in, uint64_t out, uint64_t size, uint64_t aux,
         uint32_t site, int err)
{
    /* op is a constant in almost every caller: these fold away */
    const uint32_t ext = rec_op_needs_ext(op) || err || REC_UNLIKELY(rec_g.exact_ts);
    rec_block *b = th->cur;
    uint32_t i = atomic_load_explicit(&b->n, memory_order_relaxed);
    if (REC_UNLIKELY(i + ext >= REC_BLOCK_SLOTS)) {
        rec_block_handoff(th);
        b = th->cur;
        i = atomic_load_explicit(&b->n, memory_order_relaxed);
    }
    REC_ASSERT(i + ext < REC_BLOCK_SLOTS && b->taken <= i);
    rec_rec *r = &b->slots[i].r;
    r->seq = rec_seq_next(th, rec_op_in_addr(op) ? in : 0, out);
    r->ptr = rec_op_returns_ptr(op) ? out : in;
    r->size = size;
    r->site = site;
    r->op = (uint8_t)op;
    r->ext = (uint8_t)ext;
    if (ext) {
        rec_ext *x = &b->slots[i + 1].x;
        x->in_ptr = in;
        x->aux = aux;
        x->ts_raw = REC_UNLIKELY(rec_g.exact_ts) ? rec_clock_raw() : 0;
        x->err = err;
    }
    atomic_store_explicit(&b->n, i + 1 + ext, memory_order_release);
}

/* rec_emit for a malloc or free that succeeded: one 32-byte record, unless
 * the block is full or timestamps are exact (then rec_emit_slow). */
REC_HIDDEN void rec_emit_slow(rec_thread *th, int op, uint64_t ptr, uint64_t size,
                              uint32_t site);
static inline __attribute__((always_inline)) void
rec_emit_plain(rec_thread *th, int op, uint64_t ptr, uint64_t size, uint32_t site)
{
    rec_block *b = th->cur;
    uint32_t i = atomic_load_explicit(&b->n, memory_order_relaxed);
    if (REC_UNLIKELY(i >= REC_BLOCK_SLOTS || rec_g.exact_ts)) {
        rec_emit_slow(th, op, ptr, size, site);
        return;
    }
    /* four word stores: seq, ptr, size, and site | op | ext = 0 | pad
     * (little-endian rec_rec layout) */
    char *d = (char *)&b->slots[i];
    uint64_t seq = rec_seq_next(th, ptr, 0), tail = (uint64_t)site | (uint64_t)(uint8_t)op << 32;
    __builtin_memcpy(d, &seq, 8);
    __builtin_memcpy(d + 8, &ptr, 8);
    __builtin_memcpy(d + 16, &size, 8);
    __builtin_memcpy(d + 24, &tail, 8);
    atomic_store_explicit(&b->n, i + 1, memory_order_release);
}
_Static_assert(offsetof(rec_rec, seq) == 0 && offsetof(rec_rec, ptr) == 8 &&
               offsetof(rec_rec, size) == 16 && offsetof(rec_rec, site) == 24 &&
               offsetof(rec_rec, op) == 28 && offsetof(rec_rec, ext) == 29 &&
               sizeof(rec_rec) == 32, "rec_emit_plain's word stores");

/* Before taking seq for an allocation that returned p: if another thread is
 * inside a realloc that gave p back to the allocator and has not taken its
 * own seq yet, wait for it (see README, "Ordering"). */
REC_HIDDEN void rec_inflight_wait(uintptr_t p);
REC_HIDDEN void rec_inflight_atfork_child(void);
static inline void rec_inflight_check(uintptr_t p)
{
    if (REC_UNLIKELY(atomic_load_explicit(&rec_g.inflight, memory_order_seq_cst)) && p)
        rec_inflight_wait(p);
}

/* The recorder's own mappings go straight to the kernel, never through
 * its interposed mmap/munmap: made inside an interposed call (a new event
 * block, a stack table) they would be counted there as a signal handler's
 * unrecorded calls, and with --mmap every trace was "incomplete". */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
static inline void *rec_os_mmap(size_t len, int flags)
{
    return (void *)syscall(SYS_mmap, NULL, len, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
}
static inline void rec_os_munmap(void *p, size_t len) { syscall(SYS_munmap, p, len); }

#endif /* HAK_REC_INTERNAL_H */
