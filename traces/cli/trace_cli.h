/* trace_cli.h - `hak trace` (trace_cli.c dispatches to cli_*.c); the
 * calling convention is hak_cmd.h's. */
#ifndef TRACE_CLI_H
#define TRACE_CLI_H
int cmd_trace(int argc, char **argv);
#endif
