build2/obj/traces/trace_cli.o: traces/trace_cli.c traces/cli_common.h \
 traces/trace.h traces/cli_views.h traces/siteview.h traces/symbolize.h \
 analysis/hak_cli.h traces/hak_util.h
traces/cli_common.h:
traces/trace.h:
traces/cli_views.h:
traces/siteview.h:
traces/symbolize.h:
analysis/hak_cli.h:
traces/hak_util.h:
