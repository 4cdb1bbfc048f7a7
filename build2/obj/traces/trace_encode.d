build2/obj/traces/trace_encode.o: traces/trace_encode.c \
 traces/trace_codec.h traces/trace.h traces/trace_encref.h \
 traces/trace_fmt.h traces/trace_model.h
traces/trace_codec.h:
traces/trace.h:
traces/trace_encref.h:
traces/trace_fmt.h:
traces/trace_model.h:
