/* fuzz_fixed.h - the input loop the trace harnesses share: run the input
 * as it is, then again with its checksums recomputed (tf_fix_checksums),
 * so mutations also get past the checksums to the decoders behind them.
 * Both runs see an exact-size heap copy, so reads past the end are caught. */
#ifndef HAK_FUZZ_FIXED_H
#define HAK_FUZZ_FIXED_H

#include "trace_fmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline void fuzz_as_is_and_fixed(const uint8_t *data, size_t size,
                                        void (*run)(const uint8_t *, size_t))
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return;
    memcpy(copy, data, size);
    run(copy, size);
    tf_fix_checksums(copy, size);
    run(copy, size);
    free(copy);
}

#endif
