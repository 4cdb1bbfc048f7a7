/* report.h - `hak report`: the data a report shows, gathered once from the
 * run history, then rendered as aligned text (report.c) or as one
 * self-contained HTML page with inline SVG charts (report_html.c). */
#ifndef REPORT_H
#define REPORT_H

#include "db_cli.h"

/* rpt_: the report (rp_ is the replayer). */
#define RPT_NMETRIC 6   /* the last, fidelity, describes the replay, not the allocator */
/* Metrics summarised per setting, in table order. */
extern const char *const rpt_metric[RPT_NMETRIC];     /* names */
extern const char *const rpt_metric_title[RPT_NMETRIC];

typedef struct rpt_setting {
    char *alloc, *env, *mode, *name;   /* name = alloc [+ ' ' + env] + ' ' + mode
                                          (mode: DB_MODE_EXPR, e.g. threads=recorded) */
    db_summary m[RPT_NMETRIC];          /* n == 0: not measured */
    int64_t failed;                    /* runs not ok */
    char *fail_reason;                 /* one example, NULL if none */
    int64_t tl_run;                    /* run whose timeline is shown, -1 none */
    char color[8];                     /* allocator colour, shaded per knob setting */
} rpt_setting;

typedef struct rpt_hist {
    size_t n;
    char **labels;
    double *values;
} rpt_hist;

typedef struct rpt_site {
    int64_t site, allocs, bytes, short_lived;
    double mean_life_ns;
    char *symbol;
    char *frames;       /* the whole stack, ' <- ' separated, innermost first; NULL if none */
} rpt_site;

typedef struct rpt_trace {
    int64_t id;
    char *hash, *program, *path;
    int64_t events, threads, duration_ns;
    rpt_setting *s;
    size_t ns;
    int best[RPT_NMETRIC];              /* index of the best setting, -1 none */
    /* each metric's unit and direction, from the metric registry
     * (metric_info) as every other reader takes them */
    char unit[RPT_NMETRIC][32];
    int higher[RPT_NMETRIC];
    /* compare section (when --base/--new) */
    db_groups cmp_store[3];
    db_cmp_row *cmp[3];
    size_t ncmp[3];
    /* trace statistics (hak db import-trace), when present */
    int has_stats;
    int64_t st_allocs, st_bytes, st_peak_live;
    rpt_hist sizes, lifetimes;
    int lifetimes_in_events;           /* 1: lifetimes is the in-events histogram */
    double life_zero_share;            /* freed objects whose time lifetime is 0 ns */
    int64_t ts_res_ns;                 /* recording clock resolution; -1 unknown */
    rpt_site *top_bytes, *top_short;
    size_t ntop_bytes, ntop_short;
} rpt_trace;

typedef struct rpt_report {
    const char *db_path, *label, *base, *neu;
    const char *sweep;                 /* only runs of this sweep id; NULL = any */
    int by_build;                      /* base/new are build names, not labels */
    char machine[512];
    char generated[32];
    int64_t runs, nmachines;
    rpt_trace *t;
    size_t nt;
} rpt_report;

int rpt_gather(hakdb *db, rpt_report *r, const char *trace, char *err, size_t errlen);
void rpt_free(rpt_report *r);
void rpt_text(hakdb *db, const rpt_report *r, FILE *out);
int rpt_html(hakdb *db, const rpt_report *r, FILE *out);

#endif
