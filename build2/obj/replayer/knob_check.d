build2/obj/replayer/knob_check.o: replayer/knob_check.c replayer/replay.h \
 analysis/hakdb.h replayer/result.h replayer/counters.h \
 replayer/latency.h traces/trace.h alloc/hak_knobs_table.h
replayer/replay.h:
analysis/hakdb.h:
replayer/result.h:
replayer/counters.h:
replayer/latency.h:
traces/trace.h:
alloc/hak_knobs_table.h:
