build2/obj/traces/trace_read.o: traces/trace_read.c traces/trace_reader.h \
 traces/trace.h traces/trace_codec.h traces/trace_fmt.h \
 traces/trace_meta.h traces/hak_util.h
traces/trace_reader.h:
traces/trace.h:
traces/trace_codec.h:
traces/trace_fmt.h:
traces/trace_meta.h:
traces/hak_util.h:
