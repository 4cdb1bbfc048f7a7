build2/obj/traces/cli_diff.o: traces/cli_diff.c traces/cli_common.h \
 traces/trace.h traces/cli_views.h traces/siteview.h traces/symbolize.h \
 traces/hak_util.h
traces/cli_common.h:
traces/trace.h:
traces/cli_views.h:
traces/siteview.h:
traces/symbolize.h:
traces/hak_util.h:
