/* Replays every input in traces/tests/elf-regressions/ (small ELF files
 * and inputs that once crashed the symboliser under `make fuzz`) through
 * the symboliser's fuzz harness, one TAP line per file. */
#include "../fuzz/fuzz_symbolize.c"   /* the same harness libFuzzer runs */

#define FUZZ_REPLAY_DIR "traces/tests/elf-regressions"
#include "fuzz_replay.h"
