/* cli_info_json.h - `hak trace info --json`: what cli_info.c prints as
 * text, as one JSON object (raw numbers: bytes, ns, counts). */
#ifndef CLI_INFO_JSON_H
#define CLI_INFO_JSON_H

#include <stdint.h>
#include <stdio.h>

#include "heapmodel.h"
#include "trace.h"

typedef struct info_thread { uint64_t events, allocs, frees, os_tid; int started, exited; } info_thread;

typedef struct info_facts {
    const char *path;
    hak_trace_reader *r;
    const uint64_t *ops;            /* [256] events per operation */
    uint64_t events, first_ts, last_ts;
    uint32_t nthreads;
    const info_thread *th;          /* [nthreads] */
    const hak_heap_model *hm;
    long forked_from;               /* 0: not a forked child's trace */
    const char *decode_err;         /* "" unless decoding stopped */
} info_facts;

void info_print_json(FILE *out, const info_facts *f);

#endif
