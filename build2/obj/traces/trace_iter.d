build2/obj/traces/trace_iter.o: traces/trace_iter.c traces/trace_reader.h \
 traces/trace.h traces/trace_codec.h traces/trace_fmt.h
traces/trace_reader.h:
traces/trace.h:
traces/trace_codec.h:
traces/trace_fmt.h:
