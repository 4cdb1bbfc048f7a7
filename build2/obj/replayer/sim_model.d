build2/obj/replayer/sim_model.o: replayer/sim_model.c \
 replayer/sim_model.h replayer/sim_map.h
replayer/sim_model.h:
replayer/sim_map.h:
