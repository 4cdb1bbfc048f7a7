build2/obj/replayer/alloc_spec.o: replayer/alloc_spec.c replayer/replay.h \
 analysis/hakdb.h replayer/result.h replayer/counters.h \
 replayer/latency.h traces/trace.h
replayer/replay.h:
analysis/hakdb.h:
replayer/result.h:
replayer/counters.h:
replayer/latency.h:
traces/trace.h:
