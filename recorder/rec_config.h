/* rec_config.h - option parsing shared by libhakrec.so (environment) and
 * `hak record` (command line), so both accept exactly the same values. */
#ifndef HAK_REC_CONFIG_H
#define HAK_REC_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

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
/* The control signal of a switchable recording (--off, --signal, -p) when
 * none is named: a real-time signal, which programs rarely use themselves
 * (SIGRTMIN + this; glibc keeps the first two for itself). */
#define REC_DEFAULT_SIGNAL_RT 4
/* Values a control signal carries when sent with sigqueue (hak record
 * --start/--stop); a plain kill toggles. */
enum { REC_CTL_TOGGLE = 0, REC_CTL_START = 1, REC_CTL_STOP = 2 };

/* "off"/"none" -> 0, or a depth 0..REC_MAX_DEPTH.  0 or -1. */
int rec_parse_stacks(const char *s, int *out);
/* "1us", "100ns", "1ms", "1s", plain number = ns.  0 or -1. */
int rec_parse_ts_resolution(const char *s, uint64_t *out);
/* zstd level of event chunks: "auto" -> 0 (follow the writer's load,
 * rec_writer.c), or a level 1..19.  0 or -1. */
int rec_parse_level(const char *s, int *out);
/* A signal: "USR2", "SIGUSR2", "RTMIN+4", "SIGRTMIN+4" or a number; not
 * one that cannot be caught or that the recorder must leave alone (KILL,
 * STOP, SEGV, BUS, ILL, FPE, ABRT, glibc's internal real-time ones).
 * 0 or -1. */
int rec_parse_signal(const char *s, int *out);
/* The signal's name as rec_parse_signal reads it ("USR2", "RTMIN+4"). */
void rec_signal_name(int sig, char *out, size_t len);
/* A size in bytes: "1048576", "512k", "10M", "1G" (powers of 1024);
 * at least 4096.  0 or -1. */
int rec_parse_size(const char *s, uint64_t *out);

/* hak record: warns (as "WHO: warning: ...") about each HAKREC_* variable
 * of its environment that the recorder would not know or not accept,
 * before they reach the recorded program (whose recorder then stays
 * quiet about them). */
int rec_config_warn(const char *who);

/* Is name one of the comma-separated names in list?  (--follow=NAMES) */
int rec_name_listed(const char *list, const char *name);

/* Output names: PATTERN with %p (pid), %h (host name), %t (UTC time of
 * the window's start, YYYYmmddTHHMMSSZ), %n (window number, from 1) and
 * %% expanded.  0, or -1 when it does not fit or has another %X. */
int rec_expand_name(const char *pattern, int pid, const char *host, time_t t,
                    unsigned window, char *out, size_t len);
/* Does pattern use %X (X one of p h t n)? */
int rec_name_has(const char *pattern, char x);
/* Checks a pattern: -1 with a reason in why when it has an unknown %X. */
int rec_check_pattern(const char *pattern, char *why, size_t len);

#endif
