build2/obj/replayer/worker.o: replayer/worker.c replayer/worker.h \
 replayer/image.h replayer/result.h replayer/counters.h \
 replayer/latency.h traces/trace.h replayer/alloc_probe.h replayer/rss.h
replayer/worker.h:
replayer/image.h:
replayer/result.h:
replayer/counters.h:
replayer/latency.h:
traces/trace.h:
replayer/alloc_probe.h:
replayer/rss.h:
