build2/obj/replayer/fidelity.o: replayer/fidelity.c replayer/replay.h \
 analysis/hakdb.h replayer/result.h replayer/counters.h \
 replayer/latency.h traces/trace.h
replayer/replay.h:
analysis/hakdb.h:
replayer/result.h:
replayer/counters.h:
replayer/latency.h:
traces/trace.h:
