/* fuzz_reader.c - libFuzzer entry for every reader path: open (header,
 * chunk index, side tables), merged and per-thread iteration, and the
 * replay form.  Each input is tried twice: as given, and with its header
 * and chunk checksums recomputed, so mutations reach the payload decoders
 * behind the checksums instead of stopping there.
 *
 * Built by `make fuzz` with clang -fsanitize=fuzzer,address,undefined; the
 * same function runs the committed regression inputs under `make check`
 * (traces/tests/test_fuzz_regressions.c, which #includes this file).
 */
#include "trace.h"
#include "trace_fmt.h"

#include <stdlib.h>
#include <string.h>

/* Recomputes the checksums of data in place, as far as headers parse. */
static void fuzz_fix_checksums(uint8_t *c, size_t len)
{
    if (len < TF_FILE_FIXED)
        return;
    uint32_t mlen = tf_get32(c + 12);
    if (mlen > len || TF_FILE_FIXED + (size_t)mlen + 4 > len)
        return;
    tf_put32(c + TF_FILE_FIXED + mlen, tf_header_csum(c, TF_FILE_FIXED + mlen));
    for (size_t off = TF_FILE_FIXED + mlen + 4; off + TF_CHUNK_HDR <= len;) {
        uint32_t cs = tf_get32(c + off + 24);
        if (cs > len - off - TF_CHUNK_HDR)
            return;
        tf_put32(c + off + 28, tf_chunk_csum(c + off, c + off + TF_CHUNK_HDR, cs));
        off += TF_CHUNK_HDR + cs;
    }
}

static void fuzz_one(const uint8_t *data, size_t size)
{
    char err[256];
    hak_trace_reader *r = hak_tr_open_mem(data, size, err, sizeof err);
    if (!r)
        return;
    static hak_event ev[512];
    while (hak_tr_read(r, ev, 512) > 0)
        ;
    hak_tr_rewind(r);
    hak_event e;
    for (int i = 0; i < 1000 && hak_tr_next(r, &e) == 1; i++)
        ;
    for (uint32_t t = 0; t < hak_tr_nthreads(r) && t < 64; t++)
        while (hak_tr_next_thread(r, t, &e) == 1)
            ;
    const hak_site *s;
    size_t ns = hak_tr_sites(r, &s);
    for (size_t i = 0; i < ns; i++)
        if (hak_tr_site(r, s[i].id) == NULL)
            abort();   /* every listed site must be found by id */
    hak_replay rp;
    if (hak_replay_build(r, &rp, err, sizeof err) == 0) {
        uint64_t sum = 0;
        for (uint32_t t = 0; t < rp.nthreads; t++)
            sum += rp.thread_nops[t];
        if (sum != rp.nops)
            abort();   /* per-thread lists must cover all ops */
        hak_replay_free(&rp);
    }
    hak_tr_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size heap copy, so reads past the end are caught. */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    fuzz_one(copy, size);
    fuzz_fix_checksums(copy, size);
    fuzz_one(copy, size);
    free(copy);
    return 0;
}
