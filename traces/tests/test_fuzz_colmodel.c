/* Replays every input in traces/tests/colmodel-regressions/ (seeds made
 * from encoded chunks' columns, and inputs that once failed under `make
 * fuzz-colmodel`) through the model-coded columns' fuzz harness, one TAP
 * line per file. */
#include "../fuzz/fuzz_colmodel.c"   /* the same harness libFuzzer runs */

#define FUZZ_REPLAY_DIR "traces/tests/colmodel-regressions"
#include "fuzz_replay.h"
