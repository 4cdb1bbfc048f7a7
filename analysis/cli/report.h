/* report.h - `hak report`: the data a report shows, gathered once from the
 * run history, then rendered as aligned text (report.c) or as one
 * self-contained HTML page with inline SVG charts (report_html.c). */
#ifndef REPORT_H
#define REPORT_H

#include "db_cli.h"

#define RP_NMETRIC 6   /* the last, fidelity, describes the replay, not the allocator */
/* Metrics summarised per setting, in table order. */
extern const char *const rp_metric[RP_NMETRIC];     /* names */
extern const char *const rp_metric_title[RP_NMETRIC];
extern const char *const rp_metric_unit[RP_NMETRIC];

typedef struct rp_setting {
    char *alloc, *env, *mode, *name;   /* name = alloc [+ ' ' + env] + ' ' + mode
                                          (mode: DB_MODE_EXPR, e.g. threads=recorded) */
    db_summary m[RP_NMETRIC];          /* n == 0: not measured */
    int64_t failed;                    /* runs not ok */
    char *fail_reason;                 /* one example, NULL if none */
    int64_t tl_run;                    /* run whose timeline is shown, -1 none */
    char color[8];                     /* allocator colour, shaded per knob setting */
} rp_setting;

typedef struct rp_hist {
    size_t n;
    char **labels;
    double *values;
} rp_hist;

typedef struct rp_site {
    int64_t site, allocs, bytes, short_lived;
    double mean_life_ns;
    char *symbol;
    char *frames;       /* the whole stack, ' <- ' separated, innermost first; NULL if none */
} rp_site;

typedef struct rp_trace {
    int64_t id;
    char *hash, *program, *path;
    int64_t events, threads, duration_ns;
    rp_setting *s;
    size_t ns;
    int best[RP_NMETRIC];              /* index of the best setting, -1 none */
    /* compare section (when --base/--new) */
    db_groups cmp_store[3];
    db_cmp_row *cmp[3];
    size_t ncmp[3];
    /* trace statistics (hak db import-trace), when present */
    int has_stats;
    int64_t st_allocs, st_bytes, st_peak_live;
    rp_hist sizes, lifetimes;
    int lifetimes_in_events;           /* 1: lifetimes is the in-events histogram */
    double life_zero_share;            /* freed objects whose time lifetime is 0 ns */
    int64_t ts_res_ns;                 /* recording clock resolution; -1 unknown */
    rp_site *top_bytes, *top_short;
    size_t ntop_bytes, ntop_short;
} rp_trace;

typedef struct rp_report {
    const char *db_path, *label, *base, *neu;
    const char *sweep;                 /* only runs of this sweep id; NULL = any */
    int by_build;                      /* base/new are build names, not labels */
    char machine[512];
    char generated[32];
    int64_t runs, nmachines;
    rp_trace *t;
    size_t nt;
} rp_report;

int rp_gather(hakdb *db, rp_report *r, const char *trace, char *err, size_t errlen);
void rp_free(rp_report *r);
void rp_text(hakdb *db, const rp_report *r, FILE *out);
int rp_html(hakdb *db, const rp_report *r, FILE *out);

#endif
