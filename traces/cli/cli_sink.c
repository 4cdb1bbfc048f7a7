/* cli_sink.c - see cli_sink.h. */
#include "cli_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_sink_init(cli_sink *s, hak_trace_writer *w)
{
    memset(s, 0, sizeof *s);
    s->w = w;
}

static int flush_one(cli_sink *s, uint32_t tid)
{
    cli_tbuf *b = &s->t[tid];
    if (!b->n)
        return 0;
    if (hak_tw_events(s->w, tid, b->ev, b->n)) {
        snprintf(s->err, sizeof s->err, "%s", hak_tw_error(s->w));
        return -1;
    }
    s->buffered -= b->n;
    b->n = 0;
    return 0;
}

int cli_sink_put(cli_sink *s, const hak_event *ev)
{
    if (ev->tid >= s->nt) {
        uint32_t nt = s->nt ? s->nt : 4;
        while (nt <= ev->tid)
            nt *= 2;
        cli_tbuf *t = realloc(s->t, nt * sizeof *t);
        if (!t) {
            snprintf(s->err, sizeof s->err, "out of memory");
            return -1;
        }
        memset(t + s->nt, 0, (nt - s->nt) * sizeof *t);
        s->t = t;
        s->nt = nt;
    }
    cli_tbuf *b = &s->t[ev->tid];
    if (b->n == b->cap) {
        /* 8 first: an import may have 65536 threads of one or two events
         * each (then 256 made 1 GiB of buffers for 1.5 MB of input) */
        size_t cap = b->cap ? b->cap * 2 : 8;
        hak_event *e = realloc(b->ev, cap * sizeof *e);
        if (!e) {
            snprintf(s->err, sizeof s->err, "out of memory");
            return -1;
        }
        b->ev = e;
        b->cap = cap;
    }
    b->ev[b->n++] = *ev;
    s->events++;
    s->buffered++;
    if (b->n == CLI_SINK_BATCH && flush_one(s, ev->tid))
        return -1;
    if (ev->op == HAK_OP_THREAD_EXIT) {   /* the thread is done: release its buffer */
        if (flush_one(s, ev->tid))
            return -1;
        free(b->ev);
        b->ev = NULL;
        b->cap = 0;
    }
    if (s->buffered > CLI_SINK_TOTAL)
        return cli_sink_flush(s);
    return 0;
}

int cli_sink_flush(cli_sink *s)
{
    for (uint32_t t = 0; t < s->nt; t++)
        if (flush_one(s, t))
            return -1;
    return 0;
}

void cli_sink_destroy(cli_sink *s)
{
    for (uint32_t t = 0; t < s->nt; t++)
        free(s->t[t].ev);
    free(s->t);
    memset(s, 0, sizeof *s);
}
