/* cli_out.h - opening the output trace of `hak trace synth` / `import`:
 * "-o FILE" or "-o -" (standard output, refused when it is a terminal),
 * and removing a half-written FILE when the command fails. */
#ifndef HAK_CLI_OUT_H
#define HAK_CLI_OUT_H

#include "trace.h"

/* Prints "hak trace CMD: PATH: reason" and returns NULL on failure. */
hak_trace_writer *cli_out_open(const char *cmd, const char *path, const hak_trace_meta *meta);
/* Closes w; on failure (or when `failed`) removes PATH (not stdout).
 * Returns 0 when the trace was completely written. */
int cli_out_close(const char *cmd, const char *path, hak_trace_writer *w, int failed);

#endif
