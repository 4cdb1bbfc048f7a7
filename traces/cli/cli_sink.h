/* cli_sink.h - streams events in global order into a trace writer.
 *
 * The writer takes chunks of one thread's events (trace.h); generators and
 * importers produce one global stream.  The sink buffers each thread's
 * events and hands a thread's buffer to the writer when it is full, when
 * the thread exits, and at the end.  Buffers start small and double up to
 * CLI_SINK_BATCH events, and when all buffers together hold more than
 * CLI_SINK_TOTAL events every buffer is written out, so memory is bounded
 * (about CLI_SINK_TOTAL x 72 bytes) whatever the stream's length and its
 * number of threads. */
#ifndef HAK_CLI_SINK_H
#define HAK_CLI_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "trace.h"

#define CLI_SINK_BATCH 8192
#define CLI_SINK_TOTAL (1u << 19)

typedef struct cli_tbuf { hak_event *ev; size_t n, cap; } cli_tbuf;

typedef struct cli_sink {
    hak_trace_writer *w;
    cli_tbuf *t;
    uint32_t nt;
    uint64_t events;
    uint64_t buffered;        /* events in all buffers */
    char err[256];
} cli_sink;

void cli_sink_init(cli_sink *s, hak_trace_writer *w);
/* 0, or -1 with the reason in s->err. */
int cli_sink_put(cli_sink *s, const hak_event *ev);
int cli_sink_flush(cli_sink *s);          /* writes every buffered event */
void cli_sink_destroy(cli_sink *s);

#endif
