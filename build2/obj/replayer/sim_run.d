build2/obj/replayer/sim_run.o: replayer/sim_run.c replayer/sim_run.h \
 replayer/sim_alloc.h replayer/sim_layout.h replayer/sim_map.h \
 replayer/sim_model.h traces/trace.h traces/hak_util.h replayer/sim_thp.h
replayer/sim_run.h:
replayer/sim_alloc.h:
replayer/sim_layout.h:
replayer/sim_map.h:
replayer/sim_model.h:
traces/trace.h:
traces/hak_util.h:
replayer/sim_thp.h:
