/* rec_clock.c - cheap event timestamps.
 *
 * Default (resolution >= 1 ms): the hot path reads no clock at all.  The
 * writer thread samples (next seq, monotonic ns) about every millisecond;
 * since seqs come from one global counter, in per-thread batches that
 * expire at every sample (rec_seq.c), an event's time lies between the
 * samples around its seq and is interpolated linearly.  Accuracy: the
 * sampling interval (~1 ms, more while the writer is starved of CPU); the
 * times are monotonic in seq, so they agree with the global order exactly.
 * When seq did not move between samples a second sample with the same seq
 * marks the latest time seen (and is moved forward while seq stays), so a
 * burst after an idle period is placed at its start.
 *
 * Only the writer thread takes samples; encoder threads read them (the
 * recorder's helper encoder, rec_jobs.c).  A segment between two samples
 * never changes once its end sample exists and is not the moving
 * duplicate, and the writer samples before it hands a block to the
 * encoders: so every event of a queued block has the same time whichever
 * encoder converts it, and when, and times stay monotonic in seq across
 * blocks converted in parallel.
 *
 * Exact mode (resolution < 1 ms):
 * The hot path reads the TSC (rdtsc, ~7 ns) when the CPU has an invariant
 * TSC, otherwise CLOCK_MONOTONIC.  Raw TSC readings are converted to ns
 * since recording start by the writer thread only, with one ratio measured
 * between start and the first conversion (at least 2 ms apart), so every
 * conversion uses the same linear map and per-thread order is preserved. */
#include "rec_internal.h"

#include <time.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

int rec_clock_tsc;
static uint64_t raw0, mono0;
static int calibrated;
static unsigned __int128 num;   /* ns = (raw - raw0) * num >> 32 */

#define NSAMPLES 16384u            /* ~16 s of 1 ms samples */
typedef struct clk_sample { uint64_t seq, ns; } clk_sample;
static clk_sample samples[NSAMPLES];
static _Atomic uint64_t nsamples;  /* total taken; ring index = i % NSAMPLES */

uint64_t rec_clock_now_ns(void)
{
    uint64_t m = rec_clock_mono();
    return m > mono0 ? m - mono0 : 0;
}

void rec_clock_sample(void)
{
    /* Seq batches taken before this sample expire (rec_seq.c): a thread's
     * next event takes a new one, above this sample's seq. */
    atomic_fetch_add_explicit(&rec_g.seq_gen, 2, memory_order_relaxed);
    uint64_t seq = atomic_load(&rec_g.seq);
    uint64_t ns = rec_clock_now_ns();
    uint64_t n = atomic_load_explicit(&nsamples, memory_order_relaxed);
    if (n >= 2) {
        clk_sample *last = &samples[(n - 1) % NSAMPLES];
        if (last->seq == seq && samples[(n - 2) % NSAMPLES].seq == seq) {
            /* the moving duplicate: no segment ends at it */
            __atomic_store_n(&last->ns, ns, __ATOMIC_RELAXED);
            return;
        }
    }
    samples[n % NSAMPLES] = (clk_sample){seq, ns};
    atomic_store_explicit(&nsamples, n + 1, memory_order_release);
}

/* The stretch of the sample line that contains seq, as a fixed-point slope
 * (no division per event: the writer converts a block's events with one
 * lookup per segment they cross). */
void rec_clock_seg_find(uint64_t seq, uint64_t *cursor, rec_clock_seg *sg)
{
    const uint64_t n = atomic_load_explicit(&nsamples, memory_order_acquire);
    if (!n) {
        *sg = (rec_clock_seg){0, UINT64_MAX, 0, 0};
        return;
    }
    uint64_t oldest = n > NSAMPLES ? n - NSAMPLES : 0;
    uint64_t i = *cursor;
    if (i < oldest || i >= n)
        i = oldest;
    if (samples[i % NSAMPLES].seq > seq) {      /* cursor ahead: restart */
        i = oldest;
        if (samples[i % NSAMPLES].seq > seq) {  /* older than the history */
            *cursor = i;
            *sg = (rec_clock_seg){0, samples[i % NSAMPLES].seq,
                                  __atomic_load_n(&samples[i % NSAMPLES].ns, __ATOMIC_RELAXED), 0};
            return;
        }
    }
    while (i + 1 < n && samples[(i + 1) % NSAMPLES].seq <= seq)
        i++;
    *cursor = i;
    const clk_sample *a = &samples[i % NSAMPLES];
    uint64_t a_ns = __atomic_load_n(&a->ns, __ATOMIC_RELAXED);
    if (i + 1 >= n) {                            /* after the last sample */
        *sg = (rec_clock_seg){a->seq, UINT64_MAX, a_ns, 0};
        return;
    }
    const clk_sample *b = &samples[(i + 1) % NSAMPLES];
    uint64_t b_ns = __atomic_load_n(&b->ns, __ATOMIC_RELAXED);
    sg->seq0 = a->seq;
    sg->seq1 = b->seq;
    sg->ns0 = a_ns;
    sg->slope = (uint64_t)(((unsigned __int128)(b_ns - a_ns) << 24) / (b->seq - a->seq));
}

uint64_t rec_clock_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void rec_clock_init(void)
{
    rec_clock_tsc = 0;
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000007 &&
        __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8)))
        rec_clock_tsc = 1;    /* invariant TSC */
#endif
    mono0 = rec_clock_mono();
    raw0 = rec_clock_raw();
    calibrated = 0;
    atomic_store(&nsamples, 0);
    rec_clock_sample();      /* (seq now, 0): the start of the time line */
}

uint64_t rec_clock_to_ns(uint64_t raw)
{
    if (!rec_clock_tsc)
        return raw > mono0 ? raw - mono0 : 0;
    if (!calibrated) {
        uint64_t m = rec_clock_mono();
        if (m - mono0 < 2000000ull) {     /* too short to measure: wait */
            struct timespec ts = {0, (long)(2000000ull - (m - mono0))};
            nanosleep(&ts, NULL);
        }
        uint64_t r1 = rec_clock_raw();
        m = rec_clock_mono();
        num = ((unsigned __int128)(m - mono0) << 32) / (r1 - raw0 ? r1 - raw0 : 1);
        calibrated = 1;
    }
    if (raw <= raw0)
        return 0;
    return (uint64_t)(((unsigned __int128)(raw - raw0) * num) >> 32);
}

/* After fork: the child's trace starts now; keep a measured ratio. */
void rec_clock_rebase(void)
{
    uint64_t m = rec_clock_mono(), r = rec_clock_raw();
    if (calibrated || !rec_clock_tsc) {
        mono0 = m;
        raw0 = r;
    }
    atomic_store(&nsamples, 0);
    rec_clock_sample();
}
