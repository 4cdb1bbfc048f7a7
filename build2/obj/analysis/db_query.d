build2/obj/analysis/db_query.o: analysis/db_query.c analysis/db_cli.h \
 analysis/db_table.h analysis/hakdb.h analysis/db_stats.h \
 traces/hak_util.h
analysis/db_cli.h:
analysis/db_table.h:
analysis/hakdb.h:
analysis/db_stats.h:
traces/hak_util.h:
