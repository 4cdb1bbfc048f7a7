build2/obj/replayer/replay_cli.o: replayer/replay_cli.c \
 analysis/hak_cli.h traces/hak_util.h replayer/replay.h analysis/hakdb.h \
 replayer/result.h replayer/counters.h replayer/latency.h traces/trace.h
analysis/hak_cli.h:
traces/hak_util.h:
replayer/replay.h:
analysis/hakdb.h:
replayer/result.h:
replayer/counters.h:
replayer/latency.h:
traces/trace.h:
