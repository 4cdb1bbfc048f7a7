/* Replays every input in traces/tests/fuzz-regressions/ (trace files: the
 * reader's seeds and findings, and those of the subcommand harness)
 * through the `hak trace` subcommand fuzz harness, one TAP line per file. */
#include "../fuzz/fuzz_cli.c"   /* the same harness libFuzzer runs */

#define FUZZ_REPLAY_DIR "traces/tests/fuzz-regressions"
#include "fuzz_replay.h"
