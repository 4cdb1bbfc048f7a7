/* cli_synth.c - `hak trace synth`: deterministic synthetic traces. */
#include "cli_common.h"
#include "cli_out.h"
#include "cli_sink.h"
#include "synth.h"
#include "hak_util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
        "usage: hak trace synth WORKLOAD [OPTIONS] -o FILE\n"
        "\n"
        "Writes a synthetic trace of WORKLOAD to FILE ('-' for standard output).\n"
        "The trace depends only on the options: the same options (and --seed)\n"
        "give a byte-identical file. Addresses come from a simulated size-class\n"
        "allocator (freed blocks are reused LIFO per class), timestamps from a\n"
        "simulated clock; every thread has thread_start and thread_exit events;\n"
        "blocks still live at the end stay live (they are reported as leaks).\n"
        "The events stream to the file: any length runs in bounded memory.\n"
        "\n"
        "workloads:\n"
        "  random-mixed --iters N --slots W --seed S [--min B --max B]\n"
        "      W slots; each iteration picks a random slot, frees its block if it\n"
        "      has one, and mallocs a new one of a size uniform in [min, max]:\n"
        "      N mallocs and N - (occupied slots at the end) frees. This is the\n"
        "      'random mixed' workload of the profiling report (1M, 256, 42).\n"
        "  tiny-hot --iters N --size B --batch K\n"
        "      mallocs K blocks of B bytes, frees them in allocation order, and\n"
        "      repeats until N mallocs (the last batch may be shorter).\n"
        "  larson --threads T --iters N --slots W --seed S [--min --max --round R]\n"
        "      Larson & Krishnan's server workload: each of T threads replaces\n"
        "      random blocks in its own array of W slots (random thread per\n"
        "      step); every R steps (default W*T) the arrays pass to the next\n"
        "      thread, so blocks are freed by another thread than their\n"
        "      allocator (cross-thread frees). N mallocs in total.\n"
        "  producer-consumer --items N --seed S [--queue Q --min --max]\n"
        "      thread 0 mallocs N items into a FIFO of at most Q (default 64),\n"
        "      thread 1 frees them: every free is cross-thread.\n"
        "\n"
        "options (numbers take K/M/G = 2^10/2^20/2^30 or k/m/g = 10^3/10^6/10^9):\n"
        "  --iters N      mallocs to generate (default 1000000)\n"
        "  --items N      producer-consumer: items (same as --iters)\n"
        "  --slots W      random-mixed, larson: live slots (per thread) (256)\n"
        "  --seed S       random seed (42)\n"
        "  --min B, --max B  random sizes in [B, B] bytes (16, 1039)\n"
        "  --size B       tiny-hot block size (16)\n"
        "  --batch K      tiny-hot batch length (100)\n"
        "  --threads T    larson threads (4)\n"
        "  --round R      larson steps between array hand-offs (W*T)\n"
        "  --queue Q      producer-consumer queue bound (64)\n"
        "  -o, --output FILE  where to write the trace (required)\n"
        "  -q, --quiet    do not print the summary line\n"
        "  --progress     report progress on stderr (default: only on a terminal\n"
        "                 and for runs longer than 2 s)\n"
        "  -h, --help     this text\n"
        "\n"
        "examples:\n"
        "  hak trace synth random-mixed --iters 1M --slots 256 --seed 42 -o rm.hkt\n"
        "  hak trace synth tiny-hot --iters 10M --size 16 --batch 100 -o th.hkt\n"
        "  hak trace synth larson --threads 4 --iters 1M --slots 1000 --seed 1 -o l.hkt\n"
        "  hak trace synth producer-consumer --items 100k --seed 7 -o pc.hkt\n"
        "\n"
        "exit status: 0 ok, 1 cannot write FILE, 2 usage error.\n");
}

/* Options, and which workloads take them (bit per hak_synth_kind). */
enum { O_ITERS, O_ITEMS, O_SLOTS, O_SEED, O_MIN, O_MAX, O_SIZE, O_BATCH, O_THREADS,
       O_ROUND, O_QUEUE, O_NUM };
#define RM (1u << HAK_SYNTH_RANDOM_MIXED)
#define TH (1u << HAK_SYNTH_TINY_HOT)
#define LA (1u << HAK_SYNTH_LARSON)
#define PC (1u << HAK_SYNTH_PRODUCER_CONSUMER)
static const struct { const char *name; unsigned kinds; } numopt[O_NUM] = {
    [O_ITERS] = {"iters", RM | TH | LA | PC}, [O_ITEMS] = {"items", PC},
    [O_SLOTS] = {"slots", RM | LA},           [O_SEED] = {"seed", RM | TH | LA | PC},
    [O_MIN] = {"min", RM | LA | PC},          [O_MAX] = {"max", RM | LA | PC},
    [O_SIZE] = {"size", TH},                  [O_BATCH] = {"batch", TH},
    [O_THREADS] = {"threads", LA},            [O_ROUND] = {"round", LA},
    [O_QUEUE] = {"queue", PC},
};

/* The parameters: the workload's defaults, then the numeric options given
 * (each only where it applies to the workload).  -1 ok, else the exit
 * status after saying why. */
static int synth_params(const char *workload, const uint64_t val[O_NUM], const int given[O_NUM],
                        hak_synth_params *p)
{
    int kind = hak_synth_kind_from_name(workload);
    if (kind < 0)
        return cli_usage_err("synth", "unknown workload '%s' (random-mixed, tiny-hot, larson, "
                             "producer-consumer)", workload);
    hak_synth_defaults(kind, p);
    for (int i = 0; i < O_NUM; i++) {
        if (!given[i])
            continue;
        if (!(numopt[i].kinds & (1u << kind)))
            return cli_usage_err("synth", "--%s does not apply to %s", numopt[i].name, workload);
        switch (i) {
        case O_ITERS: case O_ITEMS: p->iters = val[i]; break;
        case O_SLOTS: p->slots = val[i]; break;
        case O_SEED: p->seed = val[i]; break;
        case O_MIN: p->min_size = val[i]; break;
        case O_MAX: p->max_size = val[i]; break;
        case O_SIZE: p->size = val[i]; break;
        case O_BATCH: p->batch = val[i]; break;
        case O_THREADS: p->threads = val[i]; break;
        case O_ROUND: p->round = val[i]; break;
        case O_QUEUE: p->queue = val[i]; break;
        }
    }
    char err[256];
    if (hak_synth_check(p, err, sizeof err))
        return cli_usage_err("synth", "%s", err);
    return -1;
}

/* Generates the workload into the trace at out.  0, or 1 after saying why;
 * *events and *nthreads say what was written. */
static int synth_write(const hak_synth_params *p, const char *out, const char *options,
                       int progress, uint64_t *events, uint32_t *nthreads)
{
    char err[256];
    hak_synth *g = hak_synth_new(p, err, sizeof err);
    if (!g) {
        hak_cmd_err("trace synth", "%s", err);
        return 1;
    }
    hak_trace_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.version = HAK_TRACE_VERSION;
    meta.page_size = 4096;
    meta.recorder = "hak trace synth";
    meta.options = options;
    hak_trace_writer *w = cli_out_open("synth", out, &meta);
    if (!w) {
        hak_synth_free(g);
        return 1;
    }
    cli_sink sink;
    cli_sink_init(&sink, w);
    int failed = 0;
    /* mallocs are about half the events of these workloads */
    cli_progress pr;
    cli_progress_init(&pr, "synth", progress, p->iters * 2);
    hak_event ev;
    while (hak_synth_next(g, &ev) == 1) {
        if (cli_sink_put(&sink, &ev)) {
            failed = 1;
            break;
        }
        cli_progress_tick(&pr, sink.events);
    }
    cli_progress_done(&pr);
    if (!failed && cli_sink_flush(&sink))
        failed = 1;
    if (failed)
        hak_cmd_err("trace synth", "%s: %s", out, sink.err);
    *events = sink.events;
    *nthreads = hak_synth_nthreads(g);
    cli_sink_destroy(&sink);
    hak_synth_free(g);
    return cli_out_close("synth", out, w, failed) ? 1 : 0;
}

int trace_synth(int argc, char **argv)
{
    struct option opts[O_NUM + 5];
    for (int i = 0; i < O_NUM; i++)
        opts[i] = (struct option){numopt[i].name, required_argument, NULL, 1000 + i};
    opts[O_NUM] = (struct option){"output", required_argument, NULL, 'o'};
    opts[O_NUM + 1] = (struct option){"quiet", no_argument, NULL, 'q'};
    opts[O_NUM + 2] = (struct option){"progress", no_argument, NULL, 'p'};
    opts[O_NUM + 3] = (struct option){"help", no_argument, NULL, 'h'};
    opts[O_NUM + 4] = (struct option){NULL, 0, NULL, 0};
    uint64_t val[O_NUM];
    int given[O_NUM] = {0};
    const char *out = NULL;
    int quiet = 0, progress = 0, c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        if (c >= 1000 && c < 1000 + O_NUM) {
            char name[32];
            snprintf(name, sizeof name, "--%s", numopt[c - 1000].name);
            if (cli_u64("synth", name, optarg, &val[c - 1000]))
                return 2;
            given[c - 1000] = 1;
            continue;
        }
        switch (c) {
        case 'o': out = optarg; break;
        case 'q': quiet = 1; break;
        case 'p': progress = 1; break;
        case 'h': usage(stdout); return 0;
        default:
            return cli_usage_err("synth", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind == argc)
        return cli_usage_err("synth", "missing WORKLOAD (random-mixed, tiny-hot, larson, "
                             "producer-consumer)");
    if (optind != argc - 1)
        return cli_usage_err("synth", "unexpected argument '%s'", argv[optind + 1]);
    hak_synth_params p;
    if (hak_synth_kind_from_name(argv[optind]) >= 0 && !out)
        return cli_usage_err("synth", "missing -o FILE");
    int rc = synth_params(argv[optind], val, given, &p);
    if (rc >= 0)
        return rc;
    if (!out)
        return cli_usage_err("synth", "missing -o FILE");
    char options[512];
    hak_synth_describe(&p, options, sizeof options);
    uint64_t events = 0;
    uint32_t nthreads = 0;
    if (synth_write(&p, out, options, progress, &events, &nthreads))
        return 1;
    struct stat st;
    if (!quiet && strcmp(out, "-") && !stat(out, &st)) {
        char b1[32], b2[32];
        uint64_t bytes = (uint64_t)st.st_size;
        printf("%s: %s events, %" PRIu32 " thread%s, %s bytes (%.2f bytes/event): %s\n", out,
               hak_fmt_count(events, b1, sizeof b1), nthreads, nthreads == 1 ? "" : "s",
               hak_fmt_count(bytes, b2, sizeof b2),
               events ? (double)bytes / (double)events : 0.0, options);
    }
    return 0;
}
