build2/obj/traces/cli_views.o: traces/cli_views.c traces/cli_views.h \
 traces/siteview.h traces/trace.h traces/symbolize.h traces/cli_common.h \
 traces/hak_util.h
traces/cli_views.h:
traces/siteview.h:
traces/trace.h:
traces/symbolize.h:
traces/cli_common.h:
traces/hak_util.h:
