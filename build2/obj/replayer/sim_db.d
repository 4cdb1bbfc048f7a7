build2/obj/replayer/sim_db.o: replayer/sim_db.c replayer/sim_db.h \
 analysis/hakdb.h replayer/sim_run.h replayer/sim_alloc.h \
 replayer/sim_layout.h replayer/sim_map.h replayer/sim_model.h \
 traces/trace.h traces/hak_util.h
replayer/sim_db.h:
analysis/hakdb.h:
replayer/sim_run.h:
replayer/sim_alloc.h:
replayer/sim_layout.h:
replayer/sim_map.h:
replayer/sim_model.h:
traces/trace.h:
traces/hak_util.h:
