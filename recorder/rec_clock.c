/* rec_clock.c - cheap event timestamps.
 *
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
}
