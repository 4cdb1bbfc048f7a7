build2/obj/replayer/store.o: replayer/store.c replayer/replay.h \
 analysis/hakdb.h replayer/result.h replayer/counters.h \
 replayer/latency.h traces/trace.h
replayer/replay.h:
analysis/hakdb.h:
replayer/result.h:
replayer/counters.h:
replayer/latency.h:
traces/trace.h:
