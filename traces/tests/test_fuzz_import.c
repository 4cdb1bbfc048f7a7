/* Replays every input in traces/tests/import-regressions/ (seeds and inputs
 * that once crashed, hung or broke the round trip of `hak trace import`
 * under `make fuzz`) through the importer's fuzz harness, one TAP line per
 * file. */
#include "../fuzz/fuzz_import.c"   /* the same harness libFuzzer runs */

#define FUZZ_REPLAY_DIR "traces/tests/import-regressions"
#include "fuzz_replay.h"
