/* record_modes.h - `hak record` on a process that is already running:
 * --start/--stop PID (the control signal of a switchable recording) and
 * -p PID (attach through gdb, record, detach). */
#ifndef HAK_RECORD_MODES_H
#define HAK_RECORD_MODES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* hak record --start/--stop PID [--signal SIG]: switches recording of
 * PID on (start) or off and waits until the recorder did; exit status. */
int rec_cli_control(pid_t pid, int start, const char *signal, int quiet);

/* The default -o of hak record -p PID: COMM.PID.hkt. */
void rec_attach_default_name(pid_t pid, char *out, size_t len);

/* hak record -p PID: loads lib into PID with gdb and calls hakrec_attach
 * with cfg ("NAME=VALUE" lines); records until duration_ns (0: until
 * stopped), SIGINT/SIGTERM, hak record --stop PID or the process's exit,
 * then detaches.  0 when recording ran and ended, else the exit status
 * (the error said). */
int rec_cli_attach(pid_t pid, const char *lib, const char *cfg, const char *signal,
                   uint64_t duration_ns, int quiet);

#endif
