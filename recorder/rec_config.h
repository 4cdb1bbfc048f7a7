/* rec_config.h - option parsing shared by libhakrec.so (environment) and
 * `hak record` (command line), so both accept exactly the same values. */
#ifndef HAK_REC_CONFIG_H
#define HAK_REC_CONFIG_H

#include <stdint.h>

#define REC_DEFAULT_DEPTH   8       /* frames per call site */
#define REC_MAX_DEPTH       64
/* ns: times are interpolated from seq between 1 ms clock samples
 * (rec_clock.c) and stored in 1 us units: finer than the samples, so short
 * lifetimes are not all 0 (python3 demo: 98% were at a 1 ms unit, 6% now),
 * for 0.13 -> 0.15 bytes per event there (random_mixed 1.64 -> 1.66). */
#define REC_DEFAULT_TS_UNIT 1000
/* hak record's exit status when the program exited 0 but a trace it wrote
 * lost events or was cut off (each named in a one-line error). */
#define REC_RECORD_EXIT_INCOMPLETE 3

/* "off"/"none" -> 0, or a depth 0..REC_MAX_DEPTH.  0 or -1. */
int rec_parse_stacks(const char *s, int *out);
/* "1us", "100ns", "1ms", "1s", plain number = ns.  0 or -1. */
int rec_parse_ts_resolution(const char *s, uint64_t *out);
/* zstd level of event chunks: "auto" -> 0 (follow the writer's load,
 * rec_writer.c), or a level 1..19.  0 or -1. */
int rec_parse_level(const char *s, int *out);

/* Is name one of the comma-separated names in list?  (--follow=NAMES) */
int rec_name_listed(const char *list, const char *name);

#endif
