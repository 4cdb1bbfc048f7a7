build2/obj/replayer/sweep_cli.o: replayer/sweep_cli.c analysis/hak_cli.h \
 traces/hak_util.h analysis/hakdb.h replayer/replay.h replayer/result.h \
 replayer/counters.h replayer/latency.h traces/trace.h replayer/sim_db.h \
 replayer/sim_run.h replayer/sim_alloc.h replayer/sim_layout.h \
 replayer/sim_map.h replayer/sim_model.h replayer/sweep_grid.h
analysis/hak_cli.h:
traces/hak_util.h:
analysis/hakdb.h:
replayer/replay.h:
replayer/result.h:
replayer/counters.h:
replayer/latency.h:
traces/trace.h:
replayer/sim_db.h:
replayer/sim_run.h:
replayer/sim_alloc.h:
replayer/sim_layout.h:
replayer/sim_map.h:
replayer/sim_model.h:
replayer/sweep_grid.h:
