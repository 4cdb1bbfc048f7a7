build2/obj/analysis/hakdb_machine.o: analysis/hakdb_machine.c \
 analysis/hakdb_int.h analysis/hakdb.h traces/hak_util.h
analysis/hakdb_int.h:
analysis/hakdb.h:
traces/hak_util.h:
