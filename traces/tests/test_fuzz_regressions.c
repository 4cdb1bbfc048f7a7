/* Replays every input in traces/tests/fuzz-regressions/ (seeds and inputs
 * that once crashed or hung the reader under `make fuzz`) through the
 * reader's fuzz harness, one TAP line per file. */
#include "../fuzz/fuzz_reader.c"   /* the same harness libFuzzer runs */

#define FUZZ_REPLAY_DIR "traces/tests/fuzz-regressions"
#include "fuzz_replay.h"
