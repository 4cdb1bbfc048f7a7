build2/obj/replayer/run.o: replayer/run.c replayer/replay.h \
 analysis/hakdb.h replayer/result.h replayer/counters.h \
 replayer/latency.h traces/trace.h
replayer/replay.h:
analysis/hakdb.h:
replayer/result.h:
replayer/counters.h:
replayer/latency.h:
traces/trace.h:
