build2/obj/replayer/image_build.o: replayer/image_build.c \
 replayer/replay.h analysis/hakdb.h replayer/result.h replayer/counters.h \
 replayer/latency.h traces/trace.h replayer/image.h
replayer/replay.h:
analysis/hakdb.h:
replayer/result.h:
replayer/counters.h:
replayer/latency.h:
traces/trace.h:
replayer/image.h:
