build2/obj/traces/trace_ops.o: traces/trace_ops.c traces/trace.h
traces/trace.h:
