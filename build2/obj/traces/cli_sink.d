build2/obj/traces/cli_sink.o: traces/cli_sink.c traces/cli_sink.h \
 traces/trace.h
traces/cli_sink.h:
traces/trace.h:
