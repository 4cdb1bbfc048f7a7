build2/obj/analysis/report.o: analysis/report.c analysis/report.h \
 analysis/db_cli.h analysis/db_table.h analysis/hakdb.h \
 analysis/db_stats.h analysis/hakdb_int.h analysis/report_svg.h \
 analysis/hak_cli.h traces/hak_util.h
analysis/report.h:
analysis/db_cli.h:
analysis/db_table.h:
analysis/hakdb.h:
analysis/db_stats.h:
analysis/hakdb_int.h:
analysis/report_svg.h:
analysis/hak_cli.h:
traces/hak_util.h:
