build2/obj/traces/cli_out.o: traces/cli_out.c traces/cli_out.h \
 traces/trace.h traces/hak_util.h
traces/cli_out.h:
traces/trace.h:
traces/hak_util.h:
