/* cli_diff.c - `hak trace diff A B`: per call site, what changed between
 * two recordings, sites matched by their symbolised frames. */
#include "cli_common.h"
#include "cli_views.h"
#include "hak_util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { M_ALLOCS, M_BYTES, M_PEAK, M_LEAKED, NM };
static const char *const metric_names[NM] = {"allocs", "bytes", "peak", "leaked"};

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak trace diff [--sort allocs|bytes|peak|leaked] [--top N] [--depth N]\n"
        "                      [--csv|--json] [--no-demangle] [--sysroot DIR]\n"
        "                      [--debug-dir DIR] [--progress] A.hkt B.hkt\n"
        "\n"
        "Compares two recordings call site by call site: for each site the change\n"
        "from A to B (B minus A) in allocations, requested bytes allocated, live\n"
        "bytes at the heap peak (the site's contribution to the peak: see hak trace\n"
        "peak) and leaked bytes (see hak trace leaks).  Sites are ranked by the\n"
        "absolute change of the --sort quantity (default bytes), largest first;\n"
        "sites with no change at all are counted, not listed.\n"
        "\n"
        "Sites are matched by their symbolised frames, not by site ids or\n"
        "addresses: the whole recorded stack, each frame as its function and\n"
        "module ('parse_line (libfoo.so)'), so two builds of a program, or two\n"
        "runs with different load addresses, compare.  Stacks in one trace that\n"
        "symbolise alike are merged.  A frame without a symbol is matched as\n"
        "MODULE+0xOFFSET, which only matches the same build; a site without a\n"
        "recorded stack (synthetic traces) is matched by its site id.  Each\n"
        "trace is symbolised from its own module map.\n"
        "\n"
        "Two traces with no call site in common (different programs, or binaries\n"
        "no longer present to symbolise) are reported and the exit status is 1:\n"
        "every row would compare a site with nothing.\n"
        "\n"
        "options:\n"
        "  --sort K     rank by the change in allocs, bytes (default), peak or leaked\n"
        VW_COMMON_HELP
        "  (defaults: --top 20 --depth 6; --depth only shortens what is shown,\n"
        "  matching always uses the whole stack)\n"
        "\n"
        "examples:\n"
        "  hak trace diff before.hkt after.hkt\n"
        "  hak trace diff --sort leaked --top 5 v1.hkt v2.hkt\n"
        "  hak trace diff --csv --top 0 v1.hkt v2.hkt > diff.csv\n"
        "\n"
        "exit status: 0 ok (also for truncated traces, with warnings), 1\n"
        "unreadable trace, decoding error or no call site in common, 2 usage error.\n");
}

typedef struct drow {
    char *key;
    int side;                  /* 0 = A, 1 = B (before merging) */
    uint32_t id[2];            /* a site id on each side (first merged), 0 = none */
    int in[2];
    uint64_t m[2][NM];
    int64_t d[NM];
} drow;

typedef struct keybuf { char *s; size_t len, cap; int oom; } keybuf;

static void key_frame(void *ctx, unsigned i, const char *frame)
{
    keybuf *k = ctx;
    size_t l = strlen(frame), need = k->len + l + 5;
    if (need > k->cap) {
        size_t cap = k->cap ? k->cap : 256;
        while (cap < need)
            cap *= 2;
        char *s = realloc(k->s, cap);
        if (!s) {
            k->oom = 1;
            return;
        }
        k->s = s;
        k->cap = cap;
    }
    if (i) {
        memcpy(k->s + k->len, " <- ", 4);
        k->len += 4;
    }
    memcpy(k->s + k->len, frame, l);
    k->len += l;
    k->s[k->len] = 0;
}

/* Appends one row per site of t with any allocation; -1 on out of memory. */
static int add_rows(vw_trace *t, int side, drow **rows, size_t *n, size_t *cap)
{
    for (uint32_t i = 0; i < t->v.nsites; i++) {
        const hak_sv_site *s = &t->v.sites[i];
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 256;
            drow *r = realloc(*rows, nc * sizeof *r);
            if (!r)
                return -1;
            *rows = r;
            *cap = nc;
        }
        keybuf k = {0};
        vw_frames(t, s->id, 0, 1, 1, key_frame, &k);
        if (k.oom || !k.s) {
            free(k.s);
            return -1;
        }
        drow *r = &(*rows)[(*n)++];
        memset(r, 0, sizeof *r);
        r->key = k.s;
        r->side = side;
        r->id[side] = s->id;
        r->in[side] = 1;
        r->m[side][M_ALLOCS] = s->allocs;
        r->m[side][M_BYTES] = s->alloc_bytes;
        r->m[side][M_PEAK] = s->peak_bytes;
        r->m[side][M_LEAKED] = s->live_bytes;
    }
    return 0;
}

static int cmp_key(const void *a, const void *b)
{
    const drow *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : x->side - y->side;
}

static int sort_metric;

static uint64_t mag(int64_t d)
{
    return d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
}

static int cmp_delta(const void *a, const void *b)
{
    const drow *x = a, *y = b;
    for (int k = 0; k < NM; k++) {
        int m = k == 0 ? sort_metric : (k <= sort_metric ? k - 1 : k);
        uint64_t dx = mag(x->d[m]), dy = mag(y->d[m]);
        if (dx != dy)
            return dx < dy ? 1 : -1;
    }
    return strcmp(x->key, y->key);
}

static const char *status_of(const drow *r)
{
    return r->in[0] && r->in[1] ? "both" : r->in[0] ? "only in A" : "only in B";
}

static const char *fmt_delta(int64_t d, char *buf, size_t len)
{
    char c[30];
    hak_fmt_count(mag(d), c, sizeof c);
    snprintf(buf, len, "%s%s", d > 0 ? "+" : d < 0 ? "-" : "", c);
    return buf;
}

/* Text frames of a merged row, from the key (already symbolised). */
static void print_key_frames(const char *key, uint64_t depth)
{
    const char *p = key;
    for (uint64_t d = 0; *p && (!depth || d < depth); d++) {
        const char *e = strstr(p, " <- ");
        int l = e ? (int)(e - p) : (int)strlen(p);
        printf("      %.*s\n", l, p);
        if (!e)
            return;
        p = e + 4;
    }
    if (*p)
        printf("      ...\n");
}

static int own_opt(void *ctx, int c, const char *arg)
{
    (void)ctx;
    (void)c;   /* --sort */
    sort_metric = -1;
    for (int i = 0; i < NM; i++)
        if (!strcmp(arg, metric_names[i]))
            sort_metric = i;
    if (sort_metric < 0)
        return cli_usage_err("diff", "--sort: '%s' is not allocs, bytes, peak or leaked", arg);
    return 0;
}

/* The two traces' sites matched and their changes. */
typedef struct diff_result {
    drow *rows;                  /* changed sites, largest change first */
    size_t n;
    size_t common, only[2], unchanged;
    uint64_t tot[2][NM];         /* per trace: allocations, bytes, peak, leaked */
} diff_result;

/* Merges rows with the same key (stacks that symbolise alike, within a
 * trace and across the two), keeps the changed ones and ranks them.
 * 0, or -1 out of memory (said). */
static int diff_match(vw_trace t[2], diff_result *d)
{
    memset(d, 0, sizeof *d);
    drow *rows = NULL;
    size_t n = 0, cap = 0;
    if (add_rows(&t[0], 0, &rows, &n, &cap) || add_rows(&t[1], 1, &rows, &n, &cap)) {
        hak_cmd_err("trace diff", "out of memory");
        d->rows = rows;
        d->n = n;
        return -1;
    }
    if (n)
        qsort(rows, n, sizeof *rows, cmp_key);
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        drow acc = rows[i];
        size_t j = i + 1;
        for (; j < n && !strcmp(rows[j].key, acc.key); j++) {
            int s = rows[j].side;
            if (!acc.in[s])
                acc.id[s] = rows[j].id[s];
            acc.in[s] = 1;
            for (int k = 0; k < NM; k++)
                acc.m[s][k] += rows[j].m[s][k];
            free(rows[j].key);
        }
        int any = 0;
        for (int k = 0; k < NM; k++) {
            acc.d[k] = (int64_t)(acc.m[1][k] - acc.m[0][k]);
            any |= acc.d[k] != 0;
        }
        if (acc.in[0] && acc.in[1])
            d->common++;
        else
            d->only[acc.in[1]]++;
        if (any) {
            rows[m++] = acc;
        } else {
            d->unchanged++;
            free(acc.key);
        }
        i = j;
    }
    n = m;
    if (n)
        qsort(rows, n, sizeof *rows, cmp_delta);
    for (int s = 0; s < 2; s++) {
        d->tot[s][M_ALLOCS] = t[s].v.allocs;
        d->tot[s][M_BYTES] = t[s].v.alloc_bytes;
        d->tot[s][M_PEAK] = t[s].v.peak_bytes;
        d->tot[s][M_LEAKED] = t[s].v.live_bytes;
    }
    d->rows = rows;
    d->n = n;
    return 0;
}

static void diff_print_csv(const diff_result *d, size_t shown)
{
    printf("rank,status,allocs_a,allocs_b,allocs_change,bytes_a,bytes_b,bytes_change,"
           "peak_a,peak_b,peak_change,leaked_a,leaked_b,leaked_change,frames\n");
    for (size_t i = 0; i < shown; i++) {
        const drow *r = &d->rows[i];
        printf("%zu,%s", i + 1, status_of(r));
        for (int k = 0; k < NM; k++)
            printf(",%" PRIu64 ",%" PRIu64 ",%" PRId64, r->m[0][k], r->m[1][k], r->d[k]);
        printf(",");
        vw_csv_str(stdout, r->key);
        printf("\n");
    }
}

static void diff_print_json(vw_trace t[2], const diff_result *d, size_t shown)
{
    printf("{\"a\": {");
    vw_json_trace(stdout, &t[0]);
    printf("}, \"b\": {");
    vw_json_trace(stdout, &t[1]);
    printf("}, \"sorted_by\": \"%s\", \"common_sites\": %zu, \"only_in_a\": %zu, "
           "\"only_in_b\": %zu, \"unchanged\": %zu, \"totals\": {", metric_names[sort_metric],
           d->common, d->only[0], d->only[1], d->unchanged);
    for (int k = 0; k < NM; k++)
        printf("%s\"%s\": [%" PRIu64 ", %" PRIu64 "]", k ? ", " : "", metric_names[k],
               d->tot[0][k], d->tot[1][k]);
    printf("}, \"sites\": [");
    for (size_t i = 0; i < shown; i++) {
        const drow *r = &d->rows[i];
        printf("%s\n  {\"rank\": %zu, \"status\": \"%s\"", i ? "," : "", i + 1, status_of(r));
        for (int k = 0; k < NM; k++)
            printf(", \"%s\": [%" PRIu64 ", %" PRIu64 ", %" PRId64 "]", metric_names[k],
                   r->m[0][k], r->m[1][k], r->d[k]);
        printf(", \"frames\": [");
        const char *p = r->key;
        for (int first = 1;; first = 0) {
            const char *e = strstr(p, " <- ");
            size_t l = e ? (size_t)(e - p) : strlen(p);
            char *f = strndup(p, l);
            if (!first)
                printf(", ");
            vw_json_str(stdout, f ? f : "?");
            free(f);
            if (!e)
                break;
            p = e + 4;
        }
        printf("]}");
    }
    printf("]}\n");
}

static void diff_print_text(vw_trace t[2], const diff_result *d, size_t shown, uint64_t depth)
{
    char b1[32], b2[32], b3[32];
    printf("diff of call sites: A = %s, B = %s (changes are B minus A)\n", t[0].path, t[1].path);
    for (int s = 0; s < 2; s++)
        if (t[s].trunc_note[0])
            printf("note: %s: %s.\n", s ? "B" : "A", t[s].trunc_note);
    printf("sites are matched by their symbolised frames (function and module).\n\n");
    printf("  %-12s %18s %18s %18s\n", "", "A", "B", "change");
    for (int k = 0; k < NM; k++)
        printf("  %-12s %18s %18s %18s\n",
               k == M_ALLOCS ? "allocations" : k == M_BYTES ? "bytes" : k == M_PEAK ? "peak bytes"
                                                                            : "leaked bytes",
               hak_fmt_count(d->tot[0][k], b1, sizeof b1), hak_fmt_count(d->tot[1][k], b2, sizeof b2),
               fmt_delta((int64_t)(d->tot[1][k] - d->tot[0][k]), b3, sizeof b3));
    printf("\ncall sites: %zu in both, %zu only in A, %zu only in B; %zu unchanged\n",
           d->common, d->only[0], d->only[1], d->unchanged);
    printf("\nchanged call sites by |change in %s| (%zu of %zu):\n", metric_names[sort_metric],
           shown, d->n);
    if (!d->n)
        printf("  (none)\n");
    for (size_t i = 0; i < shown; i++) {
        const drow *r = &d->rows[i];
        char dl[NM][32];
        for (int k = 0; k < NM; k++)
            fmt_delta(r->d[k], dl[k], sizeof dl[k]);
        printf("\n#%zu  [%s] allocs %s (%s -> %s), bytes %s, peak %s, leaked %s\n", i + 1,
               status_of(r), dl[M_ALLOCS], hak_fmt_count(r->m[0][M_ALLOCS], b1, sizeof b1),
               hak_fmt_count(r->m[1][M_ALLOCS], b2, sizeof b2), dl[M_BYTES], dl[M_PEAK],
               dl[M_LEAKED]);
        print_key_frames(r->key, depth);
    }
    if (shown < d->n)
        printf("\n(%zu more changed call sites; --top 0 lists all)\n", d->n - shown);
}

int trace_diff(int argc, char **argv)
{
    static const struct option own[] = {
        {"sort", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    const vw_cmd cmd = {.name = "diff", .usage = usage, .own = own, .own_opt = own_opt,
                        .common = VW_O_ALL, .ntraces = 2};
    vw_opts o;
    vw_opts_default(&o, 20, 6);
    sort_metric = M_BYTES;
    int prc = vw_parse(&cmd, argc, argv, &o);
    if (prc >= 0)
        return prc;
    vw_trace t[2];
    if (vw_load(&t[0], "diff", argv[optind], NULL, &o))
        return 1;
    if (vw_load(&t[1], "diff", argv[optind + 1], NULL, &o)) {
        vw_unload(&t[0]);
        return 1;
    }
    diff_result d;
    int rc = 0;
    if (diff_match(t, &d) != 0) {
        rc = 1;
    } else {
        size_t shown = o.top && o.top < d.n ? (size_t)o.top : d.n;
        if (o.format == VW_CSV)
            diff_print_csv(&d, shown);
        else if (o.format == VW_JSON)
            diff_print_json(t, &d, shown);
        else
            diff_print_text(t, &d, shown, o.depth);
        fflush(stdout);
        if (!d.common) {
            hak_cmd_err("trace diff", "%s and %s have no call site in common (%s): nothing was "
                        "compared", t[0].path, t[1].path,
                        t[0].v.nsites && t[1].v.nsites ? "different programs, or binaries that "
                        "cannot be symbolised here" : "a trace without allocations");
            rc = 1;
        }
    }
    for (size_t i = 0; i < d.n; i++)
        free(d.rows[i].key);
    free(d.rows);
    vw_unload(&t[0]);
    vw_unload(&t[1]);
    return rc;
}
