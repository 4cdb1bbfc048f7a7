build2/obj/analysis/report_svg.o: analysis/report_svg.c \
 analysis/report_svg.h analysis/db_cli.h analysis/db_table.h \
 analysis/hakdb.h analysis/db_stats.h
analysis/report_svg.h:
analysis/db_cli.h:
analysis/db_table.h:
analysis/hakdb.h:
analysis/db_stats.h:
