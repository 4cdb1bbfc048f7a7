/* cli_views.h - what `hak trace leaks|peak|temporaries|flame|diff` share:
 * the common options, one siteview pass over a trace (siteview.h), the
 * statement about a truncated trace, call-site frames through the
 * symboliser, and text/CSV/JSON output helpers. */
#ifndef HAK_CLI_VIEWS_H
#define HAK_CLI_VIEWS_H

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

enum { VW_TEXT, VW_CSV, VW_JSON };

/* Options every view takes (parsed by vw_common_opt). */
typedef struct vw_opts {
    int format;          /* VW_TEXT, VW_CSV, VW_JSON */
    uint64_t top;        /* rows to list; 0 = all */
    uint64_t depth;      /* frames per site; 0 = all */
    int demangle, progress;
    int lines;           /* file:line from DWARF after each frame */
    const char *sysroot, *debug_dir;   /* symbols of another machine's files */
} vw_opts;

#define VW_COMMON_LONGOPTS \
    {"csv", no_argument, NULL, 1001}, {"json", no_argument, NULL, 1002}, \
    {"top", required_argument, NULL, 1003}, {"depth", required_argument, NULL, 1004}, \
    {"no-demangle", no_argument, NULL, 1005}, {"progress", no_argument, NULL, 1006}, \
    {"no-lines", no_argument, NULL, 1007}, {"sysroot", required_argument, NULL, 1008}, \
    {"debug-dir", required_argument, NULL, 1009}

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
/* Handles option c of VW_COMMON_LONGOPTS: 1 handled, 0 not one of them,
 * -1 bad value (message printed: return 2). */
int vw_common_opt(const char *cmd, int c, const char *arg, vw_opts *o);

/* One trace, passed through a siteview. */
typedef struct vw_trace {
    const char *path;
    hak_trace_reader *r;
    hak_siteview v;
    hak_symbolizer *sym;
    int truncated, cut;          /* the readable prefix ends early; cut off vs damaged */
    int incomplete;              /* the recorder lost events (loss records) */
    char trunc_note[800];        /* "" or what the results do not cover, as
                                  * sentences without the final full stop */
} vw_trace;

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
