build2/obj/traces/cli_synth.o: traces/cli_synth.c traces/cli_common.h \
 traces/trace.h traces/cli_out.h traces/cli_sink.h traces/synth.h \
 traces/hak_util.h
traces/cli_common.h:
traces/trace.h:
traces/cli_out.h:
traces/cli_sink.h:
traces/synth.h:
traces/hak_util.h:
