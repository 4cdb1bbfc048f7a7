build2/obj/replayer/sim_alloc.o: replayer/sim_alloc.c \
 replayer/sim_alloc.h
replayer/sim_alloc.h:
