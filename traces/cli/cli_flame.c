/* cli_flame.c - `hak trace flame`: folded stacks for flame graphs. */
#include "cli_common.h"
#include "cli_views.h"
#include "hak_util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *const weight_names[] = {"allocs", "bytes", "leaked", "peak"};

int vw_flame_weight(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, weight_names[i]))
            return i;
    return -1;
}

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak trace flame [--weight allocs|bytes|leaked|peak] [--depth N]\n"
        "                       [--no-demangle] [--sysroot DIR] [--debug-dir DIR]\n"
        "                       [--progress] TRACE\n"
        "\n"
        "Writes TRACE's call stacks as folded stacks, the input of flamegraph.pl,\n"
        "inferno and speedscope: one line per distinct stack,\n"
        "\n"
        "  main;parse;read_block;malloc_wrapper 4096\n"
        "\n"
        "frames from the root (outermost) to the allocating function, separated\n"
        "by ';', then a space and the weight.  Frames are function names\n"
        "(demangled), so call sites in the same functions merge; a frame without\n"
        "a symbol is MODULE+0xOFFSET or its address; ';' inside a name becomes\n"
        "':'.  Lines are sorted by stack; stacks of weight 0 are left out.\n"
        "\n"
        "Weights:\n"
        "  allocs   number of allocations (realloc results included)\n"
        "  bytes    requested bytes of those allocations (default)\n"
        "  leaked   bytes still live at the end of the trace (see hak trace leaks)\n"
        "  peak     bytes live at the moment of the heap peak (see hak trace peak)\n"
        "\n"
        "options:\n"
        "  --weight W   what a stack weighs (default bytes)\n"
        "  --depth N    innermost frames kept per stack (default 0 = all recorded)\n"
        "  --no-demangle  show C++ names as recorded (default: demangled)\n"
        "  --sysroot DIR  read the recorded modules as DIR/PATH (a trace from\n"
        "               another machine)\n"
        "  --debug-dir DIR  also look for separate debug files under DIR, laid out\n"
        "               as /usr/lib/debug; a stripped binary's local functions are\n"
        "               named from there (read with elfutils' libdw)\n"
        "  --progress   report progress on stderr (default: only on a terminal,\n"
        "               for runs longer than 2 s)\n"
        "  -h, --help   this text\n"
        "\n"
        "examples:\n"
        "  hak trace flame run.hkt > run.folded && flamegraph.pl run.folded > run.svg\n"
        "  hak trace flame --weight leaked run.hkt\n"
        "  hak trace flame --weight peak --depth 12 run.hkt\n"
        "\n"
        "exit status: 0 ok (also for a truncated trace, with a warning on stderr),\n"
        "1 unreadable trace or decoding error, 2 usage error.\n");
}

typedef struct folded { char *stack; uint64_t w; } folded;

typedef struct stack_buf {
    char *frames[1024];
    unsigned n;
    int oom;
} stack_buf;

static void add_frame(void *ctx, unsigned i, const char *frame)
{
    stack_buf *b = ctx;
    (void)i;
    if (b->n >= sizeof b->frames / sizeof *b->frames)
        return;
    char *f = strdup(frame);
    if (!f) {
        b->oom = 1;
        return;
    }
    for (char *p = f; *p; p++)
        if (*p == ';')
            *p = ':';
        else if (*p == '\n' || *p == '\r')
            *p = ' ';
    b->frames[b->n++] = f;
}

static int cmp_folded(const void *a, const void *b)
{
    return strcmp(((const folded *)a)->stack, ((const folded *)b)->stack);
}

static uint64_t weight_of(const hak_sv_site *s, int w)
{
    switch (w) {
    case VW_W_ALLOCS: return s->allocs;
    case VW_W_BYTES: return s->alloc_bytes;
    case VW_W_LEAKED: return s->live_bytes;
    default: return s->peak_bytes;
    }
}

static int own_opt(void *ctx, int c, const char *arg)
{
    int *weight = ctx;
    (void)c;   /* --weight */
    *weight = vw_flame_weight(arg);
    if (*weight < 0)
        return cli_usage_err("flame", "--weight: '%s' is not allocs, bytes, leaked or peak", arg);
    return 0;
}

static int print(vw_trace *t, const vw_opts *o, void *ctx)
{
    return vw_print_flame(t, o->depth, *(const int *)ctx, stdout);
}

int trace_flame(int argc, char **argv)
{
    static const struct option own[] = {
        {"weight", required_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    int weight = VW_W_BYTES;
    const vw_cmd cmd = {.name = "flame", .usage = usage, .own = own, .own_opt = own_opt,
                        .ctx = &weight, .common = 0, .ntraces = 1};
    return vw_main(&cmd, argc, argv, 0, 0, NULL, print);
}

int vw_print_flame(vw_trace *t, uint64_t depth, int weight, FILE *out)
{
    hak_siteview *v = &t->v;
    folded *rows = calloc((size_t)v->nsites + 1, sizeof *rows);
    size_t n = 0;
    int oom = !rows;
    for (uint32_t i = 0; !oom && i < v->nsites; i++) {
        uint64_t w = weight_of(&v->sites[i], weight);
        if (!w)
            continue;
        stack_buf b = {.n = 0};
        vw_frames(t, v->sites[i].id, depth, 1, 0, add_frame, &b);
        size_t len = 1;
        for (unsigned k = 0; k < b.n; k++)
            len += strlen(b.frames[k]) + 1;
        char *s = malloc(len), *p = s;
        if (s) {
            for (unsigned k = b.n; k-- > 0;) {       /* root first */
                size_t l = strlen(b.frames[k]);
                memcpy(p, b.frames[k], l);
                p += l;
                if (k)
                    *p++ = ';';
            }
            *p = 0;
            rows[n].stack = s;
            rows[n++].w = w;
        }
        for (unsigned k = 0; k < b.n; k++)
            free(b.frames[k]);
        oom = !s || b.oom;
    }
    if (oom) {
        hak_cmd_err("trace flame", "out of memory");
    } else {
        if (n)
            qsort(rows, n, sizeof *rows, cmp_folded);
        for (size_t i = 0; i < n;) {
            uint64_t w = 0;
            size_t j = i;
            for (; j < n && !strcmp(rows[j].stack, rows[i].stack); j++)
                w += rows[j].w;
            fprintf(out, "%s %" PRIu64 "\n", rows[i].stack, w);
            i = j;
        }
        fflush(out);
        if (!n)   /* an empty answer is a true one; say why on stderr */
            fprintf(stderr, "hak trace flame: %s: no stack has a %s weight (%s)\n", t->path,
                    weight_names[weight], !v->allocs ? "no allocation in the trace"
                    : weight == VW_W_LEAKED ? "nothing leaked" : "all zero");
    }
    for (size_t i = 0; i < n; i++)
        free(rows[i].stack);
    free(rows);
    return oom;
}
