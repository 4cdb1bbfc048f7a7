build2/obj/replayer/worker_loop.o: replayer/worker_loop.c \
 replayer/worker.h replayer/image.h replayer/result.h replayer/counters.h \
 replayer/latency.h replayer/rss.h traces/trace.h
replayer/worker.h:
replayer/image.h:
replayer/result.h:
replayer/counters.h:
replayer/latency.h:
replayer/rss.h:
traces/trace.h:
