build2/obj/traces/trace_replay.o: traces/trace_replay.c traces/trace.h
traces/trace.h:
