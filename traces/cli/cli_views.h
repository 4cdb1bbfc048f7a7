/* cli_views.h - what `hak trace leaks|peak|temporaries|flame|diff|timeline|
 * views|export` share: option parsing, one siteview pass over a trace
 * (siteview.h), the statement about a truncated trace, the ranked rows of
 * call sites, call-site frames through the symboliser, and text/CSV/JSON
 * output helpers. */
#ifndef HAK_CLI_VIEWS_H
#define HAK_CLI_VIEWS_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "siteview.h"
#include "symbolize.h"
#include "trace.h"

int trace_leaks(int argc, char **argv);
int trace_peak(int argc, char **argv);
int trace_temporaries(int argc, char **argv);
int trace_flame(int argc, char **argv);
int trace_diff(int argc, char **argv);
int trace_timeline(int argc, char **argv);
int trace_views(int argc, char **argv);

enum { VW_TEXT, VW_CSV, VW_JSON };

/* Options every view takes (parsed by vw_parse). */
typedef struct vw_opts {
    int format;          /* VW_TEXT, VW_CSV, VW_JSON */
    uint64_t top;        /* rows to list; 0 = all */
    uint64_t depth;      /* frames per site; 0 = all */
    int demangle, progress;
    int lines;           /* file:line from DWARF after each frame */
    const char *sysroot, *debug_dir;   /* symbols of another machine's files */
} vw_opts;

/* Help text of the common options (for usage()). */
#define VW_COMMON_HELP \
    "  --csv        a CSV table (header row, one row per call site; frames\n" \
    "               innermost first, joined by ' <- ')\n" \
    "  --json       one JSON object (totals, definitions and the rows; frames\n" \
    "               as an array, innermost first)\n" \
    "  --top N      call sites to list (0 = all)\n" \
    "  --depth N    frames shown per call site (0 = the whole recorded stack)\n" \
    "  --no-demangle  show C++ names as recorded (default: demangled with\n" \
    "               libstdc++'s __cxa_demangle, loaded at run time)\n" \
    "  --no-lines   no 'at FILE:LINE' after the frames and no inlined frames\n" \
    "               (default: from the binary's DWARF or its separate debug file\n" \
    "               in /usr/lib/debug, read with elfutils' libdw when installed;\n" \
    "               functions inlined at a frame are listed before it, each\n" \
    "               'NAME at FILE:LINE (inlined)', as addr2line -i does)\n" \
    "  --sysroot DIR  read the recorded modules as DIR/PATH (a trace from\n" \
    "               another machine: a copy of its root, or of the files needed)\n" \
    "  --debug-dir DIR  also look for separate debug files under DIR, laid out\n" \
    "               as /usr/lib/debug (.build-id/xx/rest.debug or by file path);\n" \
    "               a stripped binary's local functions are named from there\n" \
    "  --progress   report progress on stderr (default: only on a terminal,\n" \
    "               for runs longer than 2 s)\n" \
    "  -h, --help   this text\n"

void vw_opts_default(vw_opts *o, uint64_t top, uint64_t depth);

/* Which common options a command takes besides --depth, --no-demangle,
 * --sysroot, --debug-dir and --progress (which all take). */
enum { VW_O_FORMAT = 1, VW_O_TOP = 2, VW_O_LINES = 4, VW_O_ALL = 7 };

/* A command's own option c (its val in own[]) with its argument: 0 taken,
 * 2 bad value (message printed with cli_usage_err). */
typedef int (*vw_own_fn)(void *ctx, int c, const char *arg);

typedef struct vw_cmd {
    const char *name;                /* "leaks": for messages */
    void (*usage)(FILE *out);        /* --help text */
    const struct option *own;        /* own long options, {NULL} ended; may be NULL */
    vw_own_fn own_opt;               /* called for them */
    void *ctx;
    unsigned common;                 /* VW_O_* */
    int ntraces;                     /* TRACE operands wanted: 1 or 2 */
} vw_cmd;

/* Parses argv (getopt_long, from the start): -1 when the command goes on,
 * its operands at argv[optind]; else the exit status to return (0 after
 * --help, 2 on a usage error, message printed). */
int vw_parse(const vw_cmd *cmd, int argc, char **argv, vw_opts *o);

/* A one-trace view from start to end: vw_parse with top/depth as the
 * defaults, vw_load with *so (read after parsing; NULL = defaults), then
 * print(t, o, cmd->ctx), vw_unload.  The exit status. */
typedef struct vw_trace vw_trace;
typedef int (*vw_print_fn)(vw_trace *t, const vw_opts *o, void *ctx);
int vw_main(const vw_cmd *cmd, int argc, char **argv, uint64_t top, uint64_t depth,
            const hak_sv_opts *so, vw_print_fn print);

/* The call sites of t that keep() accepts, ranked by cmp (qsort_r with
 * ctx).  *n is their number and *shown min(n, top) (top 0 = all).  NULL
 * with "out of memory" printed when allocation fails. */
typedef int (*vw_keep_fn)(const hak_sv_site *s, void *ctx);
hak_sv_site **vw_rows(const hak_siteview *v, const char *cmd, vw_keep_fn keep,
                      int (*cmp)(const void *, const void *, void *), void *ctx, uint64_t top,
                      size_t *n, size_t *shown);
/* The order of ranked rows: by k1 then k2, both largest first, then by site
 * id, smallest first (a qsort result for x against y). */
int vw_rank(uint64_t k1x, uint64_t k1y, uint64_t k2x, uint64_t k2y, uint32_t idx, uint32_t idy);
/* "(N more call sites; --top 0 lists all)" when shown < n. */
void vw_more(size_t shown, size_t n);

/* One trace, passed through a siteview. */
struct vw_trace {
    const char *path;
    hak_trace_reader *r;
    hak_siteview v;
    hak_symbolizer *sym;
    int truncated, cut;          /* the readable prefix ends early; cut off vs damaged */
    int incomplete;              /* the recorder lost events (loss records) */
    char trunc_note[800];        /* "" or what the results do not cover, as
                                  * sentences without the final full stop */
};

/* Opens path and runs the pass.  0; 1 on failure (message printed). */
int vw_load(vw_trace *t, const char *cmd, const char *path, const hak_sv_opts *so,
            const vw_opts *o);
void vw_unload(vw_trace *t);

/* Frames of site id, innermost first, formatted with hak_sym_format (full)
 * or hak_sym_func (func_only, with_module), at most depth (0 = all).
 * Calls fn once per frame; a site without stack gives one pseudo-frame,
 * "[no call site recorded]" or "[site N: no stack in the trace]". */
typedef void (*vw_frame_fn)(void *ctx, unsigned i, const char *frame);
unsigned vw_frames(vw_trace *t, uint32_t id, uint64_t depth, int func_only, int with_module,
                   vw_frame_fn fn, void *ctx);

/* The single-pass views' output from a loaded trace (vw_load), so that
 * `hak trace views` prints them all after one pass: 0, or 1 on out of
 * memory (message printed).  Tables go to stdout in o->format. */
int vw_print_leaks(vw_trace *t, const vw_opts *o);
int vw_print_peak(vw_trace *t, const vw_opts *o, int by_rss);

/* hak trace temporaries' own options (cli_temp.c): the pass's definitions
 * and the ranking. */
typedef struct vw_temp_opts {
    hak_sv_opts so;              /* --scope, --max-events, --max-time */
    const char *max_time;        /* as given, for the output; NULL = none */
    int sort_short;              /* --sort short */
} vw_temp_opts;
enum { VW_TEMP_SCOPE = 2001, VW_TEMP_MAX_EVENTS, VW_TEMP_MAX_TIME, VW_TEMP_SORT };
#define VW_TEMP_LONGOPTS \
    {"scope", required_argument, NULL, VW_TEMP_SCOPE}, \
    {"max-events", required_argument, NULL, VW_TEMP_MAX_EVENTS}, \
    {"max-time", required_argument, NULL, VW_TEMP_MAX_TIME}, \
    {"sort", required_argument, NULL, VW_TEMP_SORT}
void vw_temp_default(vw_temp_opts *to);
/* Option c of VW_TEMP_LONGOPTS: 0, or 2 on a bad value (message printed). */
int vw_temp_opt(vw_temp_opts *to, int c, const char *arg);
int vw_print_temporaries(vw_trace *t, const vw_opts *o, const vw_temp_opts *to);

/* Folded stacks weighted by weight (VW_W_*) to out; 0, 1 on out of memory. */
enum { VW_W_ALLOCS, VW_W_BYTES, VW_W_LEAKED, VW_W_PEAK };
/* VW_W_* of a --weight name, -1 when it is none. */
int vw_flame_weight(const char *name);
int vw_print_flame(vw_trace *t, uint64_t depth, int weight, FILE *out);

/* Output helpers. */
void vw_json_str(FILE *f, const char *s);           /* "..." with escapes */
void vw_csv_str(FILE *f, const char *s);            /* "..." with "" doubled */
/* The frames of a site as one CSV field / a JSON array / indented text lines. */
void vw_csv_frames(FILE *f, vw_trace *t, uint32_t id, uint64_t depth);
void vw_json_frames(FILE *f, vw_trace *t, uint32_t id, uint64_t depth);
void vw_text_frames(FILE *f, vw_trace *t, uint32_t id, uint64_t depth, const char *indent);
/* JSON fields describing the trace: "trace", "events", "truncated", ... */
void vw_json_trace(FILE *f, const vw_trace *t);
/* "1.234 s" style time since the trace's start. */
const char *vw_fmt_ns(uint64_t ns, char *buf, size_t len);

#endif
