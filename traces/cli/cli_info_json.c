/* cli_info_json.c - see cli_info_json.h. */
#include "cli_info_json.h"
#include "cli_common.h"
#include "cli_views.h"

#include <inttypes.h>

static void key(FILE *o, const char *k, int *first)
{
    fputs(*first ? "\n  " : ",\n  ", o);
    *first = 0;
    vw_json_str(o, k);
    fputs(": ", o);
}

static void str_or_null(FILE *o, const char *s)
{
    if (s)
        vw_json_str(o, s);
    else
        fputs("null", o);
}
/* "NAME_samples": N, "NAME_peak_bytes": the largest sample, or null
 * without samples (a peak of 0 would read as measured). */
static void samples(FILE *o, const char *name, const hak_rss_sample *s, size_t n, int *first)
{
    char k[32];
    snprintf(k, sizeof k, "%s_samples", name);
    key(o, k, first);
    fprintf(o, "%zu", n);
    snprintf(k, sizeof k, "%s_peak_bytes", name);
    key(o, k, first);
    if (n)
        fprintf(o, "%" PRIu64, hak_rss_peak(s, n));
    else
        fputs("null", o);
}


void info_print_json(FILE *o, const info_facts *f)
{
    const hak_tr_status *st = hak_tr_status_get(f->r);
    const hak_trace_meta *m = hak_tr_meta(f->r);
    const hak_tr_loss *loss;
    size_t nloss = hak_tr_losses(f->r, &loss);
    int first = 1;
    fputs("{", o);
    key(o, "file", &first);
    vw_json_str(o, f->path);
    key(o, "file_bytes", &first);
    fprintf(o, "%" PRIu64, st->file_bytes);
    key(o, "format_version", &first);
    fprintf(o, "%" PRIu32, m->version);
    key(o, "status", &first);
    vw_json_str(o, st->truncated ? (cli_is_cut(st) ? "truncated" : "damaged")
                   : nloss || st->incomplete ? "incomplete" : "complete");
    key(o, "truncation", &first);
    if (st->truncated) {
        fprintf(o, "{\"offset\": %" PRIu64 ", \"reason\": ", st->valid_bytes);
        vw_json_str(o, st->reason[0] ? st->reason : "no end marker");
        fputs("}", o);
    } else {
        fputs("null", o);
    }
    key(o, "losses", &first);
    fputs("[", o);
    for (size_t i = 0; i < nloss; i++) {
        char d[1200];
        fputs(i ? ", " : "", o);
        vw_json_str(o, cli_loss_text(&loss[i], d, sizeof d));
    }
    fputs("]", o);
    key(o, "decoding_error", &first);
    str_or_null(o, f->decode_err && f->decode_err[0] ? f->decode_err : NULL);
    key(o, "recorder", &first);
    str_or_null(o, m->recorder);
    key(o, "options", &first);
    str_or_null(o, m->options);
    key(o, "argv", &first);
    fputs("[", o);
    for (uint32_t i = 0; m->argv && i < m->argc; i++) {
        fputs(i ? ", " : "", o);
        str_or_null(o, m->argv[i]);
    }
    fputs("]", o);
    key(o, "pid", &first);
    fprintf(o, "%" PRId32, m->pid);
    key(o, "ppid", &first);
    fprintf(o, "%" PRId32, m->ppid);
    key(o, "start_wall_ns", &first);
    fprintf(o, "%" PRIu64, (uint64_t)m->start_wall_ns);
    key(o, "hostname", &first);
    str_or_null(o, m->hostname);
    key(o, "kernel", &first);
    str_or_null(o, m->kernel);
    key(o, "cpu_model", &first);
    str_or_null(o, m->cpu_model);
    key(o, "page_size", &first);
    fprintf(o, "%" PRIu32, m->page_size);
    key(o, "thp_mode", &first);
    str_or_null(o, m->thp_mode);
    key(o, "events", &first);
    fprintf(o, "%" PRIu64, f->events);
    key(o, "duration_ns", &first);
    fprintf(o, "%" PRIu64, f->events ? f->last_ts - f->first_ts : 0);
    key(o, "operations", &first);
    fputs("{", o);
    int opfirst = 1;
    for (int op = 0; op < 256; op++) {
        if (!f->ops[op])
            continue;
        fputs(opfirst ? "" : ", ", o);
        opfirst = 0;
        vw_json_str(o, hak_op_name(op));
        fprintf(o, ": %" PRIu64, f->ops[op]);
    }
    fputs("}", o);
    key(o, "threads", &first);
    fputs("[", o);
    for (uint32_t t = 0; t < f->nthreads; t++) {
        const info_thread *x = &f->th[t];
        fprintf(o, "%s\n    {\"tid\": %" PRIu32 ", \"os_tid\": ", t ? "," : "", t);
        if (x->started)
            fprintf(o, "%" PRIu64, x->os_tid);
        else
            fputs("null", o);
        fprintf(o, ", \"events\": %" PRIu64 ", \"allocs\": %" PRIu64 ", \"frees\": %" PRIu64
                   ", \"exit_recorded\": %s}", x->events, x->allocs, x->frees, x->exited ? "true" : "false");
    }
    fputs(f->nthreads ? "\n  ]" : "]", o);
    const hak_heap_model *hm = f->hm;
    key(o, "allocated", &first);
    fprintf(o, "{\"blocks\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"failed\": %" PRIu64 "}",
            hm->allocs, hm->alloc_bytes, hm->failed_allocs);
    key(o, "peak_live", &first);
    fprintf(o, "{\"bytes\": %" PRIu64 ", \"blocks\": %" PRIu64 "}", hm->peak_live_bytes,
            hm->peak_live_objects);
    key(o, "live_at_end", &first);
    fprintf(o, "{\"bytes\": %" PRIu64 ", \"blocks\": %" PRIu64 "}", hm->live_bytes, hm->live_objects);
    key(o, "anomalies", &first);
    fprintf(o, "{\"unknown_frees\": %" PRIu64 ", \"double_frees\": %" PRIu64 ", \"inversions\": %" PRIu64 "}",
            hm->unknown_frees, hm->double_frees, hm->inversions);
    key(o, "forked_from", &first);
    if (f->forked_from)
        fprintf(o, "%ld", f->forked_from);
    else
        fputs("null", o);
    key(o, "inherited_frees", &first);
    fprintf(o, "%" PRIu64, hm->inherited_frees);
    key(o, "pre_existing", &first);
    fprintf(o, "{\"blocks\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", hm->pre_blocks, hm->pre_bytes);
    const hak_site *sites;
    const hak_module *mods;
    const hak_rss_sample *rss, *heap;
    size_t nsites = hak_tr_sites(f->r, &sites), nmods = hak_tr_modules(f->r, &mods);
    size_t nrss = hak_tr_rss(f->r, &rss), nheap = hak_tr_heap(f->r, &heap);
    key(o, "call_sites", &first);
    fprintf(o, "%zu", nsites);
    key(o, "modules", &first);
    fprintf(o, "%zu", nmods);
    samples(o, "rss", rss, nrss, &first);
    /* heap-only RSS (FORMAT.md kind 6): what the text form's "heap samples"
     * line says; older traces have none (count 0, peak null) */
    samples(o, "heap", heap, nheap, &first);
    fputs("\n}\n", o);
}
