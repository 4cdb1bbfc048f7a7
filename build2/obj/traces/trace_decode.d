build2/obj/traces/trace_decode.o: traces/trace_decode.c \
 traces/trace_codec.h traces/trace.h traces/trace_fmt.h \
 traces/trace_model.h
traces/trace_codec.h:
traces/trace.h:
traces/trace_fmt.h:
traces/trace_model.h:
