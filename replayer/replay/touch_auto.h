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
 * others.  When the recorded peak lies between the two, the part of each
 * block written page by page (touch.h, "pages:F") is fitted to it:
 * interpolated between the two, then one secant step, each a glibc
 * replay; the closest of all is kept (validate_known "half", which writes
 * half of each block: pages:0.50, replay/live 0.98-0.99).
 *
 * The part is fitted to the recording's whole heap timeline, not to its
 * peak (rp_timeline_part): the first and pages replays' heap at each
 * recorded sample (the image samples the replay's heap exactly there)
 * gives, per sample, the part that would match it, and the median of
 * those, weighted by how much the part moves each sample and the time it
 * stands for, is used (then one more glibc replay, for the note's figure).
 * The peak fit it replaces depended on where a sample fell within a short
 * peak: cxx_containers' last vector growth (a new buffer being filled
 * while the old one lives, 1-2 ms) read 26.2-28.7 MiB across recordings,
 * and the part fitted to the highest sample went from pages:0.20 to pages
 * over 8 recordings of the same program (the study's: pages:0.24, replay/
 * live 0.87-0.93); fitted to the timeline, pages:0.86-0.97 over 13
 * recordings, old and new.  When the timeline says nothing (no sample
 * that the part moves by a page, or no op times), the peak fit is used:
 * the candidate whose peak where the recording sampled (rp_sampled_peak)
 * is closest to the recorded peak, then interpolation and one secant step
 * between first and pages.  The limit: a difference the glibc replays do
 * not show at those points cannot be fitted (sqlite3 writes the start of
 * its page-cache blocks: mimalloc and tcmalloc replays hold 0.92x of live
 * with "first" and 1.18x with "pages", but under glibc "pages" matches the
 * samples within 0.3%). */
#ifndef RP_TOUCH_AUTO_H
#define RP_TOUCH_AUTO_H

#include "replay.h"

#define RP_TOUCH_AUTO_NCAND 2

typedef struct rp_touch_auto {
    int chosen;                          /* HAK_TOUCH_* */
    unsigned part;                       /* with PAGES: the fitted part (touch.h) or WHOLE */
    double part_peak;                    /* glibc replay heap peak with that part */
    double recorded_peak;                /* bytes, the recording's heap samples */
    double timeline_part;                /* the timeline fit's part in [0, 1], or NAN
                                          * when the peak fit was used */
    double peak[RP_TOUCH_AUTO_NCAND];    /* glibc replay heap peak per candidate, where
                                          * the recording sampled; NAN = failed */
} rp_touch_auto;

/* Candidate i's policy (HAK_TOUCH_PAGES, _FIRST). */
int rp_touch_auto_candidate(int i);

/* Chooses among candidates given their peaks (NAN = no figure): the
 * closest to recorded_peak in bytes; ties go to the policy that writes
 * more.  -1 when no candidate has a figure. */
int rp_touch_auto_pick(const double *peak, int n, double recorded_peak);

/* Runs the calibration replays of im under glibc with o's other settings.
 * samples/nsamples: the recording's heap-only samples; op_ts[nops]: the
 * ops' times (rp_op_timestamps), which place the samples in the replay.
 * The recorder samples the heap at most every 20 ms and can miss a short
 * peak (cxx: recorded 26.1 MiB, 28.4 live), so each replay's peak is taken
 * where the recording sampled (rp_sampled_peak; its whole peak when op_ts
 * is NULL).  0, or -1 with one line in err. */
int rp_touch_auto_run(const rp_image *im, const rp_opts *o, const hak_rss_sample *samples,
                      size_t nsamples, const uint64_t *op_ts, uint64_t nops,
                      rp_touch_auto *out, char *err, size_t errlen);

#endif /* RP_TOUCH_AUTO_H */
