/* rec_seq.c - event sequence numbers without a shared atomic per event.
 *
 * Every event takes a seq, unique in the trace and increasing per thread;
 * readers merge threads by seq (README, "Ordering").  A fetch_add on one
 * global counter per event would do, but on this kind of machine a locked
 * instruction is most of the hot path's cost (besides its latency it
 * drains the store buffer, which holds the misses of the record just
 * written), and with several threads the counter's cache line moves
 * between cores on every event (35 ns an event with two threads here).
 *
 * Batches.  Each thread takes its seqs from a batch of SEQ_BATCH of its own:
 * one fetch_add on rec_g.seq per batch.  Every seq handed out is below
 * rec_g.seq, so a new batch lies above every seq any thread has used.
 *
 * Generations.  rec_g.seq_gen is (epoch << 1 | shared).  The writer adds 2
 * at every clock sample (rec_clock.c, about every ms); the second thread to
 * register sets bit 0.  A thread's batch is good only while seq_gen is what
 * it was when the batch was taken, so the hot path is one compare of
 * seq_gen and one of the batch's end (rec_seq_next):
 * - a batch never outlives a sampling interval, so times interpolated from
 *   seq stay as accurate as the samples, even for a thread that allocates
 *   once in a while (test: slow_thread);
 * - with one recording thread nothing else is needed: nobody else can
 *   observe the order.
 *
 * Shared mode (bit 0 set; never cleared but in a fork child).  Threads
 * order themselves through address clocks: rec_g.seq_clock[hash(addr)]
 * holds 1 + the highest seq recorded on an address hashing there, raised
 * with compare-and-swap (it only grows) before a free reaches the allocator
 * and after an allocation returned.  An event on an address takes a seq at
 * least that clock, with a new batch when its own is below.  So when an
 * event on an address happens after another thread's event on it (the
 * allocator or the program passed the block on, which orders memory), it
 * reads that thread's clock value and gets a greater seq: a block is never
 * live twice, a free never precedes its allocation.  Unrelated addresses
 * sharing a clock only cost a new batch now and then.
 *
 * The switch needs no handshake: if another thread's event E2 on an
 * address happens after the first thread's E1 on it, E2's batch was taken
 * after E1's (fetch_add), so E2 > E1.  If the first thread's E3 happens
 * after E2, the same chain of memory ordering that makes it happen after
 * E2 makes it see the shared bit set before E2, so E3 takes a new batch
 * and follows the clocks. */
#include "rec_internal.h"

#include <sys/mman.h>

#define SEQ_BATCH 64

/* rec_init, before the writer thread starts. */
void rec_seq_init(void)
{
    if (!rec_g.seq_clock) {
        /* 512 KiB of address space; pages are touched in shared mode only */
        void *p = rec_os_mmap(sizeof(uint64_t) << REC_SEQ_CLOCK_BITS, MAP_NORESERVE);
        rec_g.seq_clock = p == MAP_FAILED ? NULL : p;   /* NULL: fetch_add per event */
        rec_own(rec_g.seq_clock, sizeof(uint64_t) << REC_SEQ_CLOCK_BITS);
    }
}

static inline _Atomic uint64_t *clock_of(uintptr_t p)
{
    return &rec_g.seq_clock[rec_hash_bits(p, REC_SEQ_CLOCK_BITS)];
}

/* Raises a clock to v (a seq + 1); it only ever grows. */
static inline void clock_raise(_Atomic uint64_t *c, uint64_t v)
{
    uint64_t o = atomic_load_explicit(c, memory_order_relaxed);
    while (o < v && !atomic_compare_exchange_weak_explicit(c, &o, v, memory_order_relaxed,
                                                           memory_order_relaxed)) {
    }
}

/* A new batch, taken under generation gen. */
static uint64_t refill(rec_thread *th, uint64_t gen)
{
    uint64_t g = atomic_fetch_add_explicit(&rec_g.seq, SEQ_BATCH, memory_order_relaxed);
    th->seq_end = g + SEQ_BATCH;
    th->seq_gen = gen;
    return g;
}

uint64_t rec_seq_slow(rec_thread *th, uintptr_t a, uintptr_t b)
{
    /* Read before the batch is taken: a sample in between only makes the
     * next event take another batch. */
    uint64_t gen = atomic_load_explicit(&rec_g.seq_gen, memory_order_relaxed);
    if (!(gen & 1)) {                /* one recording thread */
        uint64_t s = th->seq_next;
        if (s >= th->seq_end || th->seq_gen != gen)
            s = refill(th, gen);
        th->seq_next = s + 1;
        return s;
    }
    if (REC_UNLIKELY(!rec_g.seq_clock))  /* no clock table: fetch_add per event */
        return atomic_fetch_add_explicit(&rec_g.seq, 1, memory_order_seq_cst);
    _Atomic uint64_t *ca = a ? clock_of(a) : NULL, *cb = b ? clock_of(b) : NULL;
    uint64_t need = ca ? atomic_load_explicit(ca, memory_order_relaxed) : 0;
    if (cb) {
        uint64_t nb = atomic_load_explicit(cb, memory_order_relaxed);
        need = nb > need ? nb : need;
    }
    uint64_t s = th->seq_next;
    if (s >= th->seq_end || s < need || th->shared_gen != gen) {
        s = refill(th, gen);
        th->shared_gen = gen;
    }
    /* Every shared-mode event comes back here: the fast path's compare of
     * seq_gen (odd now) with an even value never matches. */
    th->seq_gen = 0;
    th->seq_next = s + 1;
    /* Before a free reaches the allocator, after an allocation returned:
     * whoever gets the address next reads at least s + 1. */
    if (ca)
        clock_raise(ca, s + 1);
    if (cb)
        clock_raise(cb, s + 1);
    return s;
}

/* Called under threads_mu with th's tid assigned, before th's first event. */
void rec_seq_thread_added(rec_thread *th)
{
    th->seq_next = th->seq_end = 0;
    th->seq_gen = th->shared_gen = 0;
    if (th->tid > 0)
        atomic_fetch_or_explicit(&rec_g.seq_gen, 1, memory_order_relaxed);
}

/* fork child: only the forking thread runs; its process starts with one
 * recording thread again, and the parent's batch is the parent's. */
void rec_seq_atfork_child(rec_thread *self)
{
    uint64_t gen = atomic_load(&rec_g.seq_gen);
    atomic_store(&rec_g.seq_gen, (gen | 1) + 1);      /* even: one thread, new epoch */
    if (self) {
        self->seq_next = self->seq_end = 0;
        self->seq_gen = self->shared_gen = 0;
    }
}
