/* cli_timeline.c - `hak trace timeline`: live bytes of the top call sites
 * over the trace, for a stacked chart or a script. */
#include "cli_common.h"
#include "cli_views.h"
#include "hak_util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak trace timeline [--points N] [--by time|events] [--top N] [--depth N]\n"
        "                          [--csv|--json] [--no-demangle] [--no-lines]\n"
        "                          [--sysroot DIR] [--debug-dir DIR] [--progress] TRACE\n"
        "\n"
        "Memory over time per call site: the live requested bytes of the heap\n"
        "and of the top call sites at N evenly spaced points of TRACE, the data\n"
        "of a stacked area chart.  The top sites are those with the largest live\n"
        "bytes at any moment of their own (the site's maximum); the rest is\n"
        "summed as 'other'.  A point at time T is the state after every event up\n"
        "to T (--by events: after every K-th event, K = events / N); the last\n"
        "point is the end of the trace.\n"
        "\n"
        "The trace is read twice, streaming: once to rank the sites and find the\n"
        "trace's duration, once to sample.  Memory grows with the live blocks,\n"
        "the call sites and N x top, not with the number of events.\n"
        "\n"
        "options:\n"
        "  --points N   samples (default 50, at most 100000)\n"
        "  --by K       time (default: points evenly spaced in time) or events\n"
        VW_COMMON_HELP
        "  (defaults: --top 5 --depth 4)\n"
        "\n"
        "output: text, a table of the points (time, heap, each site, other) and\n"
        "the frames of each site; --csv: one row per point, columns ts_ns, seq,\n"
        "live_bytes, site_ID... (top sites, by rank), other; --json: the sites\n"
        "with their frames and the points with their values.\n"
        "\n"
        "examples:\n"
        "  hak trace timeline run.hkt\n"
        "  hak trace timeline --csv --points 200 --top 8 run.hkt > timeline.csv\n"
        "\n"
        "exit status: 0 ok (also for a truncated trace, with a warning), 1\n"
        "unreadable trace or decoding error, 2 usage error.\n");
}

static int by_max(const void *a, const void *b)
{
    const hak_sv_site *x = *(const hak_sv_site *const *)a, *y = *(const hak_sv_site *const *)b;
    if (x->max_bytes != y->max_bytes)
        return x->max_bytes < y->max_bytes ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

typedef struct sampler {
    hak_siteview v;              /* the second pass */
    const uint32_t *ids;         /* top site ids */
    size_t ntop, npoints, next;  /* next: index of the point to take */
    uint64_t *val;               /* [npoints][ntop + 2]: heap, sites..., other */
    uint64_t *at_ns, *at_seq;    /* [npoints] */
} sampler;

static void take(sampler *s, uint64_t ns, uint64_t seq)
{
    uint64_t *row = &s->val[s->next * (s->ntop + 2)];
    uint64_t sum = 0;
    row[0] = s->v.live_bytes;
    for (size_t i = 0; i < s->ntop; i++) {
        uint32_t k = hak_sv_find(&s->v, s->ids[i]);
        row[1 + i] = k == UINT32_MAX ? 0 : s->v.sites[k].live_bytes;
        sum += row[1 + i];
    }
    row[s->ntop + 1] = row[0] - sum;
    s->at_ns[s->next] = ns;
    s->at_seq[s->next] = seq;
    s->next++;
}

typedef struct tl_opts { uint64_t npoints; int by_events; } tl_opts;

static int own_opt(void *ctx, int c, const char *arg)
{
    tl_opts *to = ctx;
    if (c == 'p') {
        if (cli_u64("timeline", "--points", arg, &to->npoints))
            return 2;
        if (!to->npoints || to->npoints > 100000)
            return cli_usage_err("timeline", "--points: %s is not in 1..100000", arg);
        return 0;
    }
    if (!strcmp(arg, "time"))   /* --by */
        to->by_events = 0;
    else if (!strcmp(arg, "events"))
        to->by_events = 1;
    else
        return cli_usage_err("timeline", "--by: '%s' is not time or events", arg);
    return 0;
}

int trace_timeline(int argc, char **argv)
{
    static const struct option own[] = {
        {"points", required_argument, NULL, 'p'},
        {"by", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    tl_opts to = {50, 0};
    const vw_cmd cmd = {.name = "timeline", .usage = usage, .own = own, .own_opt = own_opt,
                        .ctx = &to, .common = VW_O_ALL, .ntraces = 1};
    vw_opts o;
    vw_opts_default(&o, 5, 4);
    int prc = vw_parse(&cmd, argc, argv, &o);
    if (prc >= 0)
        return prc;
    uint64_t npoints = to.npoints;
    int by_events = to.by_events;
    vw_trace t;
    if (vw_load(&t, "timeline", argv[optind], NULL, &o))
        return 1;
    /* pass 1 done: rank the sites */
    hak_siteview *v1 = &t.v;
    hak_sv_site **rank = malloc(((size_t)v1->nsites + 1) * sizeof *rank);
    size_t n = 0;
    for (uint32_t i = 0; rank && i < v1->nsites; i++)
        if (v1->sites[i].max_bytes)
            rank[n++] = &v1->sites[i];
    if (rank && n)
        qsort(rank, n, sizeof *rank, by_max);
    size_t ntop = o.top && o.top < n ? (size_t)o.top : n;
    sampler s;
    memset(&s, 0, sizeof s);
    uint32_t *ids = calloc(ntop + 1, sizeof *ids);
    s.ntop = ntop;
    s.npoints = (size_t)npoints;
    s.val = calloc(s.npoints * (ntop + 2), sizeof *s.val);
    s.at_ns = calloc(s.npoints, sizeof *s.at_ns);
    s.at_seq = calloc(s.npoints, sizeof *s.at_seq);
    int rc = 0;
    if (!rank || !ids || !s.val || !s.at_ns || !s.at_seq || hak_sv_init(&s.v, NULL, NULL, 0)) {
        hak_cmd_err("trace timeline", "out of memory");
        rc = 1;
        goto out;
    }
    for (size_t i = 0; i < ntop; i++)
        ids[i] = rank[i]->id;
    s.ids = ids;
    /* pass 2: sample at each point; a batch is split where a point falls */
    uint64_t total_ev = v1->events, end_ns = v1->last_ns;
    hak_tr_rewind(t.r);
    enum { BATCH = 4096 };
    hak_event *ev = malloc(BATCH * sizeof *ev);
    if (!ev) {
        hak_cmd_err("trace timeline", "out of memory");
        rc = 1;
        goto out2;
    }
    long got = 0;
    uint64_t base = 0;            /* events before this batch */
    while (!rc && (got = hak_tr_read(t.r, ev, BATCH)) > 0) {
        size_t k = 0;
        for (;;) {
            /* the last point is the end state, taken after the loop */
            size_t upto = (size_t)got;
            uint64_t pt_ns = 0;
            if (s.next < s.npoints - 1) {
                if (by_events) {
                    /* point p: after the first (p+1) * total / points events */
                    uint64_t pt = (uint64_t)((unsigned __int128)(s.next + 1) * total_ev / s.npoints);
                    if (pt < base + (uint64_t)got)
                        upto = pt > base + k ? (size_t)(pt - base) : k;
                } else {
                    /* point p: after every event with ts <= (p+1) * end / points */
                    pt_ns = (uint64_t)((unsigned __int128)(s.next + 1) * end_ns / s.npoints);
                    upto = k;
                    while (upto < (size_t)got && ev[upto].ts_ns <= pt_ns)
                        upto++;
                }
            }
            if (upto > k && hak_sv_apply(&s.v, ev + k, upto - k)) {
                hak_cmd_err("trace timeline", "out of memory");
                rc = 1;
                break;
            }
            k = upto;
            if (k == (size_t)got)
                break;
            take(&s, by_events ? s.v.last_ns : pt_ns, s.v.last_seq);
        }
        base += (uint64_t)got;
    }
    free(ev);
    if (!rc && got < 0) {
        hak_cmd_err("trace timeline", "%s: %s", t.path, hak_tr_error(t.r));
        rc = 1;
    }
    if (rc)
        goto out2;
    while (s.next < s.npoints)   /* points after the last event: the end state */
        take(&s, s.next == s.npoints - 1 ? end_ns :
                 (uint64_t)((unsigned __int128)(s.next + 1) * end_ns / s.npoints), v1->last_seq);
    char b1[32], b2[32];
    size_t w = ntop + 2;
    if (o.format == VW_CSV) {
        printf("ts_ns,seq,live_bytes");
        for (size_t i = 0; i < ntop; i++)
            printf(",site_%" PRIu32, ids[i]);
        printf(",other\n");
        for (size_t p = 0; p < s.npoints; p++) {
            printf("%" PRIu64 ",%" PRIu64, s.at_ns[p], s.at_seq[p]);
            for (size_t i = 0; i < w; i++)
                printf(",%" PRIu64, s.val[p * w + i]);
            printf("\n");
        }
    } else if (o.format == VW_JSON) {
        printf("{");
        vw_json_trace(stdout, &t);
        printf(", \"by\": \"%s\", \"sites\": [", by_events ? "events" : "time");
        for (size_t i = 0; i < ntop; i++) {
            printf("%s\n  {\"site\": %" PRIu32 ", \"max_bytes\": %" PRIu64 ", \"frames\": ",
                   i ? "," : "", ids[i], rank[i]->max_bytes);
            vw_json_frames(stdout, &t, ids[i], o.depth);
            printf("}");
        }
        printf("], \"points\": [");
        for (size_t p = 0; p < s.npoints; p++) {
            printf("%s\n  {\"ts_ns\": %" PRIu64 ", \"seq\": %" PRIu64 ", \"live_bytes\": %" PRIu64
                   ", \"sites\": [", p ? "," : "", s.at_ns[p], s.at_seq[p], s.val[p * w]);
            for (size_t i = 0; i < ntop; i++)
                printf("%s%" PRIu64, i ? ", " : "", s.val[p * w + 1 + i]);
            printf("], \"other\": %" PRIu64 "}", s.val[p * w + ntop + 1]);
        }
        printf("]}\n");
    } else {
        printf("live bytes over time in %s (%zu points by %s; top %zu of %zu call sites)\n",
               t.path, s.npoints, by_events ? "events" : "time", ntop, n);
        if (t.trunc_note[0])
            printf("note: %s.\n", t.trunc_note);
        printf("\n  %14s %12s", "time", "heap");
        for (size_t i = 0; i < ntop; i++) {
            char h[24];
            snprintf(h, sizeof h, "#%zu", i + 1);
            printf(" %12s", h);
        }
        printf(" %12s\n", "other");
        for (size_t p = 0; p < s.npoints; p++) {
            printf("  %14s", vw_fmt_ns(s.at_ns[p], b1, sizeof b1));
            for (size_t i = 0; i < w; i++)
                printf(" %12s", hak_fmt_bytes(s.val[p * w + i], b2, sizeof b2));
            printf("\n");
        }
        for (size_t i = 0; i < ntop; i++) {
            printf("\n#%zu  site %" PRIu32 ": at most %s live\n", i + 1, ids[i],
                   hak_fmt_bytes(rank[i]->max_bytes, b1, sizeof b1));
            vw_text_frames(stdout, &t, ids[i], o.depth, "      ");
        }
    }
    fflush(stdout);
out2:
    hak_sv_destroy(&s.v);
out:
    free(rank);
    free(ids);
    free(s.val);
    free(s.at_ns);
    free(s.at_seq);
    vw_unload(&t);
    return rc;
}
