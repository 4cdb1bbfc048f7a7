build2/obj/traces/synth.o: traces/synth.c traces/synth.h traces/trace.h \
 traces/synth_heap.h
traces/synth.h:
traces/trace.h:
traces/synth_heap.h:
