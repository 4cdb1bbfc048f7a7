build2/obj/traces/cli_dump.o: traces/cli_dump.c traces/cli_common.h \
 traces/trace.h traces/hak_util.h
traces/cli_common.h:
traces/trace.h:
traces/hak_util.h:
