build2/obj/traces/trace_meta.o: traces/trace_meta.c traces/trace_meta.h \
 traces/trace.h traces/trace_codec.h traces/trace_fmt.h
traces/trace_meta.h:
traces/trace.h:
traces/trace_codec.h:
traces/trace_fmt.h:
