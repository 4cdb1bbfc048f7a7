build2/obj/analysis/db_group.o: analysis/db_group.c analysis/db_cli.h \
 analysis/db_table.h analysis/hakdb.h analysis/db_stats.h
analysis/db_cli.h:
analysis/db_table.h:
analysis/hakdb.h:
analysis/db_stats.h:
