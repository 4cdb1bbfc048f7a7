build2/obj/replayer/sweep_grid.o: replayer/sweep_grid.c \
 replayer/sweep_grid.h
replayer/sweep_grid.h:
