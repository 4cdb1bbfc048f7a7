build2/obj/traces/cli_info.o: traces/cli_info.c traces/cli_common.h \
 traces/trace.h traces/heapmodel.h traces/symbolize.h traces/hak_util.h
traces/cli_common.h:
traces/trace.h:
traces/heapmodel.h:
traces/symbolize.h:
traces/hak_util.h:
