build2/obj/replayer/alloc_probe.o: replayer/alloc_probe.c \
 replayer/alloc_probe.h replayer/result.h replayer/counters.h \
 replayer/latency.h alloc/hakmem.h
replayer/alloc_probe.h:
replayer/result.h:
replayer/counters.h:
replayer/latency.h:
alloc/hakmem.h:
