/* hak_cli.h - entry points of the `hak` subcommands.  Each takes the
 * arguments after the subcommand name (argv[0] is the subcommand itself),
 * returns the process exit status (0 ok, 1 failure, 2 usage error), and
 * prints its own --help.  Each lives in its component's directory. */
#ifndef HAK_CLI_H
#define HAK_CLI_H

int cmd_trace(int argc, char **argv);    /* traces/trace_cli.c */
int cmd_record(int argc, char **argv);   /* recorder/record_cli.c */
int cmd_replay(int argc, char **argv);   /* replayer/replay_cli.c */
int cmd_validate(int argc, char **argv); /* replayer/cli/validate_cli.c */

int cmd_sim(int argc, char **argv);      /* replayer/sim_cli.c */
int cmd_sweep(int argc, char **argv);    /* replayer/sweep_cli.c */

int cmd_db(int argc, char **argv);       /* analysis/db_cli.c */
int cmd_report(int argc, char **argv);   /* analysis/report.c */

#endif
