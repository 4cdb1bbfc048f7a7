build2/obj/analysis/report_html.o: analysis/report_html.c \
 analysis/report.h analysis/db_cli.h analysis/db_table.h analysis/hakdb.h \
 analysis/db_stats.h analysis/report_svg.h traces/hak_util.h
analysis/report.h:
analysis/db_cli.h:
analysis/db_table.h:
analysis/hakdb.h:
analysis/db_stats.h:
analysis/report_svg.h:
traces/hak_util.h:
