build2/obj/traces/trace_write.o: traces/trace_write.c traces/trace.h \
 traces/trace_codec.h traces/trace_fmt.h traces/trace_meta.h
traces/trace.h:
traces/trace_codec.h:
traces/trace_fmt.h:
traces/trace_meta.h:
