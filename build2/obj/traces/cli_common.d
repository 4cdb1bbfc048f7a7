build2/obj/traces/cli_common.o: traces/cli_common.c traces/cli_common.h \
 traces/trace.h traces/hak_util.h
traces/cli_common.h:
traces/trace.h:
traces/hak_util.h:
