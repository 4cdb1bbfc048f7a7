/* hkt_craft - traces the shell tests need and no command writes, and a
 * peak-memory probe:
 *
 *   hkt_craft lossy OUT [REASON...]
 *       a valid two-thread trace of 4000 events (malloc/free pairs); after
 *       the first 2000, one loss record per REASON (a number: 1 out of
 *       memory, 2 write failed, ...), with 17 events lost and the detail
 *       "test loss N"
 *   hkt_craft lossfree OUT
 *       an incomplete trace whose lost events explain a later free of a
 *       block never seen allocated
 *   hkt_craft bomb OUT sites|rss|modules|mixed
 *       a file of side chunks (no events, no end marker) that decompress a
 *       thousandfold: a few MB on disk, gigabytes of records for a reader
 *       without limits (FORMAT.md, "Reader limits")
 *   hkt_craft maxrss CMD [ARG...]
 *       runs CMD (its stdout to /dev/null) and prints its peak RSS in KiB
 *       (getrusage of the child) on stdout; exits with CMD's exit status (128+N when killed by signal N)
 */
#include "trace.h"
#include "trace_codec.h"
#include "trace_fmt.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

static int die(const char *what)
{
    fprintf(stderr, "hkt_craft: %s\n", what);
    return 2;
}

static int lossy(const char *out, int nreason, char **reasons)
{
    char err[256];
    /* "hak ..." as a program: the database names the trace by its file. */
    hak_trace_meta m = {.pid = 42, .recorder = "hak craft", .ts_unit_ns = 1};
    hak_trace_writer *w = hak_tw_open(out, &m, err, sizeof err);
    if (!w)
        return die(err);
    uint64_t seq = 0;
    for (int half = 0; half < 2; half++) {
        for (uint32_t t = 0; t < 2; t++) {
            hak_event ev[1000];
            for (int i = 0; i < 1000; i++) {
                uint64_t p = 0x100000 * (t + 1) + 64 * (uint64_t)(half * 500 + i / 2);
                ev[i] = i % 2 == 0
                    ? (hak_event){.seq = seq, .ts_ns = seq, .op = HAK_OP_MALLOC, .tid = t,
                                  .size = 48, .out_ptr = p}
                    : (hak_event){.seq = seq, .ts_ns = seq, .op = HAK_OP_FREE, .tid = t,
                                  .in_ptr = p};
                seq++;
            }
            if (hak_tw_events(w, t, ev, 1000))
                return die(hak_tw_error(w));
        }
        for (int k = 0; half == 0 && k < nreason; k++) {
            char d[64];
            snprintf(d, sizeof d, "test loss %d", k + 1);
            if (hak_tw_loss(w, (uint32_t)strtoul(reasons[k], NULL, 10), hak_tw_nevents(w), 17, d))
                return die(hak_tw_error(w));
        }
    }
    return hak_tw_close(w) ? die("close failed") : 0;
}

/* A loss whose lost events explain a later free: malloc A; loss; free B
 * (B's malloc was lost); free A. */
static int lossfree(const char *out)
{
    char err[256];
    hak_trace_meta m = {.pid = 43, .recorder = "hak craft", .ts_unit_ns = 1};
    hak_trace_writer *w = hak_tw_open(out, &m, err, sizeof err);
    if (!w)
        return die(err);
    hak_event a = {.seq = 0, .op = HAK_OP_MALLOC, .size = 32, .out_ptr = 0x1000};
    hak_event b[2] = {{.seq = 2, .ts_ns = 2, .op = HAK_OP_FREE, .in_ptr = 0x2000},
                      {.seq = 3, .ts_ns = 3, .op = HAK_OP_FREE, .in_ptr = 0x1000}};
    if (hak_tw_events(w, 0, &a, 1) || hak_tw_loss(w, HAK_LOSS_OOM, 1, 1, "event 1 dropped")
        || hak_tw_events(w, 0, b, 2))
        return die(hak_tw_error(w));
    return hak_tw_close(w) ? die("close failed") : 0;
}

static FILE *bomb_f;

/* `copies` identical chunks (compressed once). */
static void put_side(unsigned kind, uint32_t count, const uint8_t *raw, size_t len, int copies)
{
    size_t cap = ZSTD_compressBound(len);
    uint8_t *z = malloc(TF_CHUNK_HDR + cap);
    size_t zl = ZSTD_compress(z + TF_CHUNK_HDR, cap, raw, len, 3);
    tf_chunk_hdr h = {.kind = (uint8_t)kind, .flags = TF_FLAG_ZSTD, .count = count,
                      .raw_size = (uint32_t)len, .comp_size = (uint32_t)zl};
    tf_hdr_pack(&h, z);
    h.checksum = tf_chunk_csum(z, z + TF_CHUNK_HDR, (uint32_t)zl);
    tf_hdr_pack(&h, z);
    for (int c = 0; c < copies; c++)
        fwrite(z, 1, TF_CHUNK_HDR + zl, bomb_f);
    free(z);
}

/* Each chunk holds just under TF_RAW_MAX bytes of records; `copies`
 * chunks of each kind.  Compressed, a chunk is a few KB, so 64 copies of
 * every kind stay far below 16 MiB on disk. */
static void bomb_sites(int copies)
{
    size_t rec = 1 + 2 + TF_SITE_DEPTH_MAX, per = TF_RAW_MAX / rec;
    uint8_t *raw = calloc(per, rec);
    for (size_t i = 0; i < per; i++)
        tc_put(tc_put(raw + i * rec, 1 + i % 100), TF_SITE_DEPTH_MAX);
    put_side(TF_KIND_SITES, (uint32_t)per, raw, per * rec, copies);
    free(raw);
}

static void bomb_rss(int copies)
{
    uint32_t per = TF_RAW_MAX / 2;      /* (ts delta 0, rss 0): 2 bytes each */
    uint8_t *raw = calloc(per, 2);
    put_side(TF_KIND_RSS, per, raw, (size_t)per * 2, copies);
    free(raw);
}

static void bomb_modules(int copies)
{
    size_t rec = 2 + TF_PATH_MAX + 1 + 1 + 1, per = TF_RAW_MAX / rec;
    uint8_t *raw = calloc(per, rec);
    for (size_t i = 0; i < per; i++) {
        uint8_t *p = tc_put(raw + i * rec, TF_PATH_MAX);
        memset(p, 'a', TF_PATH_MAX);    /* then base 0, size 0, no build-id */
    }
    put_side(TF_KIND_MODULES, (uint32_t)per, raw, per * rec, copies);
    free(raw);
}

static int bomb(const char *out, const char *kind)
{
    if (!(bomb_f = fopen(out, "wb")))
        return die("cannot create the output");
    uint8_t h[TF_FILE_FIXED + 4];
    memcpy(h, HAK_TRACE_MAGIC, 8);
    tf_put32(h + 8, HAK_TRACE_VERSION);
    tf_put32(h + 12, 0);
    tf_put32(h + TF_FILE_FIXED, tf_header_csum(h, TF_FILE_FIXED));
    fwrite(h, 1, sizeof h, bomb_f);
    if (!strcmp(kind, "sites"))
        bomb_sites(64);
    else if (!strcmp(kind, "rss"))   /* just past the 512 MiB decompression limit */
        bomb_rss((int)(TF_SIDE_RAW_TOTAL / TF_RAW_MAX) + 2);
    else if (!strcmp(kind, "modules"))
        bomb_modules(64);
    else if (!strcmp(kind, "mixed")) {   /* what each limit alone allows, together */
        bomb_rss(2);
        bomb_sites(2);
        bomb_modules(64);
    } else
        return die("bomb: kind is sites, rss, modules or mixed");
    return fclose(bomb_f) ? die("write failed") : 0;
}

static int maxrss(char **argv)
{
    pid_t pid = fork();
    if (pid < 0)
        return die("fork failed");
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);   /* its output is not ours */
        if (fd >= 0)
            dup2(fd, 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) != pid)
        return die("wait4 failed");
    printf("%ld\n", ru.ru_maxrss);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "lossy"))
        return lossy(argv[2], argc - 3, argv + 3);
    if (argc == 3 && !strcmp(argv[1], "lossfree"))
        return lossfree(argv[2]);
    if (argc == 4 && !strcmp(argv[1], "bomb"))
        return bomb(argv[2], argv[3]);
    if (argc >= 3 && !strcmp(argv[1], "maxrss"))
        return maxrss(argv + 2);
    return die("usage: hkt_craft lossy OUT [REASON...] | lossfree OUT | bomb OUT KIND | "
               "maxrss CMD...");
}
