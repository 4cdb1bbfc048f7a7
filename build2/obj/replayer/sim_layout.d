build2/obj/replayer/sim_layout.o: replayer/sim_layout.c \
 replayer/sim_layout.h replayer/sim_map.h
replayer/sim_layout.h:
replayer/sim_map.h:
