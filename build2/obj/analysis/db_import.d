build2/obj/analysis/db_import.o: analysis/db_import.c analysis/db_cli.h \
 analysis/db_table.h analysis/hakdb.h analysis/db_stats.h \
 analysis/db_import.h analysis/hakdb_int.h traces/hak_util.h \
 traces/heapmodel.h traces/trace.h traces/symbolize.h traces/trace.h
analysis/db_cli.h:
analysis/db_table.h:
analysis/hakdb.h:
analysis/db_stats.h:
analysis/db_import.h:
analysis/hakdb_int.h:
traces/hak_util.h:
traces/heapmodel.h:
traces/trace.h:
traces/symbolize.h:
traces/trace.h:
