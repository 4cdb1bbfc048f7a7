/* replayer_cli.h - the replayer's commands; the calling convention is
 * hak_cmd.h's. */
#ifndef REPLAYER_CLI_H
#define REPLAYER_CLI_H
int cmd_replay(int argc, char **argv);   /* replay_cli.c */
int cmd_validate(int argc, char **argv); /* validate_cli.c */
int cmd_sim(int argc, char **argv);      /* sim_cli.c */
int cmd_sweep(int argc, char **argv);    /* sweep_cli.c */
#endif
