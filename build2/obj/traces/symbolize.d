build2/obj/traces/symbolize.o: traces/symbolize.c traces/symbolize.h \
 traces/trace.h
traces/symbolize.h:
traces/trace.h:
