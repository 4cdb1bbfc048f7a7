build2/obj/analysis/db_cli.o: analysis/db_cli.c analysis/db_cli.h \
 analysis/db_table.h analysis/hakdb.h analysis/db_stats.h \
 analysis/hak_cli.h traces/hak_util.h
analysis/db_cli.h:
analysis/db_table.h:
analysis/hakdb.h:
analysis/db_stats.h:
analysis/hak_cli.h:
traces/hak_util.h:
