build2/obj/traces/heapmodel.o: traces/heapmodel.c traces/heapmodel.h \
 traces/trace.h
traces/heapmodel.h:
traces/trace.h:
