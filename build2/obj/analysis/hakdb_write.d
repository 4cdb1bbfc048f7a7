build2/obj/analysis/hakdb_write.o: analysis/hakdb_write.c \
 analysis/hakdb_int.h analysis/hakdb.h
analysis/hakdb_int.h:
analysis/hakdb.h:
