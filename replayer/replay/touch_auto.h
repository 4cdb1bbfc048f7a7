/* touch_auto.h - `hak replay --touch auto`: which touch policy makes a
 * replay hold the memory the program held?
 *
 * A trace says which blocks lived when, not how much of each block the
 * program wrote; yet resident heap follows the writes (mt_churn writes 64
 * bytes of blocks up to 64 KiB: replayed with --touch pages its heap is
 * 1.5-6x the program's, with --touch first within 4%).  The recording's
 * own heap-only samples (FORMAT.md kind 6) are the program's resident heap
 * under the allocator it ran on (glibc, for `hak record`), so the trace is
 * replayed once under glibc with each candidate policy (first, pages)
 * and the one whose heap peak is closest to the recorded peak (in bytes)
 * is used for every allocator: calibrated on one allocator, predicting the
 * others.  When the recorded peak lies between the two (sqlite3 writes
 * the start of its page-cache blocks: under mimalloc and tcmalloc "first"
 * held 0.92x of the live heap, "pages" 1.18x, while under glibc the two
 * are 5% apart), the part of each block written page by page (touch.h,
 * "pages:F") is fitted to it: interpolated between the two, then one
 * secant step, each a glibc replay; the closest of all is kept. */
#ifndef RP_TOUCH_AUTO_H
#define RP_TOUCH_AUTO_H

#include "replay.h"

#define RP_TOUCH_AUTO_NCAND 2

typedef struct rp_touch_auto {
    int chosen;                          /* HAK_TOUCH_* */
    unsigned part;                       /* with PAGES: the fitted part (touch.h) or WHOLE */
    double part_peak;                    /* glibc replay heap peak with that part */
    double recorded_peak;                /* bytes, the recording's heap samples */
    double peak[RP_TOUCH_AUTO_NCAND];    /* glibc replay heap peak per candidate; NAN = failed */
} rp_touch_auto;

/* Candidate i's policy (HAK_TOUCH_PAGES, _FIRST). */
int rp_touch_auto_candidate(int i);

/* Chooses among candidates given their peaks (NAN = no figure): the
 * closest to recorded_peak in bytes; ties go to the policy that writes
 * more.  -1 when no candidate has a figure. */
int rp_touch_auto_pick(const double *peak, int n, double recorded_peak);

/* Runs the calibration replays of im under glibc with o's other settings.
 * samples/nsamples: the recording's heap-only samples.  0, or -1 with one
 * line in err. */
int rp_touch_auto_run(const rp_image *im, const rp_opts *o, const hak_rss_sample *samples,
                      size_t nsamples, rp_touch_auto *out, char *err, size_t errlen);

#endif /* RP_TOUCH_AUTO_H */
