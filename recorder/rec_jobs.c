/* rec_jobs.c - turning collected records into trace chunks, on up to two
 * encoder threads.
 *
 * The writer thread (rec_writer.c) collects the threads' records and queues
 * them here as jobs: a full block, the published part of a current block,
 * or a thread's exit event.  Each job gets a ticket in queue order.  An
 * encoder takes the oldest job, expands the compact records into
 * hak_events (with their times), encodes and compresses them into its own
 * hak_tw_enc and returns the block to the pool.  Chunks are appended in
 * ticket order: the file holds them in queue order, which keeps each
 * thread's chunks in seq order, and blocks go back to the program as soon
 * as they are encoded.  An encoder that finishes before its turn parks a
 * copy of its chunk and takes the next job; whoever appends a chunk also
 * appends the parked ones that follow it.
 *
 * Encoders: the writer thread, and a helper thread started the first time
 * the writer finds itself at least two jobs behind; from then on the
 * helper takes whatever job waits while the writer encodes another.  On an
 * allocation-heavy program encoding is the recorder's bottleneck (about
 * 10 ns per event), and a program thread waiting for a block leaves its
 * core to the helper.  Exact-timestamp mode keeps
 * one encoder: its raw clock conversion and monotonic clamp are per thread
 * and sequential.
 *
 * Invariants:
 * - Jobs are queued by the writer thread only, after it wrote the sites
 *   the jobs' records refer to and took a clock sample above their seqs
 *   (rec_clock.c: their times then do not depend on which encoder converts
 *   them, or when).
 * - q_mu guards the queue, the parked list, the ticket counters and the
 *   helper's state.  Only the encoder holding ticket `appended` appends.
 * - A job's rec_thread stays mapped until its exit job, the thread's last,
 *   was appended.
 * - After a failed append no more chunks are written; the remaining jobs
 *   still return their blocks. */
#include "rec_internal.h"
#include "hak_util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ---- expanding records --------------------------------------------------- */

/* Expanded a piece at a time: the piece stays in the encoder's cache while
 * it reads it back, where a whole block's hak_events (4.5 MiB) would not. */
#define PIECE_EVENTS 4096            /* 288 KiB: in L2 (1024 or 16384 were slower) */
#define PREFETCH_SLOTS 128           /* how far ahead expanding reads (4 KiB) */
/* A sparse job's pieces (one-pass, see encode_job): 36 KiB of the piece
 * buffer touched instead of 288 while it is encoded, at a rate where the
 * cache effect above is worth nothing. */
#define ONE_PASS_PIECE 512

typedef struct encoder {
    hak_tw_enc *enc;
    hak_event *piece;                /* [PIECE_EVENTS] */
    int level;
    uint64_t used_ns;                /* when it last finished a job */
} encoder;

/* An encoder idle this long is freed, and made afresh for the next job.
 * Its memory (pointer map, column buffers, zstd context: 3-5 MiB resident
 * at level 15) is otherwise held through a program's quiet spells (a
 * service between bursts) for nothing; its blocks go back to the
 * recorder's arena, which returns their pages.  Making one costs the
 * encoding thread ~1.5 ms (page faults).  Not shorter: with 30 ms a
 * python3 script's encoder was remade for nearly every partial job (90 ms
 * apart), which raised the writer's CPU per event by 20-40% for 0.4 MiB
 * less peak RSS (8.4 vs 8.8 MiB extra, medians of 5). */
#define ENC_IDLE_NS 250000000ull

/* Event time of seq (default mode) or of a raw clock reading (exact mode),
 * clamped to be monotonic (*last).  sg caches the clock segment of the
 * previous call; cursor is the sample search hint. */
static inline uint64_t event_time(uint64_t seq, uint64_t raw, rec_clock_seg *sg,
                                  uint64_t *cursor, uint64_t *last)
{
    uint64_t ts;
    if (REC_UNLIKELY(rec_g.exact_ts)) {
        ts = rec_clock_to_ns(raw);
    } else {
        if (REC_UNLIKELY(seq < sg->seq0 || seq >= sg->seq1))
            rec_clock_seg_find(seq, cursor, sg);
        ts = rec_clock_seg_ns(sg, seq);
    }
    if (ts > *last)
        *last = ts;
    return *last;
}

/* The compact records of a run of slots as a hak_tw_source. */
typedef struct slot_source {
    encoder *e;
    rec_job *j;                      /* whose block slots_done gives back */
    rec_thread *th;
    const rec_slot *s;
    uint32_t n, i;                   /* slots, the next one to expand */
    int one_pass;                    /* read once: pages are given back as read */
    uint32_t piece_max;              /* events per piece (ONE_PASS_PIECE when one_pass) */
    uintptr_t released;              /* ...up to here (a page boundary) */
    uint64_t last;                   /* monotonic clamp of the times */
    uint64_t last0;                  /* ... at the start */
    uint64_t cursor;                 /* clock sample hint */
    rec_clock_seg sg;                /* clock segment of the previous event */
} slot_source;

static void slots_rewind(void *ctx)
{
    slot_source *q = ctx;
    q->i = 0;
    q->last = q->last0;
    q->sg = (rec_clock_seg){0, 0, 0, 0};   /* empty: found on first use */
}

/* A one-pass source's slots already expanded: their whole pages go back
 * as the encoder reads on (slots_next), so the block of a slowly filling
 * thread is not held whole until its chunk is encoded (its records are
 * the recorder's largest part of such a program's peak RSS).  A page the
 * slots before the job share is kept, as in release_slots. */
static void release_read(slot_source *q)
{
    uintptr_t hi = (uintptr_t)(q->s + q->i) & ~(uintptr_t)4095;
    if (hi <= q->released)
        return;
    rec_own_shrink_begin();
    madvise((void *)q->released, hi - q->released, MADV_DONTNEED);
    rec_own_shrink_end();
    q->released = hi;
}

/* Expands the next records, up to a piece of events. */
static const hak_event *slots_next(void *ctx, size_t *count)
{
    slot_source *q = ctx;
    const rec_slot *s = q->s;
    hak_event *piece = q->e->piece;
    const uint32_t tid = q->th->tid;
    uint32_t i = q->i, k = 0;
    for (const uint32_t kmax = q->piece_max; i < q->n && k < kmax; i++, k++) {
        const rec_rec *r = &s[i].r;
        hak_event *v = &piece[k];
        /* The records were written by a program thread, usually on the
         * other core: without asking ahead, this loop mostly waits for
         * them (~5 ns per event, 3 with).  Past the block's end is
         * harmless: a prefetch never faults. */
        __builtin_prefetch((const void *)((uintptr_t)r + PREFETCH_SLOTS * sizeof *s));
        unsigned op = r->op;
        uint64_t in = 0, out = 0, nmemb = 0, align = 0, raw = 0;
        int32_t err = 0;
        if (rec_op_returns_ptr(op))
            out = r->ptr;
        else
            in = r->ptr;
        if (r->ext) {
            const rec_ext *x = &s[++i].x;
            if (rec_op_returns_ptr(op))
                in = x->in_ptr;
            if (op == HAK_OP_CALLOC || op == HAK_OP_REALLOCARRAY || op == HAK_OP_MREMAP)
                nmemb = x->aux;
            else            /* realloc: the old block's size, window mode */
                align = x->aux;
            raw = x->ts_raw;
            err = x->err;
        }
        v->seq = r->seq;
        v->ts_ns = event_time(r->seq, raw, &q->sg, &q->cursor, &q->last);
        v->size = r->size;
        v->nmemb = nmemb;
        v->align = align;
        v->in_ptr = in;
        v->out_ptr = out;
        v->tid = tid;
        v->site = r->site;
        v->err = err;
        v->op = (uint8_t)op;
    }
    q->i = i;
    *count = k;
    if (q->one_pass)
        release_read(q);
    return piece;
}

static void release_slots(const rec_slot *s, uint32_t n);

/* The encoder has read the job's records for the last time (hak_tw_source's
 * done): its block goes back now, before the chunk's columns are
 * compressed (at the levels of a writer with time to spare, zstd is most
 * of a job's time), so the program does not hold a read block meanwhile. */
static void slots_done(void *ctx)
{
    rec_job *j = ((slot_source *)ctx)->j;
    if (!j->block)
        return;
    if (j->partial)
        release_slots(j->s, j->n);
    rec_block_unref(j->block);       /* records consumed: the program may have it */
    j->block = NULL;
}

/* ---- the queue ------------------------------------------------------------- */

static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_work = PTHREAD_COND_INITIALIZER;   /* helper: jobs queued */
static pthread_cond_t q_turn = PTHREAD_COND_INITIALIZER;   /* a ticket was appended */
static rec_job *q_head, *q_tail;
static rec_job *parked;              /* encoded before their turn, by ticket */
static unsigned parked_n;
/* Parked chunks are copies outside the block pool: bounded, so an encoder
 * that gets little CPU cannot make the other one pile up memory. */
#define PARKED_MAX 8
static uint64_t q_len;               /* jobs queued, not yet taken */
static uint64_t next_ticket, appended;   /* appended: tickets [0, appended) are done */
static int q_failed, q_stop;
static hak_trace_writer *q_tw;
static encoder writer_enc, helper_enc;
static pthread_t helper_tid;
static int helper_up;
static uint64_t helper_jobs;         /* jobs the helper encoded (hak record -v) */
static uint64_t helper_cpu_ns;       /* the helper's CPU time, once it exited */
static int level_now = 3;            /* the writer's current zstd level */

static int encoder_ready(encoder *e)
{
    if (!e->enc) {
        e->piece = rec_os_mmap(PIECE_EVENTS * sizeof(hak_event), 0);
        if (e->piece == MAP_FAILED) {
            e->piece = NULL;
            return -1;
        }
        rec_own(e->piece, PIECE_EVENTS * sizeof(hak_event));
        e->enc = hak_tw_enc_new(q_tw);
        if (!e->enc) {
            rec_unmap_own(e->piece, PIECE_EVENTS * sizeof(hak_event));
            e->piece = NULL;
            return -1;
        }
        e->level = 0;
    }
    return 0;
}

static void encoder_free(encoder *e)
{
    hak_tw_enc_free(e->enc);
    if (e->piece)
        rec_unmap_own(e->piece, PIECE_EVENTS * sizeof(hak_event));
    memset(e, 0, sizeof *e);
}

/* A job whose thread took this long or longer to fill its block (or a
 * partial or exit job: a thread slow enough to be flushed by time) comes
 * from a thread that allocates slowly: at that rate the encoder's memory
 * is worth giving back as soon as no job waits (encoder_trim), and the
 * page faults of making it again (~1 ms) are small against the time the
 * next block takes to fill.  A python3 script's blocks take 20-100 ms; an
 * allocation-heavy program's (factor, random_mixed) 2-6 ms, whose encoders
 * keep their memory between jobs (they would pay the faults on every
 * one). */
#define TRIM_FILL_MS 20u

/* Gives back e's working memory, keeping its per-chunk choices
 * (hak_tw_enc_trim: the next chunk is the same bytes), and the pages of
 * its piece buffer.  Measured on the python3 script of
 * bench/recorder.bench.sh: see the commit that added it. */
static void encoder_trim(encoder *e)
{
    if (!e->enc)
        return;
    hak_tw_enc_trim(e->enc);
    rec_own_shrink_begin();
    madvise(e->piece, PIECE_EVENTS * sizeof(hak_event), MADV_DONTNEED);
    rec_own_shrink_end();
}

/* Whether job j comes from a thread that fills blocks slowly (above). */
static int job_sparse(const rec_job *j)
{
    return !j->block || j->partial || j->block->fill_ms1 == 0 ||
           j->block->fill_ms1 - 1 >= TRIM_FILL_MS;
}

/* The encoding thread of e, between jobs: frees e when idle long enough. */
static void encoder_idle(encoder *e, uint64_t now)
{
    if (e->enc && now - e->used_ns >= ENC_IDLE_NS)
        encoder_free(e);
}

/* The pages of a partial job's slots, once encoded: nobody reads them again
 * (the block's later jobs start after them, and its thread writes after
 * them), so a slowly allocating thread's current block holds only the
 * records of the last flush interval, not up to 2 MiB.  Pages shared with
 * the slots of the job before or after (on the other encoder) are kept. */
static void release_slots(const rec_slot *s, uint32_t n)
{
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)s + pg - 1) & ~(pg - 1);
    uintptr_t hi = ((uintptr_t)(s + n)) & ~(pg - 1);
    if (hi > lo) {
        rec_own_shrink_begin();
        madvise((void *)lo, hi - lo, MADV_DONTNEED);
        rec_own_shrink_end();
    }
}

/* Encodes job j into e: 0, or -1 when no chunk could be made (the job's
 * events are then lost: out of memory). */
static int encode_job(encoder *e, rec_job *j, int level, int sparse)
{
    if (encoder_ready(e) != 0)
        return -1;
    if (e->level != level && hak_tw_enc_set_level(e->enc, level) == 0)
        e->level = level;
    rec_thread *th = j->th;
    if (j->exit_event) {
        hak_event r;
        memset(&r, 0, sizeof r);
        r.seq = j->exit_seq;
        r.ts_ns = j->exit_ts;
        if (rec_g.exact_ts && r.ts_ns < th->last_ts)
            r.ts_ns = th->last_ts;   /* one encoder: last_ts is current */
        r.op = HAK_OP_THREAD_EXIT;
        r.tid = th->tid;
        hak_tw_array a;
        hak_tw_source src = hak_tw_array_source(&a, &r, 1);
        return hak_tw_enc_events(e->enc, th->tid, &src);
    }
    slot_source q = {.e = e, .j = j, .th = th, .s = j->s, .n = j->n,
                     .cursor = __atomic_load_n(&th->ts_cursor, __ATOMIC_RELAXED)};
    /* Exact mode has one encoder: the clamp runs on across a thread's
     * chunks.  Interpolated times are monotonic in seq by construction. */
    q.last0 = rec_g.exact_ts ? th->last_ts : 0;
    slots_rewind(&q);
    /* A sparse job's records are read once (the encoder keeps its first
     * guesses: hak_tw_source), and their pages go back as they are read. */
    q.one_pass = sparse && sysconf(_SC_PAGESIZE) == 4096;
    q.released = ((uintptr_t)q.s + 4095) & ~(uintptr_t)4095;
    q.piece_max = q.one_pass ? ONE_PASS_PIECE : PIECE_EVENTS;
    hak_tw_source src = {slots_next, q.one_pass ? NULL : slots_rewind, &q, slots_done};
    int rc = hak_tw_enc_events(e->enc, th->tid, &src);
    if (rec_g.exact_ts)
        th->last_ts = q.last;
    __atomic_store_n(&th->ts_cursor, q.cursor, __ATOMIC_RELAXED);
    return rc;
}

/* After job j's chunk was appended (or skipped): what comes after it. */
static void job_done(rec_job *j)
{
    if (j->exit_event) {
        /* the thread's last block: every earlier job was appended, so any
         * partial job on it has dropped its reference already */
        rec_block_unref(j->th->cur);
        /* at exit rec_exit.c may still be reading it (unlocked): left
         * mapped, the process is ending */
        if (!atomic_load(&rec_g.stopping))
            rec_unmap_own(j->th, sizeof *j->th);
    }
    free(j->chunk);
    free(j);
}

/* Inserts j into the parked list, in ticket order.  Caller holds q_mu. */
static void park(rec_job *j)
{
    parked_n++;
    rec_job **p = &parked;
    while (*p && (*p)->ticket < j->ticket)
        p = &(*p)->next;
    j->next = *p;
    *p = j;
}

/* Runs job j (taken from the queue) on encoder e; q_mu not held.
 *
 * Appending is in ticket order.  The encoder whose ticket is next appends
 * its chunk straight from its own buffer, then every parked chunk that
 * follows; one that finished early copies its chunk out, parks it and goes
 * on with the next job instead of waiting for the older one. */
static void run_job(encoder *e, rec_job *j, int level)
{
    int sparse = job_sparse(j);
    pthread_mutex_lock(&q_mu);
    int failed = q_failed;
    pthread_mutex_unlock(&q_mu);
    int made = 0;
    if (!failed && !rec_g.cfg.discard) {
        if (encode_job(e, j, level, sparse) == 0)
            made = 1;
        else
            failed = 1;
    }
    if (j->block) {
        if (j->partial)
            release_slots(j->s, j->n);
        rec_block_unref(j->block);   /* records consumed: the program may have it */
        j->block = NULL;
    }

    pthread_mutex_lock(&q_mu);
    if (appended != j->ticket) {
        if (made) {
            size_t len;
            uint32_t nev;
            const void *c = hak_tw_enc_chunk(e->enc, &len, &nev);
            if (c && (j->chunk = malloc(len))) {
                memcpy(j->chunk, c, len);
                j->chunk_len = len;
                j->chunk_events = nev;
            } else if (c) {
                failed = 1;          /* out of memory: stop rather than lose a chunk */
            }
        }
        if (failed)
            q_failed = 1;
        park(j);
        sparse &= !q_head;
        pthread_mutex_unlock(&q_mu);
        if (sparse)
            encoder_trim(e);         /* its chunk was copied out */
        return;
    }
    failed |= q_failed;
    pthread_mutex_unlock(&q_mu);
    /* Our turn: nobody else appends until `appended` moves on. */
    if (made && !failed && hak_tw_enc_put(q_tw, e->enc) != 0)
        failed = 1;
    job_done(j);
    pthread_mutex_lock(&q_mu);
    for (;;) {
        if (failed)
            q_failed = 1;
        appended++;
        rec_job *p = parked;
        if (!p || p->ticket != appended)
            break;
        parked = p->next;
        parked_n--;
        failed = q_failed;
        pthread_mutex_unlock(&q_mu);
        if (p->chunk && !failed &&
            hak_tw_put_chunk(q_tw, p->chunk, p->chunk_len, p->chunk_events) != 0)
            failed = 1;
        job_done(p);
        pthread_mutex_lock(&q_mu);
    }
    pthread_cond_broadcast(&q_turn);
    sparse &= !q_head;
    pthread_mutex_unlock(&q_mu);
    if (sparse)
        encoder_trim(e);             /* nothing waits, and the next job is far */
}

/* The oldest queued job, or NULL.  Caller holds q_mu; waits while too
 * many chunks are parked (the encoder holding the oldest ticket is busy
 * with it, never waiting here, so they drain). */
static rec_job *take(int writer)
{
    /* the job whose chunk is appended next never waits: it unblocks the rest */
    while (parked_n >= PARKED_MAX && !(q_head && q_head->ticket == appended))
        pthread_cond_wait(&q_turn, &q_mu);
    rec_job **link = &q_head, *prev = NULL;
    /* Test aid (HAKREC_TEST_HELPER_DELAY_US): partial jobs are left to the
     * (delayed) helper, so a later job of the same block is always encoded
     * first: the order in which a partial job could once read a block that
     * had gone back to its thread.  The writer takes a later job only while
     * few are parked (they wait for the partial one). */
    if (REC_UNLIKELY(rec_g.cfg.test_helper_delay_us) && writer && helper_up) {
        while (*link && (*link)->partial) {
            prev = *link;
            link = &(*link)->next;
        }
        if (prev && parked_n >= PARKED_MAX)
            return NULL;
    }
    rec_job *j = *link;
    if (j) {
        *link = j->next;
        if (q_tail == j)
            q_tail = prev;
        q_len--;
    }
    return j;
}

static void *helper_main(void *arg)
{
    (void)arg;
    rec_tls_v.busy = 1;               /* nothing this thread does is recorded */
    rec_exit_own_thread();
    pthread_setname_np(pthread_self(), "hakrec-encode");
    /* Lowest priority: the helper should take only CPU nobody else wants
     * (a spare core, or a program thread's while it waits for a block),
     * not take turns with a running program thread, which slows the
     * program without encoding any faster (on 2 cores: 0-4% shorter
     * recordings of the bench programs than at the program's priority).
     * The writer keeps the default: it alone guarantees progress. */
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
    pthread_mutex_lock(&q_mu);
    for (;;) {
        while (!q_head && !q_stop) {
            if (!helper_enc.enc) {
                pthread_cond_wait(&q_work, &q_mu);
                continue;
            }
            struct timespec ts;       /* q_work waits on CLOCK_REALTIME */
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)ENC_IDLE_NS;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            if (pthread_cond_timedwait(&q_work, &q_mu, &ts) != 0 && !q_head) {
                pthread_mutex_unlock(&q_mu);
                encoder_idle(&helper_enc, hak_mono_ns());
                pthread_mutex_lock(&q_mu);
            }
        }
        if (!q_head && q_stop)
            break;
        rec_job *j = take(0);        /* may wait: the writer may take it first */
        if (!j)
            continue;
        int level = level_now;
        helper_jobs++;
        pthread_mutex_unlock(&q_mu);
        if (REC_UNLIKELY(rec_g.cfg.test_helper_delay_us) && j->partial)
            usleep(rec_g.cfg.test_helper_delay_us);
        run_job(&helper_enc, j, level);
        helper_enc.used_ns = hak_mono_ns();
        pthread_mutex_lock(&q_mu);
    }
    helper_cpu_ns = rec_thread_cpu_ns();
    pthread_mutex_unlock(&q_mu);
    return NULL;
}

/* Writer thread, q_mu held: start the helper when behind. */
static void helper_wanted(void)
{
    if (helper_up || rec_g.exact_ts || rec_g.cfg.encoders < 2 ||
        (q_len < 2 && !rec_g.cfg.test_helper_delay_us))
        return;
    /* created from the writer thread: every signal stays blocked in it */
    if (pthread_create(&helper_tid, NULL, helper_main, NULL) == 0)
        helper_up = 1;
}

/* ---- the writer's side ------------------------------------------------------ */

void rec_jobs_start(hak_trace_writer *tw)
{
    pthread_mutex_lock(&q_mu);
    q_tw = tw;
    q_head = q_tail = parked = NULL;
    parked_n = 0;
    q_len = next_ticket = appended = 0;
    q_failed = q_stop = 0;
    helper_jobs = 0;
    helper_cpu_ns = 0;
    pthread_mutex_unlock(&q_mu);
}

void rec_jobs_set_level(int level)
{
    pthread_mutex_lock(&q_mu);
    level_now = level;
    pthread_mutex_unlock(&q_mu);
}

void rec_jobs_add(rec_job *j)
{
    pthread_mutex_lock(&q_mu);
    j->next = NULL;
    j->ticket = next_ticket++;
    if (q_tail)
        q_tail->next = j;
    else
        q_head = j;
    q_tail = j;
    q_len++;
    helper_wanted();
    if (helper_up)
        pthread_cond_signal(&q_work);
    pthread_mutex_unlock(&q_mu);
}

uint64_t rec_jobs_behind(void)
{
    pthread_mutex_lock(&q_mu);
    uint64_t n = next_ticket - appended;
    pthread_mutex_unlock(&q_mu);
    return n;
}

int rec_jobs_run(int wait_all)
{
    pthread_mutex_lock(&q_mu);
    for (;;) {
        rec_job *j = take(1);
        if (!j)
            break;
        int level = level_now;
        pthread_mutex_unlock(&q_mu);
        run_job(&writer_enc, j, level);
        writer_enc.used_ns = hak_mono_ns();
        rec_heap_poll();              /* a long pass must not hide a heap peak */
        pthread_mutex_lock(&q_mu);
    }
    if (wait_all)
        while (appended != next_ticket)
            pthread_cond_wait(&q_turn, &q_mu);
    int rc = q_failed ? -1 : 0;
    pthread_mutex_unlock(&q_mu);
    return rc;
}

void rec_jobs_idle(void)
{
    encoder_idle(&writer_enc, hak_mono_ns());
}

void rec_jobs_helper_stats(uint64_t *jobs, uint64_t *cpu_ns)
{
    pthread_mutex_lock(&q_mu);
    *jobs = helper_jobs;
    *cpu_ns = helper_cpu_ns;
    pthread_mutex_unlock(&q_mu);
}

void rec_jobs_stop(void)
{
    rec_jobs_run(1);
    pthread_mutex_lock(&q_mu);
    q_stop = 1;
    pthread_cond_broadcast(&q_work);
    int up = helper_up;
    helper_up = 0;
    pthread_mutex_unlock(&q_mu);
    if (up)
        pthread_join(helper_tid, NULL);
    encoder_free(&writer_enc);
    encoder_free(&helper_enc);
    q_tw = NULL;
}

/* Fork child: the encoder threads were the parent's and may have held q_mu
 * or been inside their encoders; start over (their memory is left alone). */
void rec_jobs_atfork_child(void)
{
    pthread_mutex_init(&q_mu, NULL);
    pthread_cond_init(&q_work, NULL);
    pthread_cond_init(&q_turn, NULL);
    q_head = q_tail = parked = NULL;
    parked_n = 0;
    q_len = next_ticket = appended = 0;
    q_failed = q_stop = 0;
    helper_up = 0;
    memset(&writer_enc, 0, sizeof writer_enc);
    memset(&helper_enc, 0, sizeof helper_enc);
    q_tw = NULL;
}
