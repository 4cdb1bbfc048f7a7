build2/obj/analysis/hakdb.o: analysis/hakdb.c analysis/hakdb_int.h \
 analysis/hakdb.h analysis/hakdb_migrations.h
analysis/hakdb_int.h:
analysis/hakdb.h:
analysis/hakdb_migrations.h:
