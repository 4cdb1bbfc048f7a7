/* bench_codec - speed and size of the trace format on a synthetic
 * random-mixed stream (the workload of ../shared/seeds: W slots; each
 * iteration frees the slot's old block and mallocs a new one of 16..1039
 * bytes).  Addresses come from a tiny LIFO size-class allocator model so
 * address reuse looks like a real allocator's.  Timestamps advance 20..51 ns
 * per event.
 *
 * Measures, each phase timed on its own: encode (hak_tw_events: encode +
 * zstd + write), decode (hak_tr_read over the whole file) and the replay
 * form (hak_replay_build, which includes its own decode).  Prints
 * `key value` lines for bench/trace.bench.sh.
 *
 * usage: bench_codec [--events N] [--slots W] [--seed S] [--level L]
 *                    [--ts-unit NS] [-o FILE] [--no-replay]
 */
#include "trace.h"
#include "hak_util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t rng_state;
static inline uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return rng_state = x;
}

#define NCLASS 66
typedef struct model {           /* LIFO per 16-byte size class */
    uint64_t *stack[NCLASS];
    uint32_t depth[NCLASS];
    uint64_t bump;
} model;

static uint64_t model_alloc(model *m, uint64_t size)
{
    unsigned c = (unsigned)((size + 15) >> 4);
    if (m->depth[c])
        return m->stack[c][--m->depth[c]];
    uint64_t p = m->bump;
    m->bump += (uint64_t)c << 4;
    return p;
}

static void model_free(model *m, uint64_t p, uint64_t size)
{
    unsigned c = (unsigned)((size + 15) >> 4);
    m->stack[c][m->depth[c]++] = p;
}

/* CPU time of this (single-threaded) process: on a shared machine it
 * excludes the time other processes held the core. */
static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    uint64_t nev = 100000000, slots = 256, seed = 42;
    int level = -1, do_replay = 1;
    uint64_t ts_unit = 1;
    const char *out = "build/bench/bench_codec.hkt";
    static const struct option opts[] = {
        {"events", 1, 0, 'n'}, {"slots", 1, 0, 'w'}, {"seed", 1, 0, 's'},
        {"level", 1, 0, 'l'}, {"ts-unit", 1, 0, 'u'}, {"no-replay", 0, 0, 'R'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "n:w:s:l:u:o:Rh", opts, NULL)) != -1) {
        switch (c) {
        case 'n': if (hak_parse_u64(optarg, &nev)) goto usage; break;
        case 'w': if (hak_parse_u64(optarg, &slots) || !slots || slots > (1u << 20)) goto usage; break;
        case 's': if (hak_parse_u64(optarg, &seed)) goto usage; break;
        case 'l': level = atoi(optarg); break;
        case 'u': if (hak_parse_u64(optarg, &ts_unit) || !ts_unit || ts_unit > UINT32_MAX) goto usage; break;
        case 'o': out = optarg; break;
        case 'R': do_replay = 0; break;
        case 'h':
            printf("usage: bench_codec [--events N] [--slots W] [--seed S] [--level L]\n"
                   "                   [--ts-unit NS] [-o FILE] [--no-replay]\n");
            return 0;
        default: goto usage;
        }
    }
    rng_state = seed * 0x9e3779b97f4a7c15ull + 1;

    char err[256];
    hak_trace_meta meta = {.recorder = "bench_codec", .options = "random-mixed",
                           .ts_unit_ns = (uint32_t)ts_unit, .page_size = 4096};
    hak_trace_writer *w = hak_tw_open(out, &meta, err, sizeof err);
    if (!w) {
        fprintf(stderr, "bench_codec: %s\n", err);
        return 1;
    }
    if (hak_tw_set_level(w, level)) {
        fprintf(stderr, "bench_codec: bad zstd level %d\n", level);
        return 2;
    }
    model m = {.bump = 0x7f3a00000000ull};
    for (int k = 0; k < NCLASS; k++)
        m.stack[k] = malloc(slots * sizeof(uint64_t));
    uint64_t *sp = calloc(slots, sizeof *sp), *ss = calloc(slots, sizeof *ss);
    enum { BATCH = 65536 };
    hak_event *ev = malloc(BATCH * sizeof *ev);
    uint64_t seq = 0, ts = 0, enc_ns = 0, enc_cpu = 0;
    while (seq < nev) {
        size_t n = 0;
        while (n + 2 <= BATCH && seq < nev) {
            uint64_t r = rng();
            size_t s = (size_t)(r % slots);
            if (sp[s]) {
                ts += 20 + ((r >> 32) & 31);
                ev[n++] = (hak_event){.seq = seq++, .ts_ns = ts, .op = HAK_OP_FREE,
                                      .in_ptr = sp[s], .site = 2};
                model_free(&m, sp[s], ss[s]);
                if (seq == nev)
                    break;
            }
            uint64_t size = 16 + (rng() % 1024);
            ts += 20 + ((r >> 40) & 31);
            sp[s] = model_alloc(&m, size);
            ss[s] = size;
            ev[n++] = (hak_event){.seq = seq++, .ts_ns = ts, .op = HAK_OP_MALLOC,
                                  .size = size, .out_ptr = sp[s], .site = 1};
        }
        uint64_t t0 = hak_mono_ns(), c0 = cpu_ns();
        if (hak_tw_events(w, 0, ev, n)) {
            fprintf(stderr, "bench_codec: %s\n", hak_tw_error(w));
            return 1;
        }
        enc_ns += hak_mono_ns() - t0;
        enc_cpu += cpu_ns() - c0;
    }
    uint64_t t0 = hak_mono_ns(), c0 = cpu_ns();
    if (hak_tw_close(w)) {
        fprintf(stderr, "bench_codec: closing %s failed\n", out);
        return 1;
    }
    enc_ns += hak_mono_ns() - t0;
    enc_cpu += cpu_ns() - c0;
    struct stat sb;
    stat(out, &sb);

    /* decode */
    t0 = hak_mono_ns();
    c0 = cpu_ns();
    hak_trace_reader *r = hak_tr_open(out, err, sizeof err);
    if (!r) {
        fprintf(stderr, "bench_codec: %s\n", err);
        return 1;
    }
    uint64_t got = 0, sum = 0;
    long k;
    while ((k = hak_tr_read(r, ev, 4096)) > 0) {
        for (long i = 0; i < k; i++)
            sum += ev[i].out_ptr ^ ev[i].size;
        got += (uint64_t)k;
    }
    uint64_t dec_ns = hak_mono_ns() - t0, dec_cpu = cpu_ns() - c0;
    if (k < 0 || got != nev) {
        fprintf(stderr, "bench_codec: decoded %llu of %llu events: %s\n",
                (unsigned long long)got, (unsigned long long)nev, hak_tr_error(r));
        return 1;
    }
    printf("events %llu\n", (unsigned long long)nev);
    printf("level %d\n", level);
    printf("file_bytes %lld\n", (long long)sb.st_size);
    printf("bytes_per_event %.4f\n", (double)sb.st_size / (double)nev);
    printf("encode_eps %.0f\n", nev / (enc_ns / 1e9));
    printf("decode_eps %.0f\n", nev / (dec_ns / 1e9));
    printf("encode_eps_cpu %.0f\n", nev / (enc_cpu / 1e9));
    printf("decode_eps_cpu %.0f\n", nev / (dec_cpu / 1e9));
    printf("checksum %llx\n", (unsigned long long)sum);

    if (do_replay) {
        hak_replay rp;
        t0 = hak_mono_ns();
        c0 = cpu_ns();
        if (hak_replay_build(r, &rp, err, sizeof err)) {
            fprintf(stderr, "bench_codec: replay form: %s\n", err);
            return 1;
        }
        uint64_t rp_ns = hak_mono_ns() - t0, rp_cpu = cpu_ns() - c0;
        printf("replay_eps %.0f\n", nev / (rp_ns / 1e9));
        printf("replay_eps_cpu %.0f\n", nev / (rp_cpu / 1e9));
        printf("replay_objects %u\n", rp.nobjects);
        printf("replay_leaked %llu\n", (unsigned long long)rp.leaked_objects);
        hak_replay_free(&rp);
    }
    hak_tr_close(r);
    return 0;
usage:
    fprintf(stderr, "bench_codec: bad arguments; see --help\n");
    return 2;
}
