/* cli_common.h - helpers shared by the `hak trace` subcommands
 * (traces/cli_*.c): option parsing, opening traces with one-line errors,
 * and the one-line event format of `hak trace dump`.
 *
 * Every subcommand is `int trace_NAME(int argc, char **argv)` with argv[0]
 * the subcommand name; it returns 0 ok, 1 failure, 2 usage error. */
#ifndef HAK_CLI_COMMON_H
#define HAK_CLI_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace.h"

int trace_info(int argc, char **argv);
int trace_dump(int argc, char **argv);
int trace_stats(int argc, char **argv);
int trace_validate(int argc, char **argv);
int trace_synth(int argc, char **argv);
int trace_import(int argc, char **argv);

/* Parses a number option; on junk prints "hak trace CMD: OPT: 'VAL' is not
 * a non-negative integer" and returns -1. */
int cli_u64(const char *cmd, const char *opt, const char *val, uint64_t *out);

/* Prints "hak trace CMD: MSG; see 'hak trace CMD --help'" and returns 2. */
int cli_usage_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens a trace; on failure prints "hak trace CMD: PATH: reason" and
 * returns NULL. */
hak_trace_reader *cli_open(const char *cmd, const char *path);

/* When the reader stopped early or the trace holds loss records, prints a
 * one-line warning on stderr naming the offset and reason, and the first
 * loss; returns 1 if truncated or incomplete. */
int cli_warn_truncated(const char *cmd, const char *path, const hak_trace_reader *r);

/* A loss record as "REASON after N events[, K lost][ (detail)]", the
 * detail's control bytes shown as '?'; cut to fit len. */
const char *cli_loss_text(const hak_tr_loss *l, char *buf, size_t len);

/* For a reader that stopped early: 1 when the file was cut off (a killed
 * recorder: the readable prefix is all there is), 0 when a chunk inside the
 * file is damaged (corruption): hak_tr_status.cut, set by the reader. */
int cli_is_cut(const hak_tr_status *st);

/* The parent's pid when the trace is of a forked child (the recorder puts
 * "forked_from=PPID" in meta.options, recorder/rec_writer.c), else 0.  Such
 * a trace starts with the parent's heap live: frees of blocks it never saw
 * allocated are expected (heapmodel.h: inherited_heap). */
long cli_forked_from(const hak_trace_meta *m);

/* One event as a stable, greppable line (no newline), e.g.
 *   "17 2301 t0 malloc size=32 -> 0x55d4a0000010 site=1"
 * Fields: seq, ts_ns, thread, operation, then operation-specific arguments
 * (pointers in hex, sizes in decimal), then site=N and err=N when set. */
const char *cli_format_event(const hak_event *e, char *buf, size_t len);

/* Renders a histogram bar of `width` columns for n out of max. */
const char *cli_bar(uint64_t n, uint64_t max, int width, char *buf, size_t len);

/* Label of power-of-two bucket b: 0 -> "0", 1 -> "1", b -> "2^(b-1)..2^b-1". */
uint64_t cli_pow2_bucket(uint64_t v);        /* 0 for 0, else 1 + floor(log2 v) */
void cli_pow2_range(unsigned b, uint64_t *lo, uint64_t *hi);

/* Progress on stderr for long runs: shown only when stderr is a terminal
 * or --progress was given, and only once the work has taken 2 s. */
typedef struct cli_progress {
    const char *cmd;
    int enabled, shown;
    uint64_t t0, last, next, total;
} cli_progress;

void cli_progress_init(cli_progress *p, const char *cmd, int forced, uint64_t total);
void cli_progress_show(cli_progress *p, uint64_t done);
void cli_progress_done(cli_progress *p);
static inline void cli_progress_tick(cli_progress *p, uint64_t done)
{
    if (p->enabled && done >= p->next)
        cli_progress_show(p, done);
}

#endif
