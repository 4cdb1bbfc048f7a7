/* fuzz_import.c - libFuzzer entry for `hak trace import`: the Android
 * record_allocs text parser, its conversion to events and the trip through
 * the CLI's event sink and the trace writer, exactly as cli_import.c runs
 * them (hak_android_import over a FILE, cli_sink into a hak_trace_writer).
 *
 * Oracle beyond "no crash, no leak, no UB": when the import succeeds, the
 * written trace must open complete (no truncation) and read back exactly
 * the events the importer produced, in the same order (seq = file order),
 * so a conversion the writer cannot represent shows up as a mismatch.
 *
 * Input and output live in memfds, so the FILE reading path is the real
 * one (stdio buffering, getc) and nothing touches the disk.  Built by
 * `make fuzz` (clang, ASan+UBSan); the same function replays the committed
 * inputs in traces/tests/import-regressions/ under `make check`
 * (traces/tests/test_fuzz_import.c #includes this file).
 */
#include "trace.h"
#include "import_android.h"
#include "cli_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct fuzz_events {
    cli_sink *sink;
    hak_event *ev;
    size_t n, cap;
} fuzz_events;

static int fuzz_put(void *ctx, const hak_event *ev)
{
    fuzz_events *fe = ctx;
    if (fe->n == fe->cap) {
        size_t cap = fe->cap ? fe->cap * 2 : 64;
        hak_event *e = realloc(fe->ev, cap * sizeof *e);
        if (!e)
            abort();
        fe->ev = e;
        fe->cap = cap;
    }
    fe->ev[fe->n++] = *ev;
    return cli_sink_put(fe->sink, ev);
}

/* Reads the written trace back and compares it with what was put. */
static void fuzz_check_trace(int fd, const fuzz_events *fe)
{
    off_t len = lseek(fd, 0, SEEK_END);
    if (len <= 0)
        abort();
    uint8_t *buf = malloc((size_t)len);
    if (!buf || pread(fd, buf, (size_t)len, 0) != len)
        abort();
    char err[256];
    hak_trace_reader *r = hak_tr_open_mem(buf, (size_t)len, err, sizeof err);
    if (!r || hak_tr_status_get(r)->truncated || hak_tr_nevents(r) != fe->n)
        abort();   /* the writer's own output must read back whole */
    hak_event e;
    for (size_t i = 0; i < fe->n; i++)
        if (hak_tr_next(r, &e) != 1 || memcmp(&e, &fe->ev[i], sizeof e))
            abort();   /* every event must round-trip exactly, in order */
    if (hak_tr_next(r, &e) != 0)
        abort();
    hak_tr_close(r);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int in = memfd_create("fuzz-in", MFD_CLOEXEC), out = memfd_create("fuzz-out", MFD_CLOEXEC);
    if (in < 0 || out < 0 || (size && write(in, data, size) != (ssize_t)size))
        abort();
    lseek(in, 0, SEEK_SET);
    FILE *f = fdopen(in, "r");
    hak_trace_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.version = HAK_TRACE_VERSION;
    meta.recorder = "fuzz_import";
    char err[256];
    hak_trace_writer *w = f ? hak_tw_open_fd(dup(out), &meta, err, sizeof err) : NULL;
    if (!w)
        abort();
    cli_sink sink;
    cli_sink_init(&sink, w);
    fuzz_events fe = {.sink = &sink};
    hak_android_result res;
    int rc = hak_android_import(f, fuzz_put, &fe, &res, err, sizeof err);
    if (rc == 0 && cli_sink_flush(&sink))
        abort();   /* the importer must only produce events the writer takes */
    if (rc != 0 && res.put_failed)
        abort();
    if (rc != 0 && (!err[0] || strchr(err, '\n')))
        abort();   /* errors are one non-empty line */
    cli_sink_destroy(&sink);
    if (hak_tw_close(w))
        abort();
    if (rc == 0)
        fuzz_check_trace(out, &fe);
    free(fe.ev);
    fclose(f);
    close(out);
    return 0;
}
