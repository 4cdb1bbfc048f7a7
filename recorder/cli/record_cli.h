/* record_cli.h - `hak record` (record_cli.c); the calling convention is
 * hak_cmd.h's. */
#ifndef RECORD_CLI_H
#define RECORD_CLI_H
int cmd_record(int argc, char **argv);
#endif
