build2/obj/replayer/sim_map.o: replayer/sim_map.c replayer/sim_map.h
replayer/sim_map.h:
