build2/obj/analysis/db_merge.o: analysis/db_merge.c analysis/db_cli.h \
 analysis/db_table.h analysis/hakdb.h analysis/db_stats.h \
 analysis/hakdb_int.h traces/hak_util.h
analysis/db_cli.h:
analysis/db_table.h:
analysis/hakdb.h:
analysis/db_stats.h:
analysis/hakdb_int.h:
traces/hak_util.h:
