build2/obj/replayer/latency.o: replayer/latency.c replayer/latency.h
replayer/latency.h:
