build2/obj/replayer/counters.o: replayer/counters.c replayer/counters.h
replayer/counters.h:
