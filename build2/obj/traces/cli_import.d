build2/obj/traces/cli_import.o: traces/cli_import.c traces/cli_common.h \
 traces/trace.h traces/cli_out.h traces/cli_sink.h \
 traces/import_android.h traces/hak_util.h
traces/cli_common.h:
traces/trace.h:
traces/cli_out.h:
traces/cli_sink.h:
traces/import_android.h:
traces/hak_util.h:
