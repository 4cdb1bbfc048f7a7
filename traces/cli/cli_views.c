/* cli_views.c - see cli_views.h. */
#include "cli_views.h"
#include "cli_common.h"
#include "hak_util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_DEPTH 1024

void vw_opts_default(vw_opts *o, uint64_t top, uint64_t depth)
{
    memset(o, 0, sizeof *o);
    o->format = VW_TEXT;
    o->top = top;
    o->depth = depth;
    o->demangle = 1;
    o->lines = 1;
}

enum { O_CSV = 1001, O_JSON, O_TOP, O_DEPTH, O_NO_DEMANGLE, O_PROGRESS, O_NO_LINES, O_SYSROOT,
       O_DEBUG_DIR };

/* The common options with the VW_O_* bit that admits them (0: every command). */
static const struct { struct option opt; unsigned need; } common_opts[] = {
    {{"csv", no_argument, NULL, O_CSV}, VW_O_FORMAT},
    {{"json", no_argument, NULL, O_JSON}, VW_O_FORMAT},
    {{"top", required_argument, NULL, O_TOP}, VW_O_TOP},
    {{"depth", required_argument, NULL, O_DEPTH}, 0},
    {{"no-demangle", no_argument, NULL, O_NO_DEMANGLE}, 0},
    {{"progress", no_argument, NULL, O_PROGRESS}, 0},
    {{"no-lines", no_argument, NULL, O_NO_LINES}, VW_O_LINES},
    {{"sysroot", required_argument, NULL, O_SYSROOT}, 0},
    {{"debug-dir", required_argument, NULL, O_DEBUG_DIR}, 0},
};
#define NCOMMON (sizeof common_opts / sizeof *common_opts)
#define MAX_OWN 16

/* Option c of common_opts: 0, or 2 on a bad value (message printed). */
static int common_opt(const char *cmd, int c, const char *arg, vw_opts *o)
{
    switch (c) {
    case O_CSV: o->format = VW_CSV; return 0;
    case O_JSON: o->format = VW_JSON; return 0;
    case O_TOP: return cli_u64(cmd, "--top", arg, &o->top) ? 2 : 0;
    case O_DEPTH: return cli_u64(cmd, "--depth", arg, &o->depth) ? 2 : 0;
    case O_NO_DEMANGLE: o->demangle = 0; return 0;
    case O_PROGRESS: o->progress = 1; return 0;
    case O_NO_LINES: o->lines = 0; return 0;
    default: {   /* O_SYSROOT, O_DEBUG_DIR */
        struct stat st;
        if (stat(arg, &st) || !S_ISDIR(st.st_mode))
            return cli_usage_err(cmd, "%s: '%s' is not a directory",
                                 c == O_SYSROOT ? "--sysroot" : "--debug-dir", arg);
        if (c == O_SYSROOT)
            o->sysroot = arg;
        else
            o->debug_dir = arg;
        return 0;
    }
    }
}

int vw_parse(const vw_cmd *cmd, int argc, char **argv, vw_opts *o)
{
    struct option opts[NCOMMON + MAX_OWN + 2];
    size_t n = 0;
    for (size_t i = 0; i < NCOMMON; i++)
        if (!common_opts[i].need || (cmd->common & common_opts[i].need))
            opts[n++] = common_opts[i].opt;
    for (const struct option *p = cmd->own; p && p->name && n < NCOMMON + MAX_OWN; p++)
        opts[n++] = *p;
    opts[n++] = (struct option){"help", no_argument, NULL, 'h'};
    opts[n] = (struct option){NULL, 0, NULL, 0};
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            cmd->usage(stdout);
            return 0;
        }
        if (c == '?' || c == ':')
            return cli_usage_err(cmd->name, "unknown or incomplete option '%s'", argv[optind - 1]);
        int rc = c >= O_CSV && c <= O_DEBUG_DIR ? common_opt(cmd->name, c, optarg, o)
                                                : cmd->own_opt ? cmd->own_opt(cmd->ctx, c, optarg) : 2;
        if (rc)
            return rc;
    }
    if (argc - optind != cmd->ntraces) {
        if (cmd->ntraces == 2)
            return cli_usage_err(cmd->name, "expected two traces, A and B");
        return cli_usage_err(cmd->name, optind == argc ? "missing TRACE" : "expected one TRACE");
    }
    return -1;
}

int vw_main(const vw_cmd *cmd, int argc, char **argv, uint64_t top, uint64_t depth,
            const hak_sv_opts *so, vw_print_fn print)
{
    vw_opts o;
    vw_opts_default(&o, top, depth);
    int rc = vw_parse(cmd, argc, argv, &o);
    if (rc >= 0)
        return rc;
    vw_trace t;
    if (vw_load(&t, cmd->name, argv[optind], so, &o))
        return 1;
    rc = print(&t, &o, cmd->ctx);
    vw_unload(&t);
    return rc;
}

hak_sv_site **vw_rows(const hak_siteview *v, const char *cmd, vw_keep_fn keep,
                      int (*cmp)(const void *, const void *, void *), void *ctx, uint64_t top,
                      size_t *n, size_t *shown)
{
    hak_sv_site **rows = malloc(((size_t)v->nsites + 1) * sizeof *rows);
    *n = *shown = 0;
    if (!rows) {
        char c[64];
        snprintf(c, sizeof c, "trace %s", cmd);
        hak_cmd_err(c, "out of memory");
        return NULL;
    }
    for (uint32_t i = 0; i < v->nsites; i++)
        if (keep(&v->sites[i], ctx))
            rows[(*n)++] = &v->sites[i];
    if (*n)
        qsort_r(rows, *n, sizeof *rows, cmp, ctx);
    *shown = top && top < *n ? (size_t)top : *n;
    return rows;
}

int vw_rank(uint64_t k1x, uint64_t k1y, uint64_t k2x, uint64_t k2y, uint32_t idx, uint32_t idy)
{
    if (k1x != k1y)
        return k1x < k1y ? 1 : -1;
    if (k2x != k2y)
        return k2x < k2y ? 1 : -1;
    return idx < idy ? -1 : idx > idy;
}

void vw_more(size_t shown, size_t n)
{
    if (shown < n)
        printf("\n(%zu more call sites; --top 0 lists all)\n", n - shown);
}

static void on_progress(void *ctx, uint64_t done)
{
    cli_progress_tick(ctx, done);
}

int vw_load(vw_trace *t, const char *cmd, const char *path, const hak_sv_opts *so,
            const vw_opts *o)
{
    memset(t, 0, sizeof *t);
    t->path = path;
    t->r = cli_open(cmd, path);
    if (!t->r)
        return 1;
    char c[64];
    snprintf(c, sizeof c, "trace %s", cmd);
    const hak_rss_sample *rss;
    size_t nrss = hak_tr_rss(t->r, &rss);
    if (hak_sv_init(&t->v, so, rss, nrss)) {
        hak_cmd_err(c, "out of memory");
        hak_tr_close(t->r);
        t->r = NULL;
        return 1;
    }
    cli_progress pr;
    cli_progress_init(&pr, cmd, o->progress, hak_tr_nevents(t->r));
    char err[512];
    int rc = hak_sv_run(&t->v, t->r, on_progress, &pr, err, sizeof err);
    cli_progress_done(&pr);
    if (rc) {
        hak_cmd_err(c, "%s: %s", path, err);
        vw_unload(t);
        return 1;
    }
    const hak_module *mods;
    size_t nmods = hak_tr_modules(t->r, &mods);
    t->sym = hak_sym_new(mods, nmods);
    if (!t->sym) {
        hak_cmd_err(c, "out of memory");
        vw_unload(t);
        return 1;
    }
    if (hak_sym_paths(t->sym, o->sysroot, o->debug_dir)) {
        hak_cmd_err(c, "out of memory");
        vw_unload(t);
        return 1;
    }
    hak_sym_demangle(t->sym, o->demangle);
    hak_sym_lines(t->sym, o->lines);
    const hak_tr_status *st = hak_tr_status_get(t->r);
    if (st && st->truncated) {
        t->truncated = 1;
        t->cut = cli_is_cut(st);
        snprintf(t->trunc_note, sizeof t->trunc_note,
                 "the trace is %s at byte %" PRIu64 " of %" PRIu64 " (%s): these results cover "
                 "the readable prefix only, up to event seq %" PRIu64,
                 t->cut ? "cut off" : "damaged", st->valid_bytes, st->file_bytes,
                 st->reason[0] ? st->reason : "no end marker", t->v.last_seq);
        cli_warn_truncated(cmd, path, t->r);
    }
    const hak_tr_loss *loss;
    size_t nloss = hak_tr_losses(t->r, &loss);
    if (st && (st->incomplete || nloss)) {
        uint64_t lost = 0;
        int known = 1;
        for (size_t i = 0; i < nloss; i++) {
            lost += loss[i].lost;
            known &= loss[i].lost != 0;
        }
        char n[32] = "";
        if (known && nloss)
            snprintf(n, sizeof n, "%" PRIu64 " ", lost);
        size_t len = strlen(t->trunc_note);
        snprintf(t->trunc_note + len, sizeof t->trunc_note - len,
                 "%sthe recorder lost %sevents (%zu loss record%s, first: %s after %" PRIu64
                 " events): a block whose free was lost shows as leaked, and live bytes may be off",
                 len ? "; " : "", n, nloss, nloss == 1 ? "" : "s",
                 nloss ? hak_loss_reason_name((int)loss[0].reason) : "?",
                 nloss ? loss[0].at_events : 0);
        t->incomplete = 1;
        fprintf(stderr, "hak trace %s: %s: warning: the recorder lost %sevents; results are "
                "approximate\n", cmd, path, n);
    }
    return 0;
}

void vw_unload(vw_trace *t)
{
    hak_sym_free(t->sym);
    hak_sv_destroy(&t->v);
    if (t->r)
        hak_tr_close(t->r);
    memset(t, 0, sizeof *t);
}

typedef struct expand_ctx { vw_frame_fn fn; void *ctx; unsigned *out; } expand_ctx;

/* One line per frame, inlined functions first: "func at file:line (inlined)". */
static void expand_frame(void *ctx, const char *frame, const char *loc, int inlined)
{
    expand_ctx *e = ctx;
    char buf[2048];
    snprintf(buf, sizeof buf, "%s%s%s%s", frame, loc ? " at " : "", loc ? loc : "",
             inlined ? " (inlined)" : "");
    e->fn(e->ctx, (*e->out)++, buf);
}

unsigned vw_frames(vw_trace *t, uint32_t id, uint64_t depth, int func_only, int with_module,
                   vw_frame_fn fn, void *ctx)
{
    char buf[1024];
    const hak_site *s = id ? hak_tr_site(t->r, id) : NULL;
    if (!id) {
        fn(ctx, 0, "[no call site recorded]");
        return 1;
    }
    if (!s || !s->depth) {
        snprintf(buf, sizeof buf, "[site %" PRIu32 ": no stack in the trace]", id);
        fn(ctx, 0, buf);
        return 1;
    }
    uint32_t n = s->depth;
    if (depth && depth < n)
        n = (uint32_t)depth;
    if (n > MAX_DEPTH)
        n = MAX_DEPTH;
    unsigned out = 0;
    for (uint32_t d = 0; d < n; d++) {
        if (func_only) {
            hak_sym_func(t->sym, s->ips[d], with_module, buf, sizeof buf);
            fn(ctx, out++, buf);
        } else {
            expand_ctx e = {fn, ctx, &out};
            hak_sym_frames(t->sym, s->ips[d], expand_frame, &e);
        }
    }
    return out;
}

void vw_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

void vw_csv_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p == '\n' || *p == '\r' ? ' ' : *p, f);
    }
    fputc('"', f);
}

typedef struct frame_out { FILE *f; const char *indent; } frame_out;

static void csv_frame(void *ctx, unsigned i, const char *frame)
{
    frame_out *o = ctx;
    if (i)
        fputs(" <- ", o->f);
    for (const char *p = frame; *p; p++) {
        if (*p == '"')
            fputc('"', o->f);
        fputc(*p == '\n' || *p == '\r' ? ' ' : *p, o->f);
    }
}

static void json_frame(void *ctx, unsigned i, const char *frame)
{
    frame_out *o = ctx;
    if (i)
        fputs(", ", o->f);
    vw_json_str(o->f, frame);
}

static void text_frame(void *ctx, unsigned i, const char *frame)
{
    frame_out *o = ctx;
    (void)i;
    fprintf(o->f, "%s%s\n", o->indent, frame);
}

void vw_csv_frames(FILE *f, vw_trace *t, uint32_t id, uint64_t depth)
{
    frame_out o = {f, ""};
    fputc('"', f);
    vw_frames(t, id, depth, 0, 0, csv_frame, &o);
    fputc('"', f);
}

void vw_json_frames(FILE *f, vw_trace *t, uint32_t id, uint64_t depth)
{
    frame_out o = {f, ""};
    fputc('[', f);
    vw_frames(t, id, depth, 0, 0, json_frame, &o);
    fputc(']', f);
}

void vw_text_frames(FILE *f, vw_trace *t, uint32_t id, uint64_t depth, const char *indent)
{
    frame_out o = {f, indent};
    vw_frames(t, id, depth, 0, 0, text_frame, &o);
}

void vw_json_trace(FILE *f, const vw_trace *t)
{
    fputs("\"trace\": ", f);
    vw_json_str(f, t->path);
    fprintf(f, ", \"events\": %" PRIu64 ", \"allocations\": %" PRIu64
            ", \"allocated_bytes\": %" PRIu64 ", \"frees\": %" PRIu64
            ", \"unknown_frees\": %" PRIu64 ", \"call_sites\": %" PRIu32 ", \"truncated\": %s"
            ", \"incomplete\": %s",
            t->v.events, t->v.allocs, t->v.alloc_bytes, t->v.frees, t->v.unknown_frees,
            t->v.nsites, t->truncated ? "true" : "false", t->incomplete ? "true" : "false");
    if (t->trunc_note[0]) {
        fputs(", \"note\": ", f);
        vw_json_str(f, t->trunc_note);
    }
}

const char *vw_fmt_ns(uint64_t ns, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRIu64 ".%06" PRIu64 " s", ns / 1000000000u, ns % 1000000000u / 1000u);
    return buf;
}
