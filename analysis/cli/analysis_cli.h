/* analysis_cli.h - the run-history commands; the calling convention is
 * hak_cmd.h's. */
#ifndef ANALYSIS_CLI_H
#define ANALYSIS_CLI_H
int cmd_db(int argc, char **argv);       /* db_cli.c: dispatches to db_*.c */
int cmd_report(int argc, char **argv);   /* report.c */
#endif
