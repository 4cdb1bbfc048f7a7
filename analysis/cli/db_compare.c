/* db_compare.c - `hak db compare` (base vs new, noise-aware) and
 * `hak db best` (best allocator + knob setting per trace). */
#include "db_best.h"
#include "db_cli.h"
#include "hakdb_sweep.h"
#include "hak_util.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_DB = 1000, OPT_CSV, OPT_JSON, OPT_TRACE, OPT_BASE, OPT_NEW, OPT_METRIC, OPT_BY,
       OPT_MIN, OPT_FAIL, OPT_LABEL, OPT_SWEEP, OPT_KIND, OPT_INCOMPLETE };

/* Runs of a truncated or incomplete trace (traces.completeness) replayed
 * only part of the program: compare and best leave them out unless
 * --include-incomplete, and say how many they left out. */
#define INCOMPLETE_HELP \
    "  --include-incomplete  also use runs of truncated or incomplete traces\n" \
    "               (cut off, or the recorder lost events); by default they\n" \
    "               are left out and counted in a note on stderr.\n"
static void note_ignored(const char *cmd, size_t n)
{
    if (n)
        fprintf(stderr, "hak %s: note: left out %zu run%s of truncated or incomplete traces "
                "(--include-incomplete uses them)\n", cmd, n, n == 1 ? "" : "s");
}

static void compare_usage(FILE *out)
{
    fprintf(out,
        "usage: hak db compare --base A --new B [--by label|build] [--metric M]...\n"
        "                      [--trace T] [--label L] [--min-change PCT] [--fail-on-regression]\n"
        "                      [--include-incomplete] [--db FILE] [--csv|--json] [-o FILE]\n"
        "\n"
        "Compares runs labelled A (--label at replay time) with runs labelled B,\n"
        "per trace and setting (allocator, knobs and mode: threads, touch, pace);\n"
        "with --by build, A and B are allocator build names, stored or as given\n"
        "to --alloc (hakmem@652251e2ee40 or hakmem@HEAD~50 vs hakmem), compared\n"
        "per trace, knobs and mode (--label L: only runs labelled L).  The\n"
        "header says what matched; nothing compared (no setting on both sides)\n"
        "or a --base/--new/--trace/--label matching nothing is an error (exit 1).\n"
        "For each side:\n"
        "median of the repeats, spread\n"
        "(min..max) and count; then new/base ratio and a verdict.\n"
        "\n"
        "Verdict: REGRESSION or better only when both sides have >= 2 repeats,\n"
        "their min..max ranges do not overlap and the medians differ by more than\n"
        "both --min-change (default 2%%) and the run-to-run noise (3 x 1.4826 x MAD\n"
        "relative to the median); otherwise 'same'; 'unsure' with a single run.\n"
        "Simulated figures (sim.*) are deterministic: one run is exact and any\n"
        "difference beyond --min-change counts.\n"
        "Direction comes from metric_info (ops_per_s: higher is better; faults,\n"
        "RSS, misses, time: lower).  Regressions are listed first.\n"
        "\n"
        "  --metric M   ops_per_s, minor_faults, peak_rss_bytes, wall_ns, any\n"
        "               run_metrics name (cycles, dTLB-load-misses, sim.dtlb_misses).\n"
        "               Repeatable; default: ops_per_s, minor_faults, peak_rss_bytes.\n"
        "  --fail-on-regression  exit 1 when any regression is found (for CI).\n"
        INCOMPLETE_HELP);
    fputs("\nexamples:\n"
          "  hak db compare --base v1 --new v2\n"
          "  hak db compare --base glibc --new hakmem --by build --metric cycles\n"
          "  hak db compare --base main --new pr --fail-on-regression || exit 1\n", out);
}

static void fmt_spread(const db_group *g, const char *unit, char *buf, size_t len)
{
    if (!g || g->n < 2) {
        snprintf(buf, len, "-");
        return;
    }
    char a[40], b[40];
    db_fmt_value(g->s.min, unit, a, sizeof a);
    db_fmt_value(g->s.max, unit, b, sizeof b);
    snprintf(buf, len, "%s..%s", a, b);
}

static void add_text_row(db_tbl *t, const db_cmp_row *r, const db_cmp_opts *o, const char *unit)
{
    const db_group *g = r->base ? r->base : r->neu;
    size_t i = db_tbl_add_row(t);
    char b[96];
    db_tbl_set(t, i, 0, DB_TEXT, g->trace);
    if (o->by_build)
        db_tbl_setf(t, i, 1, DB_TEXT, "%s -> %s", o->base, o->neu);
    else
        db_tbl_set(t, i, 1, DB_TEXT, g->alloc);
    db_tbl_set(t, i, 2, DB_TEXT, *g->env ? g->env : "-");
    db_tbl_set(t, i, 3, DB_TEXT, g->mode);
    db_tbl_set(t, i, 4, DB_TEXT, r->metric);
    db_tbl_set(t, i, 5, DB_REAL, r->base ? db_fmt_value(r->base->s.median, unit, b, sizeof b) : NULL);
    fmt_spread(r->base, unit, b, sizeof b);
    db_tbl_set(t, i, 6, DB_REAL, r->base ? b : NULL);
    db_tbl_setf(t, i, 7, DB_INT, "%zu", r->base ? r->base->n : 0);
    db_tbl_set(t, i, 8, DB_REAL, r->neu ? db_fmt_value(r->neu->s.median, unit, b, sizeof b) : NULL);
    fmt_spread(r->neu, unit, b, sizeof b);
    db_tbl_set(t, i, 9, DB_REAL, r->neu ? b : NULL);
    db_tbl_setf(t, i, 10, DB_INT, "%zu", r->neu ? r->neu->n : 0);
    if (r->base && r->neu && !isnan(r->c.rel) && !isinf(r->c.rel))
        db_tbl_setf(t, i, 11, DB_REAL, "%+.1f%%", 100 * r->c.rel);
    else
        db_tbl_set(t, i, 11, DB_REAL, NULL);
    if (!r->base || !r->neu)
        db_tbl_set(t, i, 12, DB_TEXT, r->base ? "only in base" : "only in new");
    else if (r->c.verdict == DB_SAME && r->c.repeats)
        db_tbl_setf(t, i, 12, DB_TEXT, "undecided: noise %.1f%%; ~%zu repeats a side would decide",
                    100 * r->c.noise, r->c.repeats);
    else if (r->c.verdict == DB_SAME)
        db_tbl_setf(t, i, 12, DB_TEXT, "same (noise %.1f%%)", 100 * r->c.noise);
    else
        db_tbl_set(t, i, 12, DB_TEXT, db_verdict_name(r->c.verdict));
}

static void dbl_cell(db_tbl *t, size_t i, int c, double v)
{
    if (isnan(v) || isinf(v))
        db_tbl_set(t, i, c, DB_REAL, NULL);
    else
        db_tbl_setf(t, i, c, DB_REAL, "%.10g", v);
}

static void add_raw_row(db_tbl *t, const db_cmp_row *r, const db_cmp_opts *o)
{
    const db_group *g = r->base ? r->base : r->neu;
    size_t i = db_tbl_add_row(t);
    db_tbl_set(t, i, 0, DB_TEXT, g->trace);
    db_tbl_set(t, i, 1, DB_TEXT, g->hash);
    if (o->by_build)
        db_tbl_setf(t, i, 2, DB_TEXT, "%s -> %s", o->base, o->neu);
    else
        db_tbl_set(t, i, 2, DB_TEXT, g->alloc);
    db_tbl_set(t, i, 3, DB_TEXT, g->env);
    db_tbl_set(t, i, 4, DB_TEXT, g->mode);
    db_tbl_set(t, i, 5, DB_TEXT, r->metric);
    const db_group *s[2] = {r->base, r->neu};
    for (int k = 0; k < 2; k++) {
        int c = 6 + 5 * k;
        if (s[k]) {
            dbl_cell(t, i, c, s[k]->s.median);
            dbl_cell(t, i, c + 1, s[k]->s.min);
            dbl_cell(t, i, c + 2, s[k]->s.max);
            dbl_cell(t, i, c + 3, s[k]->s.mad);
            db_tbl_setf(t, i, c + 4, DB_INT, "%zu", s[k]->n);
        } else {
            db_tbl_setf(t, i, c + 4, DB_INT, "0");
        }
    }
    if (r->base && r->neu) {
        dbl_cell(t, i, 16, r->c.ratio);
        dbl_cell(t, i, 17, r->c.noise);
        db_tbl_set(t, i, 18, DB_TEXT, r->c.verdict == DB_WORSE ? "regression"
                   : r->c.verdict == DB_BETTER ? "better"
                   : r->c.verdict == DB_SAME ? (r->c.repeats ? "undecided" : "same") : "unsure");
        if (r->c.repeats)
            db_tbl_setf(t, i, 19, DB_INT, "%zu", r->c.repeats);
    } else {
        db_tbl_set(t, i, 18, DB_TEXT, r->base ? "only_base" : "only_new");
    }
}

/* What a comparison matched, from the first metric's groups: runs and
 * settings per side, traces, and how many settings pair up. */
typedef struct db_match_summary {
    size_t runs[2], settings[2], only[2], pairs, traces;
    char example[2][300];   /* one setting of each side, for the error line */
} db_match_summary;

static void summarize_match(const db_groups *gs, db_match_summary *m)
{
    memset(m, 0, sizeof *m);
    for (size_t i = 0; i < gs->n; i++) {
        const db_group *g = &gs->g[i], *next = i + 1 < gs->n ? &gs->g[i + 1] : NULL;
        int side = g->side ? 1 : 0;
        m->runs[side] += g->n;
        m->settings[side]++;
        if (!m->example[side][0])
            snprintf(m->example[side], sizeof m->example[side], "%s %s%s%s [%s]", g->trace, g->alloc,
                     *g->env ? " " : "", g->env, g->mode);
        if (!i || strcmp(gs->g[i - 1].hash, g->hash))
            m->traces++;
        if (side == 0 && next && next->side == 1 && !strcmp(g->hash, next->hash) &&
            !strcmp(g->alloc, next->alloc) && !strcmp(g->env, next->env) && !strcmp(g->mode, next->mode)) {
            m->pairs++;
            m->runs[1] += next->n;
            m->settings[1]++;
            i++;
        } else {
            m->only[side]++;
        }
    }
}

/* ---- hak db compare: parse, plan, run, print ---- */

typedef struct compare_args {
    const char *dbp, *metrics[16];
    int nm, fail;
    db_cmp_opts o;
    db_out out;
} compare_args;

/* -1 when the arguments are good, else the exit status (help: 0). */
static int compare_parse(int argc, char **argv, compare_args *a)
{
    static const struct option lo[] = {
        {"db", required_argument, 0, OPT_DB}, {"csv", no_argument, 0, OPT_CSV},
        {"json", no_argument, 0, OPT_JSON}, {"trace", required_argument, 0, OPT_TRACE},
        {"base", required_argument, 0, OPT_BASE}, {"new", required_argument, 0, OPT_NEW},
        {"metric", required_argument, 0, OPT_METRIC}, {"by", required_argument, 0, OPT_BY},
        {"min-change", required_argument, 0, OPT_MIN},
        {"fail-on-regression", no_argument, 0, OPT_FAIL}, {"label", required_argument, 0, OPT_LABEL},
        {"include-incomplete", no_argument, 0, OPT_INCOMPLETE},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    a->o = (db_cmp_opts){NULL, NULL, 0, NULL, 0.02, NULL, 0};
    a->out = (db_out){DB_FMT_TEXT, NULL};
    db_cmp_opts *o = &a->o;
    int c;
    optind = 0;
    opterr = 0; /* one-line errors: hak_cmd_bad_option */
    while ((c = getopt_long(argc, argv, "ho:", lo, NULL)) != -1) {
        switch (c) {
        case OPT_DB: a->dbp = optarg; break;
        case OPT_CSV: a->out.fmt = DB_FMT_CSV; break;
        case OPT_JSON: a->out.fmt = DB_FMT_JSON; break;
        case OPT_TRACE: o->trace = optarg; break;
        case OPT_BASE: o->base = optarg; break;
        case OPT_NEW: o->neu = optarg; break;
        case OPT_FAIL: a->fail = 1; break;
        case OPT_LABEL: o->label = optarg; break;
        case OPT_INCOMPLETE: o->include_incomplete = 1; break;
        case 'o': a->out.path = optarg; break;
        case OPT_METRIC:
            if (a->nm == 16) {
                hak_cmd_err("db compare", "at most 16 --metric");
                return 2;
            }
            a->metrics[a->nm++] = optarg;
            break;
        case OPT_BY:
            if (!strcmp(optarg, "label")) o->by_build = 0;
            else if (!strcmp(optarg, "build")) o->by_build = 1;
            else {
                hak_cmd_err("db compare", "--by: '%s' is not 'label' or 'build'", optarg);
                return 2;
            }
            break;
        case OPT_MIN: {
            char *end;
            double v = strtod(optarg, &end);
            if (end == optarg || (*end && strcmp(end, "%")) || !(v >= 0 && v <= 1000)) {   /* !: nan */
                hak_cmd_err("db compare", "--min-change: '%s' is not a percentage", optarg);
                return 2;
            }
            o->min_change = v / 100;
            break;
        }
        case 'h': compare_usage(stdout); return 0;
        default: return hak_cmd_bad_option("db compare", argc, argv);
        }
    }
    if (optind < argc) {
        hak_cmd_err("db compare", "unexpected argument '%s'; see --help", argv[optind]);
        return 2;
    }
    if (!o->base || !o->neu) {
        hak_cmd_err("db compare", "--base and --new are required; see --help");
        return 2;
    }
    if (!strcmp(o->base, o->neu)) {
        hak_cmd_err("db compare", "--base and --new are both '%s'; nothing to compare", o->base);
        return 2;
    }
    if (o->label && !o->by_build) {
        hak_cmd_err("db compare", "--label only applies with --by build (labels are compared by default)");
        return 2;
    }
    if (!a->nm) {
        a->metrics[a->nm++] = "ops_per_s";
        a->metrics[a->nm++] = "minor_faults";
        a->metrics[a->nm++] = "peak_rss_bytes";
    }
    return -1;
}

/* Every name given exists in db (a misspelt label, build, trace or
 * metric is an error naming the nearest, never an empty comparison).
 * 0, or 1 after saying why. */
static int compare_plan(hakdb *db, const compare_args *a)
{
    const db_cmp_opts *o = &a->o;
    db_match_kind side_kind = o->by_build ? DB_MATCH_BUILD : DB_MATCH_LABEL;
    if (db_require_match(db, "db compare", "--base", side_kind, o->base) ||
        db_require_match(db, "db compare", "--new", side_kind, o->neu) ||
        db_require_match(db, "db compare", "--trace", DB_MATCH_TRACE, o->trace) ||
        db_require_match(db, "db compare", "--label", DB_MATCH_LABEL, o->label) ||
        (o->by_build && (db_require_one_build(db, "db compare", "--base", o->base) ||
                         db_require_one_build(db, "db compare", "--new", o->neu))))
        return 1;
    char err[600];
    for (int k = 0; k < a->nm; k++)
        if (!db_metric_exists(db, a->metrics[k], err, sizeof err)) {
            hak_cmd_err("db compare", "%s", err);
            return 1;
        }
    return 0;
}

/* The comparison of every metric: rows pointing into store[], all
 * metrics' rows in one array.  0, or 1 after saying why. */
static int compare_run(hakdb *db, const compare_args *a, db_groups store[16],
                       db_cmp_row **all, size_t *nall)
{
    char err[600];
    for (int k = 0; k < a->nm; k++) {
        db_cmp_row *rows;
        size_t n;
        if (db_compare_metric(db, &a->o, a->metrics[k], &store[k], &rows, &n, err, sizeof err) != 0) {
            hak_cmd_err("db compare", "%s", err);
            return 1;
        }
        *all = realloc(*all, (*nall + n + 1) * sizeof **all);
        memcpy(*all + *nall, rows, n * sizeof *rows);
        *nall += n;
        free(rows);
    }
    return 0;
}

/* Prints the table (regressions of every metric first), the summary lines
 * and the verdict.  Returns the exit status. */
static int compare_print(hakdb *db, const compare_args *a, db_groups store[16],
                         const db_cmp_row *all, size_t nall)
{
    const db_cmp_opts *o = &a->o;
    const db_out *out = &a->out;
    static const char *const tn[] = {"trace", "alloc", "knobs", "mode", "metric", "base", "base range",
                                     "n", "new", "new range", "n", "change", "verdict"};
    static const char *const rn[] = {"trace", "trace_hash", "alloc", "env", "mode", "metric",
        "base_median", "base_min", "base_max", "base_mad", "base_n",
        "new_median", "new_min", "new_max", "new_mad", "new_n", "ratio", "noise", "verdict",
        "repeats_needed"};
    db_tbl *t = out->fmt == DB_FMT_TEXT ? db_tbl_new(13, tn) : db_tbl_new(20, rn);
    int rc = 0, regressions = 0, pairs = 0, undecided = 0;
    /* Stable order: regressions (all metrics), improvements, the rest. */
    for (int pass = 0; pass < 3; pass++) {
        for (size_t i = 0; i < nall; i++) {
            const db_cmp_row *r = &all[i];
            int both = r->base && r->neu;
            int cls = both && r->c.verdict == DB_WORSE ? 0 : both && r->c.verdict == DB_BETTER ? 1 : 2;
            if (cls != pass)
                continue;
            pairs += both;
            regressions += cls == 0;
            undecided += both && r->c.verdict == DB_SAME && r->c.repeats;
            if (out->fmt == DB_FMT_TEXT) {
                char unit[32];
                db_metric_unit(db, r->metric, unit, sizeof unit);
                add_text_row(t, r, o, unit);
            } else {
                add_raw_row(t, r, o);
            }
        }
    }
    db_match_summary ms;
    summarize_match(&store[0], &ms);
    char matched[400];
    snprintf(matched, sizeof matched,
             "matched: base %zu ok run%s in %zu setting%s, new %zu ok run%s in %zu setting%s,"
             " %zu trace%s; %zu setting%s compared, %zu only in base, %zu only in new",
             ms.runs[0], ms.runs[0] == 1 ? "" : "s", ms.settings[0], ms.settings[0] == 1 ? "" : "s",
             ms.runs[1], ms.runs[1] == 1 ? "" : "s", ms.settings[1], ms.settings[1] == 1 ? "" : "s",
             ms.traces, ms.traces == 1 ? "" : "s", ms.pairs, ms.pairs == 1 ? "" : "s",
             ms.only[0], ms.only[1]);
    FILE *f = db_out_open("db compare", out);
    if (!f) {
        rc = 1;
    } else {
        if (out->fmt == DB_FMT_TEXT) {
            char sb[160], sn[160];
            db_escape_text(o->base, sb, sizeof sb);
            db_escape_text(o->neu, sn, sizeof sn);
            fprintf(f, "compare %s '%s' (base) -> '%s' (new); min change %.1f%%\n%s\n\n",
                    o->by_build ? "build" : "label", sb, sn, 100 * o->min_change, matched);
        }
        db_tbl_print(t, out->fmt, f);
        if (out->fmt == DB_FMT_TEXT)
            fprintf(f, "\n%d regression%s in %d comparison%s\n", regressions,
                    regressions == 1 ? "" : "s", pairs, pairs == 1 ? "" : "s");
        if (out->fmt == DB_FMT_TEXT && undecided)
            fprintf(f, "%d undecided: the change exceeds --min-change but not the run-to-run"
                    " noise; repeat more (--repeat) or replay longer (--min-time)\n", undecided);
        if (db_out_close("db compare", out, f))
            rc = 1;
    }
    db_tbl_free(t);
    size_t ignored = 0;
    for (int k = 0; k < a->nm; k++)
        if (store[k].ignored > ignored)
            ignored = store[k].ignored;
    note_ignored("db compare", ignored);
    /* Nothing compared is never a pass: a gate that passes on nothing
     * (every setting only on one side) hides any regression. */
    if (rc == 0 && pairs == 0) {
        char why[800];
        if (ms.runs[0] == 0 || ms.runs[1] == 0)
            snprintf(why, sizeof why, "no ok runs with %s '%s'%s", o->by_build ? "build" : "label",
                     ms.runs[0] == 0 ? o->base : o->neu, o->trace ? " for that --trace" : "");
        else
            snprintf(why, sizeof why, "base and new share no setting (trace, allocator, knobs,"
                     " mode): base has %s; new has %s", ms.example[0], ms.example[1]);
        char safe[900];
        db_escape_text(why, safe, sizeof safe);
        hak_cmd_err("db compare", "nothing compared: %s", safe);
        rc = 1;
    } else if (rc == 0 && (ms.only[0] || ms.only[1]) && out->fmt != DB_FMT_TEXT) {
        fprintf(stderr, "hak db compare: note: %s\n", matched);
    }
    if (a->fail && regressions)
        rc = 1;
    return rc;
}

int db_cmd_compare(int argc, char **argv)
{
    compare_args a;
    int rc = compare_parse(argc, argv, &a);
    if (rc >= 0)
        return rc;
    hakdb *db = db_open_for("db compare", a.dbp);
    if (!db)
        return 1;
    db_groups store[16];
    memset(store, 0, sizeof store);
    db_cmp_row *all = NULL;
    size_t nall = 0;
    rc = compare_plan(db, &a);
    if (rc == 0)
        rc = compare_run(db, &a, store, &all, &nall);
    if (rc == 0)
        rc = compare_print(db, &a, store, all, nall);
    free(all);
    for (int k = 0; k < a.nm; k++)
        db_groups_free(&store[k]);
    hakdb_close(db);
    return rc;
}

/* ---- best ------------------------------------------------------------- */

static void best_usage(FILE *out)
{
    fprintf(out,
        "usage: hak db best [--metric M] [--trace T] [--sweep ID] [--label L]\n"
        "                   [--kind measured|simulated] [--include-incomplete] [--db FILE]\n"
        "                   [--csv|--json] [-o FILE]\n"
        "\n"
        "For every trace, the allocator and knob setting with the best median of\n"
        "metric M over its ok runs (default ops_per_s), direction-aware: ops_per_s\n"
        "higher is better; faults, RSS, times and misses lower.  Shows the\n"
        "runner-up, the margin, and whether the win exceeds run-to-run noise\n"
        "(same rule as 'hak db compare'; sim.* figures are exact).  A setting is\n"
        "the allocator name, its knobs and its mode (threads serial|recorded,\n"
        "touch, pace, simulated); runs of different settings are never merged.\n"
        "Settings are grouped over all matching runs: use --label or --sweep to\n"
        "look at one experiment (e.g. after rebuilding hakmem).  A filter that\n"
        "matches nothing is an error naming the nearest existing values.\n"
        "\n" INCOMPLETE_HELP);
    fputs("\nexamples:\n"
          "  hak db best\n"
          "  hak db best --metric minor_faults --sweep 3\n", out);
}

/* One trace of `hak db best` as a table row (db_best's callback). */
typedef struct best_table {
    db_tbl *t;
    int text;
    const char *metric, *unit;
    int higher;
} best_table;

static void best_row(const db_best_row *br, void *ctx)
{
    best_table *bt = ctx;
    db_tbl *t = bt->t;
    const db_group *b = br->best, *r = br->runner_up;
    const db_change ch = br->change;
    const char *verdict = br->verdict, *metric = bt->metric, *unit = bt->unit;
    int higher = bt->higher;
    size_t row = db_tbl_add_row(t);
    char v[64];
    /* The runner-up names its mode only when it differs from the best's. */
    int rmode = r && strcmp(r->mode, b->mode);
    if (bt->text) {
        db_tbl_set(t, row, 0, DB_TEXT, b->trace);
        db_tbl_set(t, row, 1, DB_TEXT, b->alloc);
        db_tbl_set(t, row, 2, DB_TEXT, *b->env ? b->env : "-");
        db_tbl_set(t, row, 3, DB_TEXT, b->mode);
        db_tbl_set(t, row, 4, DB_REAL, db_fmt_value(b->s.median, unit, v, sizeof v));
        db_tbl_setf(t, row, 5, DB_INT, "%zu", b->n);
        if (r) {
            db_tbl_setf(t, row, 6, DB_TEXT, "%s%s%s%s%s", r->alloc, *r->env ? " " : "", r->env,
                        rmode ? " " : "", rmode ? r->mode : "");
            db_tbl_set(t, row, 7, DB_REAL, db_fmt_value(r->s.median, unit, v, sizeof v));
            if (!isnan(ch.ratio))
                db_tbl_setf(t, row, 8, DB_REAL, "%.3fx", higher ? ch.ratio : 1 / ch.ratio);
        }
        db_tbl_setf(t, row, 9, DB_INT, "%zu", br->settings);
        db_tbl_set(t, row, 10, DB_TEXT, verdict);
    } else {
        db_tbl_set(t, row, 0, DB_TEXT, b->trace);
        db_tbl_set(t, row, 1, DB_TEXT, b->hash);
        db_tbl_set(t, row, 2, DB_TEXT, metric);
        db_tbl_set(t, row, 3, DB_TEXT, higher ? "higher" : "lower");
        db_tbl_set(t, row, 4, DB_TEXT, b->alloc);
        db_tbl_set(t, row, 5, DB_TEXT, b->env);
        db_tbl_set(t, row, 6, DB_TEXT, b->mode);
        db_tbl_setf(t, row, 7, DB_REAL, "%.10g", b->s.median);
        db_tbl_setf(t, row, 8, DB_INT, "%zu", b->n);
        if (r) {
            db_tbl_setf(t, row, 9, DB_TEXT, "%s%s%s%s%s", r->alloc, *r->env ? " " : "", r->env,
                        rmode ? " " : "", rmode ? r->mode : "");
            db_tbl_setf(t, row, 10, DB_REAL, "%.10g", r->s.median);
            if (!isnan(ch.ratio))
                db_tbl_setf(t, row, 11, DB_REAL, "%.6g", ch.ratio);
        }
        db_tbl_setf(t, row, 12, DB_INT, "%zu", br->settings);
        db_tbl_set(t, row, 13, DB_TEXT, verdict);
    }
}

int db_cmd_best(int argc, char **argv)
{
    static const struct option lo[] = {
        {"db", required_argument, 0, OPT_DB}, {"csv", no_argument, 0, OPT_CSV},
        {"json", no_argument, 0, OPT_JSON}, {"trace", required_argument, 0, OPT_TRACE},
        {"metric", required_argument, 0, OPT_METRIC}, {"label", required_argument, 0, OPT_LABEL},
        {"sweep", required_argument, 0, OPT_SWEEP}, {"kind", required_argument, 0, OPT_KIND},
        {"include-incomplete", no_argument, 0, OPT_INCOMPLETE},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *dbp = NULL, *metric = "ops_per_s";
    db_filter f = {0};
    db_out out = {DB_FMT_TEXT, NULL};
    int c;
    optind = 0;
    opterr = 0; /* one-line errors: hak_cmd_bad_option */
    while ((c = getopt_long(argc, argv, "ho:", lo, NULL)) != -1) {
        switch (c) {
        case OPT_DB: dbp = optarg; break;
        case OPT_CSV: out.fmt = DB_FMT_CSV; break;
        case OPT_JSON: out.fmt = DB_FMT_JSON; break;
        case OPT_TRACE: f.trace = optarg; break;
        case OPT_METRIC: metric = optarg; break;
        case OPT_LABEL: f.label = optarg; break;
        case OPT_INCOMPLETE: f.include_incomplete = 1; break;
        case OPT_SWEEP:
            if (db_check_filter("db best", "--sweep", optarg))
                return 2;
            f.sweep = optarg;
            break;
        case OPT_KIND:
            if (db_check_filter("db best", "--kind", optarg))
                return 2;
            f.kind = optarg;
            break;
        case 'o': out.path = optarg; break;
        case 'h': best_usage(stdout); return 0;
        default: return hak_cmd_bad_option("db best", argc, argv);
        }
    }
    if (optind < argc) {
        hak_cmd_err("db best", "unexpected argument '%s'; see --help", argv[optind]);
        return 2;
    }
    hakdb *db = db_open_for("db best", dbp);
    if (!db)
        return 1;
    if (db_require_match(db, "db best", "--trace", DB_MATCH_TRACE, f.trace) ||
        db_require_match(db, "db best", "--label", DB_MATCH_LABEL, f.label)) {
        hakdb_close(db);
        return 1;
    }
    char err[600], unit[32];
    db_metric_unit(db, metric, unit, sizeof unit);
    static const char *const tn[] = {"trace", "best", "knobs", "mode", "median", "n", "runner-up",
                                     "its median", "margin", "settings", "verdict"};
    static const char *const rn[] = {"trace", "trace_hash", "metric", "better", "alloc", "env", "mode",
        "median", "n", "runner_up", "runner_up_median", "ratio", "settings", "verdict"};
    int text = out.fmt == DB_FMT_TEXT;
    best_table bt = {text ? db_tbl_new(11, tn) : db_tbl_new(14, rn), text, metric, unit,
                     hakdb_metric_higher_better(db, metric)};
    db_best_result res;
    if (db_best(db, metric, &f, &res, best_row, &bt, err, sizeof err) != 0) {
        hak_cmd_err("db best", "%s", err);
        db_tbl_free(bt.t);
        hakdb_close(db);
        return 1;
    }
    db_tbl *t = bt.t;
    db_groups gs = res.groups;
    int higher = res.higher;
    size_t nruns = res.runs, ntraces = res.traces;
    int rc = 0;
    if (gs.n == 0) {
        /* Every filter matched something, but not together (or no ok run
         * has the metric): say so instead of printing an empty table. */
        hak_cmd_err("db best", "no ok run%s has %s%s%s%s%s%s", f.trace || f.label || f.sweep || f.kind
                    ? " matching the filters" : "", metric,
                    f.trace ? "; --trace " : "", f.trace ? f.trace : "",
                    f.label ? "; --label " : "", f.label ? f.label : "",
                    f.sweep || f.kind ? "; see hak db runs" : "");
        db_tbl_free(t);
        db_best_free(&res);
        hakdb_close(db);
        return 1;
    }
    FILE *fo = db_out_open("db best", &out);
    if (!fo) {
        rc = 1;
    } else {
        if (text)
            fprintf(fo, "best setting per trace by %s (%s is better)\n"
                    "matched: %zu ok run%s, %zu trace%s, %zu setting%s (a setting is allocator +"
                    " knobs + mode)\n\n", metric, higher ? "higher" : "lower",
                    nruns, nruns == 1 ? "" : "s", ntraces, ntraces == 1 ? "" : "s",
                    gs.n, gs.n == 1 ? "" : "s");
        db_tbl_print(t, out.fmt, fo);
        if (db_out_close("db best", &out, fo))
            rc = 1;
    }
    note_ignored("db best", gs.ignored);
    db_tbl_free(t);
    db_best_free(&res);
    hakdb_close(db);
    return rc;
}
