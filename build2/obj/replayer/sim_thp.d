build2/obj/replayer/sim_thp.o: replayer/sim_thp.c replayer/sim_thp.h \
 replayer/sim_map.h
replayer/sim_thp.h:
replayer/sim_map.h:
